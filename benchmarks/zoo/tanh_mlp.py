"""A tanh MLP regression: n → H tanh → 1, squared error."""

import sympy as sp

from symdl.model import Model, Training

derivation = Model("tanh_mlp", title="A tanh MLP", source="W8 zoo", reduction="mean",
                   training=Training(sizes={"H": 32}))
x = derivation.data("x", ("n",))
y = derivation.target("y")
W = derivation.param("W", ("H", "n"))
b = derivation.param("b", ("H",))
w = derivation.param("w", ("H",))
c = derivation.param("c")
h = derivation.let("h", sp.tanh(derivation.affine("z", W, x, b)))
y_hat = derivation.affine("y_hat", w, h, c)
derivation.loss((y - y_hat) ** 2)
derivation.output(y_hat)
