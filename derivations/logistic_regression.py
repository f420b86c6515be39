"""Logistic regression with the cross-entropy cost (003 §3.3).

Source: 003_ff0b9f77f02ec2c2.txt §3.3 "Logistic Regression: Regression or Classification?"
The hypothesis h_θ(x) = σ(θᵀx), the cost J(θ) = Σ_i H(y⁽ⁱ⁾, h_θ(x⁽ⁱ⁾)) with the binary
cross-entropy H, and the document's gradient grad J(θ) = Xᵀ(h_θ(X) − y).

The claims hold the document's statements against SymPy: σ′ = σ(1 − σ) (which 003 uses and
the math club talk 001 prints as ∂p/∂z = p(1 − p)), the cross-entropy of the label's
distribution, the matrix-form gradient against symdl's per-sample (h − y)x summed over a
generic 4 × 3 design matrix, the decision boundary θᵀx = 0, and the closing paragraph's
one-vs-rest classifier (symdl.one_vs_rest), trained on Gaussian blobs.

Training uses the step 0.005: gradient descent on J converges for steps below 2/L, where
L = λ_max(Σ h(1 − h) x xᵀ) ≤ λ_max(XᵀX)/4 bounds the Hessian; on the built-in dots 2/L is
about 0.0053.
"""

import numpy as np
import sympy as sp

from symdl import datasets, one_vs_rest
from symdl.derive import Derived
from symdl.functions import explicit, sigmoid
from symdl.model import Model, Training

SOURCE = "003_ff0b9f77f02ec2c2.txt §3.3 Logistic Regression: Regression or Classification?"

derivation = Model(
    "logistic_regression",
    title="Logistic regression with the cross-entropy cost",
    source=SOURCE,
    summary="$h = σ(θᵀx)$; $J(θ) = Σ −y log h − (1 − y) log(1 − h)$; classify $y = 1$ when $h ≥ 1/2$.",
    reduction="sum",
    training=Training(dataset="two_classes_with_bias", optimizer="gd",
                      learning_rate=0.005, epochs=3000),
)
x = derivation.data("x", ("n",), bias_column=True)  # x₀ = 1 carries θ₀
y = derivation.target("y", kind="binary")
theta = derivation.param("theta", ("n",), latex=r"\theta")
z = derivation.affine("z", theta, x)
h = derivation.let("h", sigmoid(z))
derivation.loss(-y * sp.log(h) - (1 - y) * sp.log(1 - h))
derivation.output(h)


# ---- the document's claims ------------------------------------------------------------------

T = sp.Symbol("t", real=True)


def logistic(t):
    """σ(t) = 1/(1 + e^{−t}) from its definition, not symdl's sigmoid (which carries σ′)."""
    return 1 / (1 + sp.exp(-t))


def cross_entropy(p, q):
    """H(p, q) = −Σ_i p_i log q_i, the document's definition."""
    return -sum(p_i * sp.log(q_i) for p_i, q_i in zip(p, q))


derivation.claim(
    "$σ′ = σ(1 − σ)$, the identity behind $∂p/∂z⁽²⁾ = p(1 − p)$ of the math club talk",
    logistic(T) * (1 - logistic(T)), lambda: sp.diff(logistic(T), T),
    source="001_153ca892f3cbebf4.txt (math club talk), $σ$ and its basic properties; the chain rule",
    correction="$σ′(t) = σ(t)(1 − σ(t))$")

PRINTED_CROSS_ENTROPY = -y * sp.log(h) - (1 - y) * sp.log(1 - h)

derivation.claim(
    "$H(y, h) = −y log h − (1 − y) log(1 − h)$ is the cross-entropy $−Σ p_i log q_i$ of "
    "$q = (h, 1 − h)$ relative to the label's distribution $p = (y, 1 − y)$",
    PRINTED_CROSS_ENTROPY, lambda: cross_entropy((y, 1 - y), (h, 1 - h)),
    correction="$H(y, h) = −y log h − (1 − y) log(1 − h)$")


def printed_distribution_gives_the_loss():
    """With p₁ = 1, p₂ = 0 as printed, is H(p, (h, 1 − h)) the document's H(y, h) for y = 0 and 1?"""
    printed_p = (sp.Integer(1), sp.Integer(0))
    return all(sp.simplify(cross_entropy(printed_p, (h, 1 - h))
                           - PRINTED_CROSS_ENTROPY.subs(y, label)) == 0 for label in (0, 1))


derivation.claim(
    "$y ∈ {0, 1}$ \"so $p₁ = 1$ and $p₂ = 0$, therefore\" $H(y, h) = −y log h − (1 − y) log(1 − h)$",
    "In our case $y^(i) ∈ {0, 1}$ so $p_1 = 1$ and $p_2 = 0$, therefore $H(y^(i), h_θ(x^(i))) = "
    "−y^(i) log h_θ(x^(i)) − (1 − y^(i)) log(1 − h_θ(x^(i)))$.",
    printed_distribution_gives_the_loss, compare="text",
    severity="typo",  # p = (y, 1 − y) is meant: the H(y, h) that follows is right
    correction="the label's distribution is $p = (y, 1 − y)$: $p = (1, 0)$ only when $y = 1$, and "
               "$p = (0, 1)$ when $y = 0$. With $p = (1, 0)$ for every sample $H(p, q)$ would be $−log h$ "
               "whatever the label; it is $p = (y, 1 − y)$ that gives $−y log h − (1 − y) log(1 − h)$")


def generic_samples(samples=4, features=3):
    """X, y and θ for m = 4 samples of 3 features, every entry an independent symbol."""
    X = sp.Matrix(samples, features, lambda i, j: sp.Symbol(f"X_{i}{j}", real=True))
    labels = sp.Matrix(samples, 1, lambda i, _: sp.Symbol(f"y_{i}", real=True))
    weights = sp.Matrix(features, 1, lambda j, _: sp.Symbol(f"theta_{j}", real=True))
    return X, labels, weights


def printed_gradient(X, labels, weights):
    """grad J(θ) = Xᵀ(h_θ(X) − y), with h_θ applied to every row of X."""
    return X.T * ((X * weights).applyfunc(logistic) - labels)


def summed_per_sample_gradient(X, labels, weights):
    """Σ_i ∂ℓ⁽ⁱ⁾/∂θ from symdl's chain rule: δz·x per sample, δz as derive.py derives it."""
    derived = Derived(derivation)
    (gradient,) = derived.gradients
    (affine,) = gradient.as_weight
    (delta,) = [a.local for a in derived.adjoints if a.tensor == affine.out]
    total = sp.zeros(X.cols, 1)
    for i in range(X.rows):
        z_i = (X.row(i) * weights)[0, 0]
        values = {z: z_i, h: logistic(z_i), y: labels[i]}
        total += explicit(delta.xreplace(values)) * X.row(i).T
    return total


derivation.claim(
    "grad $J(θ) = Xᵀ(h_θ(X) − y)$ ($X$ a $4 × 3$ matrix of symbols)",
    printed_gradient(*generic_samples()), lambda: summed_per_sample_gradient(*generic_samples()),
    correction="grad $J(θ) = Xᵀ(h_θ(X) − y)$")


def decision_boundary_is_half():
    """h ≥ 1/2 exactly when θᵀx ≥ 0, and h = 1/2 exactly on θᵀx = 0 (SymPy's solveset)."""
    half = sp.Rational(1, 2)
    return (sp.solveset(logistic(T) >= half, T, sp.S.Reals) == sp.Interval(0, sp.oo)
            and sp.solveset(sp.Eq(logistic(T), half), T, sp.S.Reals) == sp.FiniteSet(0))


derivation.claim(
    "deciding $y = 1$ when $h_θ(x) ≥ 0.5$ puts the decision boundary at $θᵀx = 0$",
    "We will make a classification decision $y = 1$ when $h_θ(x) ≥ 0.5$ and $y = 0$ otherwise. "
    "The decision boundary is $θ^T x = 0$.",
    decision_boundary_is_half, compare="text",
    correction="$σ(t) ≥ 1/2$ exactly when $t ≥ 0$, so the boundary is $θᵀx = 0$")


def one_vs_rest_accuracy():
    """Accuracy of 3 one-vs-rest logistic classifiers on fresh blobs (seed 1), trained on blobs().

    The step is 1/L for L = λ_max(XᵀX)/4, the largest curvature the cross-entropy can have
    (σ′ ≤ 1/4), so gradient descent cannot overshoot.
    """
    training, held_out = datasets.blobs(), datasets.blobs(seed=1)
    classes = int(training.y.max()) + 1
    curvature = np.linalg.eigvalsh(training.x.T @ training.x).max() / 4
    params_list = one_vs_rest.fit(derivation.name, training.x, training.y, classes,
                                  learning_rate=1 / curvature, epochs=300)
    predicted = one_vs_rest.predict(derivation.name, params_list, held_out.x)
    return float(np.mean(predicted == held_out.y))


derivation.claim(
    "$L$ one-vs-rest binary classifiers, taking the class whose classifier scores highest, make a "
    "working L-class classifier (held: accuracy $≥ 0.9$ on 3 fresh Gaussian blobs)",
    "To build a classifier with $L$ classes, we can use $L$ binary (one-vs-rest) classifiers. To pick "
    "the final answer, we take the class whose one-vs-rest classifier produced the highest score.",
    lambda: one_vs_rest_accuracy() >= 0.9, compare="text",
    correction="on data whose classes are separable from the rest by a line, one-vs-rest "
               "logistic regression classifies well; otherwise it can fail")
