"""Logistic regression with an elastic-net penalty α(ρ‖w‖₁ + (1 − ρ)/2·‖w‖²).

Not from the documents: 003 §3.3's cross-entropy with an intercept b of its own, summed over
the samples, plus the penalty on w only. That is scikit-learn's
`LogisticRegression(penalty="elasticnet", C=1/α, l1_ratio=ρ)` objective divided by C
(C Σ ℓ + ρ‖w‖₁ + (1 − ρ)/2‖w‖²), so it has the same minimiser: α here is 1/C there.
ρ = 0 is scikit-learn's default L2 logistic regression (C = 1: α = 1).

|w_j| is differentiated to sign(w_j) (0 at 0), a subgradient: gradient descent and L-BFGS
minimise J where the minimiser has no zero weight, and hover around 0 near one; the exact
zeros of scikit-learn's saga solver need a proximal step, which symdl does not have.
"""

import sympy as sp

from symdl.functions import sigmoid, total
from symdl.model import Model, Training

derivation = Model(
    "elastic_net_logistic",
    title="Logistic regression with an elastic-net penalty",
    source="003_ff0b9f77f02ec2c2.txt §3.3 Logistic Regression (with an elastic-net penalty; "
           "scikit-learn's LogisticRegression with $C = 1/α$)",
    summary="$J = Σ ℓ + αρ‖w‖₁ + α(1 − ρ)/2·‖w‖²$, $ℓ$ the cross-entropy of $σ(wᵀx + b)$; "
            "scikit-learn's LogisticRegression with $C = 1/α$ and `l1_ratio` $= ρ$.",
    reduction="sum",
    training=Training(dataset="two_classes", optimizer="lbfgs", epochs=300),
)
x = derivation.data("x", ("n",))
y = derivation.target("y", kind="binary")
w = derivation.param("w", ("n",))
b = derivation.param("b")
alpha = derivation.hyper("alpha", default=1.0, latex=r"\alpha")
l1_ratio = derivation.hyper("l1_ratio", default=0.0, latex=r"\rho")
h = derivation.let("h", sigmoid(derivation.affine("z", w, x, b)))
derivation.loss(-y * sp.log(h) - (1 - y) * sp.log(1 - h))
derivation.penalty(alpha * l1_ratio * total(sp.Abs(w))
                   + alpha * (1 - l1_ratio) / 2 * total(w**2))
derivation.output(h)
