"""An L-class classifier built from L binary ones (003 §3.3, its closing paragraph).

"Logistic regression gives us a binary classifier. To build a classifier with L classes, we
can use L binary (one-vs-rest) classifiers. To pick the final answer, we take the class whose
one-vs-rest classifier produced the highest score." (003_ff0b9f77f02ec2c2.txt §3.3)

Classifier k is the binary model NAME trained with the generated kernels on the targets
(y == k): class k against all the others. Its score for a sample is the model's output
(for logistic regression the probability h = σ(θᵀx) that the sample is of class k), and
the prediction is the class with the highest score.

    >>> from symdl import datasets, one_vs_rest
    >>> data = datasets.blobs()
    >>> params_list = one_vs_rest.fit("logistic_regression", data.x, data.y, 3)
    >>> labels = one_vs_rest.predict("logistic_regression", params_list, data.x)
"""

from __future__ import annotations

import numpy as np

from symdl import kernels, train, validate
from symdl.training import inputs
from symdl.errors import DataError, DerivationError


def fit(name, x, y, classes, **fit_kwargs) -> list[dict]:
    """Train one binary classifier NAME per class k = 0..classes−1 on the targets (y == k).

    `fit_kwargs` go to `symdl.train.fit` for every classifier (optimizer, learning_rate,
    epochs, ...); the classifiers are returned as their parameter dictionaries, in class order.
    """
    spec = binary_model(name).SPEC
    if isinstance(classes, bool) or not isinstance(classes, (int, np.integer)) or classes < 2:
        raise DataError(f"one-vs-rest needs a number of classes L >= 2, got {classes!r}")
    if len(inputs.input_specs(spec)) > 1:  # several data tensors, each checked by name
        x = inputs.model_inputs(spec, None, x, need_target=False).x
        _, labels = validate.training_data(x[0], y, task="classes", classes=int(classes))
    else:
        x, labels = validate.training_data(x, y, task="classes", classes=int(classes))
    return [train.fit(name, x, (labels == k).astype(np.float64), **fit_kwargs).params
            for k in range(classes)]


def scores(name, params_list, x) -> np.ndarray:
    """An m × L array: the output of classifier k for every sample, in column k."""
    module = binary_model(name)
    if not isinstance(params_list, (list, tuple)):
        raise DataError(f"one-vs-rest needs a list of classifiers (parameter dictionaries, as "
                        f"one_vs_rest.fit returns), not {type(params_list).__name__}")
    if len(params_list) < 2:
        raise DataError(f"one-vs-rest needs at least 2 classifiers, got {len(params_list)}")
    columns = []
    for params in params_list:
        checked = inputs.model_inputs(module.SPEC, params, x, need_target=False)
        columns.append(module.predict(*checked.params, *checked.inputs))
    return np.column_stack(columns)


def predict(name, params_list, x) -> np.ndarray:
    """The class whose one-vs-rest classifier scores highest (ties go to the lower class)."""
    return np.argmax(scores(name, params_list, x), axis=1)


def binary_model(name):
    """The generated kernels of NAME, refusing a model that is not a binary classifier."""
    module = kernels.load(name)
    target = module.SPEC["target"]
    if target is None or target[1] != "binary" or module.SPEC["features"] is None:
        raise DerivationError(f"{name} is not a binary classifier (target {target}); "
                              f"one-vs-rest needs one with labels in {{0, 1}}")
    return module
