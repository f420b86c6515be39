"""2 → 16 softplus → 1, least squares: a curved surface over two inputs.

Not from the documents: 004's h = f(W·x + b) with f = softplus, then a linear output,
fitted by the mean squared error of 000/002 on the built-in `surface` data.
"""

from symdl.functions import softplus
from symdl.model import Model, Training

derivation = Model(
    "softplus_surface",
    title="A softplus network fitting a surface: $2 → 16$ softplus $→ 1$",
    source="004_36f6966e031dacf2.txt MLP networks; 000_b9e7c87dcfbd1c26.txt Mean Squared Error",
    reduction="mean",
    training=Training(dataset="surface", optimizer="rmsprop", learning_rate=0.01, epochs=300,
                      init_scale=1.0, sizes={"H": 16}),
)
x = derivation.data("x", ("n",))
y = derivation.target("y")
W = derivation.param("W", ("H", "n"))
b = derivation.param("b", ("H",))
v = derivation.param("v", ("H",))
c = derivation.param("c")
z = derivation.affine("z", W, x, b)
h = derivation.let("h", softplus(z))
y_hat = derivation.affine("y_hat", v, h, c, latex=r"\hat{y}")
derivation.loss((y - y_hat) ** 2)
derivation.output(y_hat)
