"""Log-cosh regression, written as the user writes it: ℓ = log(cosh(y − ŷ)).

Not from the documents. log cosh r is r²/2 near 0 and |r| − log 2 far away; cosh itself
overflows at |r| ≈ 710, so the generator evaluates the loss as |r| + softplus(−2|r|) − log 2
and its derivative as tanh r (finite for every r).
"""

import sympy as sp

from symdl.model import Model, Training

derivation = Model(
    "log_cosh_regression",
    title="Log-cosh regression of a line",
    source="003_ff0b9f77f02ec2c2.txt §3.1 Univariate Linear Regression (with the log-cosh loss)",
    reduction="mean",
    training=Training(dataset="floor_areas", optimizer="gd", learning_rate=0.5, epochs=300),
)
x = derivation.data("x")
y = derivation.target("y")
a = derivation.param("a")
b = derivation.param("b")
y_hat = derivation.let("y_hat", a * x + b, latex=r"\hat{y}")
derivation.loss(sp.log(sp.cosh(y - y_hat)))
derivation.output(y_hat)
