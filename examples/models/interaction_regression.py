"""Interaction regression: a vector x and a scalar t per sample, ŷ = (wᵀx + b)·(1 + c·t).

Not from the documents: two data tensors per sample, the features x and one more number t
measured with them (a dose, a temperature, a time) that scales the linear response of 003
§3.2 — an interaction model. The kernels take x, then t, then y, in the order declared here.
It has no built-in data set: it trains on the files shipped beside it,

    symdl train interaction_regression.py --data interaction_regression.npz \
        --test-data interaction_regression-test.npz

whose arrays x (m × 3), t (m,) and y (m,) were drawn with numpy's default_rng(7): x ~ N(0, 1),
t ~ U(0, 2), y = (x·[1.5, −2, 0.5] + 0.3)(1 + 0.8 t) + N(0, 0.1²); 400 samples to train on,
100 held out.
"""

from symdl.model import Model, Training

derivation = Model(
    "interaction_regression",
    title="Interaction regression of a vector $x$ and a scalar $t$",
    source="003_ff0b9f77f02ec2c2.txt §3.2 Multivariate Linear Regression (with an interaction term)",
    reduction="mean",
    training=Training(optimizer="lbfgs", epochs=200),
)
x = derivation.data("x", ("n",))
t = derivation.data("t")
y = derivation.target("y")
w = derivation.param("w", ("n",))
b = derivation.param("b")
c = derivation.param("c")
z = derivation.affine("z", w, x, b)
y_hat = derivation.let("y_hat", z * (1 + c * t), latex=r"\hat{y}")
derivation.loss((y - y_hat) ** 2)
derivation.output(y_hat)
