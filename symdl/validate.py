"""Check training data and settings before they reach a compiled kernel.

A generated Numba kernel fed a mismatched array fails with a traceback about typing or
indexing, and one fed a NaN trains silently into NaN parameters. So data meant for a kernel is
checked here first (numbers, one row per sample, finite, targets of the right kind), and every
training setting is checked against what it accepts: a mistake surfaces as a `DataError` or
`SettingsError` whose message says what is wrong, with which array, and what to do. These are
checks of arrays and values alone; matching them to a model's declared tensors is
`symdl.training.inputs`' job.

The tasks follow the documents: "regression" for the least-squares models
(`001_153ca892f3cbebf4.txt`, `003_ff0b9f77f02ec2c2.txt` §3.1–3.2), "binary" for logistic
regression with labels in {0, 1} (001, 003 §3.3), and "classes" for L-way classification with
integer labels 0..L−1 (003 §3.3 one-vs-rest, the MNIST model of `002_4c33554d2058975c.txt`).
"""

from __future__ import annotations

import numpy as np

from symdl import optimizers as rules
from symdl.errors import DataError, SettingsError

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
    x = numeric_array(x, "x")
    y = numeric_array(y, "y")
    _require_samples(x, y)
    x = _shaped_features(x, feature_shape)
    require_finite(x, "x")
    return (cast_without_overflow(x, dtype),
            targets(y, task=task, classes=classes, vector_target=vector_target))


def targets(y, *, task: str = "regression", classes: int | None = None,
            vector_target: bool = False) -> np.ndarray:
    """y, one target per sample, checked for `task` (see `training_data`) and returned as
    float64 for "regression" and "binary", int64 labels for "classes"."""
    if task not in TASKS:
        raise ValueError(f"task must be one of {', '.join(TASKS)}; got {task!r}")
    y = numeric_array(y, "y")
    y = _vector_targets(y) if vector_target else _flat_targets(y)
    require_finite(y, "y")
    if task == "regression":
        return np.ascontiguousarray(y, dtype=np.float64)
    if task == "binary":
        return _binary_targets(y)
    return class_labels(y, classes)


# ---- settings ------------------------------------------------------------------------------

INITS = ("normal", "glorot_uniform")


DIVERGENCE = ("stop", "warn")
"""What training does when J diverges: raise `DivergenceError`, or warn once and go on."""


def settings(*, optimizer, learning_rate, epochs, batch_size, init, init_scale, seed,
             log_every, divergence="stop", tol=None) -> None:
    """Refuse a training setting out of range, naming what is accepted (`SettingsError`; an
    unknown optimizer name is an `OptimizerError` listing the names)."""
    if not isinstance(divergence, str) or divergence not in DIVERGENCE:
        raise SettingsError(f"divergence must be 'stop' (raise DivergenceError) or 'warn' "
                            f"(warn once and go on), not {divergence!r}")
    if not (isinstance(optimizer, str) or hasattr(optimizer, "step")):
        raise SettingsError(f"the optimizer must be a name ({', '.join(rules.names())}) or an "
                            f"optimizer object, not {type(optimizer).__name__}")
    _positive_int(epochs, "epochs", "the number of passes over the data, e.g. 100")
    if batch_size is not None:
        _positive_int(batch_size, "batch size", "the rows per mini-batch, e.g. 32 (or None "
                                                "for the whole data set)")
    if log_every is not None:
        _positive_int(log_every, "log_every", "print J every this many epochs")
    if learning_rate != "auto" and (
            isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float, np.number))
            or not np.isfinite(learning_rate) or learning_rate <= 0):
        raise SettingsError(f"the step size (learning rate) must be a finite number > 0, such "
                            f"as 0.01, or 'auto' (1/λ_max of the Hessian at the start); got "
                            f"{learning_rate!r}")
    if not isinstance(init, str) or init not in INITS:
        raise SettingsError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")
    if (isinstance(init_scale, bool) or not isinstance(init_scale, (int, float, np.number))
            or not np.isfinite(init_scale) or init_scale < 0):
        raise SettingsError(f"init_scale must be a finite number >= 0 (0: start at zero); "
                            f"got {init_scale!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise SettingsError(f"seed must be an integer >= 0; got {seed!r}")
    if tol is not None and (isinstance(tol, bool) or not isinstance(tol, (int, float, np.number))
                            or not np.isfinite(tol) or tol < 0):
        raise SettingsError(f"tol must be a finite number >= 0 (stop once max |∂J/∂p| ≤ tol, or for "
                            f"mini-batches once J stops improving by tol × |J|), or None to "
                            f"run every epoch; got {tol!r}")
    if isinstance(optimizer, str) and optimizer not in rules.names():
        rules.make(optimizer, 0.1)  # raises, listing the valid names


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


def numeric_array(data, name: str) -> np.ndarray:
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
        f"x has {describe_sample(got)} per sample (shape {x.shape}) but the model expects "
        f"{describe_sample(feature_shape)}"
    )


def describe_sample(shape: tuple[int, ...]) -> str:
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


def require_finite(array: np.ndarray, name: str) -> None:
    if array.dtype.kind != "f" or _all_finite(array):
        return
    nan_count = int(np.count_nonzero(np.isnan(array)))
    inf_count = int(np.count_nonzero(np.isinf(array)))
    first_sample = int(np.argwhere(~np.isfinite(array))[0][0])
    raise DataError(
        f"{name} contains {nan_count} NaN and {inf_count} inf entries "
        f"(the first in sample {first_sample}); remove or fill them before training"
    )


def cast_without_overflow(x: np.ndarray, dtype, name: str = "x") -> np.ndarray:
    """x as a contiguous ``dtype`` array, or a `DataError` if some entries do not fit."""
    with np.errstate(over="ignore"):
        cast = np.ascontiguousarray(x, dtype=dtype)
    if cast.dtype.kind == "f" and not (cast.dtype == x.dtype or _all_finite(cast)):
        overflowed = int(np.count_nonzero(np.isinf(cast)))
        if overflowed:
            raise DataError(
                f"{name} has {overflowed} entries too large for {cast.dtype} "
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


def class_labels(y: np.ndarray, classes: int | None) -> np.ndarray:
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


