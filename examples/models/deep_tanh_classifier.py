"""2 → 8 tanh → 8 tanh → 1 sigmoid, declared as a loop over layers (004's hᵢ = f(Wᵢ·hᵢ₋₁ + bᵢ)).

Not from the documents: 004 "MLP networks" writes the deep recurrence; this file builds it
with a Python loop, so the depth is one number. The output unit is σ and the loss the
cross-entropy of 003 §3.3, which the generator evaluates as softplus (finite at |z| = 1000).
"""

import sympy as sp

from symdl.functions import sigmoid
from symdl.model import Model, Training

HIDDEN_LAYERS = ("H1", "H2")

derivation = Model(
    "deep_tanh_classifier",
    title="A deep $tanh$ network declared in a loop: $2 → 8 tanh → 8 tanh → 1$ sigmoid",
    source="004_36f6966e031dacf2.txt MLP networks ($hᵢ = f(Wᵢ·hᵢ₋₁ + bᵢ)$); 003 §3.3 cross-entropy",
    reduction="mean",
    training=Training(dataset="two_moons", optimizer="rmsprop", learning_rate=0.02, epochs=150,
                      init_scale=1.0, sizes={dim: 8 for dim in HIDDEN_LAYERS}),
)
x = derivation.data("x", ("n",))
c = derivation.target("c", kind="binary")
h, previous = x, "n"
for i, units in enumerate(HIDDEN_LAYERS, 1):
    W = derivation.param(f"W{i}", (units, previous), latex=f"W^{{({i})}}")
    b = derivation.param(f"b{i}", (units,), latex=f"b^{{({i})}}")
    z = derivation.affine(f"z{i}", W, h, b, latex=f"z^{{({i})}}")
    h, previous = derivation.let(f"h{i}", sp.tanh(z), latex=f"h^{{({i})}}"), units
w_out = derivation.param("w_out", (previous,), latex=r"w^{\mathrm{out}}")
b_out = derivation.param("b_out", latex=r"b^{\mathrm{out}}")
z_out = derivation.affine("z_out", w_out, h, b_out, latex=r"z^{\mathrm{out}}")
p = derivation.let("p", sigmoid(z_out))
derivation.loss(-c * sp.log(p) - (1 - c) * sp.log(1 - p))
derivation.output(p)
