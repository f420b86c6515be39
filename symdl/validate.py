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

import numpy as np

from symdl.errors import DataError, DivergenceError

TASKS = ("regression", "binary", "classes")


def training_data(
    x,
    y,
    *,
    feature_shape: tuple[int, ...] | None = None,
    task: str = "regression",
    classes: int | None = None,
    dtype=np.float64,
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(x, y)`` as contiguous arrays ready for a kernel, or raise `DataError`.

    ``x`` holds one sample per row; ``feature_shape`` is the shape of one sample the model
    expects (``()`` for one number per sample, ``(n,)`` for n features, None to skip the
    check). An x of shape (m, 1) is flattened when ``feature_shape == ()``, and an x of shape
    (m,) is made a column when ``feature_shape == (1,)``. ``y`` holds one target per sample.

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
    y = _flat_targets(y)

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


def _require_finite(array: np.ndarray, name: str) -> None:
    if array.dtype.kind != "f":
        return
    nan_count = int(np.count_nonzero(np.isnan(array)))
    inf_count = int(np.count_nonzero(np.isinf(array)))
    if nan_count or inf_count:
        first_sample = int(np.argwhere(~np.isfinite(array))[0][0])
        raise DataError(
            f"{name} contains {nan_count} NaN and {inf_count} inf entries "
            f"(the first in sample {first_sample}); remove or fill them before training"
        )


def _cast_without_overflow(x: np.ndarray, dtype) -> np.ndarray:
    """x as a contiguous ``dtype`` array, or a `DataError` if some entries do not fit."""
    with np.errstate(over="ignore"):
        cast = np.ascontiguousarray(x, dtype=dtype)
    if cast.dtype.kind == "f":
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
        allowed = f"0..{classes - 1} (classes={classes})" if classes is not None else ">= 0"
        examples = ", ".join(str(value) for value in np.unique(y[outside])[:3])
        raise DataError(
            f"task 'classes' needs labels in {allowed}, but y has "
            f"{np.count_nonzero(outside)} labels outside that range (e.g. {examples})"
        )
    return np.ascontiguousarray(y, dtype=np.int64)
