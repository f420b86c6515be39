"""What happens between epochs: a progress bar, log lines, early stopping, checkpoints.

The training engine (`symdl.training.engine`) runs each epoch's updates, records the epoch's
J (and, when asked, its metrics) in the run's `History`, then calls `on_epoch_end(run)` of
every callback with the `Run` (both in `symdl.training.result`); a callback stops training by
setting ``run.stop = True`` and may replace ``run.params`` when training ends (early stopping
restores the best parameters that way).

    >>> from symdl import callbacks, train
    >>> result = train.fit("logistic_regression", x, y, epochs=5000,
    ...                    validation_data=(x_val, y_val),
    ...                    callbacks=[callbacks.EarlyStopping(patience=20),
    ...                               callbacks.Checkpoint("run.npz", every=100)])
    >>> result.history.metrics["val accuracy"][-1]
    >>> saved.load("run.npz")                     # the last checkpoint, a saved model

Nothing here imports SymPy, and tqdm (the `progress` extra) only when a bar is drawn.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from symdl import saved
from symdl.errors import DataError, SymdlError
from symdl.training.result import Run


class Callback:
    """Override any of the three; each receives the `Run`."""

    def on_train_begin(self, run: Run) -> None:
        pass

    def on_epoch_end(self, run: Run) -> None:
        pass

    def on_train_end(self, run: Run) -> None:
        pass


def formatted(values: dict) -> str:
    """'J 0.3812  val J 0.4011  val accuracy 0.91': a line of metrics, short."""
    return "  ".join(f"{key} {value:.4g}" for key, value in values.items())


# ---- telling the user how it goes ------------------------------------------------------------

def progress_callbacks(progress: bool, log=None, log_every=None) -> list:
    """The callbacks that tell the user how training goes: a bar, lines through `log`, or none."""
    found: list[Callback] = [ProgressBar()] if progress else []
    return found + ([LogLines(log, log_every)] if log else [])


def is_terminal(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


class ProgressBar(Callback):
    """A progress bar with the ETA, drawn only when `stream` (stderr) is a terminal.

    With tqdm installed (``pip install "symdl[progress]"``) it is a tqdm bar; without it, one
    plain line redrawn at most ten times a second. In a pipe, a file or a notebook's captured
    output it draws nothing, so logs hold no control characters.
    """

    def __init__(self, stream=None):
        self.stream = stream
        self.bar = None

    def on_train_begin(self, run):
        stream = self.stream or sys.stderr
        if not is_terminal(stream):
            return
        try:
            from tqdm import tqdm
        except ImportError:
            self.bar = PlainBar(run.epochs, run.name, stream)
        else:
            self.bar = tqdm(total=run.epochs, desc=run.name, unit="epoch", file=stream,
                            dynamic_ncols=True)

    def on_epoch_end(self, run):
        if self.bar is not None:
            self.bar.set_postfix_str(formatted(run.history.latest()), refresh=False)
            self.bar.update(1)

    def on_train_end(self, run):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class PlainBar:
    """The fallback without tqdm: 'name  120/3000 epochs  4%  J 0.31  ETA 12 s' on one line."""

    def __init__(self, total, name, stream, interval=0.1):
        self.total, self.name, self.stream, self.interval = total, name, stream, interval
        self.done, self.postfix = 0, ""
        self.started = self.drawn = time.perf_counter()

    def set_postfix_str(self, text, refresh=False):
        self.postfix = text

    def update(self, n=1):
        self.done += n
        now = time.perf_counter()
        if now - self.drawn >= self.interval or self.done == self.total:
            self.drawn = now
            self.draw(now)

    def draw(self, now):
        rate = (now - self.started) / max(self.done, 1)
        eta = rate * (self.total - self.done)
        self.stream.write(f"\r{self.name}  {self.done}/{self.total} epochs  "
                          f"{100 * self.done // max(self.total, 1):>3}%  {self.postfix}  "
                          f"ETA {eta:.0f} s\033[K")
        self.stream.flush()

    def close(self):
        self.draw(time.perf_counter())
        self.stream.write("\n")
        self.stream.flush()


class LogLines(Callback):
    """One line per `every` epochs (and the first and last) through `log`, e.g. print."""

    def __init__(self, log, every=None):
        self.log, self.every = log, every

    def on_epoch_end(self, run):
        every = self.every or max(1, run.epochs // 10)
        if run.epoch % every == 0 or run.epoch in (1, run.epochs):
            others = run.history.latest()
            loss = others.pop("J")
            self.log(f"  epoch {run.epoch:>5}  J = {loss:.6g}  {formatted(others)}".rstrip())


# ---- early stopping --------------------------------------------------------------------------

class EarlyStopping(Callback):
    """Stop when `monitor` has not improved by more than `min_delta` for `patience` epochs.

    `monitor` defaults to "val J" when validation data is given, else "J"; names containing
    "accuracy" improve upwards, every other one downwards. With `restore_best` the result
    carries the parameters of the best epoch (`best_epoch`), not those of the last one.
    """

    def __init__(self, monitor=None, patience=10, min_delta=0.0, restore_best=True):
        if patience < 1:
            raise DataError(f"EarlyStopping needs patience >= 1 epoch, not {patience}")
        if min_delta < 0:
            raise DataError(f"EarlyStopping needs min_delta >= 0, not {min_delta}")
        self.monitor, self.patience = monitor, patience
        self.min_delta, self.restore_best = min_delta, restore_best

    def on_train_begin(self, run):
        self.best = self.best_epoch = self.best_params = self.stopped_epoch = None
        self.waited = 0

    def on_epoch_end(self, run):
        latest = run.history.latest()
        monitor = self.monitor or ("val J" if "val J" in latest else "J")
        if monitor not in latest:
            raise SymdlError(f"EarlyStopping monitors {monitor!r}, which training does not "
                             f"record (it records {', '.join(latest)}); pass validation_data "
                             f"for the 'val ...' names, or epoch_metrics=True for the others")
        value = latest[monitor] if "accuracy" not in monitor else -latest[monitor]
        if self.best is None or value < self.best - self.min_delta:
            self.best, self.best_epoch, self.waited = value, run.epoch, 0
            if self.restore_best:
                self.best_params = [np.copy(p) if isinstance(p, np.ndarray) else p
                                    for p in run.params]
            return
        self.waited += 1
        if self.waited >= self.patience:
            run.stop, self.stopped_epoch = True, run.epoch

    def on_train_end(self, run):
        if self.restore_best and self.best_params is not None and self.best_epoch != run.epoch:
            run.params = self.best_params


# ---- checkpoints -----------------------------------------------------------------------------

class Checkpoint(Callback):
    """Every `every` epochs, and when training ends without an error, save the model to `path`.

    A checkpoint is a saved model (`symdl.saved`): `saved.load(path)` reads it back, checked
    against the kernels, `fit(..., params=saved.load(path))` trains on from it, and
    `symdl predict MODEL --params path` predicts with it. `saved.save` writes beside the final
    name and then moves the file there, so a crash or Ctrl-C during a write leaves the
    previous checkpoint whole.
    """

    def __init__(self, path: str | Path, every: int = 1) -> None:
        if every < 1:
            raise DataError(f"Checkpoint needs every >= 1 epoch, not {every}")
        self.path, self.every = Path(path), every
        self.written_epochs: list[int] = []

    def on_train_begin(self, run):
        if not self.path.parent.is_dir():
            raise DataError(f"cannot write the checkpoint {self.path}: the folder "
                            f"{self.path.parent} does not exist")

    def on_epoch_end(self, run):
        if run.epoch % self.every == 0:
            self.write(run)

    def on_train_end(self, run):
        if run.finished and self.written_epochs[-1:] != [run.epoch]:
            self.write(run)

    def write(self, run):
        saved.save(run.result({"epoch": run.epoch}), self.path)
        self.written_epochs.append(run.epoch)
