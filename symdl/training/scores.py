"""What training reports beside J: accuracy for a classifier, mean squared error for a
regression, on the training data and on held-out data, and a class model's probabilities."""

from __future__ import annotations

import numpy as np

from symdl.training.inputs import input_arrays, kernel_data


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
    out = module.predict(*values, *input_arrays(x))
    kind = module.SPEC["target"][1]
    if kind == "binary":
        return {"accuracy": float(np.mean((out >= 0.5) == (y >= 0.5)))}
    if kind == "class":
        return {"accuracy": float(np.mean(np.argmax(out, axis=1) == y))}
    return {"mse": float(np.mean((out - y) ** 2))}


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
    found = {"val J": float(module.loss(*params, *kernel_data(x_val, y_val)))}
    found.update({f"val {k}": v for k, v in scores(module, params, x_val, y_val).items()})
    return found


def softmax(logits: np.ndarray) -> np.ndarray:
    """Each row of a class model's logits z as probabilities e^{z_c} / Σ e^{z_k} (002's
    softmax), the largest logit subtracted first so that no exponential overflows."""
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)
