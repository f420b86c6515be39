"""A heteroscedastic Gaussian: a mean head μ and a log-variance head s, ℓ = s/2 + (y − μ)² e^{−s}/2."""

import sympy as sp

from symdl.model import Model

derivation = Model("heteroscedastic_gaussian", title="Gaussian with mean and log-variance heads",
                   source="W8 zoo", reduction="mean")
x = derivation.data("x", ("n",))
y = derivation.target("y")
w = derivation.param("w", ("n",))
b = derivation.param("b")
v = derivation.param("v", ("n",))
c = derivation.param("c")
mu = derivation.affine("mu", w, x, b)
s = derivation.affine("s", v, x, c)
derivation.loss(s / 2 + (y - mu) ** 2 * sp.exp(-s) / 2)
derivation.output(mu)
