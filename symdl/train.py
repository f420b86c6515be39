"""Train a model with its generated kernels: the public functions.

Training needs no SymPy: everything it knows about a model comes from the SPEC dictionary
and the kernels in its generated module (`symdl.kernels`), so a fresh process imports only
NumPy and Numba. The work is done by `symdl.training` (the calling convention, the epochs,
L-BFGS, Newton's method) and, for a Dask array, `symdl.chunked`.

    >>> from symdl import train
    >>> result = train.train("logistic_regression")          # built-in data, default settings
    >>> result = train.fit("logistic_regression", x, y, learning_rate=0.01, epochs=100)
    >>> train.predict(result, x)
"""

from __future__ import annotations

import warnings

import numpy as np

from symdl import (callbacks as callbacks_module, chunked, datasets, kernels, sources,
                   stores, validate)
from symdl.errors import (DataError, DerivationError, IllConditionedWarning, SettingsError,
                          SingularError)
from symdl.training import inputs, tiers
from symdl.training.engine import minibatch_epochs, run_epochs
from symdl.training.result import Result, require_result
from symdl.training.scores import epoch_scores, scores


def fit(name, x=None, y=None, *, optimizer="gd", learning_rate=0.1, epochs=100,
        batch_size=None, params=None, sizes=None, init_scale=0.0, init="normal", initial=None,
        seed=0, log=None, log_every=None, scheduler=None, tol=None, validation_data=None,
        epoch_metrics=False, callbacks=(), progress=False, divergence="stop",
        tier="auto", hyper=None, sample_weight=None) -> Result:
    """Train model NAME on (x, y) with its generated loss_and_gradient kernel.

    optimizer: a name (optimizers.names(): "gd", "sgd", "momentum", "nesterov", "rmsprop",
    "adam", "lbfgs", "newton", "newton-cg") or an `optimizers.Optimizer` such as
    Adam(1e-3, weight_decay=…). "newton-cg" is Newton's method with its system solved by
    conjugate gradients on Hessian-vector products (the generated `hessian_vector` kernel, or
    a difference of gradients for a model without one), never forming the P × P Hessian.
    History: for full-batch rules and for "lbfgs"/"newton", J at the parameters after each
    epoch (iteration); for mini-batch rules, the epoch's batch losses added up (÷ m for a mean
    loss), Keras' epoch loss, which costs no extra pass over the data. `tol` stops full-batch
    rules, "lbfgs" and "newton" once max |∂J/∂p| ≤ tol, the largest entry of ∇J (default: run the `epochs` iterations;
    L-BFGS also stops by SciPy's own tests).

    `params` (a dictionary by name, a list in SPEC order, or a Result) starts training there;
    they are copied, so the caller's arrays are left as they were. Given by name, they take
    the data's precision (float32 data trains on in float32).

    A Dask array x trains chunk by chunk, out of core or on a cluster, on the Dask
    `scheduler` given (symdl.chunked).

    After each epoch the history records J and, with `epoch_metrics` or `validation_data`
    (x_val, y_val), the accuracy or mse on (x, y) and "val J" and the metric on the
    validation data; then every callback (symdl.callbacks) runs. `progress` draws a bar
    with the ETA when stderr is a terminal; `log` (e.g. print) gets a line every `log_every`
    epochs.

    Training stops with a `DivergenceError` when J grows far past its starting value or
    keeps rising (training.divergence.DivergenceWatch); `divergence="warn"` warns once
    instead and goes on, for a run that rises on purpose before it settles. Ctrl-C stops it
    after the epoch under way: the result comes back with `interrupted=True` and the
    parameters reached so far.

    `tier` picks the kernels: "numba" (compiled), "numpy" (the NumPy tier of any model the
    block layout can express, nothing to compile) or "auto", NumPy for a small job (symdl.training.tiers); the
    result's settings record which ran.

    `hyper` sets the model's hyperparameters by name ({"lam": 0.1}; the derivation's defaults
    for the others): scalar arguments of the kernels, so a new value compiles nothing. The
    result's settings record the values used, and `predict` and `metrics` use them.

    `sample_weight` (one number ≥ 0 per sample) trains on J = Σ_i w_i ℓ⁽ⁱ⁾ (÷ Σ_i w_i for a
    mean loss, so integer weights are repeated rows) with the weighted kernels; without it
    the plain kernels run, unchanged, with every rule: gd, lbfgs, newton (the weighted
    Hessian), and mini-batches, each batch carrying its rows' weights.

    x may be a SciPy sparse matrix (CSR, or any format, made CSR) for a model that reads x
    only through affine maps (SPEC["csr_input"]): its kernels over CSR rows (`loss_csr`, ...)
    then train on x's non-zero entries and its dense form is never made. They have no
    Hessian: "lbfgs" and the first-order rules train on it, Newton's method does not.
    """
    if stores.holds_chunks(x):  # chunked.fit checks its settings itself
        return chunked.fit(name, x, y, optimizer=optimizer, learning_rate=learning_rate,
                           epochs=epochs, batch_size=batch_size, params=params, sizes=sizes,
                           init_scale=init_scale, init=init, initial=initial, seed=seed,
                           log=log, log_every=log_every, scheduler=scheduler, tol=tol,
                           validation_data=validation_data, epoch_metrics=epoch_metrics,
                           callbacks=callbacks, progress=progress, divergence=divergence,
                           hyper=hyper, sample_weight=sample_weight)
    validate.settings(optimizer=optimizer, learning_rate=learning_rate, epochs=epochs,
                      batch_size=batch_size, init=init, init_scale=init_scale, seed=seed,
                      log_every=log_every, divergence=divergence, tol=tol)
    tiers.checked(tier)
    source = sources.resolve(name)
    module = kernels.load(source)
    spec = module.SPEC
    hyper = inputs.hyper_values(spec, hyper)
    module = inputs.with_hyper(module, spec, hyper)
    validate.initial_values(spec, initial)
    by_name = isinstance(params, (dict, Result))
    checked = inputs.model_inputs(
        spec, params, x, y, sizes,
        dtype=np.result_type(getattr(x, "dtype", np.float64), np.float32) if by_name else None)
    x, y = checked.x, checked.y
    if checked.params is None:
        params = inputs.initial_params(spec, checked.sizes, dtype=checked.dtype,
                                       init_scale=init_scale, init=init, initial=initial,
                                       seed=seed)
    else:
        params = [np.array(p) if isinstance(p, np.ndarray) else p for p in checked.params]
    validation = None
    if validation_data is not None:
        if len(validation_data) != 2:
            raise DataError("validation_data must be a pair (x_val, y_val)")
        held_out = inputs.model_inputs(spec, params, validation_data[0], validation_data[1],
                                       sizes)
        validation = held_out.x, held_out.y
    full_batch = (optimizer == "gd" or x is None or batch_size is None
                  or batch_size >= inputs.sample_count(x))
    if x is not None:
        module = tiers.kernels_for(module, tier, inputs.sample_count(x), epochs,
                                   None if full_batch else batch_size)
    tier_used = tiers.name_of(module)
    if x is not None:
        module = inputs.over_rows_of(module, x)
    weights = inputs.sample_weights(spec, sample_weight, inputs.sample_count(x) if x is not None
                                    else 0, checked.dtype)
    runs, data = module, checked.data
    if weights is not None:
        runs, data = inputs.Weighted(module), data + (weights,)

    def minibatches(update, params, record):
        return minibatch_epochs(module, update, params, x, y, batch_size, epochs,
                                np.random.default_rng(seed), record, weights)

    result = run_epochs(runs, params, data, model=source.ref,
                      optimizer=optimizer, learning_rate=learning_rate, epochs=epochs,
                      batch_size=batch_size, seed=seed, tol=tol, divergence=divergence,
                      callbacks=callbacks_module.progress_callbacks(progress, log, log_every)
                      + list(callbacks),
                      log=log,
                      scores=lambda p: epoch_scores(module, p, x, y, validation,
                                                    train_scores=epoch_metrics),
                      minibatches=None if full_batch else minibatches,
                      rows=None if x is None else inputs.sample_count(x))
    result.settings["tier"] = tier_used
    if hyper:
        result.settings["hyper"] = hyper
    if weights is not None:
        result.settings["sample_weight"] = True
    return result


def predict(result: Result, x, sizes=None, tier="auto") -> np.ndarray:
    """The model's output for every sample of x, with the parameters of `result` (as `fit` or
    `train` returns it, or `saved.load` reads it back): probabilities for a classifier, the
    fitted value for a regression. x is checked against the parameters first
    (`training.inputs.model_inputs`). For a model with a bias column x may hold the features
    only, one column fewer than θ has entries: the ones go in front (the one intercept
    convention, `inputs.bias_column_missing`); x with the column works too."""
    require_result(result, "predict")
    module = kernels.load(result.model or result.name)
    spec = module.SPEC
    if spec["features"] is None or not hasattr(module, "predict"):
        raise DerivationError(f"{result.name}: the model has no data input and output to predict")
    recorded = result.settings.get("bias_column")  # "added", "none", "in the data" or absent
    declared = {**spec, "bias_column": recorded == "added"
                or (bool(spec.get("bias_column")) and recorded != "none")}
    if inputs.bias_column_missing(declared, x, result.params):  # features only: ones in front
        x = inputs.with_bias_column(x)
    try:
        checked = inputs.model_inputs(spec, result.params, x, None, sizes, need_target=False)
    except DataError as error:
        width = inputs.bias_weight_width(spec, result.params) if declared["bias_column"] else None
        if width is None:
            raise
        raise DataError(f"{error}; {result.name} puts the column of ones in front itself: give "
                        f"the {width - 1} features alone, or all {width} columns with the ones "
                        f"first") from None
    module = inputs.with_hyper(module, spec, result.settings.get("hyper"))
    module = tiers.kernels_for(module, tier, inputs.sample_count(checked.x))
    return inputs.over_rows_of(module, checked.x).predict(*checked.params, *checked.inputs)


def metrics(name, params: dict, x, y, x_test=None, y_test=None, sizes=None,
            tier="auto", hyper=None) -> dict:
    """Accuracy for classifiers, mean squared error for regressions; train and test."""
    module = kernels.load(name)
    found: dict[str, float] = {}
    spec = module.SPEC
    module = inputs.with_hyper(module, spec, hyper)
    for split, (xs, ys) in {"train": (x, y), "test": (x_test, y_test)}.items():
        if xs is not None:
            checked = inputs.model_inputs(spec, params, xs, ys, sizes)
            chosen = inputs.over_rows_of(
                tiers.kernels_for(module, tier, inputs.sample_count(checked.x)), checked.x)
            found.update({f"{split} {k}": v for k, v in
                          scores(chosen, checked.params, checked.x, checked.y).items()})
    return found


def loss_and_gradient(name, params: dict, x=None, y=None, sizes=None,
                      hyper=None, tier="auto") -> tuple[float, dict]:
    """J at `params` and ∂J/∂p for every parameter p, from the generated fused kernel (at the
    hyperparameters `hyper`, by name; the defaults for those it does not give), on the
    kernels `tier` picks for the rows of x (symdl.training.tiers)."""
    module = kernels.load(name)
    spec = module.SPEC
    module = inputs.with_hyper(module, spec, hyper)
    checked = inputs.model_inputs(spec, params, x, y, sizes)
    if checked.x is not None:
        module = tiers.kernels_for(module, tier, inputs.sample_count(checked.x))
    loss, *grads = module.loss_and_gradient(*checked.params, *checked.data)
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


def closed_form(name, x=None, y=None, hyper=None) -> dict:
    """The generated closed-form minimiser, refusing a singular problem with a clear error.

    Singular means singular relative to the problem's own scale (`conditioning`): a design
    with dependent columns is refused, x measured in units of 1e5 is solved, and a nearly
    dependent one is solved with an `IllConditionedWarning` giving the condition number.
    """
    module = kernels.load(name)
    spec = module.SPEC
    if not spec["closed_form"]:
        raise DerivationError(f"{name}: symdl derives no closed form for this model")
    module = inputs.with_hyper(module, spec, hyper)
    checked = inputs.model_inputs(spec, None, x, y)
    if checked.x is not None:
        module = tiers.kernels_for(module, "auto", inputs.sample_count(checked.x))
    zeros = inputs.initial_params(spec, checked.sizes)
    hessian = module.hessian(*zeros, *checked.data)
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
    solution = module.closed_form(*checked.data)
    solution = solution if isinstance(solution, tuple) else (solution,)
    return {n: v for (n, _), v in zip(spec["params"], solution)}


FIT_SETTINGS = ("optimizer", "learning_rate", "epochs", "batch_size", "params", "sizes",
                "init_scale", "init", "initial", "seed", "log_every", "scheduler", "tol",
                "validation_data", "epoch_metrics", "callbacks", "progress", "divergence",
                "tier", "hyper", "sample_weight")


def no_builtin_data(spec) -> str:
    """What to say when a model with data tensors names no built-in data set (and the CLI's
    `symdl train MODEL` without --data says it too)."""
    arrays = [n for n, _ in inputs.input_specs(spec)] + ([spec["target"][0]] if spec["target"] else [])
    return (f"{spec['name']} has no built-in data: pass --data FILE (.npz with arrays "
            f"{', '.join(arrays)})")


def train(name, *, dataset=None, data=None, test_data=None, log=None, **overrides) -> Result:
    """Train NAME with the settings its derivation file gives (and `overrides` on top).

    The data is the derivation's built-in data set, another built-in one (`dataset`), or the
    user's own: `data=(x, y)` and optionally `test_data=(x_test, y_test)` for held-out metrics.
    The user's x holds the features only: for a model that declares a bias column the ones
    go in front (`inputs.bias_column_missing`, the one intercept convention), and the
    result's settings say so ("bias_column": "added").
    `overrides` are keywords of `fit`; `sizes` and `hyper` are merged into the derivation's,
    so sizes={"C": 5} keeps its H.
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
    if overrides.get("hyper") is not None:
        overrides = {**overrides, "hyper": {**(settings.get("hyper") or {}), **overrides["hyper"]}}
    settings.update(overrides)
    dataset = dataset or settings.pop("dataset", None)
    settings.pop("dataset", None)
    added = False
    if data is not None:
        x, y = data
        x_test, y_test = test_data if test_data is not None else (None, None)
        added = inputs.bias_column_missing(spec, x)
        if added:
            x = inputs.with_bias_column(x)
            if x_test is not None and inputs.bias_column_missing(spec, x_test):
                x_test = inputs.with_bias_column(x_test)
    elif spec["features"]:
        if dataset is None:
            raise DataError(f"{no_builtin_data(spec)}, or data=(x, y) to train.train")
        loaded = datasets.load(dataset)
        x, y, x_test, y_test = loaded.x, loaded.y, loaded.x_test, loaded.y_test
    else:
        x = y = x_test = y_test = None
    result = fit(name, x, y, log=log, **settings)
    result.settings["dataset"] = dataset if data is None else None
    if spec.get("bias_column"):
        result.settings["bias_column"] = "added" if added else "in the data"
    if x is not None:
        result.metrics.update(metrics(name, result.params, x, y, x_test, y_test,
                                      sizes=settings.get("sizes"),
                                      tier=settings.get("tier", "auto"),
                                      hyper=settings.get("hyper")))
    result.metrics["final J"] = result.history[-1][1]
    if spec["closed_form"]:
        exact = closed_form(name, x, y, hyper=settings.get("hyper"))
        result.metrics["max |p − closed form|"] = max(
            float(np.max(np.abs(np.asarray(result.params[n]) - np.asarray(v))))
            for n, v in exact.items())
    return result
