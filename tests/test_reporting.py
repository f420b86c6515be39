"""Training that reports: the history and its metrics, the progress bar, callbacks, reprs."""

import fcntl
import io
import os
import pty
import struct
import subprocess
import sys
import termios

import numpy as np
import pytest

from symdl import callbacks, cli, datasets, saved, train
from symdl.errors import DataError, SymdlError


@pytest.fixture(scope="module")
def dots():
    return datasets.two_classes_with_bias()


@pytest.fixture(scope="module")
def held_out_dots():
    return datasets.two_classes_with_bias(seed=1)


class Terminal(io.StringIO):
    """A text stream that says it is a terminal, as sys.stderr does in a shell."""

    def isatty(self):
        return True


def fit_dots(dots, **settings):
    return train.fit("logistic_regression", dots.x, dots.y, learning_rate=0.005, **settings)


# ---- history and reprs -----------------------------------------------------------------------

def test_history_is_still_epoch_j_pairs_and_names_each_metric(dots):
    result = fit_dots(dots, epochs=20)
    assert [epoch for epoch, _ in result.history] == list(range(1, 21))
    assert result.history.metrics == {"J": [loss for _, loss in result.history]}


def test_validation_data_adds_val_metrics_every_epoch(dots, held_out_dots):
    result = fit_dots(dots, epochs=30, validation_data=(held_out_dots.x, held_out_dots.y))
    metrics = result.history.metrics
    assert set(metrics) == {"J", "accuracy", "val J", "val accuracy"}
    assert all(len(values) == 30 for values in metrics.values())
    assert metrics["val J"][-1] < metrics["val J"][0]
    final = train.metrics("logistic_regression", result.params, held_out_dots.x, held_out_dots.y)
    assert metrics["val accuracy"][-1] == final["train accuracy"] >= 0.9


def test_epoch_metrics_without_validation_data_and_mse_for_regressions():
    houses = datasets.houses()
    result = train.fit("multivariate_least_squares", houses.x, houses.y, learning_rate=0.002,
                       epochs=5, epoch_metrics=True)
    residual = houses.x @ result.params["theta"] - houses.y
    assert result.history.metrics["mse"][-1] == pytest.approx(np.mean(residual ** 2))
    assert result.history.metrics["J"][-1] == pytest.approx(np.sum(residual ** 2))


def test_result_repr_is_one_short_line(dots):
    result = train.train("logistic_regression")
    text = repr(result)
    assert len(result.history) == 3000
    assert text.startswith("Result(name='logistic_regression', epochs=3000, final J=")
    assert "'train accuracy': 0.97" in text and "\n" not in text and len(text) < 200


# ---- the progress bar ------------------------------------------------------------------------

def test_progress_bar_draws_on_a_terminal(dots, monkeypatch):
    pytest.importorskip("tqdm")
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    fit_dots(dots, epochs=40, progress=True)
    drawn = terminal.getvalue()
    assert "logistic_regression" in drawn and "40/40" in drawn and "100%" in drawn
    assert "J " in drawn  # the postfix: the latest J


def test_progress_bar_is_silent_off_a_terminal(dots, monkeypatch):
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    fit_dots(dots, epochs=40, progress=True)
    assert pipe.getvalue() == ""


def test_progress_bar_without_tqdm_is_one_plain_line_with_the_eta(dots, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm now raises ImportError
    terminal = Terminal()
    fit_dots(dots, epochs=40, callbacks=[callbacks.ProgressBar(stream=terminal)])
    drawn = terminal.getvalue()
    assert drawn.startswith("\rlogistic_regression") and drawn.endswith("\n")
    assert "40/40 epochs" in drawn and "100%" in drawn and "ETA 0 s" in drawn
    assert drawn.count("\n") == 1


def test_symdl_train_draws_a_bar_on_a_pseudo_terminal_and_none_in_a_pipe():
    pytest.importorskip("tqdm")
    command = [sys.executable, "-m", "symdl", "train", "logistic_regression", "--epochs", "50"]
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # 100 columns
    try:
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=follower, timeout=300)
        os.close(follower)
        follower = None
        drawn = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the other side is closed: everything has been read
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(leader)
        if follower is not None:
            os.close(follower)
    assert done.returncode == 0
    assert b"50/50" in drawn and b"epoch" in drawn
    piped = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert piped.returncode == 0 and "final J" in piped.stdout
    assert "50/50" not in piped.stderr and "\r" not in piped.stderr
    assert "epoch    50  J = " in piped.stdout  # in a pipe: a line every tenth of the epochs


def test_symdl_train_verbose_prints_metric_lines_and_quiet_prints_none(capsys):
    assert cli.main(["train", "logistic_regression", "--epochs", "20", "--verbose"]) == 0
    verbose = capsys.readouterr().out
    assert "epoch     1  J " in verbose and "epoch    20  J " in verbose
    assert "accuracy" in verbose.split("done in")[0]
    assert cli.main(["train", "logistic_regression", "--epochs", "20", "--quiet"]) == 0
    quiet = capsys.readouterr()
    assert "epoch" not in quiet.out + quiet.err and "final J" in quiet.out


# ---- early stopping --------------------------------------------------------------------------

def test_early_stopping_stops_after_patience_epochs_without_improvement(dots):
    stopper = callbacks.EarlyStopping(patience=4, min_delta=1e9)  # nothing counts as better
    result = fit_dots(dots, epochs=500, callbacks=[stopper])
    assert len(result.history) == 5 and stopper.best_epoch == 1 and stopper.stopped_epoch == 5
    after_one_epoch = fit_dots(dots, epochs=1)
    np.testing.assert_array_equal(result.params["theta"], after_one_epoch.params["theta"])


def test_early_stopping_on_validation_loss_keeps_the_best_epoch(dots, held_out_dots):
    stopper = callbacks.EarlyStopping(patience=5)
    result = train.fit("logistic_regression", dots.x, dots.y, learning_rate=0.02, epochs=3000,
                       validation_data=(held_out_dots.x, held_out_dots.y), callbacks=[stopper])
    val_losses = result.history.metrics["val J"]
    assert len(result.history) < 3000
    assert stopper.best_epoch == 1 + int(np.argmin(val_losses))
    assert len(result.history) == stopper.best_epoch + 5
    best = train.fit("logistic_regression", dots.x, dots.y, learning_rate=0.02,
                     epochs=stopper.best_epoch)
    np.testing.assert_array_equal(result.params["theta"], best.params["theta"])


def test_early_stopping_waits_while_the_loss_falls_and_stops_once_it_has_converged():
    houses = datasets.houses()
    slow = callbacks.EarlyStopping(patience=2)
    result = train.fit("multivariate_least_squares", houses.x, houses.y, learning_rate=1e-4,
                       epochs=50, callbacks=[slow])
    assert len(result.history) == 50 and slow.stopped_epoch is None
    converging = callbacks.EarlyStopping(patience=2)
    result = train.fit("multivariate_least_squares", houses.x, houses.y, learning_rate=0.002,
                       epochs=500, callbacks=[converging])
    exact = train.closed_form("multivariate_least_squares", houses.x, houses.y)["theta"]
    assert converging.stopped_epoch == len(result.history) < 500
    np.testing.assert_allclose(result.params["theta"], exact, rtol=1e-9)


def test_early_stopping_on_a_metric_training_does_not_record_says_so(dots):
    with pytest.raises(SymdlError, match="validation_data"):
        fit_dots(dots, epochs=5, callbacks=[callbacks.EarlyStopping(monitor="val accuracy")])
    with pytest.raises(DataError, match="patience"):
        callbacks.EarlyStopping(patience=0)


# ---- checkpoints -----------------------------------------------------------------------------

def test_checkpoint_every_k_epochs_reloads_and_training_continues_from_it(dots, tmp_path):
    path = tmp_path / "run.npz"
    saver = callbacks.Checkpoint(path, every=3)
    first = fit_dots(dots, epochs=7, callbacks=[saver], validation_data=(dots.x[:20], dots.y[:20]))
    assert saver.written_epochs == [3, 6, 7] and path.exists()
    checkpoint = saved.load(path)  # a checkpoint is a saved model, checked against the kernels
    assert checkpoint.name == "logistic_regression" and checkpoint.metrics["epoch"] == 7
    np.testing.assert_array_equal(checkpoint.params["theta"], first.params["theta"])
    assert [loss for _, loss in checkpoint.history] == [loss for _, loss in first.history]
    assert checkpoint.history.metrics == first.history.metrics  # "val J", "val accuracy", ...
    np.testing.assert_array_equal(train.predict(checkpoint, dots.x), train.predict(first, dots.x))
    continued = fit_dots(dots, epochs=5, params=checkpoint)
    straight = fit_dots(dots, epochs=12)
    np.testing.assert_allclose(continued.params["theta"], straight.params["theta"], rtol=1e-12)
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_a_failed_checkpoint_write_keeps_the_previous_one(dots, tmp_path, monkeypatch):
    path = tmp_path / "run.npz"
    fit_dots(dots, epochs=2, callbacks=[callbacks.Checkpoint(path)])
    before = path.read_bytes()

    def broken_savez(file, **arrays):
        file.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        fit_dots(dots, epochs=2, callbacks=[callbacks.Checkpoint(path)])
    assert path.read_bytes() == before and list(tmp_path.iterdir()) == [path]


def test_checkpoint_into_a_missing_folder_fails_before_training(dots, tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        fit_dots(dots, epochs=2, callbacks=[callbacks.Checkpoint(tmp_path / "no" / "run.npz")])
