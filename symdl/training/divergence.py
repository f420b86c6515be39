"""Training that runs away: the checks on J after every step, and the step size that avoids it.

Gradient descent with too large a step s overshoots the minimum by more each iteration
(`003_ff0b9f77f02ec2c2.txt` §3.1: "s should not be too big"): on a quadratic J it converges
from every start exactly when s < 2/λ_max, λ_max the largest eigenvalue of the Hessian. Past
that J grows geometrically, and waiting for it to overflow lets a run end "successfully" at
J = 1e103. So the engine checks every J it sees (`finite_loss`, `DivergenceWatch`) and, when a
run diverges, says what step the generated Hessian allows (`divergence_hint`).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from symdl.errors import DataError, DivergenceError, DivergenceWarning
from symdl.training.inputs import flat, unflat


def finite_loss(value, step: int, what: str = "loss"):
    """Return ``value`` unchanged if it is finite, else raise `DivergenceError` naming the step."""
    if isinstance(value, float) and math.isfinite(value):  # a kernel's J: the usual case, fast
        return value
    values = np.asarray(value, dtype=np.float64)
    if np.all(np.isfinite(values)):
        return value
    kind = "NaN" if np.any(np.isnan(values)) else "inf"
    raise DivergenceError(
        f"{what} became {kind} at step {step}; the step size is probably too large"
    )


class DivergenceWatch:
    """Stops training when J has grown far past where it started, or keeps rising.

    After each epoch: J more than GROWTH times its starting value (beyond it), or J above its
    starting value after rising RISES epochs in a row, is divergence; and so is a run that
    ends above twice where it started.

    `on_divergence="warn"` (one of `validate.DIVERGENCE`) turns each of these into one
    `DivergenceWarning` and lets the run go on, for runs that rise on purpose (a large step
    that overshoots before it settles, a benchmark at the frameworks' settings). A NaN or
    infinite J stops a run either way.
    """

    GROWTH = 100.0
    RISES = 5

    def __init__(self, start_loss, on_divergence="stop"):
        finite_loss(start_loss, 0, "loss at the starting parameters")
        self.start = float(start_loss)
        self.last = self.start
        self.rises = 0
        self.on_divergence = on_divergence
        self.warned = False

    def diverged(self, message: str) -> None:
        if self.on_divergence == "stop":
            raise DivergenceError(message)
        if not self.warned:
            warnings.warn(f"{message}; training goes on (divergence='warn')", DivergenceWarning,
                          stacklevel=4)
            self.warned = True

    def check(self, epoch: int, loss) -> None:
        finite_loss(loss, epoch)
        loss = float(loss)
        self.rises = self.rises + 1 if loss > self.last else 0
        self.last = loss
        scale = max(abs(self.start), 1e-8)
        if loss > self.start + self.GROWTH * scale:
            self.diverged(
                f"training diverged at epoch {epoch}: J = {loss:.4g} has grown to more than "
                f"{self.GROWTH:g} times its starting value {self.start:.4g}")
        if self.rises >= self.RISES and loss > self.start:
            self.diverged(
                f"training diverged at epoch {epoch}: J rose in each of the last {self.rises} "
                f"epochs, to {loss:.4g}, above its starting value {self.start:.4g}")

    def finish(self, epoch: int) -> None:
        """A run that ends at more than twice its starting J has made the model worse."""
        if self.last > self.start + max(abs(self.start), 1e-8):
            self.diverged(
                f"training diverged: after {epoch} epochs J = {self.last:.4g}, more than twice "
                f"its starting value {self.start:.4g}")


def largest_curvature(module, params, data, estimate=True) -> float | None:
    """λ_max of the Hessian of J at `params`: from the model's generated `hessian` kernel, or,
    for a model without one and with `estimate`, by power iteration on Hessian-vector products
    (`power_iteration`): the generated `hessian_vector` kernel, or differences of gradients.

    None when there is no Hessian to use (and no estimate asked for) or it is not finite there.
    """
    if not module.SPEC["hessian"]:
        return power_iteration(module, params, data) if estimate else None
    hessian = np.atleast_2d(np.asarray(module.hessian(*params, *data), dtype=np.float64))
    if not np.all(np.isfinite(hessian)):
        return None
    return float(np.linalg.eigvalsh(hessian).max())


def hessian_vector_product(module, params, data, vector) -> np.ndarray:
    """H·v at `params`: the generated `hessian_vector` kernel where the model has one
    (SPEC["hessian_vector"]: exact), else central differences of the fused gradient kernel.

    (∇J(p + εv) − ∇J(p − εv)) / 2ε, ε = √(machine ε)·(1 + ‖p‖)/‖v‖: the error is O(ε²)
    in truncation and about √(machine ε) relative in rounding, plenty for a step size.
    """
    exact = getattr(module, "hessian_vector", None) if module.SPEC.get("hessian_vector") else None
    if exact is not None:  # (the kernels over Dask chunks have none)
        return np.asarray(exact(*params, vector, *data), dtype=np.float64)
    here = flat(params)
    size = np.sqrt(np.finfo(np.float64).eps) * (1.0 + np.linalg.norm(here)) / np.linalg.norm(vector)
    ahead = module.loss_and_gradient(*unflat(here + size * vector, params), *data)[1:]
    behind = module.loss_and_gradient(*unflat(here - size * vector, params), *data)[1:]
    return (flat(ahead) - flat(behind)) / (2 * size)


def power_iteration(module, params, data, iterations=50, rtol=1e-3) -> float | None:
    """The Hessian's eigenvalue of largest magnitude at `params`, by power iteration on
    Hessian-vector products (the generated kernel's, or two gradient passes each): the
    curvature a step must respect where symdl derives no Hessian (a network, a penalised model).

    Starts from a fixed random vector (so the result repeats), stops when the Rayleigh
    quotient changes by less than `rtol` relative; None when it is not finite.
    """
    vector = np.random.default_rng(0).standard_normal(flat(params).size)
    vector /= np.linalg.norm(vector)
    value = None
    for _ in range(iterations):
        product = hessian_vector_product(module, params, data, vector)
        new = float(vector @ product)
        length = float(np.linalg.norm(product))
        if not np.isfinite(new) or not np.isfinite(length):
            return None
        if length == 0.0:
            return 0.0
        if value is not None and abs(new - value) <= rtol * abs(new):
            return new
        value, vector = new, product / length
    return value


def automatic_step(module, params, data, batch_size=None, rows=None) -> float:
    """The step `learning_rate="auto"` means: 1/|λ|_max of the Hessian of J at `params`.

    On a quadratic J gradient descent converges for every step below 2/λ_max (003 §3.1), so
    1/λ_max is safely inside, whatever the data's scale or the number of samples a summed loss
    adds up; momentum's bound, 2(1 + β)/λ_max, is wider still. For mini-batches of a summed
    loss (`batch_size` of `rows` samples) a batch's curvature is about batch_size/rows of the
    whole's, and the step grows by rows/batch_size. A `DataError` when J has no curvature
    there (a network started at zero whose hidden units are all alike, say).
    """
    largest = largest_curvature(module, params, data)
    if largest is None or largest == 0.0:
        shown = "not finite" if largest is None else "0"
        raise DataError(f"{module.SPEC['name']}: the curvature of J at the starting parameters "
                        f"is {shown}, so no step size follows from it; give learning_rate a "
                        f"number (--lr), or start elsewhere (init_scale)")
    step = 1.0 / abs(largest)
    if module.SPEC["reduction"] == "sum" and batch_size and rows and batch_size < rows:
        step *= rows / batch_size
    return step


def step_size_bound(module, params, data, estimate=False) -> float | None:
    """2/λ_max of the Hessian of J at `params`: gradient descent diverges above it (003 §3.1).

    None when the model has no generated Hessian (and no `estimate` by power iteration is
    asked for) or the Hessian has no positive eigenvalue.
    """
    largest = largest_curvature(module, params, data, estimate)
    return 2.0 / largest if largest is not None and largest > 0 else None


def step_size_note(module, params, data, learning_rate) -> str | None:
    """A line for verbose output when the step size is at least half the stability bound."""
    bound = step_size_bound(module, params, data)
    if bound is None or learning_rate < 0.5 * bound:
        return None
    where = "above" if learning_rate > bound else "near"
    return (f"step size {learning_rate:g} is {where} the bound 2/λ_max = {bound:.3g} "
            f"({learning_rate / bound:.0%} of it; λ_max of the Hessian at the starting "
            f"parameters); above the bound gradient descent diverges")


def divergence_hint(module, optimizer, learning_rate, params, data) -> str:
    """What to do about a diverging run: the 2/λ_max bound where there is a Hessian."""
    bound = step_size_bound(module, params, data) if optimizer in ("gd", "sgd") else None
    if bound is None:
        return (f"the step size {learning_rate:g} is probably too large: try "
                f"{learning_rate / 10:g} (--lr {learning_rate / 10:g})")
    return (f"gradient descent is stable only for a step size below 2/λ_max = {bound:.3g} "
            f"(λ_max = {2 / bound:.3g}, the largest eigenvalue of the Hessian of J at the data "
            f"and the starting parameters); the step size was {learning_rate:g}, try "
            f"{0.5 * bound:.3g} (--lr {0.5 * bound:.3g})")
