"""A tanh unit whose weight is shared by its two layers: ŷ = w·tanh(w·x + b) + c.

Not from the documents, and beyond the issue's list as a model: tied weights. The weight w
reaches the loss by two routes, through the hidden unit and directly; `symdl derive` prints
the chain rule for each route, then their sum, which is what the kernel computes.
"""

import sympy as sp

from symdl.model import Model, Training

derivation = Model(
    "tied_tanh_unit",
    title="A $tanh$ unit with a tied weight",
    source="000_b9e7c87dcfbd1c26.txt Mean Squared Error (with a tied tanh unit of our own)",
    reduction="mean",
    training=Training(dataset="floor_areas", optimizer="gd", learning_rate=0.05, epochs=300,
                      initial={"w": 1.0}),
)
x = derivation.data("x")
y = derivation.target("y")
w = derivation.param("w")
b = derivation.param("b")
c = derivation.param("c")
h = derivation.let("h", sp.tanh(w * x + b))
y_hat = derivation.let("y_hat", w * h + c, latex=r"\hat{y}")
derivation.loss((y - y_hat) ** 2)
derivation.output(y_hat)
