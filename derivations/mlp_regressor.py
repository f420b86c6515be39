"""A one-hidden-layer network regressor: n → H ReLU → 1, squared error, an L2 penalty.

Not from the documents as such: 004's h = f(W·x + b) with one hidden layer and a linear
output, the architecture and loss of scikit-learn's `MLPRegressor(hidden_layer_sizes=(H,))`:
J = mean (y − ŷ)²/2 + α/2·(‖W‖² + ‖v‖²), biases not penalised. scikit-learn adds
α/(2m)·‖W‖², so its α is m times the α here.

The width H is a dimension (`sizes={"H": ...}`), read off W's shape by the kernels, so any
width runs on the same compiled kernels; the activation (ReLU, scikit-learn's default) is
part of the derivation, differentiated when the kernels are generated (mlp_classifier.py
says how to change it).
"""

from symdl.functions import relu, total
from symdl.model import Model, Training

derivation = Model(
    "mlp_regressor",
    title="A one-hidden-layer ReLU regressor: $n → H → 1$",
    source="004_36f6966e031dacf2.txt MLP networks (one hidden layer of any width, an L2 penalty; "
           "scikit-learn's MLPRegressor)",
    summary="$h = relu(W x + b)$, $ŷ = vᵀh + c$, $J = mean((y − ŷ)²)/2 + α/2 (‖W‖² + ‖v‖²)$.",
    reduction="mean",
    training=Training(dataset="surface", optimizer="lbfgs", epochs=300,
                      init="glorot_uniform", sizes={"H": 16}),
)
x = derivation.data("x", ("n",))
y = derivation.target("y")
W = derivation.param("W", ("H", "n"))
b = derivation.param("b", ("H",))
v = derivation.param("v", ("H",))
c = derivation.param("c")
alpha = derivation.hyper("alpha", default=1e-4, latex=r"\alpha")
h = derivation.let("h", relu(derivation.affine("z1", W, x, b, latex=r"z^{(1)}")))
y_hat = derivation.affine("y_hat", v, h, c, latex=r"\hat{y}")
derivation.loss((y - y_hat) ** 2 / 2)
derivation.penalty(alpha / 2 * (total(W**2) + total(v**2)))
derivation.output(y_hat)
