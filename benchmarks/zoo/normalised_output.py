"""A normalised output: u = z / ‖z‖ with z = W·x + b, ℓ = Σ_k (y_k − u_k)² (directions)."""

from symdl.functions import norm, total
from symdl.model import Model

derivation = Model("normalised_output", title="A unit-vector output", source="W8 zoo",
                   reduction="mean")
x = derivation.data("x", ("n",))
y = derivation.target("y", shape=("k",))
W = derivation.param("W", ("k", "n"))
b = derivation.param("b", ("k",))
z = derivation.affine("z", W, x, b)
u = derivation.let("u", z / norm(z))
derivation.loss(total((y - u) ** 2))
derivation.output(u)
