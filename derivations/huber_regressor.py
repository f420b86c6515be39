"""Huber regression with a scale σ learned jointly, as scikit-learn's HuberRegressor.

Not from the documents: Owen's robust regression (A. B. Owen, "A robust hybrid of lasso and
ridge regression", 2007), the objective of scikit-learn's `HuberRegressor(epsilon=ε,
alpha=α)`: J = Σ_i (σ + σ·H_ε(r_i/σ)) + α‖w‖², r = y − wᵀx − b, with H_ε(t) = t² for
|t| ≤ ε and 2ε|t| − ε² beyond. σ = e^s is written through its logarithm s, so every step
keeps it positive (scikit-learn bounds σ > 0 instead): the minimiser is the same. Squared
error near the fit, absolute error far from it, so a few outliers pull it less.

σ·H_ε(r/σ) is written out as r²/σ inside (|r| ≤ εσ) and 2ε|r| − ε²σ beyond, so a tiny σ
(e^s → 0) gives the finite 2ε|r| instead of 0·∞.
"""

import sympy as sp

from symdl.functions import total
from symdl.model import Model, Training

derivation = Model(
    "huber_regressor",
    title="Huber regression with a learned scale",
    source="003_ff0b9f77f02ec2c2.txt §3.2 Multivariate Regression (with the Huber loss and "
           "a learned scale; scikit-learn's HuberRegressor)",
    summary="$J = Σ (σ + σ H(r/σ)) + α‖w‖²$, $r = y − wᵀx − b$, $σ = e^s$, $H$ Huber's function of "
            "threshold $ε$: scikit-learn's HuberRegressor with its epsilon $= ε$ and alpha $= α$.",
    reduction="sum",
    training=Training(dataset="surface", optimizer="lbfgs", epochs=500),
)
x = derivation.data("x", ("n",))
y = derivation.target("y")
w = derivation.param("w", ("n",))
b = derivation.param("b")
s = derivation.param("s")
epsilon = derivation.hyper("epsilon", default=1.35, latex=r"\epsilon")
alpha = derivation.hyper("alpha", default=1e-4, latex=r"\alpha")
z = derivation.affine("z", w, x, b)
r = derivation.let("r", y - z)
sigma = derivation.let("sigma", sp.exp(s), latex=r"\sigma")
derivation.loss(sigma + sp.Piecewise((r**2 / sigma, sp.Abs(r) <= epsilon * sigma),
                                     (2 * epsilon * sp.Abs(r) - epsilon**2 * sigma, True)))
derivation.penalty(alpha * total(w**2))
derivation.output(z)
