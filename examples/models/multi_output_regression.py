"""Multi-output least squares: two targets per sample from one affine map, ℓ = Σ_k (y_k − z_k)².

Not from the documents: the mean squared error of 000 "Mean Squared Error", summed over the
k outputs of a vector target. `target("y", shape=("k",))` declares the k targets of a
sample, and `total(...)` reduces the vector residual to the one number a loss must be.
"""

from symdl.functions import total
from symdl.model import Model, Training

derivation = Model(
    "multi_output_regression",
    title="Multi-output regression: $z = W·x + b, ℓ = Σ_k (y_k − z_k)²$",
    source="000_b9e7c87dcfbd1c26.txt Mean Squared Error (summed over $k$ outputs)",
    reduction="mean",
    training=Training(dataset="two_outputs", optimizer="gd", learning_rate=0.2, epochs=300),
)
x = derivation.data("x", ("n",))
y = derivation.target("y", shape=("k",))              # k targets per sample
W = derivation.param("W", ("k", "n"))
b = derivation.param("b", ("k",))
z = derivation.affine("z", W, x, b)
derivation.loss(total((y - z) ** 2))                   # Σ_k (y_k − z_k)²
derivation.output(z)                                   # predict returns (m, k)
