"""The epochs: every optimizer's loop over the data, with the checks around it.

`run_epochs` is the one loop every kind of training goes through — in memory
(`symdl.train.fit`) or over the chunks of a Dask array (`symdl.chunked`, whose kernels are
called like the generated ones): it checks J after every epoch (`divergence`), records it
and the epoch's scores in the `History`, runs the callbacks, and stops cleanly on Ctrl-C.
Inside it an epoch is one of:

* `full_batch_epochs` — one fused loss-and-gradient pass per epoch, then the update;
* `minibatch_epochs`  — shuffled batches gathered into buffers made once (`batches`);
* `lbfgs`             — SciPy's L-BFGS-B on the fused kernel (J and ∇J from one pass);
* `newton`, `newton_cg` — the generated Hessian, damped, with a backtracking line search,
  or the same step from conjugate gradients on Hessian-vector products (`training.newton`).

The first-order updates themselves are `symdl.optimizers`' compiled rules.

When to stop is decided here too, in one place (`Stopping`), for every rule and for data in
memory and in chunks alike: with `tol`, a rule that sees the whole gradient (full-batch
epochs, L-BFGS, Newton) stops once its largest gradient entry is that small, max |∂J/∂p| ≤ tol
(the test of SciPy's L-BFGS-B `gtol`, scikit-learn's LogisticRegression and PyTorch's LBFGS,
so a tol means what it means there), and mini-batch epochs, whose gradient over
all the data nobody computes, stop once J has improved by less than tol × |J| in
`Stopping.PATIENCE` epochs in a row (scikit-learn's `n_iter_no_change` for its SGD and MLP
estimators). Newton's method also stops, tol or not, once its step can no longer lower J
(the predicted decrease is below J's rounding). The `Result` says why it stopped
(`stop_reason`, one of `result.STOP_REASONS`) and how many epochs ran (`n_iter`); a run
whose stopping test was not met when its budget ended gets a `ConvergenceWarning`.

Long because every rule's loop is here, each with its data routes (dense, CSR rows, weighted
rows, the sparse-input kernel) and the one stopping test they share.
"""

from __future__ import annotations

import contextlib
import warnings

import numpy as np

from symdl import interrupts, optimizers, threads
from symdl.errors import ConvergenceWarning, DivergenceError
from symdl.training.batches import Batches, SparseBatches, sparse_pays
from symdl.training.divergence import (DivergenceWatch, automatic_step, divergence_hint,
                                      finite_loss, step_size_note)
from symdl.training.inputs import CsrRows, Weighted, flat, sample_count, unflat
from symdl.training.newton import newton, newton_cg
from symdl.training.result import STOP_REASONS, History, Result, Run
from symdl.training.tiers import compiled


class Stopping:
    """The stopping tests of one run (module docstring), and the reason the run stopped.

    `tol` None switches the tests on `tol` off (the rule runs its budget of epochs); Newton's
    test that no step lowers J any more holds either way.
    """

    PATIENCE = 10  # epochs without a tol × |J| improvement: scikit-learn's n_iter_no_change

    def __init__(self, tol) -> None:
        self.tol = tol
        self.reason: str | None = None
        self.best = np.inf
        self.stale = 0

    def gradient_small(self, grads) -> bool:
        """max |∂J/∂p| ≤ tol, the test of every rule that sees the whole gradient."""
        if self.tol is not None and np.max(np.abs(flat(grads)), initial=0.0) <= self.tol:
            self.reason = "gradient"
        return self.reason is not None

    def settled(self, loss) -> bool:
        """J not below its best so far by tol × |best| in PATIENCE epochs in a row."""
        if self.tol is None:
            return False
        loss = float(loss)
        if not np.isfinite(self.best) or loss < self.best - self.tol * abs(self.best):
            self.stale = 0
        else:
            self.stale += 1
        self.best = min(self.best, loss)
        if self.stale >= self.PATIENCE:
            self.reason = "loss"
        return self.reason is not None

    def no_progress(self) -> bool:
        self.reason = "no progress"
        return True


def run_epochs(module, params, data, *, model, optimizer, learning_rate, epochs, batch_size, seed,
               tol, callbacks, log, scores, minibatches=None, divergence="stop",
               rows=None) -> Result:
    """The epochs of `optimizer` with the checks around them, for data in memory or in chunks.

    `module` has the generated kernels' calling convention (`loss`, `loss_and_gradient`,
    `hessian`, SPEC) on the data arguments `data`: the generated module itself, or
    symdl.chunked's kernels over chunks (with `data` empty). `model` is the model as the user
    names it (a built-in name or a derivation file's path), kept in the Result. After each
    epoch J is checked by the divergence watch, recorded with `scores(params)` and handed to
    the `callbacks` (symdl.callbacks); Ctrl-C stops after the epoch under way.
    `minibatches(update, params, record)` runs the mini-batch epochs (None: full batch).

    `learning_rate` "auto" is the step from the curvature at the starting parameters
    (`divergence.automatic_step`; `rows` is the number of samples, which scales it to a
    mini-batch of a summed loss); the settings record the number it came to. The curvature
    at the start bounds it only where it is the largest anywhere (least squares, logistic
    regression), so full-batch epochs with it halve the step whenever an epoch would raise
    J (`full_batch_epochs`' safeguard), and the settings record the step it ended at.
    """
    spec = module.SPEC
    start = [np.copy(p) if isinstance(p, np.ndarray) else p for p in params]
    automatic = learning_rate == "auto"
    if automatic:
        stepped = isinstance(optimizer, str) and optimizer not in optimizers.METHODS
        learning_rate = (automatic_step(module, start, data, batch_size, rows) if stepped
                         else getattr(optimizer, "learning_rate", float("nan")))
    # the fused kernel, which every first-order epoch needs anyway: a run then compiles no
    # separate loss kernel (docs/engineering.md, 'Where a cold start goes'); its J and ∇J at
    # the start are handed on, so that full-batch rules do not pass over the data for them again
    first = module.loss_and_gradient(*params, *data)
    initial_loss = first[0]
    watch = DivergenceWatch(initial_loss, divergence)
    if log and optimizer in ("gd", "sgd"):
        note = step_size_note(module, start, data, learning_rate)
        if note:
            log(f"  note: {note}")
    names = [n for n, _ in spec["params"]]
    rule = optimizer if isinstance(optimizer, str) else type(optimizer).__name__
    settings = {"optimizer": rule, "learning_rate": getattr(optimizer, "learning_rate", learning_rate),
                "epochs": epochs, "batch_size": batch_size, "seed": seed, "tol": tol}
    if optimizer in optimizers.METHODS:  # L-BFGS and Newton take no step size
        del settings["learning_rate"]
    stopping, update = Stopping(tol), None
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
                method = {"lbfgs": lbfgs, "newton": newton, "newton-cg": newton_cg}[optimizer]
                params = method(module, params, data, epochs, record, stopping, first)
            else:
                update = optimizers.make(optimizer, learning_rate)
                update.compiled = compiled(module)
                if minibatches is None:
                    params = full_batch_epochs(module, update, params, data, epochs, record,
                                               stopping, safeguard=automatic, first=first)
                    if update.learning_rate != learning_rate:
                        run.settings["final learning_rate"] = update.learning_rate
                else:
                    def record_settled(epoch, loss, params):
                        return record(epoch, loss, params) or stopping.settled(loss)
                    params = minibatches(update, params, record_settled)
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
    result.optimizer = update
    result.stop_reason = ("interrupted" if interruption.requested else "callback" if run.stop
                          else stopping.reason or "epochs")
    if interruption.requested:
        result.interrupted, result.stopped_epoch = True, run.history[-1][0]
        if log:
            log(f"  interrupted after epoch {result.stopped_epoch} of {epochs}; the parameters "
                f"reached so far are kept")
    else:
        report_stop(result, rule, epochs, tol, log,
                    mini_batch=minibatches is not None and optimizer not in optimizers.METHODS)
    return result


def report_stop(result, rule, epochs, tol, log, mini_batch) -> None:
    """Say why training stopped: a log line when it converged, a `ConvergenceWarning` when a
    stopping test was in force (a tol, or Newton's own) and the budget of epochs ended first."""
    if result.converged:
        if log:
            log(f"  converged after {result.n_iter} of {epochs} epochs: "
                f"{STOP_REASONS[result.stop_reason]}")
        return
    if result.stop_reason != "epochs" or (tol is None and rule not in ("newton", "newton-cg")):
        return
    test = ("its step could still lower J" if tol is None else
            STOP_REASONS["loss" if mini_batch else "gradient"].replace("tol", f"tol = {tol:g}"))
    warnings.warn(f"{result.name}: {rule} used its whole budget of {epochs} epochs before "
                  f"converging (the test: {test}); give it more epochs, a larger tol, or "
                  f"scaled features", ConvergenceWarning, stacklevel=4)


def full_batch_epochs(module, update, params, data, epochs, record, stopping=None,
                      safeguard=False, first=None):
    """One fused pass per epoch: it gives J at the parameters the last update made (the
    epoch's J) and the gradient for the next update, so no separate loss pass is needed.
    Stops before an update once `stopping` says max |∂J/∂p| ≤ tol (also after the last epoch, so
    that a run that converged in its last epoch says so).

    With `safeguard` (the automatic step), an update that would raise J (or make it NaN) is
    undone and the step halved, the rule's state reset: that epoch records the J it kept.
    Gradient descent with a step below 2/L never raises J on a J whose curvature is at most
    L, so only a step past the curvature met on the way is ever halved."""
    stopping = stopping or Stopping(None)
    loss, *grads = first or module.loss_and_gradient(*params, *data)
    finite_loss(loss, 0)
    for epoch in range(1, epochs + 1):
        if stopping.gradient_small(grads):
            return params
        kept = [np.copy(p) if isinstance(p, np.ndarray) else p for p in params] if safeguard else None
        params = update.step(params, grads)
        new_loss, *new_grads = module.loss_and_gradient(*params, *data)
        if kept is not None and not new_loss <= loss + 1e-12 * abs(loss):  # rounding: kept
            params, update.learning_rate, update.states = kept, update.learning_rate / 2, None
        else:
            loss, grads = new_loss, new_grads
        if record(epoch, loss, params):
            return params
    stopping.gradient_small(grads)
    return params


def minibatch_epochs(module, update, params, x, y, batch_size, epochs, rng, record,
                     weights=None):
    """Shuffled mini-batches in buffers made once; the epoch's J adds up the batch losses
    (each at its own parameters). Each batch carries its rows' `weights`, if any, into the
    weighted kernels (÷ Σ w for a mean). Sparse x (`CsrRows`) is gathered as CSR rows for
    the `_csr` kernels (`module` is `inputs.OverCsrRows`); so is dense x for a model with a
    sparse-input kernel (SPEC["sparse_input"]) when `sparse_pays(x)`, whose first layer's
    weight is held transposed during the epoch. On the NumPy tier the epochs run on one BLAS
    thread, as a batch's products are small (docs/engineering.md, 'Where a cold start goes').
    """
    spec = module.SPEC
    mean = spec["reduction"] == "mean"
    weight = spec.get("sparse_input")
    runs = module if weights is None else Weighted(module)
    if isinstance(x, CsrRows):
        index, gather = None, SparseBatches(x, y, batch_size, weights)
        kernel = runs.loss_and_gradient
    elif (weight and weights is None and y is not None and not isinstance(x, tuple)
          and sparse_pays(x)):
        index = [n for n, _ in spec["params"]].index(weight)
        original = params[index]
        params = list(params)
        params[index] = np.ascontiguousarray(original.T)
        _transpose_state(update, index)
        gather, kernel = SparseBatches(x, y, batch_size), module.loss_and_gradient_sparse
    else:
        index, gather = None, Batches(x, y, batch_size, weights, compiled=compiled(module))
        kernel = runs.loss_and_gradient
    rows = sample_count(x) if weights is None else float(np.sum(weights))
    with threads.serial_blas() if not compiled(module) else contextlib.nullcontext():
        for epoch in range(1, epochs + 1):
            total = 0.0
            for count, data in gather.epoch(rng):
                loss, *grads = kernel(*params, *data)
                finite_loss(loss, epoch)
                params = update.step(params, grads)
                total += loss * (count if weights is None else np.sum(data[-1])) if mean else loss
            if index is not None:
                original[...] = params[index].T
            shown = params if index is None else params[:index] + [original] + params[index + 1:]
            if record(epoch, total / rows if mean else total, shown):
                break
    if index is not None:
        params = params[:index] + [original] + params[index + 1:]
        _transpose_state(update, index)
    return params


def _transpose_state(update, index):
    """The rule's state of parameter `index` transposed, as the sparse-input kernel holds it
    (a state kept across runs, partial_fit's, meets both)."""
    if update.states is not None:
        update.states[index] = [np.ascontiguousarray(s.T) for s in update.states[index]]


def lbfgs(module, params, data, epochs, record, stopping=None, first=None):
    """SciPy's L-BFGS-B on the fused kernel: J and ∇J from one pass per evaluation (jac=True).

    `epochs` caps the iterations; with `stopping.tol`, SciPy stops once max |∂J/∂p| ≤ tol,
    its own `gtol` test (its relative-decrease test is switched off then); without
    it, by its own tests. Its outcome becomes the stop reason: "gradient", "ftol" (SciPy's
    relative decrease of J), "epochs" or "no progress" (its line search found no lower J).
    """
    stopping = stopping or Stopping(None)
    tol = stopping.tol
    from scipy.optimize import minimize
    evaluations = [0]
    start = flat(params)

    def objective(vector):
        if first is not None and evaluations[0] == 0 and np.array_equal(vector, start):
            loss, *grads = first  # SciPy's first evaluation is at the start: known already
        else:
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

    options = {"maxiter": epochs}
    if tol is not None:
        options.update(gtol=tol, ftol=0.0)
    kernels_use_blas = module.SPEC.get("layout") == "blas"
    with threads.serial_blas(kernels_use_blas) as all_blas_threads:  # SciPy's bookkeeping: 1 thread
        found = minimize(objective, start, jac=True, method="L-BFGS-B", callback=callback,
                         options=options)
    if found.status == 0:
        stopping.reason = "gradient" if "GRADIENT" in str(found.message).upper() else "ftol"
    elif found.status == 2:
        stopping.no_progress()  # the line search found no lower J: the minimum, to rounding
    return unflat(found.x, params)
