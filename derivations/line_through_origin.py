"""A line through the origin y = m·x fitted by the mean squared error (the talk's first model).

Source: 001_153ca892f3cbebf4.txt (the math club talk), the Test 1 / Test 2 scores example:
MSE = (1/n)((y₁ − m x₁)² + … + (yₙ − m xₙ)²), its minimiser
m_bestest = (x₁y₁ + … + xₙyₙ)/(x₁² + … + xₙ²), and the iteration m₁ = m₀ − 0.1·MSE′(m₀).

The tensor is named `slope` (the generated kernels use m for the number of samples), but it
prints as the talk's m, and the count of samples prints as the talk's n.

MSE is a parabola in the slope with MSE″ = 2·mean(x²), so gradient descent multiplies the
distance to m_bestest by 1 − s·MSE″ every step and converges iff 0 < s < 2/MSE″ =
1/mean(x²). On the built-in scores (40 to 100, mean(x²) ≈ 5509) that bound is about
1.8·10⁻⁴: the talk's step 0.1 diverges there. Training uses s = 10⁻⁴, a little over half
the bound, which shrinks the distance by |1 − 10⁻⁴·MSE″| ≈ 0.1 per epoch.
"""

import functools

import numpy as np
import sympy as sp

from symdl import datasets, train
from symdl.derive import Derived, closed_form
from symdl.model import Model, Training

SOURCE = "001_153ca892f3cbebf4.txt, the Test 1 / Test 2 scores example (line $y = mx$)"
TALK_STEP = sp.Rational("0.1")  # "m₁ = m₀ − 0.1MSE'(m₀)"
ITERATIONS_TRIED = 30

derivation = Model(
    "line_through_origin",
    title="A line through the origin $y = mx$ and its mean squared error",
    source=SOURCE,
    summary=("$MSE(m) = (1/n) Σ (y_i − m x_i)²$; $m_bestest = Σxy/Σx²$; $m₁ = m₀ − s·MSE'(m₀)$. "
             "The talk's letters: $m$ is the slope and $n$ counts the samples."),
    reduction="mean",
    training=Training(dataset="test_scores", optimizer="gd", learning_rate=1e-4, epochs=50),
)
x = derivation.data("x")
y = derivation.target("y")
slope = derivation.param("slope", latex="m")  # 001 "y = mx": the slope is m
prediction = derivation.let("y_hat", slope * x, latex=r"\hat{y}")
derivation.loss((y - prediction) ** 2)
derivation.output(prediction)

S_XX = sp.Symbol("S_{xx}", real=True)
S_XY = sp.Symbol("S_{xy}", real=True)
COUNT = sp.Symbol("m", positive=True)
STEP = sp.Symbol("s", positive=True)
ERROR = sp.Symbol("epsilon", real=True)


@functools.cache  # derived once: every claim below asks for it
def form():
    return closed_form(Derived(derivation))


def second_derivative():
    """MSE'', the one entry of symdl's Hessian of the cost."""
    return form().hessian[0, 0]


def sums_of(data):
    """The data sums S of the closed form and the count m, evaluated on a Dataset."""
    values = {COUNT: len(data.x)}
    for symbol, sample in form().statistics.items():
        per_sample = sp.lambdify((x, y), sample, "numpy")(data.x, data.y)
        values[symbol] = float(np.sum(np.broadcast_to(per_sample, data.x.shape)))
    return values


def error_after_one_step():
    """m₁ − m_bestest when m₀ = m_bestest + ε: gradient descent on symdl's derived MSE'."""
    best = form().solution[slope]
    derivative = form().gradient[0]
    start = best + ERROR
    factor = sp.expand(sp.simplify((start - STEP * derivative.subs(slope, start) - best) / ERROR))
    return sp.Mul(factor, ERROR, evaluate=False)


def stability_bound():
    """The largest stable step: |1 − s·MSE''| < 1 ⇔ 0 < s < 2/MSE''."""
    return sp.simplify(2 / second_derivative())


def minimum_at_stationary_point():
    """MSE'' does not depend on the slope and is a positive multiple of Σx² ≥ 0."""
    curvature = second_derivative()
    squares = sp.symbols("x_1:4", real=True)
    on_three_points = curvature.subs({S_XX: sum(v**2 for v in squares), COUNT: 3})
    on_the_scores = curvature.subs(sums_of(datasets.test_scores()))
    return (slope not in curvature.free_symbols and bool(on_three_points.is_nonnegative)
            and bool(on_the_scores > 0))


def talk_step_converges_on_scores():
    """Iterate m_{k+1} = m_k − 0.1·MSE'(m_k) on the scores with the generated gradient kernel."""
    scores = datasets.test_scores()
    best = train.closed_form(derivation.name, scores.x, scores.y)["slope"]
    current = 0.0
    for _ in range(ITERATIONS_TRIED):
        derivative = train.loss_and_gradient(derivation.name, {"slope": current}, scores.x,
                                             scores.y)[1]["slope"]
        current -= float(TALK_STEP) * derivative
    return abs(current - best) < abs(0.0 - best)


def scores_bound():
    return float(stability_bound().subs(sums_of(datasets.test_scores())))


def scores_factor(step):
    """1 − s·MSE'' on the test scores: what one step multiplies the distance to m_bestest by."""
    return float(1 - step * second_derivative().subs(sums_of(datasets.test_scores())))


TALK_COUNT = sp.Symbol("n", positive=True)
"""The number of samples as the talk writes it, MSE = (1/n)(...), for the steps shown."""
derivation.show(
    "Gradient descent from $m₀ = m_bestest + ε$ with step $s$: the error after one "
    "step is $(1 − s·MSE'')·ε$,",
    sp.Symbol("m_1") - sp.Symbol("m_bestest"), error_after_one_step().subs(COUNT, TALK_COUNT),
    source=SOURCE)
derivation.show(
    "so the iteration converges iff $|1 − s·MSE''| < 1$, i.e. for steps below",
    sp.Symbol("s_max"), stability_bound().subs(COUNT, TALK_COUNT), source=SOURCE)
derivation.show(
    "On the built-in test scores (40 to 100) that bound is",
    sp.Symbol("s_max"), sp.Float(scores_bound(), 4), source=SOURCE)

derivation.claim(
    "setting $MSE'(m) = 0$ gives $m_bestest = (x₁y₁ + … + x_n·y_n)/(x₁² + … + x_n²)$",
    S_XY / S_XX,
    lambda: form().solution[slope],
)
derivation.claim(
    "the $m$ where $MSE'(m) = 0$ is the $m$ that makes MSE as small as possible",
    "The goal then is to find the value of $m$ that makes MSE as small as possible. [...] "
    "Setting the derivative of MSE (with respect to the variable $m$) equal to 0 and solving "
    "gives that the optimal $m$ is $m_bestest$",
    minimum_at_stationary_point,
    compare="text",
    correction=("$MSE'' = (2/n)Σx²$ is positive, so the stationary point is the minimum, unless "
                "every $x$ is 0; then MSE does not depend on $m$ and $m_bestest$ is 0/0."),
)
derivation.claim(
    "the update $m₁ = m₀ − 0.1·MSE'(m₀)$, repeated, finds the best slope for the test scores",
    "we could guess an initial $m_0$, compute $MSE'(m_0)$, update our slope to "
    "$m_1 = m_0 − 0.1MSE'(m_0)$, and so on.",
    talk_step_converges_on_scores,
    compare="text",
    severity="assumption",
    assumption=("the step is below $2/MSE'' = 1/mean(x²)$, i.e. the data are of order 1 "
                "(scores divided by 100), not the raw test scores the talk plots"),
    correction=(
        "Gradient descent on MSE converges iff $0 < s < 2/MSE'' = 1/mean(x²)$. For the test "
        f"scores (40 to 100) that bound is {scores_bound():.3g}, so the step 0.1 multiplies "
        f"the distance to $m_bestest$ by ${scores_factor(TALK_STEP):.5g}$ each step and diverges. "
        "The step 0.1 works "
        "only for data of order 1, e.g. scores divided by 100 (bound "
        f"{scores_bound() * 100**2:.3g})."),
)
