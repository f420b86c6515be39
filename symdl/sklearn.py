"""symdl models as scikit-learn estimators: `SymdlRegressor` and `SymdlClassifier`.

    pip install "symdl[sklearn]"

    >>> from symdl.sklearn import SymdlClassifier
    >>> clf = SymdlClassifier("logistic_regression", learning_rate=0.005, epochs=500)
    >>> clf.fit(X, y).predict(X)                       # any labels: strings, -1/1, 3/7, ...

An estimator is a model (a built-in name or the path of a derivation file) plus training
settings, all stored by the constructor as scikit-learn requires. `fit` trains the model's
generated kernels with `symdl.train.fit`; every setting left at None takes the value the
derivation's `Training(...)` gives, so an estimator trains as `symdl train NAME` does.

The bias column, in one place (`adds_bias_column`): a derivation whose features are
homogenised with x₀ = 1 (003 §3.2 and §3.3 put the intercept θ₀ on a constant first
feature) declares it with `data(..., bias_column=True)`, which its SPEC carries as
``"bias_column": True``. For those models the estimator puts the column of ones in front of
X itself, so X holds only the user's features and `n_features_in_` counts only those.
`fit_intercept=True` or `False` overrides the declaration (False fits through the origin).

Several data tensors (a vector x and a scalar t, say): X still holds one row per sample, and
`fit` cuts its columns across the tensors in the order the derivation declares them, one
column for each scalar tensor and as many as its dimension has for each vector tensor. The
dimension's size comes from `sizes=`, from the derivation's `Training(sizes=...)`, or, when
only one is unknown, from the number of columns left over: for x of shape ("n",) then t,
X = [x₀ … x_{n−1}, t]. The bias column, if any, goes in front of the first tensor's columns.

Hyperparameters: a model's hyperparameters (`Model.hyper`, e.g. `alpha` of the built-in
ridge model) are estimator parameters of the same name, `SymdlRegressor("ridge_regression",
alpha=0.1)`: `get_params` lists every one the model declares (None: the derivation's
default) and `set_params` sets them, so `GridSearchCV(est, {"alpha": [0.01, 0.1, 1]})`
searches them. They are scalar arguments of the kernels: a new value compiles nothing.

Labels: a binary model (target kind "binary") learns 0/1 and the classifier maps any two
labels onto them and back; a class model (target kind "class") learns 0..L−1. A binary model
given more than two classes refuses; `sklearn.multiclass.OneVsRestClassifier` wraps it.

Long because scikit-learn reaches every part of the contract through the same two objects:
settings, hyperparameters named by the model, the design matrix cut across data tensors,
labels, sample weights and the checks of each live on the estimator classes.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from symdl import kernels, train
from symdl.training import inputs, tiers
from symdl.training.divergence import largest_curvature
from symdl.training.scores import softmax
from symdl.errors import DataError, DerivationError, SettingsError, SymdlError

SETTINGS = ("optimizer", "learning_rate", "epochs", "batch_size", "init", "init_scale", "seed")
"""Constructor parameters that go to `train.fit` unchanged (None: the derivation's value)."""


def adds_bias_column(spec, fit_intercept=None) -> bool:
    """Whether the estimator puts a column of ones in front of X: the rule, in one place.

    `fit_intercept` None follows the derivation (its SPEC's ``bias_column``, declared by
    ``data(..., bias_column=True)``); True or False overrides it.
    """
    if fit_intercept is None:
        return bool(spec.get("bias_column", False))
    return bool(fit_intercept)


class SymdlEstimator(BaseEstimator):
    """What the regressor and the classifier share: settings, design matrix, training."""

    target_kinds: tuple[str, ...] = ()

    def __init__(self, model, *, optimizer=None, learning_rate=None, epochs=None,
                 batch_size=None, init=None, init_scale=None, sizes=None, seed=None,
                 fit_intercept=None, validation_fraction=None, callbacks=None,
                 progress=False, **hyper):
        self.model = model
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.init = init
        self.init_scale = init_scale
        self.sizes = sizes
        self.seed = seed
        self.fit_intercept = fit_intercept
        self.validation_fraction = validation_fraction
        self.callbacks = callbacks
        self.progress = progress
        for name, value in hyper.items():  # checked against the model's declarations in fit
            setattr(self, name, value)

    # ---- hyperparameters: parameters named by the model ------------------------------------
    def _hyper_names(self) -> list[str]:
        """The model's hyperparameters, and any other name given to the constructor (which
        `fit` refuses by name); none while the model cannot be loaded (fit says why)."""
        try:
            declared = [name for name, _ in kernels.load(self.model).SPEC.get("hypers") or []]
        except SymdlError:
            declared = []
        base = set(super().get_params(deep=False))
        given = [k for k in vars(self) if not k.startswith("_") and not k.endswith("_")
                 and k not in base and k not in declared]
        return declared + given

    def get_params(self, deep=True):
        """The constructor's parameters and the model's hyperparameters (None: the default)."""
        params = super().get_params(deep=deep)
        params.update({name: getattr(self, name, None) for name in self._hyper_names()})
        return params

    def set_params(self, **params):
        """Set parameters; a hyperparameter of the model is set like any other."""
        names = set(self._hyper_names())
        for name in [k for k in params if k in names]:
            setattr(self, name, params.pop(name))
        return super().set_params(**params)

    def _hyper(self, spec) -> dict:
        """{name: value} of the hyperparameters set (not None), checked against the model."""
        given = {name: getattr(self, name) for name in self._hyper_names()
                 if getattr(self, name, None) is not None}
        try:
            inputs.hyper_values(spec, given)
        except DataError as error:
            raise SettingsError(f"{type(self).__name__}: {error}") from None
        return given

    # ---- the model ------------------------------------------------------------------------
    def _spec(self):
        spec = kernels.load(self.model).SPEC
        kind = spec["target"][1] if spec["target"] else None
        if spec["features"] is None or kind not in self.target_kinds:
            wanted = " or ".join(repr(k) for k in self.target_kinds)
            raise DerivationError(
                f"{type(self).__name__} needs a model with features and a {wanted} target; "
                f"{spec['name']} has {'no features' if spec['features'] is None else f'a {kind!r} target'}"
                f" (use {'SymdlClassifier' if kind in ('binary', 'class') else 'SymdlRegressor'})")
        return spec

    def _design(self, X, spec):
        """The kernel's x from the user's X: one column for a scalar model, ones in front if asked."""
        if len(inputs.input_specs(spec)) > 1:
            return self._split_columns(X, spec)
        if not spec["features"][1]:
            if adds_bias_column(spec, self.fit_intercept):
                raise DataError(f"{spec['name']} takes a single number per sample, so it "
                                f"cannot take a bias column; leave fit_intercept unset")
            if X.shape[1] != 1:
                raise DataError(f"{spec['name']} takes one feature per sample, but X has "
                                f"{X.shape[1]} columns; pass X of shape (m, 1)")
            return np.array(X[:, 0])
        if adds_bias_column(spec, self.fit_intercept):
            return np.hstack([np.ones((len(X), 1), dtype=X.dtype), X])
        return np.array(X, order="C")  # a writable copy: read-only input needs no new kernel

    def _split_columns(self, X, spec) -> tuple:
        """X's columns cut across several data tensors, in declaration order (module docstring)."""
        tensors = inputs.input_specs(spec)
        bias = adds_bias_column(spec, self.fit_intercept)
        known = {**((spec["training"] or {}).get("sizes") or {}), **(self.sizes or {})}
        for name, shape in spec["params"] if hasattr(self, "params_") else []:
            known.update(zip(shape, np.shape(self.params_[name])))
        less = [1 if bias and k == 0 else 0 for k in range(len(tensors))]  # the ones column
        unknown = {shape[0] for _, shape in tensors if shape and shape[0] not in known}
        if len(unknown) > 1:
            raise DataError(f"{spec['name']}: X's columns cannot be cut across its data tensors "
                            f"with the sizes of {', '.join(sorted(unknown))} unknown; pass "
                            f"sizes={{{', '.join(repr(d) + ': ...' for d in sorted(unknown))}}}")
        if unknown:
            (dim,) = unknown
            fixed = sum(1 if not shape else known[shape[0]] - b
                        for (_, shape), b in zip(tensors, less) if not shape or shape[0] != dim)
            sharing = [b for (_, shape), b in zip(tensors, less) if shape and shape[0] == dim]
            left = X.shape[1] - fixed + sum(sharing)
            if left < len(sharing) or left % len(sharing):
                raise DataError(f"{spec['name']}: X has {X.shape[1]} columns, which do not cut "
                                f"into its data tensors {', '.join(n for n, _ in tensors)}; pass "
                                f"sizes={{{dim!r}: ...}}")
            known[dim] = left // len(sharing)
        widths = [1 if not shape else known[shape[0]] - b for (_, shape), b in zip(tensors, less)]
        if sum(widths) != X.shape[1] or min(widths) < 1:
            layout = ", ".join(f"{n} {w}" for (n, _), w in zip(tensors, widths))
            raise DataError(f"{spec['name']}: X has {X.shape[1]} columns, but its data tensors "
                            f"take {sum(widths)} ({layout})")
        arrays, at = [], 0
        for (_, shape), width, b in zip(tensors, widths, less):
            block = X[:, at:at + width]
            at += width
            if b:
                block = np.hstack([np.ones((len(X), 1), dtype=X.dtype), block])
            arrays.append(np.array(block, order="C") if shape else np.array(block[:, 0]))
        return tuple(arrays)

    def _settings(self, spec, x, targets, sample_weight=None) -> dict:
        """The derivation's Training settings, overridden by every parameter not None.

        The step: `learning_rate` "auto" (the default for gradient descent on a model with
        a Hessian kernel) is 1/λ_max of the Hessian of J at the starting parameters, computed on this data.
        For least squares that is the largest curvature anywhere, and for logistic regression
        too (σ′ ≤ 1/4 peaks at θ = 0), so gradient descent cannot overshoot however many
        samples a summed loss adds up; the derivation's fixed step suits only its own data.
        """
        settings = dict(spec["training"] or {})
        settings.pop("dataset", None)
        settings.update({k: getattr(self, k) for k in SETTINGS if getattr(self, k) is not None})
        settings["sizes"] = {**settings.get("sizes", {}), **(self.sizes or {})}
        if spec.get("classes_dim") and hasattr(self, "classes_") and not (self.sizes or {}).get(
                spec["classes_dim"]):  # as many logits as classes seen, unless sizes says
            settings["sizes"][spec["classes_dim"]] = max(
                len(self.classes_), spec.get("classes") or 0)
        settings["hyper"] = {**(settings.get("hyper") or {}), **self._hyper(spec)}
        rate = self.learning_rate
        descent = settings.get("optimizer", "gd") in ("gd", "sgd")
        if rate == "auto" or (rate is None and spec["hessian"] and descent):
            settings["learning_rate"] = curvature_step(self.model, x, targets, settings,
                                                       sample_weight)
        return settings

    def _check_own_settings(self):
        """The parameters train.fit does not check itself, checked before any is used."""
        problems = []
        if self.fit_intercept not in (None, True, False):
            problems.append(f"fit_intercept must be None, True or False, not {self.fit_intercept!r}")
        if self.sizes is not None and not isinstance(self.sizes, dict):
            problems.append(f"sizes must be a dict of dimension sizes such as {{'H': 16}}, "
                            f"not {self.sizes!r}")
        if self.seed is not None and (isinstance(self.seed, bool)
                                      or not isinstance(self.seed, (int, np.integer))
                                      or self.seed < 0):
            problems.append(f"seed must be an integer >= 0, not {self.seed!r}")
        if self.validation_fraction is not None and (
                isinstance(self.validation_fraction, bool)
                or not isinstance(self.validation_fraction, (int, float, np.number))):
            problems.append(f"validation_fraction must be a number between 0 and 1, "
                            f"not {self.validation_fraction!r}")
        if self.callbacks is not None and (not isinstance(self.callbacks, (list, tuple)) or not all(
                hasattr(c, "on_epoch_end") for c in self.callbacks)):
            problems.append(f"callbacks must be a list of symdl.callbacks objects such as "
                            f"EarlyStopping(patience=10), not {self.callbacks!r}")
        if not isinstance(self.progress, bool):
            problems.append(f"progress must be True or False, not {self.progress!r}")
        if problems:
            raise SettingsError(f"{type(self).__name__}: " + "; ".join(problems))

    def _train(self, X, targets, spec, sample_weight=None):
        self._check_own_settings()
        x = self._design(X, spec)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
            if self.validation_fraction:
                raise SettingsError(f"{type(self).__name__}: validation_fraction and "
                                    f"sample_weight together are not supported; leave one out")
        settings = self._settings(spec, x, targets, sample_weight)
        extra = {"progress": self.progress}
        if self.callbacks:
            extra["callbacks"] = list(self.callbacks)
        if self.validation_fraction:
            x, targets, extra["validation_data"] = held_out(
                x, targets, self.validation_fraction, settings.get("seed", 0))
        result = train.fit(self.model, x, targets, **settings, **extra,
                           sample_weight=sample_weight)
        self.params_ = result.params
        self.history_ = result.history
        self.n_iter_ = len(result.history)
        self.result_ = result
        return self

    def _output(self, X):
        """The model's output (ŷ, the probability h, or the logits z) for the user's X."""
        check_is_fitted(self, "params_")
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        spec = self._spec()
        values = [self.params_[name] for name, _ in spec["params"]]
        dtype = next((v.dtype for v in values if isinstance(v, np.ndarray)), np.float64)
        x = inputs.input_arrays(self._design(X.astype(dtype), spec))
        module = inputs.with_hyper(kernels.load(self.model), spec,
                                   self.result_.settings.get("hyper"))
        module = tiers.kernels_for(module, "auto", inputs.sample_count(x))
        return module.predict(*values, *x)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.optimizer in ("sgd", "rmsprop") and bool(self.batch_size)
        return tags


def curvature_step(model, x, targets, settings, sample_weight=None) -> float:
    """1/λ_max(H) at the starting parameters, H from the model's generated `hessian` kernel
    (its weighted one for weighted samples)."""
    module = kernels.load(model)
    spec = module.SPEC
    if not spec["hessian"]:
        raise DerivationError(f"learning_rate='auto' needs a Hessian kernel, and symdl derives "
                              f"none for {spec['name']}; give a number")
    sizes = inputs.dimension_sizes(spec, x, settings.get("sizes"))
    start = inputs.initial_params(spec, sizes, init_scale=settings.get("init_scale", 0.0),
                                  init=settings.get("init", "normal"),
                                  initial=settings.get("initial"), seed=settings.get("seed", 0))
    kernels_run = inputs.with_hyper(module, spec, settings.get("hyper"))
    data = inputs.kernel_data(x, targets)
    if sample_weight is not None:
        kernels_run, data = inputs.Weighted(kernels_run), data + (sample_weight,)
    largest = largest_curvature(kernels_run, start, data)
    if largest is None or largest <= 0.0:
        shown = "not finite" if largest is None else f"{largest:.3g}"
        raise DataError(f"{spec['name']}: the Hessian at the start has no positive curvature "
                        f"(largest eigenvalue {shown}), so no step follows from it; "
                        f"give learning_rate a number")
    return 1.0 / largest


def held_out(x, targets, fraction, seed):
    """A random `fraction` of the samples, held out as validation data (x, y, (x_val, y_val))."""
    if not 0.0 < fraction < 1.0:
        raise DataError(f"validation_fraction must lie strictly between 0 and 1, not {fraction}")
    count = inputs.sample_count(x)
    order = np.random.default_rng(seed).permutation(count)
    cut = count - max(1, int(round(fraction * count)))
    if cut < 1:
        raise DataError(f"validation_fraction={fraction} leaves no training samples "
                        f"out of {count}")
    keep, val = np.sort(order[:cut]), np.sort(order[cut:])

    def rows(index):
        taken = tuple(a[index] for a in inputs.input_arrays(x))
        return taken if isinstance(x, tuple) else taken[0]
    return rows(keep), targets[keep], (rows(val), targets[val])


class SymdlRegressor(RegressorMixin, SymdlEstimator):
    """A symdl model with a real-valued target, trained by gradient descent on its loss.

    >>> SymdlRegressor("multivariate_least_squares", epochs=200).fit(X, y).score(X, y)
    """

    target_kinds = ("real",)

    def fit(self, X, y, sample_weight=None):
        """Train the model on (X, y); X is (m, features) without any column of ones.
        `sample_weight` weighs each sample's loss (symdl.train.fit)."""
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], y_numeric=True)
        return self._train(X, np.array(y, dtype=np.float64), self._spec(), sample_weight)

    def predict(self, X):
        """The model's output ŷ for each row of X."""
        return np.asarray(self._output(X), dtype=np.float64)


class SymdlClassifier(ClassifierMixin, SymdlEstimator):
    """A symdl model with a binary or class target; labels of any kind are mapped for it.

    >>> SymdlClassifier("logistic_regression", epochs=500).fit(X, y).predict_proba(X)
    """

    target_kinds = ("binary", "class")

    def fit(self, X, y, sample_weight=None):
        """Train the model on (X, y); y holds any labels, which `classes_` lists in order.
        `sample_weight` weighs each sample's loss (symdl.train.fit)."""
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        check_classification_targets(y)
        spec = self._spec()
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise DataError(f"y has only one class ({self.classes_[0]!r}); a classifier "
                            f"needs samples of at least two classes")
        if spec["target"][1] == "binary":
            if len(self.classes_) > 2:
                raise DataError(
                    f"Only binary classification is supported. The type of the target is "
                    f"{type_of_target(y)}: {spec['name']} is a binary model and y has "
                    f"{len(self.classes_)} classes; wrap the estimator in "
                    f"sklearn.multiclass.OneVsRestClassifier, or use a model with a class target")
            return self._train(X, codes.astype(np.float64), spec, sample_weight)
        if spec["classes"] is not None and len(self.classes_) > spec["classes"]:
            raise DataError(f"y has {len(self.classes_)} classes but {spec['name']} has "
                            f"{spec['classes']} outputs")
        return self._train(X, codes.astype(np.int64), spec, sample_weight)

    def predict_proba(self, X):
        """An (m, classes) array: the probability of each class in `classes_`, rows sum to 1.

        Binary models output the probability of the second class, h; class models output
        logits z, turned into probabilities by the softmax over the classes seen in fit.
        """
        output = np.asarray(self._output(X), dtype=np.float64)
        if output.ndim == 1:
            return np.column_stack([1.0 - output, output])
        return softmax(output[:, :len(self.classes_)])

    def predict(self, X):
        """The most probable class of each row of X, as one of the labels of `classes_`."""
        probabilities = self.predict_proba(X)
        return self.classes_[np.argmax(probabilities, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        try:
            tags.classifier_tags.multi_class = self._spec()["target"][1] == "class"
        except SymdlError:  # an unknown model: fit says why; asking for tags must not raise
            pass
        return tags
