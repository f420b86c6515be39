"""The centre of a set of numbers under the L¹ distance: the median.

Source: 003_ff0b9f77f02ec2c2.txt §3.1 "Univariate Linear Regression", footnote 3: "if we
choose to minimize the L¹ distance (sum of absolute differences) from the data, we get the
median. As we know, the mean and the median of the data are not necessarily equal." This
file is the L¹ half; center_mean.py is the L² half.

The cost is the mean absolute deviation J(c) = (1/m) Σ |c − x|. Its derivative is
(1/m) Σ sign(c − x) = (#{x < c} − #{x > c})/m wherever c is not a data point, so it has
no closed form and is trained by (sub)gradient descent. As in center_mean.py, the model
has data and no target, and it outputs the deviation c − x.

With m odd (101 numbers) and step α, once c is next to the median every step moves it by
α/m towards the median, so it ends within α/m of it: with α = 0.1 that is about 0.001.
With m even every c between the two middle numbers minimises J, and numpy.median returns
their midpoint, one minimiser among many.
"""

import numpy as np
import sympy as sp

from symdl import datasets, train
from symdl.model import Model, Training

SOURCE = "003_ff0b9f77f02ec2c2.txt §3.1 Univariate Linear Regression, footnote 3"

derivation = Model(
    "center_median",
    title="The centre minimising the $L¹$ distance: the median",
    source=SOURCE,
    summary="$J(c) = (1/m) Σ |c − x|$; $∂J/∂c = (1/m) Σ sign(c − x)$ vanishes at the median.",
    reduction="mean",
    training=Training(dataset="skewed_sample", optimizer="gd", learning_rate=0.1, epochs=500),
)
x = derivation.data("x")
c = derivation.param("c")
deviation = derivation.let("deviation", c - x)
derivation.loss(sp.Abs(deviation))
derivation.output(deviation)


def trained_centre():
    return float(train.train(derivation.name).params["c"])


def final_tolerance():
    """α/m: the size of the last steps, once c is next to the median."""
    return derivation.training.learning_rate / len(datasets.load(derivation.training.dataset).x)


def descent_ends_at_the_median():
    numbers = datasets.load(derivation.training.dataset).x
    return abs(trained_centre() - float(np.median(numbers))) <= final_tolerance()


def mean_and_median_differ():
    """The L¹ centre symdl trains against the L² centre of center_mean's closed form."""
    data = datasets.load(derivation.training.dataset)
    mean = train.closed_form("center_mean", data.x, data.y)["c"]
    return abs(trained_centre() - mean) > final_tolerance()


samples = sp.IndexedBase("x")
i, count = sp.Symbol("i", integer=True), sp.Symbol("m", positive=True, integer=True)
derivation.show(
    "Summed over the samples, the derivative counts the numbers below $c$ minus those above it:",
    sp.Symbol("dJ/dc"), sp.Sum(sp.sign(c - samples[i]), (i, 1, count)) / count, source=SOURCE)

derivation.claim(
    "minimising the $L¹$ distance (sum of absolute differences) from the data gives the median",
    "if we choose to minimize the $L¹$ distance (sum of absolute differences) from the data, "
    "we get the median",
    descent_ends_at_the_median,
    compare="text",
    correction=("The minimisers of $Σ|c − x|$ are the medians: the middle number when $m$ is odd, "
                "and every $c$ between the two middle numbers when $m$ is even."),
)
derivation.claim(
    "the mean and the median of the data are not necessarily equal",
    "As we know, the mean and the median of the data are not necessarily equal.",
    mean_and_median_differ,
    compare="text",
    correction=("The statement holds in general, but the built-in sample does not show it: its "
                "mean and median agree within the training tolerance $α/m$."),
)
