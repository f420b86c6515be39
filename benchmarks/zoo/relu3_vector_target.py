"""A 3-layer ReLU network with a vector target: n → H1 ReLU → H2 ReLU → k, ℓ = Σ_k (y_k − z_k)²."""

from symdl.functions import relu, total
from symdl.model import Model, Training

derivation = Model("relu3_vector_target", title="3-layer ReLU net, vector target",
                   source="W8 zoo", reduction="mean",
                   training=Training(sizes={"H1": 32, "H2": 32}))
x = derivation.data("x", ("n",))
y = derivation.target("y", shape=("k",))
W1 = derivation.param("W1", ("H1", "n"))
b1 = derivation.param("b1", ("H1",))
W2 = derivation.param("W2", ("H2", "H1"))
b2 = derivation.param("b2", ("H2",))
W3 = derivation.param("W3", ("k", "H2"))
b3 = derivation.param("b3", ("k",))
h1 = derivation.let("h1", relu(derivation.affine("z1", W1, x, b1)))
h2 = derivation.let("h2", relu(derivation.affine("z2", W2, h1, b2)))
z3 = derivation.affine("z3", W3, h2, b3)
derivation.loss(total((y - z3) ** 2))
derivation.output(z3)
