"""The generated kernels' calling convention, in one place.

Every kernel of a model takes its parameters in SPEC order, then its data tensors in the order
the derivation declares them, then the target if the model has one, then each
hyperparameter by keyword, its default when not given:
``loss_and_gradient(*params, *inputs, y, lam=0.01)`` (`with_hyper` binds them). A kernel trusts its arguments: it reads x[i, j]
for j < n and W[k, j] for the sizes it is handed, and Numba compiles a new version for every
mix of types. So every public entry point that calls a kernel (`train.fit`, `train.predict`,
`train.metrics`, `train.closed_form`, one-vs-rest, the estimators, each chunk of a Dask
array) comes through `model_inputs` (or, for a chunk, `checked_data`) first, and a mistake
surfaces as a `DataError` naming the argument and what it should be.

The array-level checks themselves (numbers, finite, targets, labels) are `symdl.validate`'s.

Long because the calling convention is written once: every data tensor, the target, the
parameters and the sizes they bind are checked here for every entry point, so that a
mistake is named the same way wherever it is made.
"""

from __future__ import annotations

import functools

import numpy as np

from symdl import validate
from symdl.errors import DataError

TASK_OF_TARGET = {"real": "regression", "binary": "binary", "class": "classes"}
"""The `validate` task of each kind of target a derivation declares."""


# ---- what a kernel takes ---------------------------------------------------------------------

def input_specs(spec) -> list:
    """(name, shape) of every data tensor of a model, in the order its kernels take them."""
    return [tuple(t) for t in spec.get("inputs") or ([spec["features"]] if spec["features"] else [])]


def input_arrays(x) -> tuple:
    """The data arrays a kernel takes before the target: x itself, or each of a model's
    several data tensors (checked x of such a model is a tuple in declaration order), or
    sparse x's three arrays (`CsrRows`)."""
    if x is None:
        return ()
    if isinstance(x, CsrRows):
        return x.arrays
    return tuple(x) if isinstance(x, tuple) else (x,)


def kernel_data(x, y) -> tuple:
    """The data arguments of a kernel: every data tensor, then the target if there is one."""
    return input_arrays(x) + (() if y is None else (y,))


def sample_count(x) -> int:
    """The number of samples in x (one array, a tuple of them, `CsrRows` or sparse x)."""
    if isinstance(x, CsrRows) or is_sparse(x):
        return x.shape[0]
    return len(input_arrays(x)[0])


# ---- sparse x: its rows' non-zero entries, for the `_csr` kernels -----------------------------

def is_sparse(x) -> bool:
    """Whether x is a SciPy sparse matrix or array (told without importing SciPy)."""
    return type(x).__module__.startswith("scipy.sparse")


class CsrRows:
    """Checked sparse x: each row's non-zero entries as three arrays, values, their columns
    (int64) and where each row starts (int64, rows + 1 of them), what a model's `_csr` kernels
    take in place of x (generate/csr.py). Its dense form is never made."""

    def __init__(self, values, columns, starts, width: int):
        self.values, self.columns, self.starts, self.width = values, columns, starts, int(width)

    @property
    def arrays(self) -> tuple:
        return self.values, self.columns, self.starts

    @property
    def shape(self) -> tuple:
        return len(self), self.width

    @property
    def dtype(self):
        return self.values.dtype

    def __len__(self) -> int:
        return len(self.starts) - 1


CSR_ENTRY_POINTS = ("loss", "loss_and_gradient", "gradient", "predict")
"""The entry points with a version over CSR x, `NAME_csr(*params, x_values, x_columns,
x_starts, ...)` (and `NAME_weighted_csr`)."""


class OverCsrRows:
    """A module (or its NumPy tier, or a `WithHyper` view) whose `loss`, `loss_and_gradient`,
    `gradient` and `predict` (and their weighted versions) are its kernels over CSR x. It has
    no Hessian and no generated Hessian-vector product (SPEC["hessian"] and
    SPEC["hessian_vector"] False here): the automatic step and Newton-CG take their products
    from differences of gradients, and Newton's method says it is not available)."""

    def __init__(self, module):
        spec = module.SPEC
        if not spec.get("csr_input"):
            raise DataError(f"{spec['name']} has no kernels over sparse x (it reads x other than "
                            f"through affine maps, or reads several data tensors): pass x "
                            f"dense (x.toarray())")
        self.module = module
        self.SPEC = {**spec, "hessian": False, "hessian_vector": False,
                     "no_hessian": "its kernels over sparse x have no Hessian"}

    def __getattr__(self, name):
        if name.removesuffix("_weighted") in CSR_ENTRY_POINTS:
            return getattr(self.module, f"{name}_csr")
        if name.removesuffix("_weighted") in ("hessian", "hessian_vector", "closed_form"):
            raise AttributeError(f"{self.SPEC['name']} has no {name} over sparse x")
        return getattr(self.module, name)


def over_rows_of(module, x):
    """`module` as the kernels for checked x: `OverCsrRows(module)` for sparse x."""
    return OverCsrRows(module) if isinstance(x, CsrRows) else module


# ---- the intercept: one convention -----------------------------------------------------------

def bias_column_missing(spec, x, params=None) -> bool:
    """Whether a user's x lacks the column of ones its model declares (README, 'The intercept').

    The convention, on every path that takes a user's data (the estimators, `symdl train
    --data`, `symdl predict`, `train.train(data=...)`, `train.predict`): a user's features do
    not include the column of ones. A model that declares ``data(..., bias_column=True)``
    reads x₀ = 1 as its first feature (θ₀ the intercept, 003 §3.2), and symdl puts that
    column in front. So x lacks it unless x already has it: with the parameters known, when
    x has as many columns as θ has entries; before training, when x's first column is all
    ones (for chunked x, its first chunk's), such as the built-in data sets' x. NumPy or Dask
    x of one data tensor only; anything else is left to `model_inputs` to check.
    """
    if not spec.get("bias_column") or len(input_specs(spec)) != 1 or isinstance(x, tuple):
        return False
    if getattr(x, "ndim", 0) != 2:
        return False
    width = bias_weight_width(spec, params)
    if width is not None:
        return x.shape[1] == width - 1
    if hasattr(x, "blocks"):
        first = x.blocks[0][:, 0].compute()
    else:
        first = x[:, [0]].toarray()[:, 0] if is_sparse(x) else np.asarray(x)[:, 0]
    return len(first) > 0 and not bool(np.all(first == 1))


def with_bias_column(x):
    """x with a column of ones put in front (lazily for a Dask array, sparse for sparse x)."""
    if is_sparse(x):
        import scipy.sparse
        dtype = x.dtype if x.dtype.kind == "f" else np.float64
        return scipy.sparse.hstack([np.ones((x.shape[0], 1), dtype=dtype), x], format="csr")
    if hasattr(x, "blocks"):
        import dask.array as da
        ones = da.ones((x.shape[0], 1), chunks=(x.chunks[0], 1), dtype=x.dtype)
        return da.concatenate([ones, x], axis=1)
    x = np.asarray(x)
    return np.hstack([np.ones((len(x), 1), dtype=x.dtype if x.dtype.kind == "f" else np.float64), x])


def bias_weight_width(spec, params) -> int | None:
    """The number of entries of the parameter the bias column's features meet (θ: n), or None
    when the parameters are not given."""
    if params is None:
        return None
    dim = spec["features"][1][0]
    named = params if isinstance(params, dict) else getattr(params, "params", None)
    if named is None:
        named = (dict(zip([n for n, _ in spec["params"]], params))
                 if isinstance(params, (list, tuple)) else None)
    for name, shape in spec["params"]:
        if dim in shape and isinstance(named, dict) and name in named:
            found = np.shape(named[name])
            axis = tuple(shape).index(dim)
            return int(found[axis]) if len(found) == len(shape) else None  # model_inputs says why
    return None


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
        return kernel_data(self.x, self.y)


# ---- hyperparameters: the scalars every entry point takes last, by keyword --------------------

ENTRY_POINTS = ("loss", "loss_and_gradient", "gradient", "predict", "hessian", "closed_form",
                "loss_and_gradient_sparse", "hessian_vector", "kink_weight")
"""The generated functions that take a model's hyperparameters (and their NumPy tier's,
weighted and CSR versions: `loss_weighted_csr_numpy`)."""

WEIGHTED = ("loss", "loss_and_gradient", "gradient", "hessian", "hessian_vector")
"""The entry points with a weighted version, `NAME_weighted(*params, *data, sample_weight)`."""


def is_entry_point(name: str) -> bool:
    """Whether `name` is an entry point that takes the hyperparameters."""
    return name.removesuffix("_numpy").removesuffix("_csr").removesuffix("_weighted") in ENTRY_POINTS


def hyper_values(spec, hyper=None) -> dict:
    """{name: float} for every hyperparameter of the model: its default from SPEC, or the
    value `hyper` gives it.

    A value must be a finite real number; a name the model does not declare is an error
    that lists those it does. The values are floats, so a kernel compiled once (float64
    scalars) serves every value: an int would make Numba compile another version.
    """
    declared = dict(spec.get("hypers") or [])
    if hyper is None:
        return declared
    if not isinstance(hyper, dict):
        raise DataError(f"{spec['name']}: hyper must be a dictionary {{name: value}}, not "
                        f"{type(hyper).__name__}")
    for name, value in hyper.items():
        if name not in declared:
            listed = ", ".join(declared) or "none"
            raise DataError(f"{spec['name']} has no hyperparameter {name!r}; its "
                            f"hyperparameters are {listed}")
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer,
                                                                         np.floating)):
            raise DataError(f"{spec['name']}: hyperparameter {name} must be a real number, not "
                            f"{value!r} ({type(value).__name__})")
        if not np.isfinite(value):
            raise DataError(f"{spec['name']}: hyperparameter {name} must be finite, not {value}")
    return {name: float(hyper.get(name, default)) for name, default in declared.items()}


class WithHyper:
    """A generated module (or its NumPy tier) whose entry points get `values` as keywords:
    `view.loss_and_gradient(*params, *data)` is `module.loss_and_gradient(*params, *data,
    lam=0.1)`. Everything else (SPEC, ...) is the module's own."""

    def __init__(self, module, values: dict):
        self.module, self.values = module, values

    def __getattr__(self, name):
        found = getattr(self.module, name)
        if is_entry_point(name):
            values = self.values
            found = functools.partial(found, **values)
        self.__dict__[name] = found  # the view never changes: looked up once, not per call
        return found

    def __repr__(self):
        return f"<{self.module!r} with {self.values}>"


def with_hyper(module, spec, hyper=None):
    """`module` whose entry points are called with the hyperparameters `hyper` (checked by
    `hyper_values`; the defaults where it gives none); the module itself when the model has
    none, so nothing is added to a call of such a model."""
    values = hyper_values(spec, hyper)
    return WithHyper(module, values) if values else module


# ---- sample weights: the weighted kernels take them after the target -------------------------

def sample_weights(spec, sample_weight, rows: int, dtype=np.float64):
    """The samples' weights as the weighted kernels take them: one finite number ≥ 0 per
    sample, not all 0, as a contiguous `dtype` array; None stays None (no weights)."""
    if sample_weight is None:
        return None
    name = spec["name"]
    if not spec.get("sample_weight"):
        raise DataError(f"{name} has no weighted kernels (it takes no data); leave out "
                        f"sample_weight")
    weights = validate.numeric_array(sample_weight, "sample_weight")
    if weights.ndim != 1 or len(weights) != rows:
        raise DataError(f"sample_weight has shape {weights.shape}, but there are {rows} "
                        f"samples: give one weight per sample, a 1-D array of {rows}")
    validate.require_finite(weights, "sample_weight")
    if np.any(weights < 0):
        raise DataError(f"sample_weight holds a negative weight ({weights.min():g}); weights "
                        f"must be ≥ 0")
    if not np.any(weights > 0):
        raise DataError("sample_weight is 0 for every sample: there is nothing to train on")
    return np.ascontiguousarray(weights, dtype=dtype)


class Weighted:
    """A module (or its NumPy tier, or a `WithHyper` view) whose `loss`, `loss_and_gradient`
    and `gradient` are its weighted kernels: called with the weights after the target, as
    `(*params, *data, sample_weight)`; its `hessian` is the weighted Hessian, where the
    model has one."""

    def __init__(self, module):
        self.module = module

    def __getattr__(self, name):
        if name in WEIGHTED:
            return getattr(self.module, f"{name}_weighted")
        return getattr(self.module, name)


# ---- checking everything a kernel is called with ---------------------------------------------

def model_inputs(spec, params=None, x=None, y=None, sizes=None, *, need_target=True,
                 dtype=None) -> ModelInputs:
    """Check parameters, data and sizes against a model's SPEC before any kernel sees them.

    `params` is a dictionary by name, a list in SPEC order, a Result, or None (not checked);
    `sizes` binds dimension names that neither the data nor the parameters fix (e.g.
    {"H": 16}). Every dimension must agree wherever it appears — in each data tensor, in
    each parameter, in `sizes` — and class labels must lie in 0..C−1 for the number of
    classes C in use (not the number the derivation was written with). A 1-D x for a
    one-feature model becomes a column, and float32 data with float64 parameters is computed
    in float64 (unless `dtype` says otherwise).

    Returns a `ModelInputs`; raises `DataError` naming the argument and what it should be.
    """
    name = spec["name"]
    params = params_in_order(spec, params)
    dtype = dtype or _common_dtype(x, params)
    bound = _checked_sizes(spec, sizes)
    if spec["features"] is None:
        if x is not None:
            raise DataError(f"{name} takes no data (its loss depends on the parameters only); "
                            f"call it without x and y")
        x = y = None
    else:
        x, y = _checked_data(spec, x, y, bound, params, need_target, dtype)
    _bind_parameter_sizes(spec, params, bound)
    missing = [d for _, shape in spec["params"] for d in shape if d not in bound]
    if missing:
        raise DataError(f"{name}: the size of dimension {missing[0]!r} is not known; pass "
                        f"sizes={{{missing[0]!r}: ...}} or parameters that have it")
    bound.pop("__origins__", None)
    if y is not None and spec["target"] and spec["target"][1] == "class":
        y = validate.class_labels(y, number_of_classes(spec, bound))
    if params is not None:
        params = checked_params(spec, params, bound, dtype)
    return ModelInputs(params, x, y, bound, dtype)


def checked_data(spec, x, y, dtype=np.float64) -> tuple:
    """(x, y) of one chunk of data checked and shaped as the kernels take them, without
    parameters or sizes (`symdl.chunked` checks each chunk of a Dask array this way)."""
    bound = _checked_sizes(spec, None)
    x, y = _checked_data(spec, x, y, bound, None, y is not None, dtype)
    if y is not None and spec["target"][1] == "class":
        y = validate.class_labels(y, number_of_classes(spec, bound))
    return x, y


def checked_params(spec, params, sizes: dict, dtype=np.float64) -> list:
    """Parameters (by name or in SPEC order) with the shapes `sizes` give them, finite, as
    contiguous `dtype` arrays (floats for scalars)."""
    return [_checked_param(spec["name"], p, value, sizes, dtype)
            for p, value in zip(spec["params"], params_in_order(spec, params))]


def number_of_classes(spec, sizes) -> int | None:
    """C in use: the size of the logits' dimension when bound, else the derivation's count."""
    dim = spec.get("classes_dim")
    if dim is not None and dim in sizes:
        return int(sizes[dim])
    return spec.get("classes")


def params_in_order(spec, params):
    """Parameters as a list in SPEC order, from a dict (every name, no other), a Result, or a
    sequence of the right length."""
    if params is None:
        return None
    params = getattr(params, "params", params)  # a Result
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


def dimension_sizes(spec, x, sizes=None, y=None) -> dict:
    """Bind every dimension name (n, H, ...) to a number from the data's shapes and `sizes`.

    Only shapes are read, never values: x (one array or a tuple of the data tensors) and y
    may be Dask arrays. A vector target's columns bind its dimension (k of y_k). Raises
    `DataError` when the two disagree or a parameter's dimension stays unknown.
    """
    bound = _checked_sizes(spec, sizes)
    for (tensor, shape), array in zip(input_specs(spec), input_arrays(x)):
        if shape and len(array.shape) == 2:
            _bind(bound, shape[0], array.shape[1], f"{tensor} (shape {array.shape})", spec)
    target_shape = tuple(spec.get("target_shape", ()))
    if target_shape and y is not None and len(y.shape) == 2:
        _bind(bound, target_shape[0], y.shape[1], f"y (shape {y.shape})", spec)
    bound.pop("__origins__", None)
    for name, shape in spec["params"]:
        for dim in shape:
            if dim not in bound:
                raise DataError(f"{spec['name']}: the size of dimension {dim!r} of {name} is not "
                                f"known; pass sizes={{{dim!r}: ...}}")
    return bound


def initial_params(spec, sizes, *, dtype=np.float64, init_scale=0.0, init="normal",
                   initial=None, seed=0) -> list:
    """Starting values in SPEC order: given ones, else random weight matrices and zero biases.

    init="normal" draws N(0, init_scale²/fan_in) (init_scale 0: zeros); "glorot_uniform"
    draws U(−a, a) with a = sqrt(6/(fan_in + fan_out)), Keras' default for Dense layers.
    """
    rng = None  # drawn from only for random weights (making one costs a small fit 30 µs)
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
        if rng is None and (len(dims) == 2 and init == "glorot_uniform" or init_scale):
            rng = np.random.default_rng(seed)
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
    return checked_params(spec, params, sizes, dtype)


# ---- the parts --------------------------------------------------------------------------------

def _common_dtype(x, params):
    """float32 only when the data and every array parameter are float32; else float64."""
    if getattr(x, "dtype", None) != np.float32:
        return np.float64
    arrays = [p for p in params or [] if isinstance(p, np.ndarray)]
    return np.float32 if all(p.dtype == np.float32 for p in arrays) else np.float64


def _checked_sizes(spec, sizes) -> dict:
    """`sizes` as {dimension: positive int}, refusing names the model does not have.

    The result also records, under "__origins__", what bound each dimension, so that two
    arguments that disagree can both be named.
    """
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


def _bind(bound, dim, value, what, spec, data=None):
    """Bind dimension `dim` to `value`, or say which two arguments disagree about it.

    `data` names the data tensor that binds it, so that a parameter that disagrees is told
    in terms of that tensor's columns.
    """
    origins = bound.setdefault("__origins__", {})
    if dim not in bound:
        bound[dim], origins[dim] = value, what
        if data is not None:
            origins.setdefault("__data__", {})[dim] = data
    elif bound[dim] != value:
        raise DataError(f"{spec['name']}: {what} gives dimension {dim!r} the size {value}, but "
                        f"{origins.get(dim, 'sizes')} gives it {bound[dim]}; they must agree")


def _checked_data(spec, x, y, bound, params, need_target, dtype):
    """Every data tensor shaped as declared (binding the sizes it fixes) and, when the model
    has one and it is needed, the target: (x, y), x one array or a tuple in declaration order.

    A model of one data tensor takes it as x itself (or {name: x}); one of several takes a
    dictionary by name or a tuple in order. In messages the one tensor is "x", as the user
    passed it; each of several is called by its declared name.
    """
    name = spec["name"]
    tensors = input_specs(spec)
    several = len(tensors) > 1
    if x is None:
        wanted = (f"x with its data tensors {', '.join(n for n, _ in tensors)}" if several
                  else f"x with one {tensors[0][0]} per row")
        raise DataError(f"{name} needs data: {wanted}")
    given = _inputs_in_order(spec, x) if several or isinstance(x, dict) else [x]
    arrays = []
    for (tensor, shape), value in zip(tensors, given):
        label = tensor if several else "x"
        arrays.append(_checked_tensor(spec, label, shape, value, bound, params, dtype))
        if len(arrays[-1]) != len(arrays[0]):
            raise DataError(f"{label} has {len(arrays[-1])} samples but "
                            f"{tensors[0][0] if several else 'x'} has {len(arrays[0])}; every "
                            f"data tensor needs one row per sample")
    first = tensors[0][0] if several else "x"
    x = tuple(arrays) if several else arrays[0]
    has_target = spec["target"] is not None and need_target
    if not has_target:
        return x, None
    if y is None:
        raise DataError(f"{name} needs targets: y with one {spec['target'][0]} per sample")
    y = validate.numeric_array(y, "y")
    if len(y) != len(arrays[0]):
        raise DataError(f"y has {len(y)} samples but {first} has {len(arrays[0])}; they need "
                        f"one target per sample")
    target_shape = tuple(spec.get("target_shape", ()))
    y = validate.targets(y, task=TASK_OF_TARGET[spec["target"][1]],
                         vector_target=bool(target_shape))
    if target_shape:
        _bind(bound, target_shape[0], y.shape[1],
              f"y (shape {y.shape}, {y.shape[1]} targets per sample)", spec)
    return x, y


def _checked_tensor(spec, label, shape, value, bound, params, dtype) -> np.ndarray | CsrRows:
    """One data tensor: real numbers, one row per sample shaped as declared, finite, `dtype`
    (sparse x: `CsrRows`, `_checked_sparse`)."""
    name = spec["name"]
    if is_sparse(value):
        return _checked_sparse(spec, label, shape, value, bound, dtype)
    array = validate.numeric_array(value, label)
    if shape:
        dim = shape[0]
        known = bound.get(dim) or _param_dim(spec, params, dim)
        if array.ndim == 1 and known == 1:
            array = array.reshape(len(array), 1)
        elif array.ndim != 2:
            hint = "; for one sample, use x.reshape(1, -1)" if array.ndim == 1 else ""
            raise DataError(f"{label} has shape {array.shape}, but {name} reads it as a 2-D "
                            f"array: one row per sample, {known or dim} feature column(s) "
                            f"({dim}){hint}")
        if array.shape[1] == 0:
            raise DataError(f"{label} has shape {array.shape}: no feature columns; {name} needs "
                            f"at least one")
        _bind(bound, dim, array.shape[1],
              f"{label} (shape {array.shape}, {array.shape[1]} features)", spec, data=label)
    elif array.ndim == 2 and array.shape[1] == 1:
        array = array.reshape(len(array))
    elif array.ndim != 1:
        raise DataError(f"{label} has {validate.describe_sample(array.shape[1:])} per sample "
                        f"(shape {array.shape}) but {name} expects a single number")
    if len(array) == 0:
        raise DataError(f"no samples: {label} has 0 rows")
    validate.require_finite(array, label)
    return validate.cast_without_overflow(array, dtype, label)


def _checked_sparse(spec, label, shape, value, bound, dtype) -> CsrRows:
    """Sparse x as `CsrRows`: 2-D, a vector tensor's columns, rows, finite values, `dtype`."""
    name = spec["name"]
    if len(value.shape) != 2 or not shape:
        raise DataError(f"{label} is a sparse matrix of shape {value.shape}, but {name} reads "
                        f"it as a 2-D array of feature columns ({shape[0] if shape else 'none'})")
    if value.shape[0] == 0 or value.shape[1] == 0:
        raise DataError(f"{label} has shape {value.shape}: no samples or no feature columns")
    _bind(bound, shape[0], value.shape[1],
          f"{label} (shape {value.shape}, {value.shape[1]} features)", spec, data=label)
    csr = value.tocsr()
    values = validate.numeric_array(csr.data, label)
    validate.require_finite(values, label)
    return CsrRows(np.ascontiguousarray(validate.cast_without_overflow(values, dtype, label)),
                   np.ascontiguousarray(csr.indices, dtype=np.int64),
                   np.ascontiguousarray(csr.indptr, dtype=np.int64), value.shape[1])


def _by_name(spec, given: dict, names: list, kind: str, where: str = "") -> list:
    """given[name] for each name in order, or a DataError naming an unknown or missing one."""
    listed = ", ".join(names)
    unknown = sorted(str(k) for k in set(given) - set(names))
    missing = [n for n in names if n not in given]
    if unknown and missing:
        raise DataError(f"{spec['name']}: the {kind}s must be exactly {listed}; missing "
                        f"{', '.join(missing)}; unknown {', '.join(unknown)}")
    if unknown:
        raise DataError(f"{spec['name']} has no {kind} {unknown[0]!r}; its {kind}s are {listed}")
    if missing:
        raise DataError(f"{spec['name']}: {kind} {missing[0]} is missing{where}; give every one "
                        f"of {listed}")
    return [given[n] for n in names]


def given_inputs(spec, x) -> list:
    """x as the list of a model's data tensors in declaration order: [x] for a model of one
    (x itself, or {name: x}), else from a dictionary by name or a tuple in order."""
    if len(input_specs(spec)) > 1 or isinstance(x, dict):
        return _inputs_in_order(spec, x)
    return [x]


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


def _param_dim(spec, params, dim):
    """The size of `dim` as the given parameters have it, or None."""
    for (_, shape), value in zip(spec["params"], params or []):
        if dim in shape and np.ndim(value) == len(shape):
            return np.shape(value)[shape.index(dim)]
    return None


def _bind_parameter_sizes(spec, params, bound):
    """Bind the dimensions the parameters fix; one that disagrees with the data is told in
    terms of the data tensor's columns."""
    data_dims = bound.get("__origins__", {}).get("__data__", {})
    for (pname, shape), value in zip(spec["params"], params or []):
        if np.ndim(value) != len(shape):
            wanted = " × ".join(f"{d}={bound[d]}" if d in bound else d for d in shape)
            raise DataError(f"{spec['name']}: parameter {pname} has shape {np.shape(value)}, "
                            f"expected {len(shape)} dimension(s) ({wanted or 'a scalar'})")
        for dim, size in zip(shape, np.shape(value)):
            if dim in data_dims and bound[dim] != size:
                raise DataError(f"{data_dims[dim]} has {bound[dim]} features per sample, but "
                                f"{spec['name']} with these parameters expects {size} features "
                                f"(parameter {pname} has shape {np.shape(value)})")
            _bind(bound, dim, size, f"parameter {pname} (shape {np.shape(value)})", spec)


def _checked_param(model, param, value, bound, dtype):
    pname, shape = param
    array = validate.numeric_array(value, pname) if shape else np.asarray(value)
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


def flat(values) -> np.ndarray:
    """Parameters (arrays and floats) as one float64 vector, in the SPEC's order."""
    return np.concatenate([np.ravel(np.asarray(v, dtype=np.float64)) for v in values])


def unflat(vector, like) -> list:
    """The vector cut back into arrays shaped (and typed) like `like`, floats for scalars.

    An array of `like`'s precision is a view of the vector (L-BFGS and Newton call this
    once or twice an iteration, so it does no more than slicing: 2 µs a call, where
    NumPy's generic size and shape helpers took 15)."""
    out: list = []
    at = 0
    for p in like:
        if not isinstance(p, np.ndarray):
            out.append(float(vector[at]))
            at += 1
            continue
        piece = vector[at:at + p.size]
        at += p.size
        if p.ndim and piece.dtype == p.dtype and piece.flags.c_contiguous:
            out.append(piece.reshape(p.shape))
        else:
            out.append(np.ascontiguousarray(piece.reshape(p.shape), dtype=p.dtype))
    return out
