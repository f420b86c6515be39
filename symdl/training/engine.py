"""The epochs: every optimizer's loop over the data, with the checks around it.

`run_epochs` is the one loop every kind of training goes through — in memory
(`symdl.train.fit`) or over the chunks of a Dask array (`symdl.chunked`, whose kernels are
called like the generated ones): it checks J after every epoch (`divergence`), records it
and the epoch's scores in the `History`, runs the callbacks, and stops cleanly on Ctrl-C.
Inside it an epoch is one of:

* `full_batch_epochs` — one fused loss-and-gradient pass per epoch, then the update;
* `minibatch_epochs`  — shuffled batches gathered into buffers made once (`batches`);
* `lbfgs`             — SciPy's L-BFGS-B on the fused kernel (J and ∇J from one pass);
* `newton`            — the generated Hessian, damped, with a backtracking line search.

The first-order updates themselves are `symdl.optimizers`' compiled rules.
"""

from __future__ import annotations

import numpy as np

from symdl import interrupts, optimizers, threads
from symdl.errors import DivergenceError
from symdl.training.batches import Batches, SparseBatches, sparse_pays
from symdl.training.divergence import DivergenceWatch, divergence_hint, finite_loss, step_size_note
from symdl.training.inputs import sample_count
from symdl.training.result import History, Result, Run

def run_epochs(module, params, data, *, model, optimizer, learning_rate, epochs, batch_size, seed,
               tol, callbacks, log, scores, minibatches=None, divergence="stop") -> Result:
    """The epochs of `optimizer` with the checks around them, for data in memory or in chunks.

    `module` has the generated kernels' calling convention (`loss`, `loss_and_gradient`,
    `hessian`, SPEC) on the data arguments `data`: the generated module itself, or
    symdl.chunked's kernels over chunks (with `data` empty). `model` is the model as the user
    names it (a built-in name or a derivation file's path), kept in the Result. After each
    epoch J is checked by the divergence watch, recorded with `scores(params)` and handed to
    the `callbacks` (symdl.callbacks); Ctrl-C stops after the epoch under way.
    `minibatches(update, params, record)` runs the mini-batch epochs (None: full batch).
    """
    spec = module.SPEC
    start = [np.copy(p) for p in params]
    # the fused kernel, which every first-order epoch needs anyway: a run then compiles no
    # separate loss kernel (docs/engineering.md, 'Where a cold start goes')
    initial_loss = module.loss_and_gradient(*params, *data)[0]
    watch = DivergenceWatch(initial_loss, divergence)
    if log and optimizer in ("gd", "sgd"):
        note = step_size_note(module, start, data, learning_rate)
        if note:
            log(f"  note: {note}")
    names = [n for n, _ in spec["params"]]
    rule = optimizer if isinstance(optimizer, str) else type(optimizer).__name__
    settings = {"optimizer": rule, "learning_rate": getattr(optimizer, "learning_rate", learning_rate),
                "epochs": epochs, "batch_size": batch_size, "seed": seed, "tol": tol}
    run = Run(spec["name"], epochs, names, params, History(), model=model, settings=settings)

    with interrupts.deferred() as interruption:
        def record(epoch, loss, params):
            """Check and record the epoch's J, then run the callbacks; True means stop."""
            watch.check(epoch, loss)  # a NaN or inf J first, then growth
            run.epoch, run.params = epoch, params
            run.history.record(epoch, {"J": float(loss), **scores(params)})
            for callback in callbacks:
                callback.on_epoch_end(run)
            return run.stop or interruption.requested

        for callback in callbacks:
            callback.on_train_begin(run)
        try:
            if optimizer in optimizers.METHODS:
                method = {"lbfgs": lbfgs, "newton": newton}[optimizer]
                params = method(module, params, data, epochs, record, tol=tol)
            else:
                update = optimizers.make(optimizer, learning_rate)
                if minibatches is None:
                    params = full_batch_epochs(module, update, params, data, epochs, record, tol)
                else:
                    params = minibatches(update, params, record)
            if not run.history:
                # no epoch was completed: L-BFGS or Newton at a start already within tol (or
                # where SciPy's own tests stop it), or tol met by the starting gradient. The
                # history records the starting J as epoch 0, so that the result has a J.
                finite_loss(initial_loss, 0)
                run.history.record(0, {"J": float(initial_loss), **scores(params)})
                if log and not interruption.requested:
                    log(f"  {rule} took no step: the starting parameters already meet its "
                        f"stopping test (J = {float(initial_loss):.6g}, epoch 0)")
            run.params, run.finished = params, True
            if not interruption.requested and not run.stop:
                watch.finish(len(run.history))
        except DivergenceError as error:
            hint = divergence_hint(module, optimizer, learning_rate, start, data)
            raise DivergenceError(f"{error}; {hint}") from None
        finally:
            for callback in callbacks:
                callback.on_train_end(run)
    result = run.result()
    if interruption.requested:
        result.interrupted, result.stopped_epoch = True, run.history[-1][0]
        if log:
            log(f"  interrupted after epoch {result.stopped_epoch} of {epochs}; the parameters "
                f"reached so far are kept")
    return result


def full_batch_epochs(module, update, params, data, epochs, record, tol=None):
    """One fused pass per epoch: it gives J at the parameters the last update made (the
    epoch's J) and the gradient for the next update, so no separate loss pass is needed.
    With `tol`, stops before an update once ‖∇J‖₂ ≤ tol."""
    loss, *grads = module.loss_and_gradient(*params, *data)
    finite_loss(loss, 0)
    for epoch in range(1, epochs + 1):
        if tol is not None and np.linalg.norm(flat(grads)) <= tol:
            break
        params = update.step(params, grads)
        loss, *grads = module.loss_and_gradient(*params, *data)
        if record(epoch, loss, params):
            break
    return params


def minibatch_epochs(module, update, params, x, y, batch_size, epochs, rng, record):
    """Shuffled mini-batches gathered into buffers made once; the epoch's J adds up the
    batch losses (each at the parameters it was computed with) instead of a second pass.

    When the model has a sparse-input kernel (SPEC["sparse_input"], a network whose first
    layer reads x), `sparse_pays(x)`, the batches are gathered as CSR rows and that kernel
    runs instead, on the first layer's weight held transposed during the epoch and copied
    back at its end.
    """
    spec = module.SPEC
    mean = spec["reduction"] == "mean"
    weight = spec.get("sparse_input")
    if weight and y is not None and not isinstance(x, tuple) and sparse_pays(x):
        index = [n for n, _ in spec["params"]].index(weight)
        original = params[index]
        params = list(params)
        params[index] = np.ascontiguousarray(original.T)
        gather, kernel = SparseBatches(x, y, batch_size), module.loss_and_gradient_sparse
    else:
        index, gather, kernel = None, Batches(x, y, batch_size), module.loss_and_gradient
    for epoch in range(1, epochs + 1):
        total = 0.0
        for count, data in gather.epoch(rng):
            loss, *grads = kernel(*params, *data)
            finite_loss(loss, epoch)
            params = update.step(params, grads)
            total += loss * count if mean else loss
        if index is not None:
            original[...] = params[index].T
        shown = params if index is None else params[:index] + [original] + params[index + 1:]
        if record(epoch, total / sample_count(x) if mean else total, shown):
            break
    if index is not None:
        params = params[:index] + [original] + params[index + 1:]
    return params


def lbfgs(module, params, data, epochs, record, tol=None):
    """SciPy's L-BFGS-B on the fused kernel: J and ∇J from one pass per evaluation (jac=True).

    `epochs` caps the iterations; with `tol`, SciPy stops once max |∂J/∂p| ≤ tol/√P, which
    guarantees ‖∇J‖₂ ≤ tol (its relative-decrease test is switched off then).
    """
    from scipy.optimize import minimize
    evaluations = [0]

    def objective(vector):
        with all_blas_threads():
            loss, *grads = module.loss_and_gradient(*unflat(vector, params), *data)
        evaluations[0] += 1
        finite_loss(loss, evaluations[0])
        return float(loss), flat(grads)

    iteration = [0]

    def callback(intermediate_result):
        iteration[0] += 1
        with all_blas_threads():
            stop = record(iteration[0], intermediate_result.fun,
                          unflat(intermediate_result.x, params))
        if stop:
            raise StopIteration  # SciPy ends the minimisation at this iterate

    start = flat(params)
    options = {"maxiter": epochs}
    if tol is not None:
        options.update(gtol=tol / np.sqrt(start.size), ftol=0.0)
    kernels_use_blas = module.SPEC.get("layout") == "blas"
    with threads.serial_blas(kernels_use_blas) as all_blas_threads:  # SciPy's bookkeeping: 1 thread
        found = minimize(objective, start, jac=True, method="L-BFGS-B", callback=callback,
                         options=options)
    return unflat(found.x, params)


def newton(module, params, data, epochs, record, tol=None):
    """Newton's method with the generated Hessian, damped so that every step lowers J.

    The step d solves H d = ∇J (for logistic regression this is IRLS: H = Xᵀ diag(h(1−h)) X,
    003 §3.3). When H is not positive definite (Cholesky fails) a multiple of the identity is
    added until it is (Levenberg's damping); then the step is halved until J decreases by at
    least 10⁻⁴·∇J·d (Armijo's condition), or, next to the minimum where J is flat to
    rounding, until J stays within 10⁻¹² of its value and ‖∇J‖ shrinks. Stops after `epochs`
    iterations, at ‖∇J‖₂ ≤ tol, or when no step of at least 10⁻¹⁰·d qualifies.
    """
    if not module.SPEC["hessian"]:
        raise optimizers.OptimizerError(
            f"{module.SPEC['name']}: symdl derives no Hessian for this model, so Newton's method "
            f"is not available; use optimizer='lbfgs'")
    loss, *grads = module.loss_and_gradient(*params, *data)
    finite_loss(loss, 0)
    for epoch in range(1, epochs + 1):
        gradient = flat(grads)
        if tol is not None and np.linalg.norm(gradient) <= tol:
            break
        hessian = np.asarray(module.hessian(*params, *data))
        with threads.serial_blas():  # a P × P solve: see threads.serial_blas
            direction = _newton_direction(hessian, gradient)
        here, slope, step = flat(params), float(gradient @ direction), 1.0
        while step >= 1e-10:
            trial = unflat(here - step * direction, params)
            trial_loss, *trial_grads = module.loss_and_gradient(*trial, *data)
            if trial_loss <= loss - 1e-4 * step * slope or (
                    trial_loss <= loss + 1e-12 * abs(loss)
                    and np.linalg.norm(flat(trial_grads)) < np.linalg.norm(gradient)):
                break
            step /= 2
        else:
            break  # no step lowers J any more: the minimum to rounding
        params, loss, grads = trial, trial_loss, trial_grads
        if record(epoch, loss, params):
            break
    return params


def _newton_direction(hessian, gradient):
    """d with (H + μI) d = ∇J, μ = 0 when H is positive definite, else grown until it is."""
    scale = max(1.0, float(np.max(np.abs(np.diag(hessian)))))
    damping = 0.0
    while True:
        try:
            factor = np.linalg.cholesky(hessian + damping * np.eye(len(gradient)))
            break
        except np.linalg.LinAlgError:
            damping = max(2 * damping, 1e-10 * scale)
    return np.linalg.solve(factor.T, np.linalg.solve(factor, gradient))


def flat(values) -> np.ndarray:
    """Parameters (arrays and floats) as one float64 vector, in the SPEC's order."""
    return np.concatenate([np.ravel(np.asarray(v, dtype=np.float64)) for v in values])


def unflat(vector, like) -> list:
    """The vector cut back into arrays shaped (and typed) like `like`, floats for scalars."""
    out, at = [], 0
    for p in like:
        size = int(np.size(p))
        piece = vector[at:at + size]
        out.append(np.ascontiguousarray(piece.reshape(np.shape(p)), dtype=p.dtype)
                   if isinstance(p, np.ndarray) else float(piece[0]))
        at += size
    return out
