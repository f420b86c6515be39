"""2 → 32 ReLU → 32 ReLU → 10 softmax in the blas layout, the layers declared in a loop.

Not from the documents: 002's Dense(ReLU) → Dense(softmax) made two hidden layers deep
(004's hᵢ = f(Wᵢ·hᵢ₋₁ + bᵢ)), on the ten curved arms of the built-in `pinwheel` data. The
derivative of a ReLU of a ReLU is a product of steps; `symdl check` differentiates it.
"""

from symdl.functions import relu
from symdl.model import Model, Training

HIDDEN_LAYERS = ("H1", "H2")

derivation = Model(
    "relu_mlp_blas",
    title="A deep ReLU network: $2 → 32$ ReLU $→ 32$ ReLU $→ 10$ softmax",
    source="002_4c33554d2058975c.txt A Real Example: Model Setup; 004_36f6966e031dacf2.txt MLP networks",
    reduction="mean",
    layout="blas",
    training=Training(dataset="pinwheel", optimizer="rmsprop", learning_rate=0.01, epochs=40,
                      batch_size=64, init="glorot_uniform",
                      sizes={"H1": 32, "H2": 32, "C": 10}),
)
x = derivation.data("x", ("n",))
label = derivation.target("label", kind="class", classes=10)
h, previous = x, "n"
for i, units in enumerate(HIDDEN_LAYERS, 1):
    W = derivation.param(f"W{i}", (units, previous), latex=f"W^{{({i})}}")
    b = derivation.param(f"b{i}", (units,), latex=f"b^{{({i})}}")
    z = derivation.affine(f"z{i}", W, h, b, latex=f"z^{{({i})}}")
    h, previous = derivation.let(f"h{i}", relu(z), latex=f"h^{{({i})}}"), units
W_out = derivation.param("W_out", ("C", previous), latex=r"W^{\mathrm{out}}")
b_out = derivation.param("b_out", ("C",), latex=r"b^{\mathrm{out}}")
logits = derivation.affine("logits", W_out, h, b_out)
derivation.softmax_cross_entropy(logits, label)
derivation.output(logits)
