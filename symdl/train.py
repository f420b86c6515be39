"""Trains a model with its generated kernels: gradient descent, SGD, momentum, RMSprop, Adam,
L-BFGS and Newton's method.

Training needs no SymPy: everything it knows about a model comes from the SPEC dictionary
and the kernels in `symdl.generated.NAME`, so a fresh process imports only NumPy and Numba.

    >>> from symdl import train
    >>> result = train.train("logistic_regression")          # built-in data, default settings
    >>> result = train.fit("logistic_regression", x, y, learning_rate=0.01, epochs=100)
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numba
import numpy as np

from symdl import callbacks as hooks_module, chunked, datasets, interrupts, kernels, optimizers, sources, threads, validate
from symdl.callbacks import History
from symdl.errors import (DataError, DerivationError, DivergenceError, IllConditionedWarning,
                          SettingsError, SingularError)
from symdl.optimizers import OPTIMIZERS  # noqa: F401  (symdl.chunked reads train.OPTIMIZERS)

TASK_OF_TARGET = {"real": "regression", "binary": "binary", "class": "classes"}


@dataclass
class Result:
    """A trained model: parameters, loss per epoch, metrics and the time it took."""

    name: str
    params: dict
    history: list = field(default_factory=History)  # (epoch, J) pairs; .metrics per epoch
    metrics: dict = field(default_factory=dict)
    seconds: float = 0.0
    settings: dict = field(default_factory=dict)  # how fit was called, kept by saved models
    model: str = ""  # the model as a user names it: a built-in name or a derivation file's path
    interrupted: bool = False  # Ctrl-C stopped training; params are those reached so far
    stopped_epoch: int | None = None  # the last epoch completed, when interrupted

    def __repr__(self):
        final = f"{self.history[-1][1]:.6g}" if self.history else "none"
        shown = ", ".join(f"{k!r}: {v:.4g}" if isinstance(v, float) else f"{k!r}: {v!r}"
                          for k, v in self.metrics.items())
        return (f"Result(name={self.name!r}, epochs={len(self.history)}, final J={final}, "
                f"metrics={{{shown}}})")

    def _repr_html_(self):
        """A notebook's view: the metrics, the small parameters and the loss at a few epochs."""
        from html import escape
        rows = [("epochs", f"{len(self.history)}"), ("seconds", f"{self.seconds:.3g}")]
        rows += [(k, f"{v:.6g}") for k, v in self.metrics.items()]
        rows += [(n, np.array2string(np.asarray(v), precision=4))
                 for n, v in self.params.items() if np.size(v) <= 8]
        shown = sorted({0, len(self.history) // 2, len(self.history) - 1}) if self.history else []
        loss = ", ".join(f"{self.history[k][0]}: {self.history[k][1]:.4g}" for k in shown)
        cells = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
        return (f"<b>{escape(self.name)}</b><table>{cells}</table>"
                f"<p>J by epoch: {escape(loss)}</p>")


def require_result(result, what: str) -> None:
    """`what` (predict, saved.save) takes a trained Result; say so for anything else."""
    if not isinstance(result, Result):
        hint = ("; a fitted estimator predicts with its own .predict(X), and keeps its Result "
                "as .result_" if hasattr(result, "result_") or hasattr(result, "fit") else "")
        raise DataError(f"{what} takes the Result that fit, train or saved.load returns, not "
                        f"{type(result).__name__} {result!r:.60}{hint}")


def dimension_sizes(spec, x, sizes=None) -> dict:
    """Bind every dimension name (n, H, ...) to a number: from the data, then from `sizes`."""
    bound = dict(sizes or {})
    for (_, shape), array in zip(validate.input_specs(spec), validate.input_arrays(x)):
        if shape:
            bound.setdefault(shape[0], array.shape[1])
    for name, shape in spec["params"]:
        for dim in shape:
            if dim not in bound:
                raise DataError(f"{spec['name']}: the size of dimension {dim!r} of {name} is not "
                                f"known; pass sizes={{{dim!r}: ...}}")
    return bound


def initial_params(spec, sizes, *, dtype=np.float64, init_scale=0.0, init="normal",
                   initial=None, seed=0):
    """Starting values: given ones, else random weight matrices and zero biases.

    init="normal" draws N(0, init_scale²/fan_in) (init_scale 0: zeros); "glorot_uniform"
    draws U(−a, a) with a = sqrt(6/(fan_in + fan_out)), Keras' default for Dense layers.
    """
    rng = np.random.default_rng(seed)
    initial = initial or {}
    params = []
    for name, shape in spec["params"]:
        if name in initial:
            value = initial[name]
            params.append(np.array(value, dtype=dtype) if shape else float(value))
            continue
        if not shape:
            params.append(0.0)
            continue
        dims = tuple(sizes[d] for d in shape)
        if len(dims) == 2 and init == "glorot_uniform":
            limit = np.sqrt(6.0 / (dims[0] + dims[1]))
            values = rng.uniform(-limit, limit, dims)
        elif len(dims) == 2 and init_scale:
            values = rng.standard_normal(dims) * init_scale / np.sqrt(dims[1])
        elif len(dims) == 1 and init_scale and name.startswith(("w", "W", "theta")):
            values = rng.standard_normal(dims) * init_scale / np.sqrt(dims[0])
        else:
            values = np.zeros(dims)
        params.append(np.ascontiguousarray(values, dtype=dtype))
    return params


def check_params(spec, params, sizes):
    """Every parameter has the shape its dimensions say, and is finite."""
    for (name, shape), value in zip(spec["params"], params):
        expected = tuple(sizes[d] for d in shape)
        actual = np.shape(value)
        if actual != expected:
            raise DataError(f"{spec['name']}: parameter {name} has shape {actual}, "
                            f"expected {expected} ({' × '.join(shape) or 'scalar'})")
        if not np.all(np.isfinite(value)):
            raise DataError(f"{spec['name']}: parameter {name} contains NaN or inf")


def prepare_data(spec, x, y, dtype=np.float64) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Validate x and y against the model's declared shapes (validate.training_data)."""
    features = spec["features"]
    if features is None:
        return None, None
    task = TASK_OF_TARGET[spec["target"][1]] if spec["target"] else "regression"
    shape = None if features[1] else ()
    if spec["target"] is None:
        x, _ = validate.training_data(x, np.zeros(len(x)), feature_shape=shape, dtype=dtype)
        return x, None
    return validate.training_data(x, y, feature_shape=shape, task=task,
                                  classes=spec["classes"], dtype=dtype,
                                  vector_target=bool(spec.get("target_shape")))


def fit(name, x=None, y=None, *, optimizer="gd", learning_rate=0.1, epochs=100,
        batch_size=None, params=None, sizes=None, init_scale=0.0, init="normal", initial=None,
        seed=0, log=None, log_every=None, scheduler=None, tol=None, validation_data=None,
        epoch_metrics=False, callbacks=(), progress=False, divergence="stop") -> Result:
    """Train model NAME on (x, y) with its generated loss_and_gradient kernel.

    optimizer: a name (optimizers.names(): "gd", "sgd", "momentum", "nesterov", "rmsprop",
    "adam", "lbfgs", "newton") or an `optimizers.Optimizer` such as Adam(1e-3, weight_decay=…).
    History: for full-batch rules and for "lbfgs"/"newton", J at the parameters after each
    epoch (iteration); for mini-batch rules, the epoch's batch losses added up (÷ m for a mean
    loss), Keras' epoch loss, which costs no extra pass over the data. `tol` stops full-batch
    rules, "lbfgs" and "newton" once ‖∇J‖₂ ≤ tol (default: run the `epochs` iterations;
    L-BFGS also stops by SciPy's own tests).

    A Dask array x trains chunk by chunk, out of core or on a cluster, on the Dask
    `scheduler` given (symdl.chunked).

    After each epoch the history records J and, with `epoch_metrics` or `validation_data`
    (x_val, y_val), the accuracy or mse on (x, y) and "val J" and the metric on the
    validation data; then every callback (symdl.callbacks) runs. `progress` draws a bar
    with the ETA when stderr is a terminal; `log` (e.g. print) gets a line every `log_every`
    epochs.

    Training stops with a `DivergenceError` when J grows far past its starting value or
    keeps rising (validate.DivergenceWatch); `divergence="warn"` warns once instead and goes
    on, for a run that rises on purpose before it settles. Ctrl-C stops it after the epoch under way: the
    result comes back with `interrupted=True` and the parameters reached so far.
    """
    validate.settings(optimizer=optimizer, learning_rate=learning_rate, epochs=epochs,
                      batch_size=batch_size, init=init, init_scale=init_scale, seed=seed,
                      log_every=log_every, optimizers=optimizers.names())
    if divergence not in validate.DivergenceWatch.CHOICES:
        raise SettingsError(f"divergence must be 'stop' (raise DivergenceError) or 'warn' "
                            f"(warn once and go on), not {divergence!r}")
    if not isinstance(optimizer, optimizers.Optimizer) and optimizer not in optimizers.names():
        optimizers.make(optimizer, learning_rate)  # raises, listing the valid names
    if isinstance(params, (dict, Result)):
        params = ordered_params(kernels.load(name).SPEC, params,
                                np.result_type(getattr(x, "dtype", np.float64), np.float32))
    if chunked.is_chunked(x) or (isinstance(x, (dict, tuple, list))
                                 and any(chunked.is_chunked(a) for a in
                                         (x.values() if isinstance(x, dict) else x))):
        if len(validate.input_specs(kernels.load(name).SPEC)) > 1:
            raise DataError(f"{kernels.load(name).SPEC['name']} reads several data tensors per "
                            f"sample; chunked (Dask) training takes one x: compute the arrays "
                            f"into memory (np.asarray) and train on those")
        return chunked.fit(name, x, y, optimizer=optimizer, learning_rate=learning_rate,
                           epochs=epochs, batch_size=batch_size, params=params, sizes=sizes,
                           init_scale=init_scale, init=init, initial=initial, seed=seed,
                           log=log, log_every=log_every, scheduler=scheduler, tol=tol,
                           validation_data=validation_data, epoch_metrics=epoch_metrics,
                           callbacks=callbacks, progress=progress, divergence=divergence)
    module = kernels.load(name)
    spec = module.SPEC
    validate.initial_values(spec, initial)
    inputs = validate.model_inputs(spec, params, x, y, sizes)
    x, y, data = inputs.x, inputs.y, inputs.data
    dtype = inputs.dtype
    if inputs.params is None:
        params = initial_params(spec, inputs.sizes, dtype=dtype, init_scale=init_scale,
                                init=init, initial=initial, seed=seed)
        check_params(spec, params, inputs.sizes)
    else:
        params = inputs.params
    validation = None
    if validation_data is not None:
        if len(validation_data) != 2:
            raise DataError("validation_data must be a pair (x_val, y_val)")
        checked = validate.model_inputs(spec, params, validation_data[0], validation_data[1],
                                        sizes)
        validation = checked.x, checked.y
    full_batch = (optimizer == "gd" or x is None or batch_size is None
                  or batch_size >= validate.sample_count(x))

    def minibatches(update, params, record):
        return minibatch_epochs(module, update, params, x, y, batch_size, epochs,
                                np.random.default_rng(seed), record)

    return run_epochs(module, params, data, model=name, optimizer=optimizer,
                      learning_rate=learning_rate, epochs=epochs, batch_size=batch_size,
                      seed=seed, tol=tol, divergence=divergence,
                      hooks=reporters(progress, log, log_every) + list(callbacks), log=log,
                      scores=lambda p: epoch_scores(module, p, x, y, validation,
                                                    train_scores=epoch_metrics),
                      minibatches=None if full_batch else minibatches)


def run_epochs(module, params, data, *, model, optimizer, learning_rate, epochs, batch_size, seed,
               tol, hooks, log, scores, minibatches=None, divergence="stop") -> Result:
    """The epochs of `optimizer` with the checks around them, for data in memory or in chunks.

    `module` has the generated kernels' calling convention (`loss`, `loss_and_gradient`,
    `hessian`, SPEC) on the data arguments `data`: the generated module itself, or
    symdl.chunked's kernels over chunks (with `data` empty). After each epoch J is checked by
    the divergence watch, recorded with `scores(params)` and handed to the `hooks`
    (callbacks); Ctrl-C stops after the epoch under way. `minibatches(update, params,
    record)` runs the mini-batch epochs (None: full batch).
    """
    spec = module.SPEC
    start = [np.copy(p) for p in params]
    watch = validate.DivergenceWatch(module.loss(*params, *data), divergence)
    if log and optimizer in ("gd", "sgd"):
        note = step_size_note(module, start, data, learning_rate)
        if note:
            log(f"  note: {note}")
    names = [n for n, _ in spec["params"]]
    rule = optimizer if isinstance(optimizer, str) else type(optimizer).__name__
    settings = {"optimizer": rule, "learning_rate": getattr(optimizer, "learning_rate", learning_rate),
                "epochs": epochs, "batch_size": batch_size, "seed": seed, "tol": tol}
    run = hooks_module.Run(spec["name"], epochs, names, params, History(),
                           model=sources.resolve(model).ref, settings=settings)
    started = run.started

    with interrupts.deferred() as interruption:
        def record(epoch, loss, params):
            """Check and record the epoch's J, then run the callbacks; True means stop."""
            validate.finite_loss(loss, epoch)
            watch.check(epoch, loss)
            run.epoch, run.params = epoch, params
            run.history.record(epoch, {"J": float(loss), **scores(params)})
            for hook in hooks:
                hook.on_epoch_end(run)
            return run.stop or interruption.requested

        for hook in hooks:
            hook.on_train_begin(run)
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
            run.params, run.finished = params, True
            if not interruption.requested and not run.stop:
                watch.finish(len(run.history))
        except DivergenceError as error:
            hint = divergence_hint(module, optimizer, learning_rate, start, data)
            raise DivergenceError(f"{error}; {hint}") from None
        finally:
            for hook in hooks:
                hook.on_train_end(run)
    named = {n: p for (n, _), p in zip(spec["params"], run.params)}
    result = Result(spec["name"], named, run.history, seconds=time.perf_counter() - started,
                    settings=settings, model=run.model)
    if interruption.requested:
        result.interrupted, result.stopped_epoch = True, len(run.history)
        if log:
            log(f"  interrupted after epoch {len(run.history)} of {epochs}; the parameters "
                f"reached so far are kept")
    return result


def reporters(progress, log, log_every) -> list:
    """The callbacks that tell the user how training goes: a bar, lines, or nothing."""
    found = [hooks_module.ProgressBar()] if progress else []
    return found + ([hooks_module.LogLines(log, log_every)] if log else [])


def epoch_scores(module, params, x, y, validation, train_scores=False) -> dict:
    """One epoch's metrics besides J: on (x, y) when asked, and on the validation data."""
    found = {}
    if validation is not None or train_scores:
        found.update(scores(module, params, x, y))
    if validation is not None:
        found.update(validation_scores(module, params, *validation))
    return found


def validation_scores(module, params, x_val, y_val) -> dict:
    """{"val J": …, "val accuracy" or "val mse": …} on held-out data in memory."""
    found = {"val J": float(module.loss(*params, *data_args(x_val, y_val)))}
    found.update({f"val {k}": v for k, v in scores(module, params, x_val, y_val).items()})
    return found


def score_names(module) -> list:
    """The names `scores` returns: ["accuracy"] (classifier), ["mse"] (regression) or []."""
    spec = module.SPEC
    if spec["features"] is None or not hasattr(module, "predict") or spec["target"] is None:
        return []
    return ["mse"] if spec["target"][1] == "real" else ["accuracy"]


def scores(module, values, x, y) -> dict:
    """{"accuracy": …} for a classifier, {"mse": …} for a regression, {} for neither."""
    if not score_names(module):
        return {}
    out = module.predict(*values, *validate.input_arrays(x))
    kind = module.SPEC["target"][1]
    if kind == "binary":
        return {"accuracy": float(np.mean((out >= 0.5) == (y >= 0.5)))}
    if kind == "class":
        return {"accuracy": float(np.mean(np.argmax(out, axis=1) == y))}
    return {"mse": float(np.mean((out - y) ** 2))}


def ordered_params(spec, given, dtype=np.float64) -> list:
    """Parameters given by name (a Result, or its `params`) as the kernels take them: in SPEC
    order, and copied, so that training on from them leaves the caller's arrays untouched."""
    given = given.params if isinstance(given, Result) else given
    names = [n for n, _ in spec["params"]]
    missing = [n for n in names if n not in given]
    unknown = [n for n in given if n not in names]
    if missing or unknown:
        raise DataError(f"{spec['name']}: params must give exactly {', '.join(names)}"
                        + (f"; missing {', '.join(missing)}" if missing else "")
                        + (f"; unknown {', '.join(map(str, unknown))}" if unknown else ""))
    return [np.array(given[n], dtype=dtype) if shape else float(given[n])
            for n, shape in spec["params"]]


def predict(result: Result, x, sizes=None) -> np.ndarray:
    """The model's output for every sample of x, with the parameters of `result` (as `fit` or
    `train` returns it, or `saved.load` reads it back): probabilities for a classifier, the
    fitted value for a regression. x is checked against the parameters (validate.model_inputs)."""
    require_result(result, "predict")
    module = kernels.load(result.model or result.name)
    spec = module.SPEC
    if spec["features"] is None or not hasattr(module, "predict"):
        raise DerivationError(f"{result.name}: the model has no data input and output to predict")
    inputs = validate.model_inputs(spec, result.params, x, None, sizes, need_target=False)
    return module.predict(*inputs.params, *inputs.inputs)


def step_size_bound(module, params, data) -> float | None:
    """2/λ_max of the Hessian of J at `params`: gradient descent diverges above it (003 §3.1).

    None when the model has no generated Hessian or the Hessian has no positive eigenvalue.
    """
    if not module.SPEC["hessian"]:
        return None
    hessian = np.atleast_2d(np.asarray(module.hessian(*params, *data), dtype=np.float64))
    if not np.all(np.isfinite(hessian)):
        return None
    largest = float(np.linalg.eigvalsh(hessian).max())
    return 2.0 / largest if largest > 0 else None


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


# ---- the epochs of each kind of optimizer -----------------------------------------------------

def full_batch_epochs(module, update, params, data, epochs, record, tol=None):
    """One fused pass per epoch: it gives J at the parameters the last update made (the
    epoch's J) and the gradient for the next update, so no separate loss pass is needed.
    With `tol`, stops before an update once ‖∇J‖₂ ≤ tol."""
    loss, *grads = module.loss_and_gradient(*params, *data)
    validate.finite_loss(loss, 0)
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
            validate.finite_loss(loss, epoch)
            params = update.step(params, grads)
            total += loss * count if mean else loss
        if index is not None:
            original[...] = params[index].T
        shown = params if index is None else params[:index] + [original] + params[index + 1:]
        if record(epoch, total / validate.sample_count(x) if mean else total, shown):
            break
    if index is not None:
        params = params[:index] + [original] + params[index + 1:]
    return params


SPARSE_DENSITY = 0.5
SPARSE_THREADS = 1


def sparse_pays(x) -> bool:
    """Whether the sparse-input kernel beats the dense one: at most SPARSE_DENSITY of x is
    non-zero and Numba runs on at most SPARSE_THREADS threads.

    Its first layer is a serial loop over the non-zero inputs, while the dense kernel's two
    large products run on every BLAS thread. Measured on W3 (MNIST, 19% non-zero,
    benchmarks/README.md): on one thread the sparse epoch took 362 ms against 485 ms dense;
    on two, 165 ms against 119 ms.
    """
    import numba
    return (numba.get_num_threads() <= SPARSE_THREADS
            and np.count_nonzero(x) <= SPARSE_DENSITY * x.size)


class Batches:
    """Shuffled mini-batches of (x, y) copied into buffers made once, not per batch.

    The order is `rng.permutation(m)` each epoch, as `batches` draws it, so both give the
    same batches from the same seed. Each batch is (rows, kernel data arguments): the same
    rows of every data tensor (x may be a tuple of them), then of the target.
    """

    def __init__(self, x, y, batch_size):
        self.arrays = validate.input_arrays(x) + (() if y is None else (y,))
        self.rows, self.size = len(self.arrays[0]), int(batch_size)
        self.buffers = [np.empty((self.size,) + a.shape[1:], a.dtype) for a in self.arrays]

    def epoch(self, rng):
        order = rng.permutation(self.rows)
        for start in range(0, self.rows, self.size):
            count = min(self.size, self.rows - start)
            for array, buffer in zip(self.arrays, self.buffers):
                _gather_rows(array, order, start, buffer)
            yield count, tuple(buffer[:count] for buffer in self.buffers)


class SparseBatches(Batches):
    """The same batches with x as CSR rows: (values, columns, row starts) of its non-zeros."""

    def __init__(self, x, y, batch_size):
        self.rows, self.size = len(x), int(batch_size)
        self.y, self.y_buffer = y, np.empty((self.size,) + y.shape[1:], y.dtype)
        nonzero = x != 0
        self.values, self.columns = x[nonzero], np.nonzero(nonzero)[1].astype(np.int64)
        self.starts = np.concatenate([[0], np.cumsum(nonzero.sum(axis=1))]).astype(np.int64)
        widest = int(np.max(np.diff(self.starts), initial=0))
        self.value_buffer = np.empty(self.size * widest, x.dtype)
        self.column_buffer = np.empty(self.size * widest, np.int64)
        self.start_buffer = np.empty(self.size + 1, np.int64)

    def epoch(self, rng):
        order = rng.permutation(self.rows)
        for start in range(0, self.rows, self.size):
            count = min(self.size, self.rows - start)
            used = _gather_csr(self.values, self.columns, self.starts, order, start, count,
                               self.value_buffer, self.column_buffer, self.start_buffer)
            _gather_rows(self.y, order, start, self.y_buffer)
            yield count, (self.value_buffer[:used], self.column_buffer[:used],
                          self.start_buffer[:count + 1], self.y_buffer[:count])


@numba.njit(cache=True)
def _gather_csr(values, columns, starts, order, start, count, out_values, out_columns,
                out_starts):
    """The CSR rows order[start:start + count] copied into the out buffers; returns their nnz."""
    used = 0
    out_starts[0] = 0
    for k in range(count):
        row = order[start + k]
        for e in range(starts[row], starts[row + 1]):
            out_values[used] = values[e]
            out_columns[used] = columns[e]
            used += 1
        out_starts[k + 1] = used
    return used


@numba.njit(cache=True)
def _gather_rows(source, order, start, out):
    """out[k] = source[order[start + k]] for the rows that remain (at most len(out))."""
    count = min(out.shape[0], order.shape[0] - start)
    for k in range(count):
        out[k] = source[order[start + k]]


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
        validate.finite_loss(loss, evaluations[0])
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
    validate.finite_loss(loss, 0)
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


def data_args(x, y):
    """The data arguments a kernel takes: every data tensor, then the target if there is one."""
    return validate.input_arrays(x) + (() if y is None else (y,))


def batches(x, y, batch_size, rng):
    """The whole data set once (gradient descent), or shuffled mini-batches covering it."""
    if x is None or batch_size is None or batch_size >= validate.sample_count(x):
        yield x, y
        return
    order = rng.permutation(validate.sample_count(x))
    for start in range(0, len(order), batch_size):
        chosen = order[start:start + batch_size]
        rows = tuple(np.ascontiguousarray(a[chosen]) for a in validate.input_arrays(x))
        yield rows if isinstance(x, tuple) else rows[0], np.ascontiguousarray(y[chosen])


def metrics(name, params: dict, x, y, x_test=None, y_test=None, sizes=None) -> dict:
    """Accuracy for classifiers, mean squared error for regressions; train and test."""
    module = kernels.load(name)
    found: dict[str, float] = {}
    spec = module.SPEC
    for split, (xs, ys) in {"train": (x, y), "test": (x_test, y_test)}.items():
        if xs is not None:
            inputs = validate.model_inputs(spec, params, xs, ys, sizes)
            found.update({f"{split} {k}": v for k, v in
                          scores(module, inputs.params, inputs.x, inputs.y).items()})
    return found


def loss_and_gradient(name, params: dict, x=None, y=None, sizes=None) -> tuple[float, dict]:
    """J at `params` and ∂J/∂p for every parameter p, from the generated fused kernel."""
    module = kernels.load(name)
    spec = module.SPEC
    inputs = validate.model_inputs(spec, params, x, y, sizes)
    loss, *grads = module.loss_and_gradient(*inputs.params, *inputs.data)
    return float(loss), {n: g for (n, _), g in zip(spec["params"], grads)}


def conditioning(hessian) -> float:
    """The condition number of the Hessian after scaling each parameter to unit curvature.

    Scaling by D = diag(H)^(−1/2) removes what units alone cause (x measured in 1e5s), so
    what remains is how close the problem is to having no unique minimiser. inf when some
    parameter has no curvature at all or D·H·D has a zero eigenvalue.
    """
    hessian = np.atleast_2d(np.asarray(hessian, dtype=np.float64))
    diagonal = np.diag(hessian)
    if not np.all(np.isfinite(hessian)) or np.any(diagonal <= 0):
        return np.inf
    scale = 1.0 / np.sqrt(diagonal)
    eigenvalues = np.linalg.eigvalsh(hessian * scale[:, None] * scale[None, :])
    if eigenvalues.min() <= len(diagonal) * 4 * np.finfo(np.float64).eps * eigenvalues.max():
        return np.inf
    return float(eigenvalues.max() / eigenvalues.min())


ILL_CONDITIONED = 1e8
"""Beyond this condition number, about 8 of float64's 16 digits of the minimiser are noise."""


def closed_form(name, x=None, y=None) -> dict:
    """The generated closed-form minimiser, refusing a singular problem with a clear error.

    Singular means singular relative to the problem's own scale (`conditioning`): a design
    with dependent columns is refused, x measured in units of 1e5 is solved, and a nearly
    dependent one is solved with an `IllConditionedWarning` giving the condition number.
    """
    module = kernels.load(name)
    spec = module.SPEC
    if not spec["closed_form"]:
        raise DerivationError(f"{name}: symdl derives no closed form for this model")
    inputs = validate.model_inputs(spec, None, x, y)
    zeros = initial_params(spec, inputs.sizes)
    hessian = module.hessian(*zeros, *inputs.data)
    condition = conditioning(hessian)
    if not np.isfinite(condition):
        eigenvalues = np.linalg.eigvalsh(np.atleast_2d(hessian))
        raise SingularError(
            f"{name}: the Hessian is singular relative to its scale (eigenvalues "
            f"{np.array2string(eigenvalues, precision=4)}), so the minimiser is not unique; "
            f"for a regression this means the design matrix has dependent columns (e.g. every "
            f"x equal)")
    if condition > ILL_CONDITIONED:
        warnings.warn(f"{name}: the problem is ill-conditioned (condition number "
                      f"{condition:.3g} of the scaled Hessian): about "
                      f"{int(np.log10(condition))} of the 16 digits of the minimiser are lost "
                      f"to rounding", IllConditionedWarning, stacklevel=2)
    solution = module.closed_form(*inputs.data)
    solution = solution if isinstance(solution, tuple) else (solution,)
    return {n: v for (n, _), v in zip(spec["params"], solution)}


FIT_SETTINGS = ("optimizer", "learning_rate", "epochs", "batch_size", "params", "sizes",
                "init_scale", "init", "initial", "seed", "log_every", "scheduler", "tol",
                "validation_data", "epoch_metrics", "callbacks", "progress", "divergence")


def no_builtin_data(spec) -> str:
    """What to say when a model with data tensors names no built-in data set (and the CLI's
    `symdl train MODEL` without --data says it too)."""
    arrays = [n for n, _ in validate.input_specs(spec)] + ([spec["target"][0]] if spec["target"] else [])
    return (f"{spec['name']} has no built-in data: pass --data FILE (.npz with arrays "
            f"{', '.join(arrays)})")


def train(name, *, dataset=None, data=None, test_data=None, log=None, **overrides) -> Result:
    """Train NAME with the settings its derivation file gives (and `overrides` on top).

    The data is the derivation's built-in data set, another built-in one (`dataset`), or the
    user's own: `data=(x, y)` and optionally `test_data=(x_test, y_test)` for held-out metrics.
    `overrides` are keywords of `fit`; `sizes` are merged into the derivation's, so
    sizes={"C": 5} keeps its H.
    """
    spec = kernels.load(name).SPEC
    settings = dict(spec["training"] or {})
    if not settings and data is None:
        raise DerivationError(f"{name}: the derivation declares no Training settings; "
                              f"give data=(x, y) or use train.fit")
    unknown = sorted(set(overrides) - set(FIT_SETTINGS))
    if unknown:
        raise SettingsError(f"unknown training setting {unknown[0]!r}; the settings are "
                            f"{', '.join(FIT_SETTINGS)}")
    if overrides.get("sizes") is not None:
        overrides = {**overrides, "sizes": {**(settings.get("sizes") or {}), **overrides["sizes"]}}
    settings.update(overrides)
    dataset = dataset or settings.pop("dataset", None)
    settings.pop("dataset", None)
    if data is not None:
        x, y = data
        x_test, y_test = test_data if test_data is not None else (None, None)
    elif spec["features"]:
        if dataset is None:
            raise DataError(f"{no_builtin_data(spec)}, or data=(x, y) to train.train")
        loaded = datasets.load(dataset)
        x, y, x_test, y_test = loaded.x, loaded.y, loaded.x_test, loaded.y_test
    else:
        x = y = x_test = y_test = None
    result = fit(name, x, y, log=log, **settings)
    result.settings["dataset"] = dataset if data is None else None
    if x is not None:
        result.metrics.update(metrics(name, result.params, x, y, x_test, y_test,
                                      sizes=settings.get("sizes")))
    result.metrics["final J"] = result.history[-1][1]
    if spec["closed_form"]:
        exact = closed_form(name, x, y)
        result.metrics["max |p − closed form|"] = max(
            float(np.max(np.abs(np.asarray(result.params[n]) - np.asarray(v))))
            for n, v in exact.items())
    return result
