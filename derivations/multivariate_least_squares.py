"""Multivariate least squares J(θ) = ||Xθ − y||², element by element and in matrix form (003 §3.2).

Source: 003_ff0b9f77f02ec2c2.txt §3.2 "Multivariate Regression". Each sample is a feature
vector x ∈ ℝⁿ homogenised with x₀ = 1 (the document's n + 1 entries; here n counts x₀), the
hypothesis is θᵀx and the cost is the sum of squared residuals, so that over the design
matrix X (one sample per row) J(θ) = ||Xθ − y||². symdl derives the per-sample gradient
2(θᵀx − y)x, the Hessian Σ 2xxᵀ = 2XᵀX and the normal-equation solution from the model.

The document's matrix calculus is derived a second time with SymPy's MatrixSymbols. That
machinery has silent failures — it differentiates (θᵀx)[0, 0] with respect to θ to 0, and
cannot see that the 1 × 1 matrices θᵀXᵀy and yᵀXθ are equal — so every matrix-form result
is held against the element-wise derivative of the model's own loss, written out for
m = 4 samples of 3 features with every entry an independent symbol (`generic_problem`),
and the document's formulas are compared on that same generic instance.

Gradient descent converges when the step is below 2/λ_max(H) with H = 2XᵀX; on the built-in
`houses` data that bound is 0.0045 (tests/test_vector_models.py computes it), so the step
0.002 multiplies the distance to the minimiser by at most 0.32 per epoch.
"""

from dataclasses import dataclass

import numpy as np
import sympy as sp

from symdl import datasets
from symdl.derive import explicit_instance
from symdl.errors import DerivationError
from symdl.model import Model, Training
from symdl.render import Partial

SOURCE = "003_ff0b9f77f02ec2c2.txt §3.2 Multivariate Regression"

derivation = Model(
    "multivariate_least_squares",
    title="Multivariate least squares and the normal equation",
    source=SOURCE,
    summary="$h_θ(x) = θᵀx$ with $x₀ = 1$; $J(θ) = Σ (θᵀx − y)² = ||Xθ − y||²$; "
            "$∇J = 2Xᵀ(Xθ − y), H = 2XᵀX, θ = (XᵀX)⁻¹Xᵀy$.",
    reduction="sum",
    training=Training(dataset="houses", optimizer="gd", learning_rate=0.002, epochs=100),
)
x = derivation.data("x", ("n",), bias_column=True)  # x₀ = 1 carries θ₀
y = derivation.target("y")
theta = derivation.param("theta", ("n",), latex=r"\theta")
z = derivation.affine("z", theta, x)
derivation.loss((z - y) ** 2)
derivation.output(z)


# ---- the matrix form, with SymPy's MatrixSymbols ------------------------------------------

ROWS, COLUMNS = sp.symbols("m n", integer=True, positive=True)
DESIGN = sp.MatrixSymbol("X", ROWS, COLUMNS)
THETA = sp.MatrixSymbol("theta", COLUMNS, 1)
TARGETS = sp.MatrixSymbol("y", ROWS, 1)

COST_MATRIX_FORM = (DESIGN * THETA - TARGETS).T * (DESIGN * THETA - TARGETS)
GRADIENT_MATRIX_FORM = COST_MATRIX_FORM.diff(THETA)
HESSIAN_MATRIX_FORM = GRADIENT_MATRIX_FORM.diff(THETA)


# ---- the document's formulas, transcribed as printed (they accept matrices of any kind) --

def printed_expansion(X, theta, y):
    """||Xθ − y||² = θᵀXᵀXθ − 2yᵀXθ + yᵀy."""
    return theta.T * X.T * X * theta - 2 * y.T * X * theta + y.T * y


def printed_gradient(X, theta, y):
    """∂J/∂θ = 2XᵀXθ − 2(yᵀX)ᵀ, the middle member of the document's chain."""
    return 2 * X.T * X * theta - 2 * (y.T * X).T


def printed_normal_gradient(X, theta, y):
    """∂J/∂θ = 2Xᵀ(Xθ − y), the last member (and the Iterative Solution's grad J)."""
    return 2 * X.T * (X * theta - y)


def printed_hessian(X):
    """H = 2(XᵀX)ᵀ = 2XᵀX."""
    return 2 * (X.T * X).T


def printed_normal_equation(X, y):
    """θ = (XᵀX)⁻¹Xᵀy."""
    return (X.T * X).inv() * X.T * y


def printed_pseudoinverse(X):
    """X⁺ = (XᵀX)⁻¹Xᵀ, "the left Moore-Penrose pseudoinverse"."""
    return (X.T * X).inv() * X.T


derivation.show("In matrix form the cost is $J(θ) = ||Xθ − y||²$ ($X$ the $m × n$ design matrix, one "
                "sample per row, $x₀ = 1$ in column 0); SymPy multiplies it out:",
                sp.Symbol("J"), [COST_MATRIX_FORM, sp.expand(COST_MATRIX_FORM)])
derivation.show("SymPy leaves $θᵀXᵀy$ and $yᵀXθ$ apart; both are the same $1 × 1$ matrix (one is "
                "the transpose of the other), which gives the document's $−2yᵀXθ$ "
                "(checked element by element below).")
derivation.show("SymPy's matrix calculus differentiates once, and again:",
                Partial("J", "θ", "J", r"\theta"),
                [GRADIENT_MATRIX_FORM, sp.expand(GRADIENT_MATRIX_FORM)])
derivation.show("", sp.Symbol("H"), [HESSIAN_MATRIX_FORM])
derivation.show("Setting the gradient to zero gives $XᵀXθ = Xᵀy$: the normal equation. When $XᵀX$ "
                "is invertible (the columns of $X$ linearly independent) it has the one solution "
                "$θ = (XᵀX)⁻¹Xᵀy$; otherwise symdl's closed form refuses with a SingularError.")


# ---- the generic instance the matrix results are held against ------------------------------

@dataclass
class GenericProblem:
    """m samples of n features with every entry of X, y and θ an independent symbol."""

    X: sp.Matrix
    y: sp.Matrix
    theta: sp.Matrix
    cost: sp.Expr  # Σ over the samples of the model's own loss, written out


def generic_problem(samples=4, features=3) -> GenericProblem:
    """The model's loss summed over `samples` rows of symbols X_ij, y_i (derive.explicit_instance)."""
    X = sp.Matrix(samples, features, lambda i, j: sp.Symbol(f"X_{i}{j}", real=True))
    y = sp.Matrix(samples, 1, lambda i, _: sp.Symbol(f"y_{i}", real=True))
    return problem_with(X, y)


def problem_with(X: sp.Matrix, y: sp.Matrix) -> GenericProblem:
    """The model's loss summed over the rows of a given (symbolic or numeric) design matrix."""
    instance = explicit_instance(derivation, {"n": X.cols})
    theta_entries = sp.Matrix(list(instance.params["theta"]))
    cost = sum(instance.loss.xreplace({**dict(zip(instance.features, X.row(i))),
                                       instance.label: y[i]})
               for i in range(X.rows))
    return GenericProblem(X, y, theta_entries, cost)


def elementwise_gradient(problem: GenericProblem) -> sp.Matrix:
    return sp.Matrix([sp.diff(problem.cost, t) for t in problem.theta])


def elementwise_hessian(problem: GenericProblem) -> sp.Matrix:
    return sp.hessian(problem.cost, list(problem.theta))


def at_instance(matrix_expression, problem: GenericProblem) -> sp.Matrix:
    """A MatrixSymbol expression evaluated on the generic instance's explicit matrices."""
    sizes = {ROWS: problem.X.rows, COLUMNS: problem.X.cols}
    explicit = {DESIGN.subs(sizes): problem.X, THETA.subs(sizes): problem.theta,
                TARGETS.subs(sizes): problem.y}
    return sp.Matrix(matrix_expression.subs(sizes).subs(explicit).doit())


def held_against_elementwise(matrix_expression, elementwise: sp.Matrix, problem, what):
    """The element-wise result, after making sure SymPy's matrix calculus gives the same."""
    difference = sp.expand(at_instance(matrix_expression, problem) - elementwise)
    if not difference.is_zero_matrix:
        raise DerivationError(f"{derivation.name}: SymPy's matrix-form {what} differs from the "
                              f"element-wise one by {difference}")
    return elementwise


def quadratic_design(nodes=4):
    """The design matrix of fitting a parabola through t = 0, 1, …: rows (1, t, t²).

    A small exact example with linearly independent columns, for the checks that need
    an actual inverse (a symbolic 3 × 3 inverse of a generic XᵀX is too slow to simplify).
    """
    return sp.Matrix(nodes, 3, lambda t, power: sp.Integer(t) ** power)


def normal_equation_solution(X: sp.Matrix):
    """symdl's solution of ∇J = 0 for a given design matrix and symbolic targets y."""
    y = sp.Matrix(X.rows, 1, lambda i, _: sp.Symbol(f"y_{i}", real=True))
    problem = problem_with(X, y)
    solutions = sp.linsolve(list(elementwise_gradient(problem)), list(problem.theta))
    (solution,) = solutions
    return problem, sp.Matrix(list(solution))


# ---- the document's claims ------------------------------------------------------------------

GENERIC = generic_problem()


def derived_cost():
    held_against_elementwise(sp.expand(COST_MATRIX_FORM), sp.Matrix([[GENERIC.cost]]),
                             GENERIC, "cost")
    return sp.Matrix([[GENERIC.cost]])


def derived_gradient():
    return held_against_elementwise(GRADIENT_MATRIX_FORM, elementwise_gradient(GENERIC),
                                    GENERIC, "gradient")


def derived_hessian():
    return held_against_elementwise(HESSIAN_MATRIX_FORM, elementwise_hessian(GENERIC),
                                    GENERIC, "Hessian")


derivation.claim(
    "$||Xθ − y||² = (Xθ − y)ᵀ(Xθ − y) = θᵀXᵀXθ − 2yᵀXθ + yᵀy$ ($X$ a $4 × 3$ matrix of symbols)",
    printed_expansion(GENERIC.X, GENERIC.theta, GENERIC.y), derived_cost,
    correction="$(Xθ − y)ᵀ(Xθ − y) = θᵀXᵀXθ − 2yᵀXθ + yᵀy$")
derivation.claim(
    "$∂J/∂θ = 2XᵀXθ − 2(yᵀX)ᵀ$ ($X$ a $4 × 3$ matrix of symbols)",
    printed_gradient(GENERIC.X, GENERIC.theta, GENERIC.y), derived_gradient,
    correction="$∂J/∂θ = 2XᵀXθ − 2Xᵀy$")
derivation.claim(
    "$∂J/∂θ = 2Xᵀ(Xθ − y)$, also the Iterative Solution's grad $J(θ)$ ($X$ a $4 × 3$ matrix of symbols)",
    printed_normal_gradient(GENERIC.X, GENERIC.theta, GENERIC.y), derived_gradient,
    correction="$∂J/∂θ = 2Xᵀ(Xθ − y)$")
derivation.claim(
    "$H = ∂²J/∂θ² = 2(XᵀX)ᵀ = 2XᵀX$ ($X$ a $4 × 3$ matrix of symbols)",
    printed_hessian(GENERIC.X), derived_hessian, correction="$H = 2XᵀX$")


def hessian_is_positive_semidefinite():
    """vᵀHv = 2‖Xv‖², a sum of squares, for every v: so H ≥ 0."""
    v = sp.Matrix(GENERIC.X.cols, 1, lambda j, _: sp.Symbol(f"v_{j}", real=True))
    quadratic_form = (v.T * derived_hessian() * v)[0, 0]
    squares = 2 * sum(entry ** 2 for entry in GENERIC.X * v)
    return sp.expand(quadratic_form - squares) == 0


derivation.claim(
    "$H = 2XᵀX ≥ 0$ (positive semidefinite for every $X$)",
    "$H = 2(X^T X)^T = 2X^T X ≥ 0$", hessian_is_positive_semidefinite, compare="text",
    correction="$vᵀ(2XᵀX)v = 2||Xv||² ≥ 0$ for every $v$, so $H$ is positive semidefinite")


def derived_quadratic_form_gradient():
    u = sp.Matrix(3, 1, lambda j, _: sp.Symbol(f"u_{j}", real=True))
    Q = sp.Matrix(3, 3, lambda j, k: sp.Symbol(f"Q_{j}{k}", real=True))
    form = (u.T * Q * u)[0, 0]
    return sp.Matrix([sp.diff(form, entry) for entry in u])


def stated_quadratic_form_gradient():
    u = sp.Matrix(3, 1, lambda j, _: sp.Symbol(f"u_{j}", real=True))
    Q = sp.Matrix(3, 3, lambda j, k: sp.Symbol(f"Q_{j}{k}", real=True))
    return 2 * Q * u


derivation.claim(
    "$∂(uᵀQu)/∂u = 2Qu$, stated for a matrix $Q$ with no condition ($Q$ a generic $3 × 3$ matrix)",
    stated_quadratic_form_gradient(), derived_quadratic_form_gradient,
    severity="assumption",
    assumption="$Q$ is symmetric ($Q = XᵀX$, the matrix the document applies it to, is)",
    correction="$∂(uᵀQu)/∂u = (Q + Qᵀ)u$, which is $2Qu$ only for a symmetric $Q$; the document "
               "applies it to $Q = XᵀX$, which is symmetric, so its gradient $2XᵀXθ − 2Xᵀy$ is right")


def derived_linear_map_gradient():
    """∂(Qu)_i/∂u_j arranged with j down the rows: the layout in which ∂J/∂θ is a column."""
    u = sp.Matrix(3, 1, lambda j, _: sp.Symbol(f"u_{j}", real=True))
    Q = sp.Matrix(2, 3, lambda i, j: sp.Symbol(f"Q_{i}{j}", real=True))
    image = Q * u
    return sp.Matrix(3, 2, lambda j, i: sp.diff(image[i], u[j]))


derivation.claim(
    "$∂(Qu)/∂u = Qᵀ$ ($Q$ a generic $2 × 3$ matrix; rows of the derivative indexed by $u$, as for $∂J/∂θ$)",
    sp.Matrix(2, 3, lambda i, j: sp.Symbol(f"Q_{i}{j}", real=True)).T, derived_linear_map_gradient,
    correction="with rows indexed by $u$ (the layout of a column gradient), $∂(Qu)/∂u = Qᵀ$")


def derived_normal_equation():
    return normal_equation_solution(quadratic_design())[1]


def stated_normal_equation():
    X = quadratic_design()
    y = sp.Matrix(X.rows, 1, lambda i, _: sp.Symbol(f"y_{i}", real=True))
    return printed_normal_equation(X, y)


derivation.claim(
    "the normal equation $0 = ∂J/∂θ$ has the solution $θ = (XᵀX)⁻¹Xᵀy $ ($X$ with rows $(1, t, t²)$, "
    "$t = 0…3$; $y$ symbolic)",
    stated_normal_equation(), derived_normal_equation,
    correction="$θ = (XᵀX)⁻¹Xᵀy$ whenever $XᵀX$ is invertible")


def residual_is_normal_to_range():
    """At the solution, Xᵀ(Xθ − y) = 0: the residual is perpendicular to every column of X."""
    problem, solution = normal_equation_solution(quadratic_design())
    residual = problem.X * solution - problem.y
    return sp.simplify(problem.X.T * residual).is_zero_matrix


derivation.claim(
    "the normal equation says $Xθ − y$ is normal (perpendicular) to the range of $X$",
    "it indicates that the vector $Xθ − y$ is normal (perpendicular) to the range of matrix $X$",
    residual_is_normal_to_range, compare="text",
    correction="at the solution $Xᵀ(Xθ − y) = 0$: the residual is orthogonal to the columns of $X$")

derivation.claim(
    "$(XᵀX)⁻¹Xᵀ$ is the left Moore–Penrose pseudoinverse ($X$ with rows $(1, t, t²)$, $t = 0…3$)",
    printed_pseudoinverse(quadratic_design()), lambda: quadratic_design().pinv(),
    correction="for $X$ of full column rank the Moore–Penrose pseudoinverse is $(XᵀX)⁻¹Xᵀ$")


S_x, S_xx, S_y, S_xy = sp.symbols("S_x S_xx S_y S_xy", real=True)
M = sp.Symbol("m", positive=True)


def univariate_from_normal_equation():
    """Solve XᵀXθ = Xᵀy for rows (1, x⁽ⁱ⁾), with the sums named as in 003 §3.1."""
    i, m = sp.Symbol("i", integer=True), sp.Symbol("m", positive=True)
    xs, ys = sp.IndexedBase("x", real=True), sp.IndexedBase("y", real=True)
    row = [sp.Integer(1), xs[i]]

    def total(term):
        return sp.Sum(term, (i, 1, m)).doit()

    gram = sp.Matrix(2, 2, lambda j, k: total(row[j] * row[k]))
    moment = sp.Matrix(2, 1, lambda j, _: total(row[j] * ys[i]))
    named = {total(xs[i]): S_x, total(xs[i] ** 2): S_xx, total(ys[i]): S_y,
             total(xs[i] * ys[i]): S_xy, m: M}
    return sp.simplify(gram.xreplace(named).LUsolve(moment.xreplace(named)))


derivation.claim(
    "the normal equation generalizes Equation (1) of section 3.1: $θ = (b, a)$ for the rows $(1, x⁽ⁱ⁾)$",
    sp.Matrix([(S_xx * S_y - S_xy * S_x) / (M * S_xx - S_x * S_x),
               (M * S_xy - S_x * S_y) / (M * S_xx - S_x * S_x)]),
    univariate_from_normal_equation,
    correction="with rows $(1, x⁽ⁱ⁾)$ the normal equation gives $b = (S_xx S_y − S_xy S_x)/(mS_xx − S_x²)$, "
               "$a = (mS_xy − S_x S_y)/(mS_xx − S_x²)$")


# ---- positive definiteness of XᵀX: rows or columns? ---------------------------------------

def gram_definiteness_follows_rows():
    """Test the document's "XᵀX is positive definite iff the rows of X are linearly independent".

    On the `houses` design matrix (200 rows, 4 columns) and on its first 3 rows, computed
    with NumPy: the statement holds only if, in both, "rows independent" and "XᵀX positive
    definite" are both true or both false.
    """
    design = datasets.houses().x
    examples = [design, design[:3]]
    return all(rows_independent(X) == gram_positive_definite(X) for X in examples)


def rows_independent(X):
    return np.linalg.matrix_rank(X) == X.shape[0]


def gram_positive_definite(X):
    eigenvalues = np.linalg.eigvalsh(X.T @ X)
    return bool(eigenvalues.min() > 1e-10 * eigenvalues.max())


derivation.claim(
    "$XᵀX$ is positive definite if and only if the rows of $X$ (the feature vectors) are linearly "
    "independent",
    "Note that $X^T X$ is the Gramian matrix of $X$ and it is positive definite if and only if rows "
    "of $X$, which are our feature vectors, are linearly independent.",
    gram_definiteness_follows_rows, compare="text",
    severity="error",  # "rows of X, which are our feature vectors": stated, and wrong
    correction="$XᵀX$ is positive definite if and only if the COLUMNS of $X$ are linearly independent "
               "(rank $X = n + 1$, the number of features with $x₀$). With more samples than features "
               "($m > n + 1$, the usual case) the rows can never be linearly independent, yet $XᵀX$ is "
               "positive definite: the rows of the $200 × 4$ houses design matrix are dependent and its "
               "$XᵀX$ is positive definite; conversely its first 3 rows are independent and their "
               "$4 × 4$ matrix $XᵀX$ is singular")
