"""What a training run produces: the `Result`, its `History`, and the `Run` callbacks see.

`symdl.train.fit` returns a `Result`; `symdl.saved` writes one to a file and reads it back;
after each epoch the engine hands a `Run` to every callback (`symdl.callbacks`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from html import escape

import numpy as np

from symdl.errors import DataError


STOP_REASONS = {
    "gradient": "max |∂J/∂p| ≤ tol",
    "loss": "J improved by less than tol × |J| in 10 epochs in a row",
    "ftol": "J's relative decrease in an iteration fell below L-BFGS-B's ftol (SciPy's own test)",
    "no progress": "no step lowers J any more (the minimum, to rounding)",
    "epochs": "the budget of epochs ended first",
    "callback": "a callback stopped it (early stopping)",
    "interrupted": "Ctrl-C stopped it",
}
"""Why a training run ended (`Result.stop_reason`), with the words `symdl train` prints."""

CONVERGED = ("gradient", "loss", "ftol", "no progress")
"""The reasons that mean training converged (`Result.converged`)."""


class History(list):
    """The (epoch, J) pairs of a training run, plus every per-epoch metric by name.

    It is the list of pairs it always was (``for epoch, J in result.history``), and
    ``history.metrics`` maps each recorded name ("J", "accuracy", "val J", "val accuracy",
    "mse", ...) to its values, one per epoch, ready for plotting.
    """

    def __init__(self, pairs=()) -> None:
        super().__init__(pairs)
        self.metrics: dict[str, list[float]] = {}

    def record(self, epoch: int, values: dict) -> None:
        """Append one epoch: its J as a pair, and every value under its name."""
        self.append((epoch, values["J"]))
        for key, value in values.items():
            self.metrics.setdefault(key, []).append(value)

    def latest(self) -> dict:
        """The last epoch's metrics, by name."""
        return {key: values[-1] for key, values in self.metrics.items() if values}


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
    stop_reason: str = ""  # why training ended: a key of STOP_REASONS ("" for older files)
    # a first-order rule's object as training left it (its state: momentum's velocity, Adam's
    # moments), for a run that goes on from here (partial_fit); None for L-BFGS and Newton
    optimizer: object = field(default=None, repr=False, compare=False)

    @property
    def n_iter(self) -> int:
        """The epochs (iterations) training ran: the last epoch the history records."""
        return int(self.history[-1][0]) if self.history else 0

    @property
    def converged(self) -> bool:
        """Whether a stopping test ended training, rather than its budget, a callback or Ctrl-C."""
        return self.stop_reason in CONVERGED

    def __repr__(self):
        final = f"{self.history[-1][1]:.6g}" if self.history else "none"
        shown = ", ".join(f"{k!r}: {v:.4g}" if isinstance(v, float) else f"{k!r}: {v!r}"
                          for k, v in self.metrics.items())
        return (f"Result(name={self.name!r}, epochs={len(self.history)}, final J={final}, "
                f"metrics={{{shown}}})")

    def _repr_html_(self):
        """A notebook's view: the metrics, the small parameters and the loss at a few epochs."""
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


@dataclass
class Run:
    """A training run as the callbacks see it after each epoch."""

    name: str
    epochs: int  # as planned; fewer when a callback stops early
    param_names: list
    params: list  # the current values in SPEC order (the optimizers update arrays in place)
    history: History
    model: str = ""  # how the user names the model: a built-in name or a derivation's path
    settings: dict = field(default_factory=dict)  # the training settings, as saved models keep them
    epoch: int = 0
    stop: bool = False  # set by a callback to end training after this epoch
    finished: bool = False  # False in on_train_end when an error ended training
    started: float = field(default_factory=time.perf_counter)

    def named_params(self) -> dict:
        return dict(zip(self.param_names, self.params))

    def result(self, metrics: dict | None = None) -> Result:
        """The run so far as a Result (a checkpoint writes one; the engine returns one)."""
        return Result(self.name, self.named_params(), self.history, dict(metrics or {}),
                      time.perf_counter() - self.started, settings=dict(self.settings),
                      model=self.model)
