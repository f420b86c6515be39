"""A one-hidden-layer network classifier: n → H ReLU → C softmax, with an L2 penalty.

Not from the documents as such: 002's MNIST network at any width, the architecture of
scikit-learn's `MLPClassifier(hidden_layer_sizes=(H,))` for C ≥ 3 classes (for two classes
scikit-learn uses one logistic output; here C = 2 softmax outputs). J = mean cross-entropy
+ α/2·(‖W⁽¹⁾‖² + ‖W⁽²⁾‖²), biases not penalised. scikit-learn adds α/(2m)·‖W‖², so its α is
m times the α here.

The width H is a dimension, given by `Training(sizes=...)`, `train.fit(..., sizes={"H":
64})` or the estimator's `sizes`: the kernels read it off W⁽¹⁾'s shape, so any width runs on
the same compiled kernels. The activation is part of the derivation (SymPy differentiates
it when the kernels are generated, so it is not a runtime setting): this file is ReLU,
scikit-learn's default; copy it and write sp.tanh(...) or sigmoid(...) for another one.
"""


from symdl.functions import relu, total
from symdl.model import Model, Training

derivation = Model(
    "mlp_classifier",
    title="A one-hidden-layer ReLU classifier: $n → H → C$ softmax",
    source="002_4c33554d2058975c.txt A Real Example: Model Setup (any width, an L2 penalty; "
           "scikit-learn's MLPClassifier)",
    summary="$h = relu(W⁽¹⁾x + b⁽¹⁾)$, $z = W⁽²⁾h + b⁽²⁾$, $J = mean(log Σ_c e^{z_c} − z_y) "
            "+ α/2 (‖W⁽¹⁾‖² + ‖W⁽²⁾‖²)$.",
    reduction="mean",
    training=Training(dataset="two_moons", optimizer="lbfgs", epochs=300,
                      init="glorot_uniform", sizes={"H": 16, "C": 2}),
)
x = derivation.data("x", ("n",))
label = derivation.target("label", kind="class")
W1 = derivation.param("W1", ("H", "n"), latex=r"W^{(1)}")
b1 = derivation.param("b1", ("H",), latex=r"b^{(1)}")
W2 = derivation.param("W2", ("C", "H"), latex=r"W^{(2)}")
b2 = derivation.param("b2", ("C",), latex=r"b^{(2)}")
alpha = derivation.hyper("alpha", default=1e-4, latex=r"\alpha")
h = derivation.let("h", relu(derivation.affine("z1", W1, x, b1, latex=r"z^{(1)}")))
z2 = derivation.affine("z2", W2, h, b2, latex=r"z^{(2)}")
derivation.softmax_cross_entropy(z2, label)
derivation.penalty(alpha / 2 * (total(W1**2) + total(W2**2)))
derivation.output(z2)
