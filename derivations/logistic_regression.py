"""Logistic regression with the cross-entropy cost (003 §3.3).

Source: 003_ff0b9f77f02ec2c2.txt §3.3 "Logistic Regression: Regression or Classification?"
The hypothesis h_θ(x) = σ(θᵀx), the cost J(θ) = Σ_i H(y⁽ⁱ⁾, h_θ(x⁽ⁱ⁾)) with the binary
cross-entropy H, and the document's gradient grad J(θ) = Xᵀ(h_θ(X) − y).
"""

import sympy as sp

from symdl.functions import sigmoid
from symdl.model import Model, Training

SOURCE = "003_ff0b9f77f02ec2c2.txt §3.3 Logistic Regression: Regression or Classification?"

derivation = Model(
    "logistic_regression",
    title="Logistic regression with the cross-entropy cost",
    source=SOURCE,
    summary="h = σ(θᵀx); J(θ) = Σ −y log h − (1 − y) log(1 − h); classify y = 1 when h ≥ 1/2.",
    reduction="sum",
    training=Training(dataset="two_classes_with_bias", optimizer="gd",
                      learning_rate=0.01, epochs=300),
)
x = derivation.data("x", ("n",))
y = derivation.target("y", kind="binary")
theta = derivation.param("theta", ("n",), latex=r"\theta")
z = derivation.affine("z", theta, x)
h = derivation.let("h", sigmoid(z))
derivation.loss(-y * sp.log(h) - (1 - y) * sp.log(1 - h))
derivation.output(h)
