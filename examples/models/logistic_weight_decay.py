"""Logistic regression with weight decay: the cross-entropy of 003 §3.3 plus λ‖θ‖².

Not from the documents: the penalty λ‖θ‖² = λ Σ_j θ_j² depends on the parameters only, so
it is added once to the cost (J = mean ℓ + λ‖θ‖²), not to each sample's loss. Here it
covers every θ_j, the intercept θ_0 included.

λ is a hyperparameter (`derivation.hyper`): a symbol in the printed derivation, a scalar
argument of the kernels (default 0.01), so `train.fit(..., hyper={"lam": 0.1})`,
`symdl train logistic_weight_decay.py --hyper lam=0.1` or a grid search over it compiles
nothing new.
"""

import sympy as sp

from symdl.functions import sigmoid, total
from symdl.model import Model, Training

derivation = Model(
    "logistic_weight_decay",
    title="Logistic regression with weight decay $λ‖θ‖²$",
    source="003_ff0b9f77f02ec2c2.txt §3.3 Logistic Regression (with an L2 penalty)",
    reduction="mean",
    training=Training(dataset="two_classes_with_bias", optimizer="gd", learning_rate=0.5,
                      epochs=200),
)
x = derivation.data("x", ("n",))
y = derivation.target("y", kind="binary")
theta = derivation.param("theta", ("n",))
lam = derivation.hyper("lam", default=0.01, latex=r"\lambda")
z = derivation.affine("z", theta, x)
h = derivation.let("h", sigmoid(z))
derivation.loss(-y * sp.log(h) - (1 - y) * sp.log(1 - h))
derivation.penalty(lam * total(theta**2))
derivation.output(h)
