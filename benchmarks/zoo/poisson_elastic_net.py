"""Poisson regression with an elastic-net penalty λ₁Σ|θ| + λ₂Σθ²."""

import sympy as sp

from symdl.functions import total
from symdl.model import Model

L1, L2 = sp.Rational(1, 100), sp.Rational(1, 50)

derivation = Model("poisson_elastic_net", title="Poisson regression, elastic net",
                   source="W8 zoo", reduction="mean")
x = derivation.data("x", ("n",))
y = derivation.target("y")
theta = derivation.param("theta", ("n",))
b = derivation.param("b")
z = derivation.affine("z", theta, x, b)
derivation.loss(sp.exp(z) - y * z)
derivation.penalty(L1 * total(sp.Abs(theta)) + L2 * total(theta**2))
derivation.output(derivation.let("rate", sp.exp(z)))
