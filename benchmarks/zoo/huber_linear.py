"""Multivariate linear regression with the Huber loss, δ = 1 (Piecewise and Abs)."""

import sympy as sp

from symdl.model import Model

DELTA = 1

derivation = Model("huber_linear", title="Huber regression of n features", source="W8 zoo",
                   reduction="mean")
x = derivation.data("x", ("n",))
y = derivation.target("y")
w = derivation.param("w", ("n",))
b = derivation.param("b")
y_hat = derivation.affine("y_hat", w, x, b)
r = derivation.let("r", y - y_hat)
derivation.loss(sp.Piecewise((r**2 / 2, sp.Abs(r) <= DELTA),
                             (DELTA * (sp.Abs(r) - sp.Rational(DELTA, 2)), True)))
derivation.output(y_hat)
