"""Poisson regression of counts: ℓ = e^{θᵀx} − y·θᵀx, the negative log-likelihood up to log y!.

Not from the documents: 003 §3.2's θᵀx as the log of a rate. The exponential cannot be made
finite where its true value is not (θᵀx > 709.78 in float64); `symdl check` reports how far
θᵀx goes at the size-1000 check instead of a bare inf.
"""

import sympy as sp

from symdl.model import Model, Training

derivation = Model(
    "poisson_regression",
    title="Poisson regression of counts",
    source="003_ff0b9f77f02ec2c2.txt §3.2 Multivariate Regression ($θᵀx$ as a log-rate)",
    reduction="mean",
    training=Training(dataset="counts", optimizer="gd", learning_rate=0.05, epochs=300),
)
x = derivation.data("x", ("n",))
y = derivation.target("y")
theta = derivation.param("theta", ("n",))
z = derivation.affine("z", theta, x)
rate = derivation.let("rate", sp.exp(z), latex=r"\lambda")
derivation.loss(sp.exp(z) - y * z)
derivation.output(rate)
