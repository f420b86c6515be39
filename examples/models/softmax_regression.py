"""Softmax regression of the MNIST digits: 784 → 10, no hidden layer.

Not from the documents as such: 002's MNIST classifier without its hidden layer,
z = W·x + b and the loss −log softmax(z)_y (evaluated as log Σ e^z − z_y with the maximum
subtracted), trained by RMSprop as in 002 "A Real Example: Model Compilation".
"""

from symdl.model import Model, Training

derivation = Model(
    "softmax_regression",
    title="Softmax regression of the digits: $784 → 10$",
    source="002_4c33554d2058975c.txt A Real Example: Model Compilation (without the hidden layer)",
    reduction="mean",
    training=Training(dataset="mnist", optimizer="rmsprop", learning_rate=1e-3, epochs=2,
                      batch_size=128, sizes={"C": 10}),
)
x = derivation.data("x", ("n",))
label = derivation.target("label", kind="class", classes=10)
W = derivation.param("W", ("C", "n"))
b = derivation.param("b", ("C",))
z = derivation.affine("z", W, x, b)
derivation.softmax_cross_entropy(z, label)
derivation.output(z)
