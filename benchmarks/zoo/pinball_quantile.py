"""Linear quantile regression: the pinball loss at τ = 0.9 (a Piecewise in r)."""

import sympy as sp

from symdl.model import Model

TAU = sp.Rational(9, 10)

derivation = Model("pinball_quantile", title="Quantile regression, pinball loss at τ = 0.9",
                   source="W8 zoo", reduction="mean")
x = derivation.data("x", ("n",))
y = derivation.target("y")
w = derivation.param("w", ("n",))
b = derivation.param("b")
q = derivation.affine("q", w, x, b)
r = derivation.let("r", y - q)
derivation.loss(sp.Piecewise((TAU * r, r >= 0), ((TAU - 1) * r, True)))
derivation.output(q)
