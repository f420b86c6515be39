"""Newton's method and Newton-CG: the second-order methods of the engine (`run_epochs`).

* `newton`    — the generated Hessian, damped, with a backtracking line search;
* `newton_cg` — the same damped step, Newton's system solved by conjugate gradients on
  Hessian-vector products (`hessian_vector_product`), never forming the P × P Hessian.

Both take the engine's `Stopping` and call `record(epoch, J, params)` after each iteration,
as every method of the engine does.
"""

from __future__ import annotations

import numpy as np

from symdl import optimizers, threads
from symdl.training.divergence import finite_loss
from symdl.training.inputs import flat, unflat

NEWTON_ROUNDING = 1e-12
"""Newton stops when its step would lower J by less than this fraction of |J|: below what J's
rounding (m terms, each to about 1e-16) lets a line search see."""


SINGULAR_CUTOFF = 1e-12
"""An eigenvalue of the Hessian below this fraction of the largest is rounding, not curvature
(`_newton_direction`)."""

PIVOT_CUTOFF = 1e-8
"""A Cholesky pivot below this fraction of the Hessian's largest diagonal entry sends
`_newton_direction` to the eigendecomposition, which tells rounding from curvature."""


PRODUCT_COLUMNS = 2000
"""Newton's method builds the Hessian of a model without a `hessian` kernel from this many
Hessian-vector products at most (one per parameter, `hessian_from_products`); beyond, the
P passes and the P × P matrix cost more than Newton-CG's few products."""


def newton(module, params, data, epochs, record, stopping, first=None):
    """Newton's method with the generated Hessian, damped so that every step lowers J.

    The Hessian is the generated `hessian` kernel's, or, for a model with only the exact
    `hessian_vector` kernel (a network: symdl.generate.directional), P of its products, one
    per unit vector (`hessian_from_products`): P passes over the data, for P up to
    PRODUCT_COLUMNS.

    The step d solves H d = ∇J (for logistic regression this is IRLS: H = Xᵀ diag(h(1−h)) X,
    003 §3.3). When H is not positive definite (Cholesky fails) a multiple of the identity is
    added until it is (Levenberg's damping); then the step is halved until J decreases by at
    least 10⁻⁴·∇J·d (Armijo's condition), or, next to the minimum where J is flat to
    rounding, until J stays within 10⁻¹² of its value and ‖∇J‖ shrinks. Stops after `epochs`
    iterations, at max |∂J/∂p| ≤ tol, when no step of at least 10⁻¹⁰·d qualifies, or, without a
    tol, once the decrease the step predicts, ∇J·d/2, is below NEWTON_ROUNDING·|J|.
    """
    spec = module.SPEC
    if spec["hessian"]:
        def hessian(params):
            return np.asarray(module.hessian(*params, *data))
    elif spec.get("hessian_vector"):
        size = flat(params).size
        if size > PRODUCT_COLUMNS:
            raise optimizers.OptimizerError(
                f"{spec['name']}: Newton's method would build its {size} × {size} Hessian from "
                f"{size} Hessian-vector products (more than {PRODUCT_COLUMNS}); use "
                f"optimizer='newton-cg', which needs a few products per step, or 'lbfgs'")
        product = hessian_vector_product(module, data)

        def hessian(params):
            return hessian_from_products(product, params)
    else:
        raise optimizers.OptimizerError(
            f"{spec['name']}: "
            f"{spec.get('no_hessian', 'symdl derives no Hessian for this model')}, so "
            f"Newton's method is not available; use optimizer='lbfgs'")
    kinks = kink_weight(module)
    if kinks:
        raise optimizers.OptimizerError(
            f"{spec['name']}: its penalty has kinks (|w_j| at w_j = 0, of weight "
            f"{kinks:g} with these hyperparameters), where J has no Hessian, so "
            f"Newton's method is not available; use optimizer='lbfgs', or hyperparameters "
            f"that make that weight 0")

    def direction(params, gradient):
        return _newton_direction(hessian(params), gradient)
    with threads.serial_blas():  # P × P solves: see threads.serial_blas (one switch a run)
        return _damped_iterations(module, params, data, epochs, record, stopping, direction,
                                  first)


def kink_weight(module) -> float:
    """The weight of the penalty's kinks at the run's hyperparameters (SPEC["kinks"],
    derive.without_kinks); 0.0 for a model without any."""
    return float(module.kink_weight()) if module.SPEC.get("kinks") else 0.0


def _damped_iterations(module, params, data, epochs, record, stopping, direction, first=None):
    """The iterations of Newton's method and Newton-CG: `direction(params, ∇J)` gives d with
    H d ≈ ∇J, the damped step (`_damped_step`) follows it, and the stopping tests are in
    `newton`'s docstring. `first` is (J, ∇J...) at `params` where the caller has them."""
    loss, *grads = first or module.loss_and_gradient(*params, *data)
    finite_loss(loss, 0)
    for epoch in range(1, epochs + 1):
        if stopping.gradient_small(grads):
            return params
        gradient = flat(grads)
        found = _damped_step(module, params, data, loss, gradient,
                             direction(params, gradient), stopping)
        if found is None:
            return params
        params, loss, grads = found
        if record(epoch, loss, params):
            return params
    stopping.gradient_small(grads)
    return params


def _damped_step(module, params, data, loss, gradient, direction, stopping):
    """The step of Newton's method and Newton-CG along −`direction` (a descent direction:
    ∇J·d > 0): the whole step, halved until J decreases by at least 10⁻⁴·∇J·d (Armijo's
    condition) or, next to the minimum where J is flat to rounding, until J stays within
    10⁻¹² of its value and ‖∇J‖ shrinks. (params, J, ∇J) after it, or None when the method
    should stop: without a tol, the decrease the step predicts, ∇J·d/2, is below
    NEWTON_ROUNDING·|J|; or no step of at least 10⁻¹⁰·d qualifies."""
    here, slope, step = flat(params), float(gradient @ direction), 1.0
    gradient_size = np.linalg.norm(gradient)
    if stopping.tol is None and slope / 2 <= NEWTON_ROUNDING * abs(float(loss)):
        stopping.no_progress()  # the step cannot lower J by more than its rounding
        return None
    while step >= 1e-10:
        trial = unflat(here - step * direction, params)
        trial_loss, *trial_grads = module.loss_and_gradient(*trial, *data)
        if trial_loss <= loss - 1e-4 * step * slope or (
                trial_loss <= loss + 1e-12 * abs(loss)
                and np.linalg.norm(flat(trial_grads)) < gradient_size):
            return trial, trial_loss, trial_grads
        step /= 2
    stopping.no_progress()  # no step lowers J any more: the minimum to rounding
    return None


CG_ITERATIONS = 200
"""At most this many conjugate-gradient iterations solve one Newton system (scikit-learn's
newton-cg allows as many); CG solves a P × P system exactly in P of them."""


def newton_cg(module, params, data, epochs, record, stopping, first=None):
    """Newton's method whose system H d = ∇J is solved by conjugate gradients with
    Hessian-vector products alone (truncated Newton: Nocedal & Wright, Numerical
    Optimization, 2nd ed., Algorithm 7.1; scikit-learn's "newton-cg"): memory and work per
    product are those of a gradient, whatever P, and no P × P matrix is ever formed.

    The products come from `hessian_vector_product`: the generated `hessian_vector` kernel
    where the model has one (SPEC["hessian_vector"]), else a central difference of the
    generated gradient. CG stops once its residual is below min(0.5, √‖∇J‖)·‖∇J‖ (a
    superlinear rate near the minimum), after `CG_ITERATIONS`, or where it meets curvature
    ≤ 0 (a nonconvex model, a network): then it keeps the direction found so far, or, on
    its first iteration, takes the gradient itself. The step is Newton's damped one
    (`_damped_step`), so every iteration lowers J; the stopping tests are Newton's.
    """
    product = hessian_vector_product(module, data)

    def direction(params, gradient):
        return _conjugate_gradients(lambda v: product(params, v), gradient)
    return _damped_iterations(module, params, data, epochs, record, stopping, direction, first)


def _conjugate_gradients(product, gradient):
    """d with H d ≈ ∇J by conjugate gradients from d = 0, `product(v)` = H·v (`newton_cg`)."""
    size = float(np.linalg.norm(gradient))
    enough = min(0.5, np.sqrt(size)) * size
    direction = np.zeros_like(gradient)
    residual = gradient.copy()
    search = residual.copy()
    squared = float(residual @ residual)
    for iteration in range(min(CG_ITERATIONS, gradient.size)):
        curved = product(search)
        curvature = float(search @ curved)
        if not curvature > 0:
            return gradient.copy() if iteration == 0 else direction  # curvature ≤ 0
        alpha = squared / curvature
        direction += alpha * search
        residual -= alpha * curved
        new_squared = float(residual @ residual)
        if np.sqrt(new_squared) <= enough:
            break
        search = residual + (new_squared / squared) * search
        squared = new_squared
    return direction


DIFFERENCE_STEP = np.finfo(np.float64).eps ** (1 / 3)
"""The central difference's relative step: its truncation error grows as the step squared
and its rounding as eps/step, which balance at eps^(1/3) ≈ 6e-6 of the parameters' scale."""


def hessian_vector_product(module, data):
    """(params, v) → H·v over the flat parameters, for `newton_cg`.

    The generated `hessian_vector` kernel, exact, where the model has one (the affine,
    softmax, linear and scalar curvature kinds, and the R-pass of a smooth network:
    symdl.generate.directional). Otherwise (a model with a kink, a sum over a dimension)
    the central difference of the generated gradient along v,
    (∇J(θ + εv) − ∇J(θ − εv)) / 2ε with ε = DIFFERENCE_STEP·(1 + ‖θ‖)/‖v‖: two gradient
    passes, accurate to about 1e-10 of ‖H‖·‖v‖ where J is smooth; where it is not (|w| at
    0) it is the average curvature across the kink, which the damped step keeps safe."""
    exact = getattr(module, "hessian_vector", None) if module.SPEC.get("hessian_vector") else None
    if exact is not None:
        return lambda params, v: np.asarray(exact(*params, v, *data), dtype=np.float64)

    def difference(params, v):
        length = float(np.linalg.norm(v))
        if length == 0:
            return np.zeros_like(v)
        here = flat(params)
        step = DIFFERENCE_STEP * (1.0 + float(np.linalg.norm(here))) / length
        ahead = module.loss_and_gradient(*unflat(here + step * v, params), *data)[1:]
        behind = module.loss_and_gradient(*unflat(here - step * v, params), *data)[1:]
        return (flat(ahead) - flat(behind)) / (2 * step)
    return difference


def hessian_from_products(product, params) -> np.ndarray:
    """The P × P Hessian at `params`, column j the exact product H·e_j (`product` from
    `hessian_vector_product` with the generated kernel), made symmetric: the products are
    exact, so (H + Hᵀ)/2 removes rounding only."""
    size = flat(params).size
    columns = np.empty((size, size))
    unit = np.zeros(size)
    for j in range(size):
        unit[j] = 1.0
        columns[:, j] = product(params, unit)
        unit[j] = 0.0
    return (columns + columns.T) / 2


def _newton_direction(hessian, gradient):
    """d with (H + μI) d = ∇J, μ = 0 when H is positive definite, else grown until it is.

    H positive semidefinite with eigenvalues at rounding level (more parameters than rows of
    data, least squares on 15 rows × 31 columns) has directions J does not curve in: there
    Cholesky of the rounding noise would succeed and step far along them, differently for data
    that differ only in rounding (integer weights against repeated rows). d is then the
    minimum-norm step, in the directions of eigenvalues above SINGULAR_CUTOFF × the largest.

    Cholesky comes first: where it succeeds with every pivot above PIVOT_CUTOFF × the largest
    diagonal entry, H is positive definite away from rounding (a pivot is at least H's
    smallest eigenvalue, and a dependent column leaves a pivot at rounding level), and its
    factor solves for d; the eigendecomposition, ten times the work (150 µs against 10 at
    P = 42), runs only where it does not.
    """
    diagonal = float(np.max(np.abs(np.diag(hessian)), initial=0.0))
    try:
        factor = np.linalg.cholesky(hessian)
    except np.linalg.LinAlgError:
        factor = None
    if factor is not None and np.min(np.diag(factor)) ** 2 > PIVOT_CUTOFF * diagonal:
        return _cholesky_solve(factor, gradient)
    values, vectors = np.linalg.eigh(hessian)
    largest = float(np.max(np.abs(values), initial=0.0))
    curved = values > SINGULAR_CUTOFF * largest
    if largest > 0 and not curved.all() and values.min() >= -SINGULAR_CUTOFF * largest:
        kept = vectors[:, curved]
        return kept @ ((kept.T @ gradient) / values[curved])
    scale = max(1.0, diagonal)
    damping = 0.0
    while True:
        try:
            factor = np.linalg.cholesky(hessian + damping * np.eye(len(gradient)))
            break
        except np.linalg.LinAlgError:
            damping = max(2 * damping, 1e-10 * scale)
    return _cholesky_solve(factor, gradient)


def _cholesky_solve(factor, gradient):
    """d with L Lᵀ d = ∇J, by LAPACK's potrs on the factor (numpy.linalg.solve would factor L
    again, and the wrappers' checks cost a small fit more than the solve itself)."""
    from scipy.linalg import lapack
    potrs = lapack.dpotrs if factor.dtype == np.float64 else lapack.spotrs
    solution, info = potrs(factor, gradient, lower=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"LAPACK potrs failed (info {info})")
    return solution
