"""Huber regression: squared error near the line, absolute error far from it (Piecewise, Abs).

Not from the documents: 003 §3.1's line y = a·x + b fitted with the Huber loss of
threshold δ = 1, ℓ = r²/2 for |r| ≤ δ and δ(|r| − δ/2) beyond, which a few outliers pull
less than least squares does.
"""

import sympy as sp

from symdl.model import Model, Training

DELTA = 1

derivation = Model(
    "huber_regression",
    title="Huber regression of a line",
    source="003_ff0b9f77f02ec2c2.txt §3.1 Univariate Linear Regression (with the Huber loss)",
    reduction="mean",
    training=Training(dataset="floor_areas", optimizer="gd", learning_rate=0.3, epochs=300),
)
x = derivation.data("x")
y = derivation.target("y")
a = derivation.param("a")
b = derivation.param("b")
y_hat = derivation.let("y_hat", a * x + b, latex=r"\hat{y}")
r = derivation.let("r", y - y_hat)
derivation.loss(sp.Piecewise((r**2 / 2, sp.Abs(r) <= DELTA),
                             (DELTA * (sp.Abs(r) - sp.Rational(DELTA, 2)), True)))
derivation.output(y_hat)
