"""3 → 16 ReLU → 3 softmax in the blas layout, with an elastic-net penalty on both weight matrices.

Not from the documents, and beyond the issue's list: a penalty over matrices, in the blas
layout. R = α Σ|W| + β Σ W² over W⁽¹⁾ and W⁽²⁾ (the biases are not penalised); its
gradient α·sign(W) + 2β·W is added once to the batch gradient of the cross-entropy.
"""

import sympy as sp

from symdl.functions import relu, total
from symdl.model import Model, Training

L1, L2 = sp.Rational(1, 1000), sp.Rational(1, 200)

derivation = Model(
    "elastic_net_mlp_blas",
    title="A ReLU network with an elastic-net penalty: $3 → 16$ ReLU $→ 3$ softmax",
    source="002_4c33554d2058975c.txt A Real Example: Model Setup (with an elastic-net penalty)",
    reduction="mean",
    layout="blas",
    training=Training(dataset="blobs", optimizer="rmsprop", learning_rate=0.01, epochs=60,
                      batch_size=32, init="glorot_uniform", sizes={"H": 16, "C": 3}),
)
x = derivation.data("x", ("n",))
label = derivation.target("label", kind="class", classes=3)
W1 = derivation.param("W1", ("H", "n"), latex=r"W^{(1)}")
b1 = derivation.param("b1", ("H",), latex=r"b^{(1)}")
W2 = derivation.param("W2", ("C", "H"), latex=r"W^{(2)}")
b2 = derivation.param("b2", ("C",), latex=r"b^{(2)}")
h = derivation.let("h", relu(derivation.affine("z1", W1, x, b1, latex=r"z^{(1)}")))
z2 = derivation.affine("z2", W2, h, b2, latex=r"z^{(2)}")
derivation.softmax_cross_entropy(z2, label)
derivation.penalty(L1 * (total(sp.Abs(W1)) + total(sp.Abs(W2)))
                   + L2 * (total(W1**2) + total(W2**2)))
derivation.output(z2)
