"""The centre of a set of numbers under the L² distance: the mean.

Source: 003_ff0b9f77f02ec2c2.txt §3.1 "Univariate Linear Regression", footnote 3: "If we
pick it to minimize the L² distance from the data, we obtain the mean, while if we choose to
minimize the L¹ distance (sum of absolute differences) from the data, we get the median."
This file is the L² half; center_median.py is the L¹ half.

The L² distance √(Σ (c − x)²) and its square have the same minimiser, so the cost is the
mean of the squared deviations c − x. Each sample is one number x and there is nothing
to predict, so the model has data and no target; its output is the deviation c − x.

The cost has second derivative 2, so gradient descent with step 0.25 halves the distance
to the minimiser every epoch.
"""

import functools

import sympy as sp

from symdl.derive import Derived, closed_form
from symdl.model import Model, Training

SOURCE = "003_ff0b9f77f02ec2c2.txt §3.1 Univariate Linear Regression, footnote 3"

derivation = Model(
    "center_mean",
    title="The centre minimising the $L²$ distance: the mean",
    source=SOURCE,
    summary="$J(c) = (1/m) Σ (c − x)²$; $∂J/∂c = 0$ gives $c = S_x/m$, the mean.",
    reduction="mean",
    training=Training(dataset="skewed_sample", optimizer="gd", learning_rate=0.25, epochs=60),
)
x = derivation.data("x")
c = derivation.param("c")
deviation = derivation.let("deviation", c - x)
derivation.loss(deviation**2)
derivation.output(deviation)

S_X = sp.Symbol("S_{x}", real=True)
COUNT = sp.Symbol("m", positive=True)


@functools.cache  # derived once: every claim below asks for it
def form():
    return closed_form(Derived(derivation))


def distance_slope():
    """∂/∂c of the L² distance √(m·J): a positive multiple of ∂J/∂c wherever the distance is > 0."""
    cost = form().cost
    return sp.simplify(sp.diff(sp.sqrt(COUNT * cost), c) / sp.diff(cost, c))


derivation.show(
    "The $L²$ distance $√(Σ (c − x)²) = √(m·J)$ has the same stationary point: its derivative is "
    "$∂J/∂c$ times",
    sp.Symbol("factor"), distance_slope(), source=SOURCE)

derivation.claim(
    "minimising the $L²$ distance from the data gives the mean, $c = S_x/m$",
    S_X / COUNT,
    lambda: form().solution[c],
)
