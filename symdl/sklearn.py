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

Defaults that suit real data (issue 18): a model whose derivation trains full batch is fitted
by L-BFGS with a budget of `LBFGS_EPOCHS` iterations, as scikit-learn's LogisticRegression
is, or, where it has a Hessian and few parameters, by Newton's method (`default_method`: one
step when its SPEC says J is quadratic, as for ridge); a derivation that trains in
mini-batches (a network on MNIST) keeps its rule. A
first-order rule without a `learning_rate` takes the step from the curvature at the start
(`learning_rate="auto"`, symdl.training.divergence.automatic_step), for every model.
`tier` picks the kernels as `train.fit` does: None ("auto") runs a small fit on the NumPy
tier, which compiles nothing; "numba" takes the compiled kernels, faster per call for some
models once Numba's cache holds them (breast_cancer's loss and gradient: 15 µs against 41).
`tol` (default 1e-4, scikit-learn's) is on the mean loss whatever the derivation's
reduction: training stops once max |∂(J/m)/∂p| ≤ tol (full-batch rules, L-BFGS, Newton:
LogisticRegression's own test, so both stop after about as many iterations), or once
the epoch's J has improved by less than tol × |J| for 10 epochs in a row (mini-batch rules);
`tol=None` runs the whole budget. A run that ends its budget first warns with
`ConvergenceWarning`, a subclass of scikit-learn's; `n_iter_` is the epochs run.

The rest of the estimator contract: `warm_start=True` starts the next fit at the last
parameters; `partial_fit` runs one epoch of a first-order rule on the batch given (classes=
on the first call of a classifier), the rule's state kept between calls (Adam's moments,
momentum's velocity); `decision_function` and `predict_log_proba` for
classifiers; `coef_`/`intercept_` when the model is one affine map of the features (a
weight per feature, or a matrix of them, and at most a bias); `verbose` prints the epochs;
sparse X (any SciPy format, made CSR) reaches the kernels over CSR rows of a model that reads
x only through affine maps (every linear model, and networks whose first layer is an affine
map of x, mnist_mlp's included: SPEC["csr_input"]) without ever being made dense, and is
made dense for the others (`kernel_x`); `class_weight` (None,
"balanced" or a dict by label, scikit-learn's meaning) weighs each row's loss through
`train.fit(sample_weight=...)`, made in one place (`_row_weights`). A fitted estimator saves
itself in symdl's saved-model file (`est.save(path)`, `SymdlClassifier.load(path)`), which
`symdl predict` reads as well.
Hyperparameters: a model's hyperparameters (`Model.hyper`, e.g. `alpha` of the built-in
ridge model) are estimator parameters of the same name, `SymdlRegressor("ridge_regression",
alpha=0.1)`: `get_params` lists every one the model declares (None: the derivation's
default) and `set_params` sets them, so `GridSearchCV(est, {"alpha": [0.01, 0.1, 1]})`
searches them. They are scalar arguments of the kernels: a new value compiles nothing.
`sample_weight` in `fit` weighs each row's loss; class weights multiply into it.

Long because the estimator contract is one piece: the design matrix (bias column, several
data tensors), the settings, hyperparameters named by the model and their defaults, row
weights, fit, partial_fit and warm starts, and what a fitted estimator answers (predict,
probabilities, decision function, coef_).
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import scipy.sparse
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning as SklearnConvergenceWarning
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from symdl import errors, kernels, optimizers, saved, train
from symdl.training import inputs, tiers
from symdl.training.scores import softmax
from symdl.errors import DataError, DerivationError, SavedModelError, SettingsError, SymdlError

SETTINGS = ("optimizer", "learning_rate", "epochs", "batch_size", "init", "init_scale", "seed",
            "tier")
"""Constructor parameters that go to `train.fit` unchanged (None: the derivation's value)."""

LBFGS_EPOCHS = 100
"""The default budget of L-BFGS iterations: scikit-learn's LogisticRegression's max_iter."""

NEWTON_WIDTH = 256
"""A model whose SPEC says its J is quadratic (SPEC["quadratic"]: no second derivative
depends on a parameter, least squares and ridge) is minimised by one Newton step; up to this
many parameters (a P × P Hessian, m·P² work) that is the default instead of L-BFGS: on
diabetes (442 × 10) 1.4 ms against L-BFGS's 26 iterations in 10 ms."""

NEWTON_PARAMS = 32
"""Up to this many parameters, a model with a derived Hessian is fitted by Newton's method
by default: a handful of iterations, each an m·P² Hessian and a P × P solve, where L-BFGS
takes three times as many, each with SciPy's fixed cost. Side by side in one process (2
cores, load 3.4): iris' multinomial model (15 parameters) 6 Newton iterations in 3.3 ms of
CPU against 20 of L-BFGS in 4.2; wine's (42, a Hessian singular along its unpenalised
biases, so an eigendecomposition each iteration) 7 in 5.4 ms against 20 in 4.4."""

STEPPED = optimizers.STEPPED
"""The rules whose step, when not given, comes from the curvature (learning_rate="auto")."""


class ConvergenceWarning(errors.ConvergenceWarning, SklearnConvergenceWarning):
    """symdl's ConvergenceWarning as scikit-learn's: either category filters it."""


def adds_bias_column(spec, fit_intercept=None) -> bool:
    """Whether the estimator puts a column of ones in front of X: the rule, in one place.

    `fit_intercept` None follows the derivation (its SPEC's ``bias_column``, declared by
    ``data(..., bias_column=True)``); True or False overrides it.
    """
    if fit_intercept is None:
        return bool(spec.get("bias_column", False))
    return bool(fit_intercept)


_PARAM_NAMES: dict = {}  # estimator class -> its constructor's parameter names


class SymdlEstimator(BaseEstimator):
    """What the regressor and the classifier share: settings, design matrix, training."""

    target_kinds: tuple[str, ...] = ()

    def __init__(self, model, *, optimizer=None, learning_rate=None, epochs=None,
                 batch_size=None, init=None, init_scale=None, sizes=None, seed=None,
                 fit_intercept=None, validation_fraction=None, callbacks=None,
                 progress=False, tol=1e-4, warm_start=False, verbose=0, class_weight=None,
                 tier=None, **hyper):
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
        self.tol = tol
        self.warm_start = warm_start
        self.verbose = verbose
        self.class_weight = class_weight
        self.tier = tier
        for name, value in hyper.items():  # checked against the model's declarations in fit
            setattr(self, name, value)

    @classmethod
    def _get_param_names(cls):
        """The constructor's parameters (scikit-learn's list), read once per class: reading a
        signature costs a small fit about 0.1 ms, and every fit asks (`_hyper_names`)."""
        if cls not in _PARAM_NAMES:
            _PARAM_NAMES[cls] = super()._get_param_names()
        return list(_PARAM_NAMES[cls])

    # ---- hyperparameters: parameters named by the model ------------------------------------
    def _hyper_names(self) -> list[str]:
        """The model's hyperparameters, and any other name given to the constructor (which
        `fit` refuses by name); none while the model cannot be loaded (fit says why)."""
        try:
            declared = [name for name, _ in kernels.load(self.model).SPEC.get("hypers") or []]
        except SymdlError:
            declared = []
        base = set(self._get_param_names())
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
        """The kernel's x from the user's X: one column for a scalar model, ones in front if
        asked (sparse X stays sparse, `kernel_x`, with a sparse column of ones)."""
        if scipy.sparse.issparse(X):
            if not adds_bias_column(spec, self.fit_intercept):
                return X.tocsr()
            ones = scipy.sparse.csr_matrix(np.ones((X.shape[0], 1), dtype=X.dtype))
            return scipy.sparse.hstack([ones, X], format="csr")
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

    def _settings(self, spec, x, weights=None) -> dict:
        """The derivation's Training settings, overridden by every parameter not None.

        Unset, the optimizer is L-BFGS (`LBFGS_EPOCHS` iterations) for a derivation that
        trains full batch (Newton's method for few parameters, `default_method`), and a
        first-order rule's step is "auto": 1/λ_max of the Hessian of J
        at the starting parameters, computed on this data (the engine's automatic_step). For
        least squares that is the largest curvature anywhere, and for logistic regression too
        (σ′ ≤ 1/4 peaks at θ = 0), so gradient descent cannot overshoot however many samples
        a summed loss adds up; the derivation's fixed step suits only its own data.
        """
        settings = dict(spec["training"] or {})
        settings.pop("dataset", None)
        full_batch = self.optimizer is None and not settings.get("batch_size")
        settings.update({k: getattr(self, k) for k in SETTINGS if getattr(self, k) is not None})
        settings["sizes"] = {**settings.get("sizes", {}), **(self.sizes or {})}
        if spec.get("classes_dim") and hasattr(self, "classes_") and not (self.sizes or {}).get(
                spec["classes_dim"]):  # as many logits as classes seen, unless sizes says
            settings["sizes"][spec["classes_dim"]] = max(
                len(self.classes_), spec.get("classes") or 0)
        settings["hyper"] = {**(settings.get("hyper") or {}), **self._hyper(spec)}
        if full_batch:
            kinks = (kernels.load(self.model).kink_weight(**settings["hyper"])
                     if spec.get("kinks") else 0.0)
            settings["optimizer"] = default_method(spec, x, settings["sizes"], kinks)
            if self.epochs is None:
                settings["epochs"] = LBFGS_EPOCHS
        rule = settings.get("optimizer", "gd")
        if self.learning_rate is None and rule in STEPPED:
            settings["learning_rate"] = "auto"
        rows = inputs.sample_count(x) if weights is None else float(np.sum(weights))
        settings["tol"] = engine_tol(spec, self.tol, rule, settings.get("batch_size"), rows)
        if self.verbose:
            settings["log"] = print
        if self.warm_start and hasattr(self, "params_"):
            settings["params"] = dict(self.params_)
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
        if not isinstance(self.warm_start, bool):
            problems.append(f"warm_start must be True or False, not {self.warm_start!r}")
        if not isinstance(self.verbose, (bool, int, np.integer)):
            problems.append(f"verbose must be an integer (0: quiet), not {self.verbose!r}")
        if self._class_weight_problem():
            problems.append(self._class_weight_problem())
        if self.tol is not None and (isinstance(self.tol, bool) or not isinstance(
                self.tol, (int, float, np.number)) or not np.isfinite(self.tol) or self.tol < 0):
            problems.append(f"tol must be a finite number >= 0, or None to run every epoch, "
                            f"not {self.tol!r}")
        if problems:
            raise SettingsError(f"{type(self).__name__}: " + "; ".join(problems))

    def _train(self, X, targets, spec, sample_weight=None, adjust=None):
        """Fit on (X, targets); `adjust(settings)` changes the settings first (partial_fit's
        one epoch), and without it this is a fit, after which partial_fit starts afresh."""
        self._check_own_settings()
        if adjust is None:
            self._partial_rule = None
        x = self._design(X, spec)
        weights = self._row_weights(targets, sample_weight, X)
        settings = self._settings(spec, x, weights)
        if adjust is not None:
            adjust(settings)
        if weights is not None:
            if self.validation_fraction:
                raise SettingsError(f"{type(self).__name__}: validation_fraction and "
                                    f"sample_weight or class_weight together are not "
                                    f"supported; leave one out")
            settings["sample_weight"] = weights
        extra = {"progress": self.progress}
        if self.callbacks:
            extra["callbacks"] = list(self.callbacks)
        if self.validation_fraction:
            x, targets, extra["validation_data"] = held_out(
                x, targets, self.validation_fraction, settings.get("seed", 0))
        note = (f" (the estimator's tol={self.tol:g} is on the mean loss: tol × m on "
                f"{spec['name']}'s summed J)" if settings.get("tol") not in (None, self.tol)
                else "")
        result = fit_reporting_convergence(self.model, x, targets, note=note, **settings,
                                           **extra)
        self.params_ = result.params
        self.history_ = result.history
        self.n_iter_ = result.n_iter
        self.result_ = result
        return self

    def _row_weights(self, codes, sample_weight=None, X=None):
        """Each row's weight in J, or None for all equal: the one place per-row weights are
        made, a fit's `sample_weight` times the weight of the row's class (`class_weight`)."""
        weights = (None if sample_weight is None
                   else _check_sample_weight(sample_weight, X, dtype=np.float64))
        if self.class_weight is None:
            return weights
        from sklearn.utils.class_weight import compute_class_weight
        codes = np.asarray(codes, dtype=np.int64)
        if self.class_weight == "balanced":
            per_class = compute_class_weight("balanced", classes=np.arange(len(self.classes_)),
                                             y=codes)
        else:
            per_class = np.array([float(self.class_weight.get(label, 1.0))
                                  for label in self.classes_])
        return per_class[codes] if weights is None else per_class[codes] * weights

    def _class_weight_problem(self) -> str | None:
        """What is wrong with `class_weight`, or None: None, "balanced", or a dict of finite
        weights >= 0 by label, and for classifiers only."""
        weights = self.class_weight
        if weights is None:
            return None
        if not isinstance(self, ClassifierMixin):
            return f"class_weight is for classifiers; {type(self).__name__} takes none"
        if weights == "balanced":
            return None
        if not isinstance(weights, dict):
            return f"class_weight must be None, 'balanced' or a dict of weights by label, not {weights!r}"
        wrong = {k: v for k, v in weights.items()
                 if isinstance(v, bool) or not isinstance(v, (int, float, np.number))
                 or not np.isfinite(v) or v < 0}
        return f"class_weight's weights must be finite numbers >= 0, not {wrong}" if wrong else None

    def _partial_train(self, X, targets, spec):
        """One epoch of a first-order rule on this batch, from the parameters so far: the
        estimator's optimizer if it is a first-order rule, else "sgd"; its step is the first
        batch's automatic one unless `learning_rate` is given. The rule's object, with its
        state (momentum's velocity, Adam's moments, its step count), is kept on the estimator
        from the first batch on and trains the next, so n calls are n epochs of one run (a
        `fit` starts afresh; `clone` starts without it; pickling keeps it)."""
        rule = self.optimizer if self.optimizer not in (None, *optimizers.METHODS) else "sgd"

        def one_epoch(settings):
            settings.update(optimizer=rule, epochs=1, tol=None)
            settings.pop("log", None)
            if hasattr(self, "params_"):
                settings["params"] = dict(self.params_)
            if self.learning_rate is None and rule in STEPPED:
                settings["learning_rate"] = "auto"  # on the first batch; the rule keeps it
            if getattr(self, "_partial_rule", None) is not None:  # its state (momentum, moments)
                settings["optimizer"] = self._partial_rule
        self._train(X, targets, spec, adjust=one_epoch)
        found = self.result_.settings
        self._partial_rule = self.result_.optimizer  # the rule as this epoch left it
        self.learning_rate_ = found.get("final learning_rate", found.get("learning_rate"))
        return self

    # ---- saving -------------------------------------------------------------------------------
    def save(self, path):
        """Write the fitted estimator to `path`, one .npz in `symdl.saved`'s format (no pickle):
        the parameters and history, and in its settings what predicting needs — classes_,
        whether the column of ones is added ("bias_column"), n_features_in_ — and the
        estimator's own settings. `symdl predict MODEL --params PATH` reads it too, and the
        estimator class's `load(path)` makes the fitted estimator again."""
        check_is_fitted(self, "params_")
        result = dataclasses.replace(self.result_, settings=dict(self.result_.settings))
        spec = self._spec()
        params = {k: v for k, v in self.get_params(deep=False).items()
                  if k != "callbacks"}  # objects, not settings: left out
        params["class_weight"] = (sorted(self.class_weight.items(), key=repr)
                                  if isinstance(self.class_weight, dict) else self.class_weight)
        result.settings["estimator"] = {
            "class": type(self).__name__, "params": params,
            "n_features_in": int(self.n_features_in_),
            "feature_names_in": list(getattr(self, "feature_names_in_", [])) or None,
            "classes": self.classes_.tolist() if hasattr(self, "classes_") else None}
        if spec.get("features") and spec["features"][1]:
            result.settings["bias_column"] = ("added" if adds_bias_column(spec, self.fit_intercept)
                                              else "none")
        return saved.save(result, path)

    @classmethod
    def load(cls, path):
        """The fitted estimator saved by `save` (its kernels checked as `saved.load` does)."""
        result = saved.load(path)
        found = result.settings.get("estimator")
        if not isinstance(found, dict) or found.get("class") != cls.__name__:
            what = found.get("class") if isinstance(found, dict) else "no estimator"
            raise SavedModelError(f"{path} holds {what}, not a fitted {cls.__name__}: load a "
                                  f"model saved by `symdl train --save` with symdl.saved.load")
        params = dict(found["params"])
        if isinstance(params.get("class_weight"), list):
            params["class_weight"] = {label: weight for label, weight in params["class_weight"]}
        estimator = cls(**params)
        estimator.params_, estimator.result_ = result.params, result
        estimator.history_, estimator.n_iter_ = result.history, result.n_iter
        estimator.n_features_in_ = found["n_features_in"]
        if found.get("feature_names_in"):
            estimator.feature_names_in_ = np.asarray(found["feature_names_in"], dtype=object)
        if found.get("classes") is not None:
            estimator.classes_ = np.asarray(found["classes"])
        return estimator

    @property
    def coef_(self):
        """The weights of a model that is one affine map of the features (module docstring):
        θ without its bias entry, w, or a matrix W (one row per output)."""
        return self._affine_parts()[0]

    @property
    def intercept_(self):
        """The bias of that affine map: θ₀ of the ones column, b, or 0.0 when it has none."""
        return self._affine_parts()[1]

    def _affine_parts(self):
        check_is_fitted(self, "params_")
        spec = self._spec()
        features = spec["features"][1]
        shapes = {name: tuple(shape) for name, shape in spec["params"]}
        weights = [n for n, shape in shapes.items() if features and shape[-1:] == features[:1]]
        biases = [n for n in shapes if n not in weights]
        if (len(inputs.input_specs(spec)) != 1 or len(weights) != 1 or len(biases) > 1
                or (biases and shapes[biases[0]] not in ((), shapes[weights[0]][:-1]))):
            raise AttributeError(f"{spec['name']} is not one affine map of the features, so "
                                 f"it has no coef_/intercept_; see params_")
        weight = np.asarray(self.params_[weights[0]])
        bias = np.asarray(self.params_[biases[0]]) if biases else np.zeros(weight.shape[:-1])
        if adds_bias_column(spec, self.fit_intercept):
            bias, weight = weight[..., 0] + bias, weight[..., 1:]
        return weight, (float(bias) if bias.ndim == 0 else bias)

    def _output(self, X):
        """The model's output (ŷ, the probability h, or the logits z) for the user's X."""
        check_is_fitted(self, "params_")
        spec = self._spec()
        X = kernel_x(validate_data(self, X, reset=False, dtype=[np.float64, np.float32],
                                   accept_sparse="csr"), spec)
        values = [self.params_[name] for name, _ in spec["params"]]
        dtype = next((v.dtype for v in values if isinstance(v, np.ndarray)), np.float64)
        x = self._design(X.astype(dtype), spec)
        if scipy.sparse.issparse(x):  # its non-zero entries, checked, for the _csr kernels
            x = inputs.model_inputs(spec, values, x, None, need_target=False).x
        module = inputs.with_hyper(kernels.load(self.model), spec,
                                   self.result_.settings.get("hyper"))
        module = tiers.kernels_for(module, self.tier or "auto", inputs.sample_count(x))
        return inputs.over_rows_of(module, x).predict(*values, *inputs.input_arrays(x))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.optimizer in ("sgd", "rmsprop") and bool(self.batch_size)
        tags.input_tags.sparse = True
        return tags


def kernel_x(X, spec):
    """X as the model's kernels read it: sparse X stays sparse (CSR) for a model with kernels
    over CSR rows (SPEC["csr_input"]: it reads x only through affine maps, as every linear
    model and a network's first layer do, blas layout included), and is made dense for the
    others."""
    if scipy.sparse.issparse(X) and not spec.get("csr_input"):
        return X.toarray()
    return X


def default_method(spec, x, sizes, kinks=0.0) -> str:
    """The default optimizer of a derivation that trains full batch: Newton's method where
    the model has a Hessian and few parameters (one step for a quadratic J, `NEWTON_WIDTH`;
    `NEWTON_PARAMS` otherwise), else L-BFGS. The sizes it cannot tell leave L-BFGS, whose
    `train.fit` then says what is missing; so does sparse x, whose kernels have no Hessian,
    and a penalty whose kinks weigh `kinks` ≠ 0 (an elastic net with l1_ratio > 0), where J
    has none."""
    if not spec["hessian"] or scipy.sparse.issparse(x) or kinks:
        return "lbfgs"
    try:
        dims = inputs.dimension_sizes(spec, x, sizes)
    except DataError:
        return "lbfgs"
    count = sum(int(np.prod([dims[d] for d in shape])) for _, shape in spec["params"])
    most = NEWTON_WIDTH if spec.get("quadratic") else NEWTON_PARAMS
    return "newton" if count <= most else "lbfgs"


def engine_tol(spec, tol, rule, batch_size, rows):
    """The engine's tol for the estimator's `tol` on the mean loss (module docstring): a
    gradient test of a summed J (reduction "sum") scales by the m rows it sums (by Σ w for
    weighted rows, so that integer weights and repeated rows stop alike); the test of
    mini-batch epochs is relative to J already."""
    if tol is None:
        return None
    full_gradient = rule in optimizers.METHODS or not batch_size or batch_size >= rows
    return float(tol) * rows if full_gradient and spec["reduction"] == "sum" else float(tol)


def fit_reporting_convergence(model, x, targets, *, note="", **settings):
    """`train.fit`, its ConvergenceWarning re-issued as this module's (scikit-learn's too), so
    that `warnings.filterwarnings("ignore", category=sklearn.exceptions.ConvergenceWarning)`
    silences it, with `note` added; every other warning passes on as it came."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = train.fit(model, x, targets, **settings)
    for warning in caught:
        if issubclass(warning.category, errors.ConvergenceWarning):
            warnings.warn(f"{warning.message}{note}", ConvergenceWarning, stacklevel=4)
        else:
            warnings.warn(str(warning.message), warning.category, stacklevel=4)
    return result


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
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], y_numeric=True,
                             accept_sparse="csr")
        spec = self._spec()
        return self._train(kernel_x(X, spec), np.array(y, dtype=np.float64), spec,
                           sample_weight=sample_weight)

    def partial_fit(self, X, y):
        """One epoch of a first-order rule on the batch (X, y), from the parameters so far."""
        first = not hasattr(self, "params_")
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], y_numeric=True,
                             accept_sparse="csr", reset=first)
        spec = self._spec()
        return self._partial_train(kernel_x(X, spec), np.array(y, dtype=np.float64), spec)

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
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], accept_sparse="csr")
        check_classification_targets(y)
        spec = self._spec()
        classes, codes = np.unique(y, return_inverse=True)
        self._check_classes(spec, classes, y)
        self.classes_ = classes
        return self._train(kernel_x(X, spec), self._coded(spec, codes), spec,
                           sample_weight=sample_weight)

    def partial_fit(self, X, y, classes=None):
        """One epoch of a first-order rule on the batch (X, y), from the parameters so far;
        the first call names every class (`classes=`), as scikit-learn's partial_fit does."""
        first = not hasattr(self, "params_")
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], accept_sparse="csr",
                             reset=first)
        check_classification_targets(y)
        spec = self._spec()
        if first:
            if classes is None:
                raise DataError("the first call of partial_fit needs classes=, every label "
                                "the batches will hold (e.g. classes=np.unique(y_all))")
            classes = np.unique(classes)
            self._check_classes(spec, classes, y)
            self.classes_ = classes
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise DataError(f"classes={list(classes)} differs from the classes of the first "
                            f"partial_fit, {list(self.classes_)}")
        unknown = np.setdiff1d(y, self.classes_)
        if len(unknown):
            raise DataError(f"y holds labels not in classes_ {list(self.classes_)}: "
                            f"{list(unknown)[:5]}")
        codes = np.searchsorted(self.classes_, y)
        return self._partial_train(kernel_x(X, spec), self._coded(spec, codes), spec)

    @staticmethod
    def _coded(spec, codes):
        """The labels' codes as the kernels take them: 0/1 floats (binary) or integers."""
        return codes.astype(np.float64 if spec["target"][1] == "binary" else np.int64)

    def _check_classes(self, spec, classes, y):
        """Refuse one class, or more classes than the model has outputs."""
        self.classes_ = classes
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
        elif spec["classes"] is not None and len(self.classes_) > spec["classes"]:
            raise DataError(f"y has {len(self.classes_)} classes but {spec['name']} has "
                            f"{spec['classes']} outputs")

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

    def predict_log_proba(self, X):
        """log predict_proba, computed without the rounding of the probabilities: log h and
        log(1 − h) from the log-odds of a binary model, log-softmax of a class model's logits."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return -np.logaddexp(0.0, -np.column_stack([-scores, scores]))
        return scores - np.logaddexp.reduce(scores, axis=1, keepdims=True)

    def decision_function(self, X):
        """The score whose sign (binary: the log-odds log h/(1 − h) of classes_[1]) or
        largest entry (class models: the logits of each class in classes_) decides."""
        output = np.asarray(self._output(X), dtype=np.float64)
        if output.ndim == 1:
            with np.errstate(divide="ignore"):
                return np.log(output) - np.log1p(-output)
        return output[:, :len(self.classes_)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        try:
            tags.classifier_tags.multi_class = self._spec()["target"][1] == "class"
        except SymdlError:  # an unknown model: fit says why; asking for tags must not raise
            pass
        return tags
