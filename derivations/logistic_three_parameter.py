"""Blue or orange dots: logistic regression with the three parameters m₁, m₂, b (the talk's second model).

Source: 001_153ca892f3cbebf4.txt (the math club talk), "Moving on to a new problem, suppose we
have a bunch of points labeled either blue or orange". A dot (x, y) with label c ∈ {0, 1} is
orange (c = 1) when σ(m₁x + m₂y + b) ≥ 1/2; p = σ(m₁x + m₂y + b) is the probability the model
gives to orange, and the cost is built from the likelihood Π (p_i if c_i = 1)(1 − p_i if c_i = 0).

Here (m₁, m₂) is the vector parameter `weights` (typeset m, as in the talk: the name m is
taken by the sample count in the generated kernels), a dot is the vector `point` = (x, y),
and b is a scalar bias. The talk optimises J = (1/n)Σ(c_i ln p_i + (1 − c_i) ln(1 − p_i)) "with
gradient descent"; that J is the mean log-likelihood, which gradient descent makes worse. The
model's loss is therefore its negative, the cross-entropy −(c ln p + (1 − c) ln(1 − p)),
averaged over the dots; the claims below show the sign and the printed placement of 1/n.

The cost's curvature is at most L = λ_max(mean of (x, y, 1)(x, y, 1)ᵀ)/4 ≈ 1.87 on the
built-in `two_classes` dots (σ′ ≤ 1/4; tests/test_vector_models.py computes it). A step below
2/L ≈ 1.07 lowers such a convex cost at every step; training uses 1.0, and 3000 epochs bring J
within 1e-10 of its minimum (the dots are not centred, so the cost is badly conditioned).
"""

import itertools

import numpy as np
import sympy as sp

from symdl import datasets
from symdl.functions import sigmoid
from symdl.model import Model, Training

SOURCE = "001_153ca892f3cbebf4.txt (math club talk), the blue or orange dots (logistic regression)"
TALK_STEP = sp.Rational("0.1")  # the talk's gradient-descent step, "m₁ = m₀ − 0.1MSE'(m₀)"

derivation = Model(
    "logistic_three_parameter",
    title="Blue or orange: logistic regression with parameters $m₁, m₂, b$",
    source=SOURCE,
    summary="$p = σ(m₁x + m₂y + b)$; orange $(c = 1)$ iff $p ≥ 1/2$; "
            "$J = −(1/n) Σ (c_i ln p_i + (1 − c_i) ln(1 − p_i))$, the negative of the talk's $J$.",
    reduction="mean",
    training=Training(dataset="two_classes", optimizer="gd", learning_rate=1.0, epochs=3000),
)
point = derivation.data("point", ("d",), latex="x")  # 001's point (x, y) is (x₁, x₂) here
c = derivation.target("c", kind="binary")
weights = derivation.param("weights", ("d",), latex="m")
b = derivation.param("b")
z = derivation.affine("z", weights, point, b)
p = derivation.let("p", sigmoid(z))
derivation.loss(-(c * sp.log(p) + (1 - c) * sp.log(1 - p)))
derivation.output(p)


# ---- the talk's cost, transcribed ------------------------------------------------------------

def logistic(t):
    """σ(z) = 1/(1 + e^{−z}) from its definition."""
    return 1 / (1 + sp.exp(-t))


def talk_summand(label, probability):
    """c ln p + (1 − c) ln(1 − p), one term of the talk's second line."""
    return label * sp.log(probability) + (1 - label) * sp.log(1 - probability)


def talk_factor(label, probability):
    """(p if c = 1)(1 − p if c = 0), one dot's factor of the talk's first line."""
    return sp.Piecewise((probability, sp.Eq(label, 1)), (1 - probability, True))


def printed_cost(labels, probabilities):
    """(1/n)(c₁ ln p₁ + (1−c₁) ln(1−p₁)) + … + (cₙ ln pₙ + (1−cₙ) ln(1−pₙ)), parenthesised as printed."""
    n = len(labels)
    terms = [talk_summand(ci, pi) for ci, pi in zip(labels, probabilities)]
    return sp.Rational(1, n) * terms[0] + sum(terms[1:])


DOTS = 3
LABELS = sp.symbols(f"c_1:{DOTS + 1}", real=True)
PROBABILITIES = sp.symbols(f"p_1:{DOTS + 1}", positive=True)

derivation.show(
    "The talk's cost, first line: the likelihood of the labels, a factor $p_i$ for each orange dot "
    "and $1 − p_i$ for each blue one, multiplied over the dots (for $n = 3$):",
    sp.Symbol("likelihood"), [sp.Mul(*[talk_factor(ci, pi) for ci, pi in zip(LABELS, PROBABILITIES)])])
derivation.show(
    "Its logarithm turns the product into a sum (the talk's point 4); the talk writes it with 1/n on "
    "the first term only:",
    sp.Symbol("J_printed"), [printed_cost(LABELS, PROBABILITIES)])
derivation.show(
    "That $J$ is a log-likelihood: the fit is best where it is LARGEST. Gradient descent minimises, "
    "so symdl's loss is $−J$ with the $1/n$ on the whole sum, the mean cross-entropy:",
    sp.Symbol("J"), [-sp.Rational(1, DOTS) * sum(talk_summand(ci, pi)
                                                 for ci, pi in zip(LABELS, PROBABILITIES))])


# ---- the document's claims -------------------------------------------------------------------

def mean_log_likelihood():
    """(1/n)Σ(c_i ln p_i + (1 − c_i) ln(1 − p_i)) for n = 3: −(symdl's cost), from the model's loss."""
    per_dot = [derivation.loss_expr.xreplace({c: ci, p: pi})
               for ci, pi in zip(LABELS, PROBABILITIES)]
    return -sum(per_dot) / DOTS


derivation.claim(
    "$J = (1/n)(c₁ ln p₁ + (1−c₁) ln(1−p₁)) + … + (cₙ ln pₙ + (1−cₙ) ln(1−pₙ))$, parenthesised as "
    "printed ($n = 3$), is the mean $(1/n)Σ(c_i ln p_i + (1 − c_i) ln(1 − p_i))$",
    printed_cost(LABELS, PROBABILITIES), mean_log_likelihood,
    severity="typo",  # brackets missing around the sum; the talk means the mean
    correction="$J = (1/n)[(c₁ ln p₁ + (1−c₁) ln(1−p₁)) + … + (cₙ ln pₙ + (1−cₙ) ln(1−pₙ))]$: the $1/n$ "
               "multiplies every term, as in the talk's MSE")


def log_turns_likelihood_into_sum():
    """For n = 3 and each of the 8 labellings, ln Π factors = Σ(c ln p + (1 − c) ln(1 − p))."""
    for labelling in itertools.product((0, 1), repeat=DOTS):
        product = sp.Mul(*[talk_factor(ci, pi) for ci, pi in zip(labelling, PROBABILITIES)])
        total = sum(talk_summand(ci, pi) for ci, pi in zip(labelling, PROBABILITIES))
        if sp.simplify(sp.expand_log(sp.log(product), force=True) - total) != 0:
            return False
    return True


derivation.claim(
    "logs convert the product $(p_i if c_i = 1)(1 − p_i if c_i = 0)…$ into the sum "
    "$Σ(c_i ln p_i + (1 − c_i) ln(1 − p_i))$ ($n = 3$, every labelling)",
    "④ Using logs to convert a product into a sum",
    log_turns_likelihood_into_sum, compare="text",
    correction="$ln Π p_i^{c_i}(1 − p_i)^{1−c_i} = Σ(c_i ln p_i + (1 − c_i) ln(1 − p_i))$")


def first_line_equals_second():
    """Does the first line, read as (1/n)·product or as the product, equal the second (n = 3)?"""
    for labelling in itertools.product((0, 1), repeat=DOTS):
        product = sp.Mul(*[talk_factor(ci, pi) for ci, pi in zip(labelling, PROBABILITIES)])
        second = sp.Rational(1, DOTS) * sum(talk_summand(ci, pi)
                                            for ci, pi in zip(labelling, PROBABILITIES))
        for first in (product / DOTS, product):
            if sp.simplify(first - second) != 0:
                return False
    return True


derivation.claim(
    "$J = (1/n)Σ(p_i if c_i = 1)(1 − p_i if c_i = 0)…(pₙ if cₙ = 1)(1 − pₙ if cₙ = 0) "
    "= (1/n)(c₁ ln p₁ + (1−c₁) ln(1−p₁)) + …$: the first line of the cost equals the second",
    "3 Cost function: $J(m_1, m_2, b) = (1/n) Σ_{i=1}^n (p_i if c_i = 1)(1 − p_i if c_i = 0)$ …… "
    "$(p_n if c_n = 1)(1 − p_n if c_n = 0)$ ... 4 Optimize: $= (1/n)(c_1 ln p_1 + (1−c_1) ln(1−p_1)) "
    "+ … + (c_n ln p_n + (1−c_n) ln(1−p_n))$",
    first_line_equals_second, compare="text",
    severity="typo",  # ln and Π left out: the talk's point 4 takes the log of the product
    correction="the first line is a product of probabilities (the likelihood, in (0, 1)), written "
               "under a sum sign; the second is (1/n) times its logarithm, a negative number. They "
               "are not equal; maximising either maximises the other, since $ln$ is increasing")


def log_likelihood_after_talk_step():
    """ln(likelihood) on the `two_classes` dots before and after one step θ − 0.1·∇J from θ = 0.

    J is the talk's cost with the $1/n$ on the whole sum (so only its sign is tested); SymPy
    differentiates one term with respect to (m₁, m₂, b) and NumPy averages over the dots.
    """
    dots = datasets.two_classes()
    m1, m2, bias, x_, y_, c_ = sp.symbols("m_1 m_2 b x y c", real=True)
    parameters = (m1, m2, bias)
    term = talk_summand(c_, logistic(m1 * x_ + m2 * y_ + bias))
    gradients = [sp.lambdify((*parameters, x_, y_, c_), sp.diff(term, q), "numpy")
                 for q in parameters]
    log_likelihood = sp.lambdify((*parameters, x_, y_, c_), term, "numpy")

    def total(function, values):
        return float(np.sum(function(*values, dots.x[:, 0], dots.x[:, 1], dots.y)))

    start = np.zeros(3)
    gradient_of_J = np.array([total(g, start) for g in gradients]) / len(dots.y)
    after = start - float(TALK_STEP) * gradient_of_J
    return total(log_likelihood, start), total(log_likelihood, after)


derivation.claim(
    "gradient descent on $J = (1/n)Σ(c_i ln p_i + (1 − c_i) ln(1 − p_i))$ fits the dots better "
    "(one step $m₁ = m₀ − 0.1·J′(m₀)$ from 0 on the `two_classes` dots raises the likelihood)",
    "4 Optimize: $= (1/n)(c_1 ln p_1 + (1-c_1) ln(1-p_1)) +$ ... Here to use gradient descent.",
    lambda: log_likelihood_after_talk_step()[1] > log_likelihood_after_talk_step()[0],
    compare="text",
    severity="error",
    between=("003_ff0b9f77f02ec2c2.txt §3.3 minimises the cross-entropy $J = Σ H(y, h) = "
             "−Σ(y log h + (1 − y) log(1 − h))$, the negative of the talk's $J$: 001 writes the "
             "log-likelihood without the minus sign yet calls it a cost to descend, and its "
             "chain-rule slide prints the derivatives of 003's sign, not of its own $J$."),
    correction="that $J$ is the mean log-likelihood, to be maximised: gradient descent on it lowers "
               "the likelihood. Minimise $−J$, the mean cross-entropy "
               "$−(1/n)Σ(c_i ln p_i + (1 − c_i) ln(1 − p_i))$, or do gradient ascent on $J$")


def decision_rule_is_a_line():
    """σ(t) ≥ 1/2 exactly when t ≥ 0 (SymPy's solveset), so c = 1 iff m₁x + m₂y + b ≥ 0."""
    t = sp.Symbol("t", real=True)
    return sp.solveset(logistic(t) >= sp.Rational(1, 2), t, sp.S.Reals) == sp.Interval(0, sp.oo)


derivation.claim(
    "$c = 1$ iff $σ(m₁x + m₂y + b) ≥ 1/2$: the decision boundary is the line $m₁x + m₂y + b = 0$",
    "$c = 1$ if $σ(m_1 x + m_2 y + b) ≥ 1/2$, 0 if $σ(m_1 x + m_2 y + b) < 1/2$ ... In the previous "
    "demonstration, the decision boundary was always a line.",
    decision_rule_is_a_line, compare="text",
    correction="$σ(t) ≥ 1/2$ iff $t ≥ 0$, so $c = 1$ on the half-plane $m₁x + m₂y + b ≥ 0$")
