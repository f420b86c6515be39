"""Softmax attention pooling over the features: a = softmax(q ⊙ x), ŷ = Σ_j a_j v_j x_j + b.

Each feature j scores itself (q_j x_j); the softmax over the features weighs the values
v_j x_j. Squared error.
"""

from symdl.functions import softmax, total
from symdl.model import Model

derivation = Model("attention_pooling", title="Softmax attention pooling of the features",
                   source="W8 zoo", reduction="mean")
x = derivation.data("x", ("n",))
y = derivation.target("y")
q = derivation.param("q", ("n",))
v = derivation.param("v", ("n",))
b = derivation.param("b")
a = derivation.let("a", softmax(q * x))
y_hat = derivation.let("y_hat", total(a * v * x) + b)
derivation.loss((y - y_hat) ** 2)
derivation.output(y_hat)
