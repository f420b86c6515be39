"""Poisson regression (a log-link GLM) with an L2 penalty α/2·‖w‖².

Not from the documents: the rate of a count is μ = e^{wᵀx + b}, and the loss is the negative
log-likelihood without its constant log y!, ℓ = μ − y·(wᵀx + b). The mean of ℓ plus
α/2·‖w‖² (b not penalised) is scikit-learn's `PoissonRegressor(alpha=α)` objective (half the
mean deviance, which differs from mean ℓ by a constant of the data, plus α/2‖w‖²), so the same
α gives the same coefficients; α = 1 is scikit-learn's default.
"""

import sympy as sp

from symdl.functions import total
from symdl.model import Model, Training

derivation = Model(
    "poisson_glm",
    title="Poisson regression with an $L2$ penalty",
    source="003_ff0b9f77f02ec2c2.txt §3.2 Multivariate Regression ($wᵀx + b$ as a log-rate; "
           "scikit-learn's PoissonRegressor)",
    summary="$J = (1/m) Σ (e^z − y z) + α/2 ‖w‖²$, $z = wᵀx + b$: scikit-learn's "
            "PoissonRegressor with its alpha $= α$.",
    reduction="mean",
    training=Training(dataset="counts", optimizer="lbfgs", epochs=300),
)
x = derivation.data("x", ("n",))
y = derivation.target("y")
w = derivation.param("w", ("n",))
b = derivation.param("b")
alpha = derivation.hyper("alpha", default=1.0, latex=r"\alpha")
z = derivation.affine("z", w, x, b)
rate = derivation.let("rate", sp.exp(z), latex=r"\mu")
derivation.loss(rate - y * z)
derivation.penalty(alpha / 2 * total(w**2))
derivation.output(rate)
