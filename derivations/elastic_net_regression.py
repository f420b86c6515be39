"""Elastic-net linear regression: mean squared error/2 plus α(ρ‖w‖₁ + (1 − ρ)/2·‖w‖²).

Not from the documents: scikit-learn's `ElasticNet(alpha=α, l1_ratio=ρ)` objective,
J = 1/(2m) Σ_i (y − wᵀx − b)² + α·ρ·‖w‖₁ + α(1 − ρ)/2·‖w‖², the intercept not penalised;
ρ = 1 is the lasso, ρ = 0 ridge (with scikit-learn's mean scaling, unlike `ridge_regression`).

|w_j| is not differentiable at 0: symdl differentiates Abs to sign(w_j), 0 at w_j = 0 (a
subgradient). So gradient descent and L-BFGS minimise J well where the minimiser has no zero
weight, and near one they oscillate around 0 instead of landing on it: the exact zeros
(sparsity) that scikit-learn's coordinate descent gives come only from a proximal step,
which symdl does not have. Use it for the shrinkage, not for selecting features.
"""

import sympy as sp

from symdl.functions import total
from symdl.model import Model, Training

derivation = Model(
    "elastic_net_regression",
    title="Elastic-net regression: MSE/2 plus $α(ρ‖w‖₁ + (1 − ρ)‖w‖²/2)$",
    source="003_ff0b9f77f02ec2c2.txt §3.2 Multivariate Regression (with an elastic-net "
           "penalty; scikit-learn's ElasticNet)",
    summary="$J = (1/2m) Σ (y − wᵀx − b)² + α ρ ‖w‖₁ + α (1 − ρ)/2 ‖w‖²$: scikit-learn's "
            "ElasticNet with its alpha $= α$ and its $L1$ ratio $ρ$.",
    reduction="mean",
    training=Training(dataset="surface", optimizer="lbfgs", epochs=300),
)
x = derivation.data("x", ("n",))
y = derivation.target("y")
w = derivation.param("w", ("n",))
b = derivation.param("b")
alpha = derivation.hyper("alpha", default=1.0, latex=r"\alpha")
l1_ratio = derivation.hyper("l1_ratio", default=0.5, latex=r"\rho")
z = derivation.affine("z", w, x, b)
derivation.loss((y - z) ** 2 / 2)
derivation.penalty(alpha * l1_ratio * total(sp.Abs(w))
                   + alpha * (1 - l1_ratio) / 2 * total(w**2))
derivation.output(z)
