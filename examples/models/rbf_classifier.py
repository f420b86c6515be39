"""One radial-basis unit as a classifier: p = σ(w·e^{−s‖x − c‖²} + b).

Not from the documents: the squared distance r = Σ_j (x_j − c_j)² is a reduction inside a
sample's expression (`total`), a number per sample that the rest of the model reads. The
centre c, the width s and the output weights are all learnt; the loss is the cross-entropy
of 003 §3.3, evaluated as softplus.
"""

import sympy as sp

from symdl.functions import sigmoid, total
from symdl.model import Model, Training

derivation = Model(
    "rbf_classifier",
    title="A radial-basis unit classifier: $p = σ(w·exp(−s·Σ_j (x_j − c_j)²) + b)$",
    source="003_ff0b9f77f02ec2c2.txt §3.3 Logistic Regression (cross-entropy of a radial unit)",
    reduction="mean",
    training=Training(dataset="ring", optimizer="adam", learning_rate=0.05, epochs=300,
                      initial={"s": 1.0, "w": 1.0}),
)
x = derivation.data("x", ("n",))
y = derivation.target("y", kind="binary")
c = derivation.param("c", ("n",))
s = derivation.param("s")
w = derivation.param("w")
b = derivation.param("b")
r = derivation.let("r", total((x - c) ** 2))           # ‖x − c‖², one number per sample
p = derivation.let("p", sigmoid(w * sp.exp(-s * r) + b))
derivation.loss(-y * sp.log(p) - (1 - y) * sp.log(1 - p))
derivation.output(p)
