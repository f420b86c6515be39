"""Softmax regression of five classes with weight decay λ‖W‖² on the weights."""

import sympy as sp

from symdl.functions import total
from symdl.model import Model, Training

LAMBDA = sp.Rational(1, 1000)

derivation = Model("softmax_weight_decay", title="Softmax regression with weight decay",
                   source="W8 zoo", reduction="mean", training=Training(sizes={"C": 5}))
x = derivation.data("x", ("n",))
label = derivation.target("label", kind="class", classes=5)
W = derivation.param("W", ("C", "n"))
b = derivation.param("b", ("C",))
z = derivation.affine("z", W, x, b)
derivation.softmax_cross_entropy(z, label)
derivation.penalty(LAMBDA * total(W**2))
derivation.output(z)
