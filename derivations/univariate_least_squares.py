"""Univariate least squares: the line y = a·x + b minimising J(a, b) = Σ (a·x + b − y)².

Source: 003_ff0b9f77f02ec2c2.txt §3.1 "Univariate Linear Regression": the cost J(a, b), the
normal equations in the data sums S_x, S_xx, S_y, S_xy, the least-squares solution (1), the
Hessian H = 2[[S_xx, S_x], [S_x, m]] with Sylvester's criterion, the special case
x⁽¹⁾ = … = x⁽ᵐ⁾, and the iterative solution a_{k+1} = a_k − s ∂J/∂a, b_{k+1} = b_k − s ∂J/∂b.

Gradient descent on a quadratic converges from every start iff 0 < s < 2/λ_max(H). On the
built-in floor areas (datasets.floor_areas) λ_max ≈ 472, so the bound is about 0.00424;
training uses s = 0.004, just below it, where the slowest direction (λ_min ≈ 11.2) still
shrinks by 1 − 0.004·λ_min ≈ 0.955 per epoch.
"""

import functools

import numpy as np
import sympy as sp

from symdl import datasets, train
from symdl.derive import Derived, closed_form
from symdl.errors import DivergenceError, SingularError
from symdl.model import Model, Training

SOURCE = "003_ff0b9f77f02ec2c2.txt §3.1 Univariate Linear Regression"
POINTS_WRITTEN_OUT = 4  # identities over the samples are checked for m = 4 explicit points
ABOVE_THE_BOUND = 1.05  # "a step just above 2/λ_max"
EPOCHS_TRIED = 200

derivation = Model(
    "univariate_least_squares",
    title="Univariate least squares: $y = ax + b$",
    source=SOURCE,
    summary="$J(a, b) = Σ (a x + b − y)²$; normal equations; solution (1); $H = 2[[S_xx, S_x], [S_x, m]]$.",
    reduction="sum",
    training=Training(dataset="floor_areas", optimizer="gd", learning_rate=0.004, epochs=1000),
)
x = derivation.data("x")
y = derivation.target("y")
a = derivation.param("a")
b = derivation.param("b")
y_hat = derivation.let("y_hat", a * x + b, latex=r"\hat{y}")
derivation.loss((y_hat - y) ** 2)
derivation.output(y_hat)

# The data sums as 003 §3.1 names them (symdl's own names for the same sums).
S_X, S_XX = sp.Symbol("S_{x}", real=True), sp.Symbol("S_{xx}", real=True)
S_Y, S_XY = sp.Symbol("S_{y}", real=True), sp.Symbol("S_{xy}", real=True)
COUNT = sp.Symbol("m", positive=True)


@functools.cache  # derived once: every claim below asks for it
def form():
    return closed_form(Derived(derivation))


def sums_of(x_values, y_values):
    """The data sums S of the closed form, evaluated on arrays."""
    values = {}
    for symbol, sample in form().statistics.items():
        per_sample = sp.lambdify((x, y), sample, "numpy")(x_values, y_values)
        values[symbol] = float(np.sum(np.broadcast_to(per_sample, np.shape(x_values))))
    return values


def normal_equations():
    """∂J/∂a = 0, ∂J/∂b = 0 with the common numeric factor divided out."""
    return sp.Matrix([g.as_content_primitive()[1] for g in form().gradient])


def written_out(expression, points):
    """An expression in the data sums with each sum written out over explicit points."""
    xs = sp.symbols(f"x_1:{points + 1}", real=True)
    return sp.expand(expression.subs({S_XX: sum(v**2 for v in xs), S_X: sum(xs),
                                      COUNT: points})), xs


def hessian_is_positive_definite_unless_all_x_equal():
    """Sylvester on symdl's Hessian: every principal minor, with m = 4 points written out.

    H₁₁/2 = Σx² ≥ 0, H₂₂/2 = m > 0, and det(H)/4 = m·S_xx − S_x² = Σ_{i<j} (x_i − x_j)², which
    is ≥ 0 and vanishes exactly when all x are equal.
    """
    hessian = form().hessian
    first, xs = written_out(hessian[0, 0] / 2, POINTS_WRITTEN_OUT)
    determinant, _ = written_out(hessian.det() / 4, POINTS_WRITTEN_OUT)
    pairs = sum((xs[i] - xs[j]) ** 2 for i in range(len(xs)) for j in range(i + 1, len(xs)))
    return (bool(first.is_nonnegative) and bool((hessian[1, 1] / 2).is_positive)
            and sp.expand(determinant - pairs) == 0)


def hessian_with_equal_x():
    """symdl's Hessian when every x equals c: S_x = m·c, S_xx = m·c²."""
    c = sp.Symbol("c", real=True)
    return form().hessian.subs({S_X: COUNT * c, S_XX: COUNT * c**2}), c


def minimisers_with_equal_x():
    """∇J = 0 when every x equals c (so S_xy = c·S_y): one equation for a line of (a, b)."""
    _, c = hessian_with_equal_x()
    equal = {S_X: COUNT * c, S_XX: COUNT * c**2, S_XY: c * S_Y}
    (solution,) = sp.solve([g.subs(equal) for g in form().gradient], [b], dict=True)
    return a * c + b, sp.simplify(a * c + solution[b])


def equal_x_cannot_be_solved_by_equation_1():
    """The Hessian is singular for all-equal x, and the generated closed form refuses it."""
    hessian, _ = hessian_with_equal_x()
    data = datasets.floor_areas()
    try:
        train.closed_form(derivation.name, np.full_like(data.x, data.x[0]), data.y)
    except SingularError:
        refused = True
    else:
        refused = False
    return sp.simplify(hessian.det()) == 0 and refused


def sums_over_k_equal_sums_over_samples():
    """Σ_{k=1}^m x^{(i)} as printed, against the sum over the samples Σ_{i=1}^m x^{(i)}."""
    samples = sp.IndexedBase("x")
    i, k = sp.symbols("i k", integer=True)
    printed = sp.Sum(samples[i], (k, 1, POINTS_WRITTEN_OUT)).doit()
    over_samples = sp.Sum(samples[i], (i, 1, POINTS_WRITTEN_OUT)).doit()
    return sp.simplify(printed - over_samples) == 0


def floor_area_hessian_eigenvalues():
    data = datasets.floor_areas()
    hessian = form().hessian.subs(sums_of(data.x, data.y))
    return np.linalg.eigvalsh(np.array(hessian, dtype=float))


def step_above_the_bound():
    return ABOVE_THE_BOUND * 2 / floor_area_hessian_eigenvalues().max()


def gradient_descent_converges_just_above_the_bound():
    """Gradient descent on the floor areas with s = 1.05·2/λ_max: does it approach (a, b)?"""
    data = datasets.floor_areas()
    best = train.closed_form(derivation.name, data.x, data.y)
    try:
        result = train.fit(derivation.name, data.x, data.y, learning_rate=step_above_the_bound(),
                           epochs=EPOCHS_TRIED)
    except DivergenceError:  # J grew far past its start: the trainer stopped it
        return False
    distance = np.hypot(result.params["a"] - best["a"], result.params["b"] - best["b"])
    return bool(distance < np.hypot(best["a"], best["b"]))


derivation.show(
    "The normal equations: $∂J/∂a = 0$ and $∂J/∂b = 0$ with the factor 2 divided out,",
    normal_equations(), sp.zeros(2, 1), source=SOURCE)
derivation.show(
    "When $x^(1) = … = x^(m) = c$ the Hessian is singular,",
    sp.Symbol("H"), hessian_with_equal_x()[0], source=SOURCE)
derivation.show(
    "and $∇J = 0$ no longer has one solution: every line through $(c, S_y/m)$ minimises $J$, none "
    "of them vertical,",
    *minimisers_with_equal_x(), source=SOURCE)
derivation.show(
    "Gradient descent on the floor areas converges iff $s < 2/λ_max(H)$:",
    sp.Symbol("s_max"), sp.Float(2 / floor_area_hessian_eigenvalues().max(), 4), source=SOURCE)

derivation.claim(
    "$∂J/∂a = 0$ and $∂J/∂b = 0$ are $S_xx·a + S_x·b = S_xy$ and $S_x·a + m·b = S_y$",
    sp.Matrix([S_XX * a + S_X * b - S_XY, S_X * a + COUNT * b - S_Y]),
    normal_equations,
)
derivation.claim(
    "the least-squares solution (1): $a = (mS_xy − S_xS_y)/(mS_xx − S_xS_x), "
    "b = (S_xxS_y − S_xyS_x)/(mS_xx − S_xS_x)$",
    sp.Matrix([(COUNT * S_XY - S_X * S_Y) / (COUNT * S_XX - S_X * S_X),
               (S_XX * S_Y - S_XY * S_X) / (COUNT * S_XX - S_X * S_X)]),
    lambda: sp.Matrix([form().solution[a], form().solution[b]]),
)
derivation.claim(
    "the Hessian of $J$ is $H = 2[[S_xx, S_x], [S_x, m]]$",
    2 * sp.Matrix([[S_XX, S_X], [S_X, COUNT]]),
    lambda: form().hessian,
)
derivation.claim(
    "by Sylvester's criterion $H$ is non-negative definite $(S_xx ≥ 0, mS_xx − S_x² ≥ 0)$, and "
    "positive definite unless $x^(1) = … = x^(m)$",
    "Sylvester's criterion tells us that in general $H$ is non-negative definite because "
    "1. $S_xx = Σ (x^(i))² ≥ 0$ and 2. $mS_xx − S_x² ≥ 0$ (due to Cauchy-Schwartz inequality). "
    "We also see that unless $x^(1) = ... = x^(m)$, $H$ is indeed positive-definite",
    hessian_is_positive_definite_unless_all_x_equal,
    compare="text",
    correction="$mS_xx − S_x² = Σ_{i<j} (x⁽ⁱ⁾ − x⁽ʲ⁾)²$, which is $≥ 0$ and zero iff all $x$ are equal.",
)
derivation.claim(
    "the special case $x^(1) = … = x^(m)$ (data on a vertical line, which $y = ax + b$ cannot "
    "represent) cannot be handled directly by this approach",
    "The special case when $x^(1) = ... = x^(m)$, which would result in a vertical line, cannot "
    "be handled directly by this approach because the assumed model, $y = ax + b$, does not "
    "include vertical lines.",
    equal_x_cannot_be_solved_by_equation_1,
    compare="text",
    correction=("With all $x$ equal to $c$, $H$ is singular and (1) is 0/0; $J$ is then minimised by "
                "every line through $(c, ȳ)$, a one-parameter family, none of them vertical."),
)
derivation.claim(
    "the sums are written $S_x = Σ_{k=1}^m x⁽ⁱ⁾$ (summing over $k$ a term indexed by $i$)",
    "$S_x = Σ_{k=1}^m x^(i), S_xx = Σ_{k=1}^m (x^(i))², S_y = Σ_{k=1}^m y^(i), "
    "S_xy = Σ_{k=1}^m x^(i) y^(i)$",
    sums_over_k_equal_sums_over_samples,
    compare="text",
    severity="typo",  # k for i in the summation index; the sums meant are over the samples
    correction=("The summation index must be the sample index: $S_x = Σ_{i=1}^m x⁽ⁱ⁾, "
                "S_xx = Σ_{i=1}^m (x⁽ⁱ⁾)², S_y = Σ_{i=1}^m y⁽ⁱ⁾, S_xy = Σ_{i=1}^m x⁽ⁱ⁾y⁽ⁱ⁾$, "
                "and likewise in the two equations before them; as printed, "
                "$Σ_{k=1}^m x⁽ⁱ⁾ = m·x⁽ⁱ⁾$."),
)
derivation.claim(
    "when $J(a, b)$ is convex, gradient descent is guaranteed to converge to the optimal $a$, $b$",
    "When $J(a, b)$ is convex, this iterative procedure is guaranteed to converge to the "
    "optimal values of $a$ and $b$.",
    gradient_descent_converges_just_above_the_bound,
    compare="text",
    severity="assumption",
    assumption="the step $s$ is below $2/λ_max(H)$, the section's own '$s$ should not be too big'",
    correction=(
        "Convexity is not enough: on the quadratic $J$, gradient descent converges from every "
        "start iff $0 < s < 2/λ_max(H)$ (the section's own '$s$ should not be too big'). On the "
        f"floor areas $λ_max = {floor_area_hessian_eigenvalues().max():.4g}$, so $s$ must stay "
        f"below {2 / floor_area_hessian_eigenvalues().max():.4g}; with "
        f"$s = {step_above_the_bound():.4g}$ the iterates move away from the optimum."),
)
