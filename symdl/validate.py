"""Check training data and losses before they reach a compiled kernel.

A generated Numba kernel fed a mismatched array fails with a traceback about typing or
indexing, and one fed a NaN trains silently into NaN parameters. Data meant for a kernel
should go through `training_data` first and every loss through `finite_loss`, so that a
mistake surfaces as a `DataError` or `DivergenceError` whose message says what is wrong and
with which array.

The tasks follow the documents: "regression" for the least-squares models
(`001_153ca892f3cbebf4.txt`, `003_ff0b9f77f02ec2c2.txt` §3.1–3.2), "binary" for logistic
regression with labels in {0, 1} (001, 003 §3.3), and "classes" for L-way classification with
integer labels 0..L−1 (003 §3.3 one-vs-rest, the MNIST model of `002_4c33554d2058975c.txt`).
"""

from __future__ import annotations

import warnings

import numpy as np

from symdl.errors import DataError, DivergenceError, DivergenceWarning, SettingsError

TASKS = ("regression", "binary", "classes")


def training_data(
    x,
    y,
    *,
    feature_shape: tuple[int, ...] | None = None,
    task: str = "regression",
    classes: int | None = None,
    dtype=np.float64,
    vector_target: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(x, y)`` as contiguous arrays ready for a kernel, or raise `DataError`.

    ``x`` holds one sample per row; ``feature_shape`` is the shape of one sample the model
    expects (``()`` for one number per sample, ``(n,)`` for n features, None to skip the
    check). An x of shape (m, 1) is flattened when ``feature_shape == ()``, and an x of shape
    (m,) is made a column when ``feature_shape == (1,)``. ``y`` holds one target per sample:
    a number, or with ``vector_target`` a row of K numbers, y of shape (m, K).

    Raises `DataError` when there are no samples, when x and y disagree on the number of
    samples, when a sample has the wrong shape, when x or y contains NaN or inf, when
    ``task="binary"`` targets are not 0 or 1, or when ``task="classes"`` labels are not
    integers in 0..classes−1.

    Returns x cast to ``dtype``; y as float64 for "regression" and "binary", int64 for
    "classes".
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {', '.join(TASKS)}; got {task!r}")

    x = _numeric_array(x, "x")
    y = _numeric_array(y, "y")
    _require_samples(x, y)
    x = _shaped_features(x, feature_shape)
    y = _vector_targets(y) if vector_target else _flat_targets(y)

    _require_finite(x, "x")
    _require_finite(y, "y")
    x = _cast_without_overflow(x, dtype)

    if task == "regression":
        return x, np.ascontiguousarray(y, dtype=np.float64)
    if task == "binary":
        return x, _binary_targets(y)
    return x, _class_labels(y, classes)


def finite_loss(value, step: int, what: str = "loss"):
    """Return ``value`` unchanged if it is finite, else raise `DivergenceError`.

    Gradient descent with too large a step s overshoots the minimum by more each iteration
    until the loss overflows (`003_ff0b9f77f02ec2c2.txt` §3.1: "s should not be too big").
    Catching the first non-finite loss names the step at which that happened.
    """
    values = np.asarray(value, dtype=np.float64)
    if np.all(np.isfinite(values)):
        return value
    kind = "NaN" if np.any(np.isnan(values)) else "inf"
    raise DivergenceError(
        f"{what} became {kind} at step {step}; the step size is probably too large"
    )


class DivergenceWatch:
    """Stops training when J has grown far past where it started, or keeps rising.

    A step size s above 2/λ_max makes gradient descent overshoot by more every step
    (003 §3.1: "s should not be too big"); J then grows geometrically, and waiting for it
    to overflow lets a run end "successfully" at J = 1e103. So after each epoch: J more
    than GROWTH times its starting value (beyond it), or J above its starting value after
    rising RISES epochs in a row, is divergence; and so is a run that ends above twice
    where it started.

    `on_divergence="warn"` turns each of these into one `DivergenceWarning` and lets the run
    go on, for runs that rise on purpose (a large step that overshoots before it settles, a
    benchmark at the frameworks' settings). A NaN or infinite J stops a run either way.
    """

    GROWTH = 100.0
    RISES = 5
    CHOICES = ("stop", "warn")

    def __init__(self, start_loss, on_divergence="stop"):
        if on_divergence not in self.CHOICES:
            raise SettingsError(f"divergence must be one of {', '.join(map(repr, self.CHOICES))}"
                                f", not {on_divergence!r}")
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


# ---- settings ------------------------------------------------------------------------------

INITS = ("normal", "glorot_uniform")


def settings(*, optimizer, learning_rate, epochs, batch_size, init, init_scale, seed,
             log_every, optimizers) -> None:
    """Refuse a training setting out of range, naming what is accepted (`SettingsError`)."""
    if not (isinstance(optimizer, str) or hasattr(optimizer, "step")):
        raise SettingsError(f"the optimizer must be a name ({', '.join(optimizers)}) or an "
                            f"optimizer object, not {type(optimizer).__name__}")
    _positive_int(epochs, "epochs", "the number of passes over the data, e.g. 100")
    if batch_size is not None:
        _positive_int(batch_size, "batch size", "the rows per mini-batch, e.g. 32 (or None "
                                                "for the whole data set)")
    if log_every is not None:
        _positive_int(log_every, "log_every", "print J every this many epochs")
    if (isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float, np.number))
            or not np.isfinite(learning_rate) or learning_rate <= 0):
        raise SettingsError(f"the step size (learning rate) must be a finite number > 0, such "
                            f"as 0.01; got {learning_rate!r}")
    if not isinstance(init, str) or init not in INITS:
        raise SettingsError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")
    if (isinstance(init_scale, bool) or not isinstance(init_scale, (int, float, np.number))
            or not np.isfinite(init_scale) or init_scale < 0):
        raise SettingsError(f"init_scale must be a finite number >= 0 (0: start at zero); "
                            f"got {init_scale!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise SettingsError(f"seed must be an integer >= 0; got {seed!r}")


def initial_values(spec, initial) -> None:
    """`initial` names only parameters the model has."""
    if not initial:
        return
    names = [n for n, _ in spec["params"]]
    if not isinstance(initial, dict):
        raise SettingsError(f"initial must be a dictionary {{parameter: starting value}} of "
                            f"{', '.join(names)}; got {type(initial).__name__}")
    for key in initial:
        if key not in names:
            raise SettingsError(f"initial: {spec['name']} has no parameter {key!r}; its "
                                f"parameters are {', '.join(names)}")


def _positive_int(value, what, meaning):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise SettingsError(f"{what} must be a whole number >= 1 ({meaning}); got {value!r}")


def _numeric_array(data, name: str) -> np.ndarray:
    """``data`` as a NumPy array of booleans, integers or reals, or a `DataError`."""
    try:
        array = np.asarray(data)
    except (ValueError, TypeError) as error:
        raise DataError(f"{name} cannot be read as a numeric array: {error}") from None
    if array.dtype.kind not in "biuf":
        raise DataError(
            f"{name} must hold real numbers, but its entries are of type {array.dtype}"
        )
    if array.ndim == 0:
        raise DataError(f"{name} is a single number; it needs one entry per sample")
    return array


def _require_samples(x: np.ndarray, y: np.ndarray) -> None:
    if len(x) == 0 or len(y) == 0:
        raise DataError(f"no samples: x has {len(x)} rows and y has {len(y)}")
    if len(x) != len(y):
        raise DataError(
            f"x has {len(x)} samples but y has {len(y)}; they need one target per sample"
        )


def _shaped_features(x: np.ndarray, feature_shape: tuple[int, ...] | None) -> np.ndarray:
    """x with the per-sample shape the model expects, or a `DataError` saying both shapes."""
    if feature_shape is None:
        return x
    feature_shape = tuple(feature_shape)
    if feature_shape == () and x.shape[1:] == (1,):
        return x.reshape(len(x))
    if feature_shape == (1,) and x.ndim == 1:
        return x.reshape(len(x), 1)
    got = x.shape[1:]
    if got == feature_shape:
        return x
    raise DataError(
        f"x has {_describe_sample(got)} per sample (shape {x.shape}) but the model expects "
        f"{_describe_sample(feature_shape)}"
    )


def _describe_sample(shape: tuple[int, ...]) -> str:
    if shape == ():
        return "a single number"
    if len(shape) == 1:
        return f"{shape[0]} feature" + ("" if shape[0] == 1 else "s")
    return f"an array of shape {shape}"


def _flat_targets(y: np.ndarray) -> np.ndarray:
    """y as shape (m,); a column (m, 1) is accepted and flattened."""
    if y.ndim == 1:
        return y
    if y.ndim == 2 and y.shape[1] == 1:
        return y.reshape(len(y))
    raise DataError(f"y must hold one target per sample, shape (m,); got shape {y.shape}")


def _all_finite(array: np.ndarray) -> bool:
    """True when no entry is NaN or ±inf: one summing pass without a temporary array (a NaN
    or inf entry makes the sum NaN or inf), and the entry-wise test only if the sum itself
    overflowed."""
    with np.errstate(all="ignore"):
        if np.isfinite(np.add.reduce(array, axis=None)):
            return True
    return bool(np.isfinite(array).all())


def _vector_targets(y: np.ndarray) -> np.ndarray:
    """y as shape (m, K): a model with a vector target takes K outputs per sample."""
    if y.ndim == 2 and y.shape[1] > 0:
        return y
    if y.ndim == 1:
        return y.reshape(len(y), 1)
    raise DataError(f"y must hold one row of targets per sample, shape (m, K); got shape {y.shape}")


def _require_finite(array: np.ndarray, name: str) -> None:
    if array.dtype.kind != "f" or _all_finite(array):
        return
    nan_count = int(np.count_nonzero(np.isnan(array)))
    inf_count = int(np.count_nonzero(np.isinf(array)))
    first_sample = int(np.argwhere(~np.isfinite(array))[0][0])
    raise DataError(
        f"{name} contains {nan_count} NaN and {inf_count} inf entries "
        f"(the first in sample {first_sample}); remove or fill them before training"
    )


def _cast_without_overflow(x: np.ndarray, dtype) -> np.ndarray:
    """x as a contiguous ``dtype`` array, or a `DataError` if some entries do not fit."""
    with np.errstate(over="ignore"):
        cast = np.ascontiguousarray(x, dtype=dtype)
    if cast.dtype.kind == "f" and not (cast.dtype == x.dtype or _all_finite(cast)):
        overflowed = int(np.count_nonzero(np.isinf(cast)))
        if overflowed:
            raise DataError(
                f"x has {overflowed} entries too large for {cast.dtype} "
                f"(largest magnitude {np.abs(x).max():.3g}); rescale the features"
            )
    return cast


def _binary_targets(y: np.ndarray) -> np.ndarray:
    """y as float64 0.0/1.0, the labels c of the logistic model (`001_153ca892f3cbebf4.txt`)."""
    y = np.ascontiguousarray(y, dtype=np.float64)
    outside = (y != 0.0) & (y != 1.0)
    if np.any(outside):
        examples = ", ".join(repr(float(value)) for value in np.unique(y[outside])[:3])
        raise DataError(
            f"task 'binary' needs targets 0 or 1, but y has {np.count_nonzero(outside)} "
            f"other values (e.g. {examples})"
        )
    return y


def _class_labels(y: np.ndarray, classes: int | None) -> np.ndarray:
    """y as int64 labels in 0..classes−1 (any non-negative integer when classes is None)."""
    if y.dtype.kind == "f":
        fractional = y != np.round(y)
        if np.any(fractional):
            examples = ", ".join(repr(float(value)) for value in np.unique(y[fractional])[:3])
            raise DataError(
                f"task 'classes' needs integer labels, but y has "
                f"{np.count_nonzero(fractional)} non-integer values (e.g. {examples})"
            )
    upper = classes if classes is not None else np.iinfo(np.int64).max
    outside = (y < 0) | (y >= upper)
    if np.any(outside):
        allowed = f"0..{classes - 1} (classes={classes})" if classes is not None else "0, 1, 2, ..."
        examples = ", ".join(str(value) for value in np.unique(y[outside])[:3])
        raise DataError(
            f"task 'classes' needs labels in {allowed}, but y has "
            f"{np.count_nonzero(outside)} labels outside that range (e.g. {examples})"
        )
    return np.ascontiguousarray(y, dtype=np.int64)


# ---- everything a generated kernel is called with -------------------------------------------

def input_specs(spec) -> list:
    """(name, shape) of every data tensor of a model, in the order its kernels take them."""
    return [tuple(t) for t in spec.get("inputs") or ([spec["features"]] if spec["features"] else [])]


def input_arrays(x) -> tuple:
    """The data arrays a kernel takes before the target: x itself, or each of a model's
    several data tensors (validated x of such a model is a tuple in declaration order)."""
    if x is None:
        return ()
    return tuple(x) if isinstance(x, tuple) else (x,)


def sample_count(x) -> int:
    """The number of samples in validated x (one array, or a tuple of them)."""
    return len(input_arrays(x)[0])


class ModelInputs:
    """What a kernel may be called with: parameters in SPEC order, data, and the sizes in use.

    `x` is one array, or for a model with several data tensors a tuple of them in the order
    they are declared; `inputs` is always that tuple.
    """

    def __init__(self, params, x, y, sizes, dtype):
        self.params, self.x, self.y, self.sizes, self.dtype = params, x, y, sizes, dtype

    @property
    def inputs(self) -> tuple:
        """The data tensors' arrays, in declaration order: what `predict` takes."""
        return input_arrays(self.x)

    @property
    def data(self) -> tuple:
        """The data arguments of a kernel: every data tensor, then the target if there is one."""
        return self.inputs + ((self.y,) if self.y is not None else ())


def model_inputs(spec, params=None, x=None, y=None, sizes=None, *, need_target=True,
                 dtype=None) -> ModelInputs:
    """Check parameters, data and sizes against a model's SPEC before any kernel sees them.

    A generated kernel trusts its arguments: it reads x[i, j] for j < n and W[k, j] for the
    sizes it is handed, and it compiles a new version for every mix of types. So every public
    entry point that calls one (`train.fit`, `train.metrics`, `train.predict`, `closed_form`,
    one-vs-rest, the estimators) comes through here first. `params` is a dictionary by name,
    a list in SPEC order, or None (not checked); `sizes` binds dimension names that neither
    the data nor the parameters fix (e.g. {"H": 16}). Every dimension must agree wherever
    it appears — in x, in each parameter, in `sizes` — and class labels must lie in
    0..C−1 for the number of classes C in use (not the number the derivation was written
    with). A 1-D x for a one-feature model becomes a column, and float32 data with float64
    parameters is computed in float64.

    Returns a `ModelInputs`; raises `DataError` naming the argument and what it should be.
    """
    name = spec["name"]
    params = _params_in_order(spec, params)
    dtype = dtype or _common_dtype(x, params)
    bound = _checked_sizes(spec, sizes)
    features = spec["features"]
    if features is None:
        if x is not None:
            raise DataError(f"{name} takes no data (its loss depends on the parameters only); "
                            f"call it without x and y")
        x = y = None
    elif len(input_specs(spec)) > 1:
        x, y = _checked_inputs(spec, x, y, bound, params, need_target, dtype)
    else:
        if isinstance(x, dict):
            x = _inputs_in_order(spec, x)[0]
        x, y = _checked_data(spec, x, y, bound, params, need_target, dtype)
    _bind_parameter_sizes(spec, params, bound)
    missing = [d for _, shape in spec["params"] for d in shape if d not in bound]
    if missing:
        raise DataError(f"{name}: the size of dimension {missing[0]!r} is not known; pass "
                        f"sizes={{{missing[0]!r}: ...}} or parameters that have it")
    bound.pop("__origins__", None)
    if y is not None and spec["target"] and spec["target"][1] == "class":
        y = _class_labels(y, number_of_classes(spec, bound))
    if params is not None:
        params = [_checked_param(name, p, value, bound, dtype)
                  for p, value in zip(spec["params"], params)]
    return ModelInputs(params, x, y, bound, dtype)


def number_of_classes(spec, sizes) -> int | None:
    """C in use: the size of the logits' dimension when bound, else the derivation's count."""
    dim = spec.get("classes_dim")
    if dim is not None and dim in sizes:
        return int(sizes[dim])
    return spec.get("classes")


def _params_in_order(spec, params):
    """Parameters as a list in SPEC order, from a dict (unknown names refused) or a sequence."""
    if params is None:
        return None
    params = getattr(params, "params", params)  # a train.Result
    names = [n for n, _ in spec["params"]]
    if isinstance(params, dict):
        return _by_name(spec, params, names, "parameter")
    if isinstance(params, (str, bytes)) or not hasattr(params, "__len__"):
        raise DataError(f"{spec['name']}: params must be a dictionary {{name: value}} of "
                        f"{', '.join(names)}, not {type(params).__name__}")
    if len(params) != len(names):
        raise DataError(f"{spec['name']} has {len(names)} parameters ({', '.join(names)}), "
                        f"but {len(params)} were given")
    return list(params)


def _common_dtype(x, params):
    """float32 only when the data and every array parameter are float32; else float64."""
    if getattr(x, "dtype", None) != np.float32:
        return np.float64
    arrays = [p for p in params or [] if isinstance(p, np.ndarray)]
    return np.float32 if all(p.dtype == np.float32 for p in arrays) else np.float64


def _checked_sizes(spec, sizes) -> dict:
    """`sizes` as {dimension: positive int}, refusing names the model does not have."""
    dims = sorted({d for _, shape in spec["params"] + input_specs(spec) for d in shape})
    if sizes is None:
        return {"__origins__": {}}
    if not isinstance(sizes, dict):
        raise DataError(f"{spec['name']}: sizes must be a dictionary such as "
                        f"{{{(dims or ['H'])[0]!r}: 16}}, not {type(sizes).__name__}")
    bound: dict = {}
    for dim, value in sizes.items():
        if dim not in dims:
            raise DataError(f"{spec['name']} has no dimension {dim!r}; its dimensions are "
                            f"{', '.join(dims) or 'none (every tensor is a scalar)'}")
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise DataError(f"{spec['name']}: size {dim}={value!r} must be a positive integer")
        bound[dim] = int(value)
    bound["__origins__"] = {dim: f"sizes={{{dim!r}: {value}}}" for dim, value in bound.items()}
    return bound


def _bind(bound, dim, value, what, spec):
    """Bind dimension `dim` to `value`, or say which two arguments disagree about it."""
    origins = bound.setdefault("__origins__", {})
    if dim not in bound:
        bound[dim], origins[dim] = value, what
    elif bound[dim] != value:
        raise DataError(f"{spec['name']}: {what} gives dimension {dim!r} the size {value}, but "
                        f"{origins.get(dim, 'sizes')} gives it {bound[dim]}; they must agree")


def _checked_data(spec, x, y, bound, params, need_target, dtype):
    """x shaped as the model's features (sizes bound from it), y as its target, or DataError."""
    name = spec["name"]
    feature_name, feature_shape = spec["features"]
    if x is None:
        raise DataError(f"{name} needs data: x with one {feature_name} per row")
    x = _numeric_array(x, "x")
    if feature_shape:
        dim = feature_shape[0]
        known = bound.get(dim) or _param_dim(spec, params, dim)
        if x.ndim == 1 and known == 1:
            x = x.reshape(len(x), 1)
        elif x.ndim != 2:
            hint = "; for one sample, use x.reshape(1, -1)" if x.ndim == 1 else ""
            raise DataError(f"x has shape {x.shape}, but {name} expects a 2-D array: one row "
                            f"per sample, {known or dim} feature column(s) ({dim}){hint}")
        if x.shape[1] == 0:
            raise DataError(f"x has shape {x.shape}: no feature columns; {name} needs at least one")
        _bind(bound, dim, x.shape[1], f"x (shape {x.shape}, {x.shape[1]} features)", spec)
    has_target = spec["target"] is not None and need_target
    if has_target and y is None:
        raise DataError(f"{name} needs targets: y with one {spec['target'][0]} per sample")
    task = TASK_OF_TARGET[spec["target"][1]] if has_target else "regression"
    target_shape = tuple(spec.get("target_shape", ())) if has_target else ()
    x, y = training_data(x, y if has_target else np.zeros(len(x)),
                         feature_shape=None if feature_shape else (), task=task, dtype=dtype,
                         vector_target=bool(target_shape))
    if target_shape:
        _bind(bound, target_shape[0], y.shape[1],
              f"y (shape {y.shape}, {y.shape[1]} targets per sample)", spec)
    return x, (y if has_target else None)


def _by_name(spec, given: dict, names: list, kind: str, where: str = "") -> list:
    """given[name] for each name in order, or a DataError naming an unknown or missing one."""
    listed = ", ".join(names)
    unknown = sorted(str(k) for k in set(given) - set(names))
    if unknown:
        raise DataError(f"{spec['name']} has no {kind} {unknown[0]!r}; its {kind}s are {listed}")
    missing = [n for n in names if n not in given]
    if missing:
        raise DataError(f"{spec['name']}: {kind} {missing[0]} is missing{where}; give every one "
                        f"of {listed}")
    return [given[n] for n in names]


def _inputs_in_order(spec, x) -> list:
    """x of a model's data tensors as a list in declaration order: from a dictionary by
    tensor name (every name, and no other) or a tuple or list of arrays in that order."""
    names = [n for n, _ in input_specs(spec)]
    listed = ", ".join(names)
    if isinstance(x, dict):
        return _by_name(spec, x, names, "data tensor", " from x")
    if isinstance(x, (tuple, list)) and len(x) == len(names):
        return list(x)
    what = (f"a {type(x).__name__} of {len(x)} entries" if isinstance(x, (tuple, list))
            else f"{type(x).__name__}")
    raise DataError(f"{spec['name']} reads {len(names)} data tensors per sample ({listed}): give "
                    f"x as a dictionary {{{', '.join(repr(n) + ': ...' for n in names)}}} or a "
                    f"tuple ({listed}) in that order, not {what}")


def _checked_inputs(spec, x, y, bound, params, need_target, dtype):
    """Each of several data tensors shaped as declared, all with one row per sample."""
    name = spec["name"]
    if x is None:
        raise DataError(f"{name} needs data: x with its data tensors "
                        f"{', '.join(n for n, _ in input_specs(spec))}")
    arrays, first = [], None
    for (tensor, shape), value in zip(input_specs(spec), _inputs_in_order(spec, x)):
        array = _numeric_array(value, tensor)
        if shape:
            dim = shape[0]
            known = bound.get(dim) or _param_dim(spec, params, dim)
            if array.ndim == 1 and known == 1:
                array = array.reshape(len(array), 1)
            elif array.ndim != 2:
                raise DataError(f"{tensor} has shape {array.shape}, but {name} reads it as a "
                                f"2-D array: one row per sample, {known or dim} column(s) ({dim})")
            _bind(bound, dim, array.shape[1], f"{tensor} (shape {array.shape})", spec)
        elif array.ndim == 2 and array.shape[1] == 1:
            array = array.reshape(len(array))
        elif array.ndim != 1:
            raise DataError(f"{tensor} has shape {array.shape}, but {name} reads one number "
                            f"{tensor} per sample: give a 1-D array")
        if first is None:
            first = (tensor, len(array))
        elif len(array) != first[1]:
            raise DataError(f"{tensor} has {len(array)} samples but {first[0]} has {first[1]}; "
                            f"every data tensor needs one row per sample")
        if len(array) == 0:
            raise DataError(f"no samples: {tensor} has 0 rows")
        _require_finite(array, tensor)
        arrays.append(_cast_without_overflow(array, dtype))
    has_target = spec["target"] is not None and need_target
    if has_target and y is None:
        raise DataError(f"{name} needs targets: y with one {spec['target'][0]} per sample")
    if not has_target:
        return tuple(arrays), None
    y = _numeric_array(y, "y")
    if len(y) != first[1]:
        raise DataError(f"y has {len(y)} samples but {first[0]} has {first[1]}; they need one "
                        f"target per sample")
    _, y = training_data(np.zeros(len(y)), y, task=TASK_OF_TARGET[spec["target"][1]], dtype=dtype)
    return tuple(arrays), y


def _param_dim(spec, params, dim):
    """The size of `dim` as the given parameters have it, or None."""
    for (_, shape), value in zip(spec["params"], params or []):
        if dim in shape and np.ndim(value) == len(shape):
            return np.shape(value)[shape.index(dim)]
    return None


def _bind_parameter_sizes(spec, params, bound):
    for (pname, shape), value in zip(spec["params"], params or []):
        if np.ndim(value) != len(shape):
            wanted = " × ".join(f"{d}={bound[d]}" if d in bound else d for d in shape)
            raise DataError(f"{spec['name']}: parameter {pname} has shape {np.shape(value)}, "
                            f"expected {len(shape)} dimension(s) ({wanted or 'a scalar'})")
        for dim, size in zip(shape, np.shape(value)):
            origin = bound.get("__origins__", {}).get(dim, "")
            if origin.startswith("x ") and bound[dim] != size:
                raise DataError(f"x has {bound[dim]} features per sample ({origin[3:-1]}), but "
                                f"{spec['name']} with these parameters expects {size} features "
                                f"(parameter {pname} has shape {np.shape(value)})")
            _bind(bound, dim, size, f"parameter {pname} (shape {np.shape(value)})", spec)


def _checked_param(model, param, value, bound, dtype):
    pname, shape = param
    array = _numeric_array(value, pname) if shape else np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise DataError(f"{model}: parameter {pname} must hold real numbers, not {array.dtype}")
    expected = tuple(bound[d] for d in shape)
    if array.shape != expected:
        raise DataError(f"{model}: parameter {pname} has shape {array.shape}, expected "
                        f"{expected} ({' × '.join(shape) or 'scalar'})")
    if not np.all(np.isfinite(array)):
        raise DataError(f"{model}: parameter {pname} contains NaN or inf")
    if not shape:
        return float(array)
    return np.ascontiguousarray(array, dtype=dtype)


TASK_OF_TARGET = {"real": "regression", "binary": "binary", "class": "classes"}
