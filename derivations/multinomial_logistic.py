"""Multinomial (softmax) logistic regression with an L2 penalty α/2·‖W‖².

Not from the documents: 002's softmax cross-entropy on z = W·x + b without a hidden layer,
summed over the samples, plus α/2·‖W‖² (b not penalised). That is scikit-learn's
`LogisticRegression(C=1/α)` multinomial objective (C Σ ℓ + ½‖W‖²) divided by C, so it has
the same minimiser: α here is 1/C there, and the default α = 1 is scikit-learn's C = 1.
The number of classes is the dimension C (`sizes={"C": ...}`; the estimator sets it from y).
"""

from symdl.functions import total
from symdl.model import Model, Training

derivation = Model(
    "multinomial_logistic",
    title="Multinomial logistic regression with an $L2$ penalty",
    source="002_4c33554d2058975c.txt A Real Example: Model Compilation (softmax without a "
           "hidden layer, with an L2 penalty; scikit-learn's LogisticRegression with $C = 1/α$)",
    summary="$J = Σ (log Σ_c e^{z_c} − z_y) + α/2 ‖W‖²$, $z = W·x + b$: scikit-learn's "
            "LogisticRegression with $C = 1/α$.",
    reduction="sum",
    training=Training(dataset="blobs", optimizer="lbfgs", epochs=300, sizes={"C": 3}),
)
x = derivation.data("x", ("n",))
label = derivation.target("label", kind="class")
W = derivation.param("W", ("C", "n"))
b = derivation.param("b", ("C",))
alpha = derivation.hyper("alpha", default=1.0, latex=r"\alpha")
z = derivation.affine("z", W, x, b)
derivation.softmax_cross_entropy(z, label)
derivation.penalty(alpha / 2 * total(W**2))
derivation.output(z)
