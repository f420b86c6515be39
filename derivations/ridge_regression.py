"""Ridge regression: least squares with an L2 penalty α‖w‖² on the weights, α a hyperparameter.

Not from the documents: 003 §3.2's least squares with an intercept b of its own and weight
decay on w only. J = Σ_i (y − wᵀx − b)² + α‖w‖², a sum, not a mean: exactly the objective
scikit-learn's `Ridge(alpha=α)` minimises (‖y − Xw − b‖² + α‖w‖², the intercept not
penalised), so the same α gives the same coefficients. α = 0 is ordinary least squares.
"""


from symdl.functions import total
from symdl.model import Model, Training

derivation = Model(
    "ridge_regression",
    title="Ridge regression: least squares plus $α‖w‖²$",
    source="003_ff0b9f77f02ec2c2.txt §3.2 Multivariate Regression (with an L2 penalty; "
           "scikit-learn's Ridge)",
    summary="$J = Σ (y − wᵀx − b)² + α‖w‖²$: scikit-learn's Ridge with its alpha $= α$.",
    reduction="sum",
    training=Training(dataset="surface", optimizer="lbfgs", epochs=200),
)
x = derivation.data("x", ("n",))
y = derivation.target("y")
w = derivation.param("w", ("n",))
b = derivation.param("b")
alpha = derivation.hyper("alpha", default=1.0, latex=r"\alpha")
z = derivation.affine("z", w, x, b)
derivation.loss((y - z) ** 2)
derivation.penalty(alpha * total(w**2))
derivation.output(z)
