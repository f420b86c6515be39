"""A gamma GLM with the log link: μ = e^{θ·x + b}, ℓ = y/μ + log μ (shape fixed)."""

import sympy as sp

from symdl.model import Model

derivation = Model("gamma_glm", title="Gamma regression, log link", source="W8 zoo",
                   reduction="mean")
x = derivation.data("x", ("n",))
y = derivation.target("y")
theta = derivation.param("theta", ("n",))
b = derivation.param("b")
z = derivation.affine("z", theta, x, b)
derivation.loss(y * sp.exp(-z) + z)
derivation.output(derivation.let("mu", sp.exp(z)))
