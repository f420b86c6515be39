"""Bad input, faults and interruptions: each ends in a clear error or a correct result.

Every row of issue 8's table is here, and more: a case either raises a `SymdlError` whose
message names the problem (on the command line: exit code 1, the message, no traceback),
or gives the result the well-formed input gives.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from symdl import cli, datasets, kernels, one_vs_rest, sources, stamps, train
from symdl.errors import (DataError, DerivationError, DivergenceError, IllConditionedWarning,
                          SettingsError, SingularError, SymdlError)
from symdl.generate import files
from symdl.training.result import Result

RNG = np.random.default_rng(0)
X2 = RNG.standard_normal((20, 2))
Y2 = X2 @ np.array([1.0, -2.0]) + 0.5
DOTS = datasets.two_classes_with_bias()


def theta(n):
    return {"theta": np.ones(n)}


def predict(name, params, x):
    """train.predict with parameters given as a plain dictionary (or list, or a wrong type)."""
    return train.predict(Result(name, params), x)


# ---- Python: each call raises the SymdlError named, with a message matching ------------------

BAD_CALLS = {
    # parameters, data and sizes against the spec (no kernel reads past an array)
    "metrics: θ of 3 for x of 2 features": (
        lambda: train.metrics("multivariate_least_squares", theta(3), X2, Y2),
        DataError, r"x has 2 features per sample.*expects 3 features \(parameter theta"),
    "metrics: huge θ of the wrong length": (
        lambda: train.metrics("multivariate_least_squares", {"theta": np.full(3, 1e300)}, X2, Y2),
        DataError, "expects 3 features"),
    "predict: a parameter missing": (
        lambda: predict("mnist_mlp", {"W1": np.zeros((4, 2))}, X2),
        DataError, "parameter b1 is missing"),
    "predict: an unknown parameter": (
        lambda: predict("multivariate_least_squares", {"theta": np.ones(2), "w": 1}, X2),
        DataError, "no parameter 'w'.*theta"),
    "predict: params of the wrong length": (
        lambda: predict("mnist_mlp", [np.zeros((4, 2))], X2),
        DataError, "4 parameters.*1 were given"),
    "predict: params a string": (
        lambda: predict("multivariate_least_squares", "theta", X2),
        DataError, "dictionary"),
    "predict: a parameter with NaN": (
        lambda: predict("multivariate_least_squares", {"theta": np.array([1, np.nan])}, X2),
        DataError, "theta contains NaN"),
    "predict: a matrix parameter transposed": (
        lambda: predict("mnist_mlp", {"W1": np.zeros((2, 4)), "b1": np.zeros(4),
                                            "W2": np.zeros((3, 4)), "b2": np.zeros(3)}, X2),
        DataError, r"x has 2 features per sample.*expects 4 features \(parameter W1"),
    "mnist with sizes C=5: labels checked against 5, not 10": (
        lambda: train.fit("mnist_mlp", RNG.standard_normal((30, 4)), np.arange(30) % 10,
                          sizes={"H": 3, "C": 5}, epochs=1),
        DataError, r"labels in 0\.\.4"),
    "sizes disagree with the parameters": (
        lambda: train.fit("mnist_mlp", RNG.standard_normal((30, 4)), np.arange(30) % 3,
                          sizes={"H": 3, "C": 5},
                          params={"W1": np.zeros((3, 4)), "b1": np.zeros(3),
                                  "W2": np.zeros((3, 3)), "b2": np.zeros(3)}),
        DataError, "'C'.*sizes=\\{'C': 5\\}"),
    "sizes name a dimension the model lacks": (
        lambda: train.fit("mnist_mlp", RNG.standard_normal((30, 4)), np.arange(30) % 3,
                          sizes={"Q": 3}),
        DataError, "no dimension 'Q'.*C, H, n"),
    "sizes not positive": (
        lambda: train.fit("mnist_mlp", RNG.standard_normal((30, 4)), np.arange(30) % 3,
                          sizes={"H": 0, "C": 3}),
        DataError, "H=0 must be a positive integer"),
    "a hidden size unknown": (
        lambda: train.fit("mnist_mlp", RNG.standard_normal((30, 4)), np.arange(30) % 3),
        DataError, "size of dimension 'H' is not known"),
    "1-D x for a two-feature model": (
        lambda: train.fit("logistic_regression", np.ones(20), np.ones(20)),
        DataError, r"shape \(20,\).*2-D array.*reshape"),
    "3-D x": (
        lambda: train.fit("logistic_regression", np.ones((20, 2, 2)), np.ones(20)),
        DataError, r"shape \(20, 2, 2\)"),
    "2-D x for a one-number model": (
        lambda: train.fit("affine_mse", np.ones((20, 3)), np.ones(20)),
        DataError, "3 features per sample.*a single number"),
    "x of strings": (
        lambda: train.fit("affine_mse", ["a"] * 5, np.ones(5)), DataError, "real numbers"),
    "ragged x": (
        lambda: train.fit("logistic_regression", [[1, 2], [3]], [0, 1]),
        DataError, "cannot be read"),
    "targets missing": (
        lambda: train.fit("logistic_regression", DOTS.x, None), DataError, "needs targets"),
    "data for a model that takes none": (
        lambda: train.fit("paraboloid_gradient", X2, Y2), DataError, "takes no data"),
    "binary labels 0/2": (
        lambda: train.loss_and_gradient("logistic_regression", theta(3), DOTS.x, DOTS.y * 2),
        DataError, "targets 0 or 1"),
    "class labels 1.5": (
        lambda: train.fit("mnist_mlp", RNG.standard_normal((4, 3)), [0, 1.5, 1, 0],
                          sizes={"H": 2, "C": 2}),
        DataError, "integer labels"),
    "class labels negative": (
        lambda: train.fit("mnist_mlp", RNG.standard_normal((4, 3)), [0, -1, 1, 0],
                          sizes={"H": 2, "C": 2}),
        DataError, r"labels in 0, 1, 2, \.\.\., but y has 1 labels outside"),
    # settings: each error names what is accepted
    "epochs 0": (lambda: train.train("line_through_origin", epochs=0),
                 SettingsError, "epochs must be a whole number >= 1"),
    "epochs -5": (lambda: train.train("line_through_origin", epochs=-5),
                  SettingsError, "got -5"),
    "epochs 2.5": (lambda: train.train("line_through_origin", epochs=2.5),
                   SettingsError, "got 2.5"),
    "batch size 0": (lambda: train.train("logistic_regression", optimizer="sgd", batch_size=0),
                     SettingsError, "batch size must be a whole number >= 1"),
    "batch size -5": (lambda: train.train("logistic_regression", optimizer="sgd", batch_size=-5),
                      SettingsError, "got -5"),
    "step size 0": (lambda: train.train("line_through_origin", learning_rate=0),
                    SettingsError, "finite number > 0"),
    "step size NaN": (lambda: train.train("line_through_origin", learning_rate=float("nan")),
                      SettingsError, "finite number > 0"),
    "step size a string": (lambda: train.train("line_through_origin", learning_rate="0.1"),
                           SettingsError, "finite number > 0"),
    "optimizer adagrad": (lambda: train.train("logistic_regression", optimizer="adagrad"),
                          SymdlError, "choose one of gd, sgd, .*adam.*lbfgs, newton"),
    "optimizer a list": (lambda: train.fit("logistic_regression", DOTS.x, DOTS.y,
                                           optimizer=["gd"]),
                         SettingsError, "must be a name"),
    "init 'glorot' (a typo)": (lambda: train.train("logistic_regression", init="glorot"),
                               SettingsError, "normal, glorot_uniform"),
    "an unknown key in initial": (lambda: train.train("logistic_regression", initial={"w": 1}),
                                  SettingsError, "no parameter 'w'.*theta"),
    "init_scale negative": (lambda: train.train("logistic_regression", init_scale=-1),
                            SettingsError, "init_scale"),
    "an unknown setting": (lambda: train.train("logistic_regression", epoch=3),
                           SettingsError, "'epoch'.*epochs"),
    # divergence, caught long before inf
    "line_through_origin at step 0.001": (
        lambda: train.train("line_through_origin", learning_rate=0.001),
        DivergenceError, r"grown.*2/λ_max = 0\.000182"),
    "a network (no Hessian) at step 1e4": (
        lambda: train.fit("two_layer_network", DOTS.x, DOTS.y, sizes={"H": 4}, init_scale=1.0,
                          learning_rate=1e4, epochs=200),
        DivergenceError, r"grown.*step size 10000 is probably too large: try 1000"),
    "RMSprop at step 50, ending far above where it started": (
        lambda: train.fit("two_layer_network", DOTS.x, DOTS.y, sizes={"H": 4}, init_scale=1.0,
                          optimizer="rmsprop", learning_rate=50.0, epochs=200),
        DivergenceError, r"more than twice its starting value.*try 5 "),
    "divergence neither 'stop' nor 'warn'": (
        lambda: train.fit("two_layer_network", DOTS.x, DOTS.y, sizes={"H": 4}, divergence="off"),
        SettingsError, "'stop'.*'warn'"),
    # closed forms
    "closed form with every x equal": (
        lambda: train.closed_form("univariate_least_squares", np.full(10, 3.0), np.arange(10.0)),
        SingularError, "singular relative to its scale"),
    "closed form of a model without one": (
        lambda: train.closed_form("logistic_regression", DOTS.x, DOTS.y),
        DerivationError, "no closed form"),
    # one-vs-rest
    "one-vs-rest scores with the wrong feature count": (
        lambda: one_vs_rest.scores("logistic_regression", [theta(3), theta(3)], X2),
        DataError, "expects 3 features"),
    "one-vs-rest classifiers not a list": (
        lambda: one_vs_rest.scores("logistic_regression", theta(3), DOTS.x),
        DataError, "list of classifiers"),
    "one-vs-rest with classes=True": (
        lambda: one_vs_rest.fit("logistic_regression", DOTS.x, DOTS.y, True),
        DataError, "L >= 2"),
    # models that cannot be trained
    "train affine_collapse (a derivation, not a model)": (
        lambda: train.train("affine_collapse"), DerivationError, "not a model to train"),
    "train __init__": (lambda: train.train("__init__"), DerivationError, "no derivation named"),
}


@pytest.mark.parametrize("case", list(BAD_CALLS))
def test_bad_call_is_a_clear_error(case):
    call, error, message = BAD_CALLS[case]
    with pytest.raises(error, match=message):
        call()


def test_divergence_warn_goes_on_and_warns_once():
    """The RMSprop run above, asked to warn: it completes all its epochs with one warning,
    and a NaN still stops it."""
    from symdl.errors import DivergenceWarning
    with pytest.warns(DivergenceWarning, match="more than twice.*divergence='warn'") as caught:
        result = train.fit("two_layer_network", DOTS.x, DOTS.y, sizes={"H": 4}, init_scale=1.0,
                           optimizer="rmsprop", learning_rate=50.0, epochs=200,
                           divergence="warn")
    assert len(result.history) == 200
    assert sum(issubclass(w.category, DivergenceWarning) for w in caught) == 1


# ---- Python: what can be converted gives the result the well-formed input gives -------------

def test_one_d_x_for_a_one_feature_model_is_a_column():
    column = X2[:, :1]
    as_column = predict("multivariate_least_squares", {"theta": np.array([2.0])}, column)
    as_vector = predict("multivariate_least_squares", {"theta": np.array([2.0])}, X2[:, 0])
    np.testing.assert_array_equal(as_vector, as_column)
    np.testing.assert_allclose(as_column, 2.0 * X2[:, 0])


def test_float32_data_with_float64_parameters_is_computed_in_float64():
    wide = train.metrics("multivariate_least_squares", {"theta": np.array([1.0, -2.0])},
                         X2.astype(np.float32).astype(np.float64), Y2)
    mixed = train.metrics("multivariate_least_squares", {"theta": np.array([1.0, -2.0])},
                          X2.astype(np.float32), Y2)
    assert mixed == wide


def test_integer_parameters_and_data_are_converted():
    loss, grads = train.loss_and_gradient("multivariate_least_squares",
                                          {"theta": np.array([1, 0])}, np.array([[1, 2], [3, 4]]),
                                          np.array([1, 2]))
    expected = train.loss_and_gradient("multivariate_least_squares",
                                       {"theta": np.array([1.0, 0.0])},
                                       np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 2.0]))
    assert loss == expected[0]
    np.testing.assert_array_equal(grads["theta"], expected[1]["theta"])


def test_labels_are_checked_against_the_classes_in_use():
    x = RNG.standard_normal((30, 4))
    result = train.fit("mnist_mlp", x, np.arange(30) % 5, sizes={"H": 3, "C": 5}, epochs=2,
                       init="glorot_uniform", optimizer="rmsprop", learning_rate=1e-3)
    assert result.params["b2"].shape == (5,)
    assert predict("mnist_mlp", result.params, x).shape == (30, 5)


def test_badly_scaled_least_squares_is_solved():
    """003 §3.1: x in units of 1e5 is the same problem; its Hessian's eigenvalues are ≥ 13.8."""
    data = datasets.floor_areas()
    exact = train.closed_form("univariate_least_squares", data.x, data.y)
    scaled = train.closed_form("univariate_least_squares", data.x * 1e5, data.y)
    assert scaled["a"] == pytest.approx(exact["a"] / 1e5, rel=1e-9)
    assert scaled["b"] == pytest.approx(exact["b"], rel=1e-9)


def test_nearly_dependent_columns_warn_with_the_condition_number():
    x = np.linspace(0.0, 1.0, 50)
    houses = np.column_stack([x, x + 1e-6 * np.sin(7 * x), np.ones(50)])
    with pytest.warns(IllConditionedWarning, match="condition number"):
        solution = train.closed_form("multivariate_least_squares", houses, x)
    assert np.all(np.isfinite(solution["theta"]))


def test_verbose_output_says_when_the_step_is_near_the_bound():
    lines = []
    train.train("line_through_origin", learning_rate=0.00017, epochs=3, log=lines.append)
    assert any(re.search(r"near the bound 2/λ_max = 0\.000182", line) for line in lines)


def test_ctrl_c_in_fit_returns_what_was_learnt():
    """The first SIGINT stops training at the next step; the parameters so far come back."""
    def press_ctrl_c(line):
        if "epoch     1 " in line:
            os.kill(os.getpid(), signal.SIGINT)

    result = train.fit("logistic_regression", DOTS.x, DOTS.y, learning_rate=0.01, epochs=100000,
                       log=press_ctrl_c)
    assert result.interrupted and result.stopped_epoch == 1
    assert len(result.history) == 1
    assert np.any(result.params["theta"] != 0)
    start, _ = train.loss_and_gradient("logistic_regression", theta(3) | {"theta": np.zeros(3)},
                                       DOTS.x, DOTS.y)
    assert result.history[0][1] < start


# ---- the command line: exit code 1, one line naming the problem, no traceback ---------------

BAD_COMMANDS = {  # argv, what the message says, the exit code (2: argparse's usage errors)
    "train --epochs 0": (["train", "line_through_origin", "--epochs", "0"], "--epochs", 2),
    "train --epochs -5": (["train", "line_through_origin", "--epochs", "-5"], "--epochs", 2),
    "train --batch-size 0": (["train", "mnist_mlp", "--batch-size", "0"], "--batch-size", 2),
    "train --batch-size -5": (["train", "logistic_regression", "--optimizer", "sgd",
                               "--batch-size", "-5"], "--batch-size", 2),
    "train --lr -1": (["train", "line_through_origin", "--lr", "-1"], "--learning-rate", 2),
    "train --lr 0.001 diverges": (["train", "line_through_origin", "--lr", "0.001"],
                                  "2/λ_max", 1),
    "train affine_collapse": (["train", "affine_collapse"], "not a model to train", 1),
    "train __init__": (["train", "__init__"], "no derivation named", 1),
    "train a missing file": (["train", "no_such_model.py"], "does not exist", 1),
}


@pytest.mark.parametrize("case", list(BAD_COMMANDS))
def test_bad_command_exits_with_the_problem_and_no_traceback(case, capsys):
    argv, message, code = BAD_COMMANDS[case]
    try:
        status = cli.main(argv)
    except SystemExit as stop:  # argparse refuses a malformed option itself
        status = stop.code
    err = capsys.readouterr().err
    assert status == code
    assert message in err and "Traceback" not in err
    if code == 1:
        assert err.startswith("symdl: ")


# ---- generated files are trusted only when they are what the generator wrote ----------------

A_MODEL = '''"""A model of this test's own."""
from symdl.model import Model, Training

derivation = Model("own_line", title="A line", source="none", reduction="mean",
                   training=Training(dataset="floor_areas", learning_rate=1e-3, epochs=3))
x = derivation.data("x")
y = derivation.target("y")
w = derivation.param("w")
y_hat = derivation.let("y_hat", w * x)
derivation.loss((y - y_hat) ** 2)
derivation.output(y_hat)
'''


@pytest.fixture
def own_model(tmp_path):
    path = tmp_path / "own_line.py"
    path.write_text(A_MODEL)
    files.write([str(path)])
    return path


def builtin_copy(tmp_path, name="affine_mse"):
    """A built-in model's derivation and kernels copied, as a Source that is built in."""
    source = sources.resolve(name)
    shutil.copy(source.path, tmp_path / f"{name}.py")
    (tmp_path / "generated").mkdir(exist_ok=True)
    shutil.copy(source.kernel_path, tmp_path / "generated" / f"{name}.py")
    return sources.Source(name, tmp_path / f"{name}.py", tmp_path / "generated" / f"{name}.py",
                          builtin=True)


def test_a_hand_edited_builtin_kernel_is_refused(tmp_path):
    source = builtin_copy(tmp_path)
    text = source.kernel_path.read_text()
    source.kernel_path.write_text(text.replace("scale = 1.0 / m", "scale = 1e20 / m", 1))
    with pytest.raises(DerivationError, match="must not be edited by hand; regenerate it with `symdl generate`"):
        kernels.verify(source)


def test_a_derivation_changed_since_its_builtin_kernels_is_named(tmp_path):
    source = builtin_copy(tmp_path)
    source.path.write_text(source.path.read_text() + "\n# edited\n")
    with pytest.raises(DerivationError, match="derivations/affine_mse.py has changed since "
                                              "generated/affine_mse.py.*symdl generate"):
        kernels.verify(source)


def test_a_hand_edited_kernel_of_your_own_is_refused(own_model):
    kernel = own_model.parent / "generated" / "own_line.py"
    kernel.write_text(kernel.read_text().replace("CHUNK = 4096", "CHUNK = 4097"))
    with pytest.raises(DerivationError, match=f"symdl generate {own_model}"):
        kernels.load(str(own_model))


def test_your_own_derivation_edited_but_not_regenerated_is_named(own_model):
    own_model.write_text(A_MODEL.replace("w * x", "2 * w * x"))
    with pytest.raises(DerivationError, match=f"{own_model} has changed since .*own_line.py was "
                                              f"generated.*symdl generate {own_model}"):
        kernels.load(str(own_model))
    files.write([str(own_model)])
    assert kernels.load(str(own_model)).DERIVATION_SHA256 == stamps.file_hash(own_model)


def test_the_readme_model_trains_instead_of_saturating(tmp_path):
    """The README's tanh unit at its old step 0.05 saturated at the first step (J 11.8 → 47)."""
    from test_extending import NEW_MODEL
    path = tmp_path / "tanh_unit_for_test.py"
    path.write_text(NEW_MODEL)
    files.write([str(path)])
    data = datasets.floor_areas()
    with pytest.raises(DivergenceError, match="more than twice its starting value"):
        train.fit(str(path), data.x, data.y, learning_rate=0.05, epochs=200)
    result = train.train(str(path))  # J from 11.8 at w = b = 0 down to about 0.063
    assert result.metrics["final J"] < 0.1


def test_regeneration_is_byte_identical_and_verifies(own_model):
    kernel = own_model.parent / "generated" / "own_line.py"
    before = kernel.read_bytes()
    assert files.write([str(own_model)]) == []
    assert kernel.read_bytes() == before
    kernels.verify(sources.resolve(str(own_model)))


def test_a_failed_write_leaves_the_old_file_whole(own_model, monkeypatch):
    kernel = own_model.parent / "generated" / "own_line.py"
    before = kernel.read_text()
    own_model.write_text(A_MODEL.replace("w * x", "3 * w * x"))

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError):
        files.write([str(own_model)])
    assert kernel.read_text() == before
    assert sorted(p.name for p in kernel.parent.iterdir() if p.suffix != "") == ["own_line.py"]


def test_an_output_that_needs_the_target_is_refused_when_the_model_is_written(tmp_path):
    path = tmp_path / "cheat.py"
    path.write_text(A_MODEL.replace('"own_line"', '"cheat"').replace(
        "derivation.output(y_hat)", "residual = derivation.let('residual', y - y_hat)\n"
                                    "derivation.output(residual)"))
    with pytest.raises(DerivationError, match="output residual depends on the target y"):
        sources.load_derivation(str(path))


# ---- a broken derivation file stops only itself ---------------------------------------------

@pytest.fixture
def folder_with_a_broken_file(tmp_path):
    (tmp_path / "own_line.py").write_text(A_MODEL)
    (tmp_path / "broken_syntax.py").write_text("from symdl.model import Model\nderivation = (\n")
    (tmp_path / "broken_import.py").write_text("import numpy\nderivation = 1 / 0\n")
    return tmp_path


def test_list_shows_broken_files_and_the_others(folder_with_a_broken_file, capsys):
    assert cli.main(["list", str(folder_with_a_broken_file)]) == 1
    out = capsys.readouterr().out
    assert re.search(r"broken_syntax +BROKEN .*SyntaxError at line 2", out)
    assert re.search(r"broken_import +BROKEN .*ZeroDivisionError at line 2", out)
    assert re.search(r"own_line +model", out)


def test_generate_writes_the_others_and_exits_1(folder_with_a_broken_file, capsys):
    assert cli.main(["generate", str(folder_with_a_broken_file)]) == 1
    captured = capsys.readouterr()
    assert (folder_with_a_broken_file / "generated" / "own_line.py").exists()
    assert "skipped broken_syntax" in captured.err and "Traceback" not in captured.err
    assert cli.main(["generate", "--check", str(folder_with_a_broken_file)]) == 1
    assert "up to date (except the broken derivations)" in capsys.readouterr().out


def test_check_reports_the_broken_file_as_an_error_row(folder_with_a_broken_file):
    from symdl import check
    rows = check.run([str(folder_with_a_broken_file / "broken_syntax.py")])
    assert [(r.verdict, "SyntaxError" in r.evidence) for r in rows] == [("ERROR", True)]


# ---- Ctrl-C: exit 130, where it stopped, the parameters so far, no traceback -----------------

def test_ctrl_c_during_symdl_train_exits_130_without_a_traceback():
    process = subprocess.Popen(
        [sys.executable, "-m", "symdl", "train", "logistic_regression", "--epochs", "10000000"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        for line in process.stdout:
            if "epoch     1 " in line:
                break
        pressed = time.monotonic()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert time.monotonic() - pressed < 30  # a second at most on an idle machine
    assert process.returncode == 130, err
    assert "Traceback" not in err and "SystemError" not in err
    assert re.search(r"interrupted after epoch \d+", out)
    assert re.search(r"theta = \[[-0-9.e ]+\]", out)


def test_ctrl_c_during_generate_exits_130_and_writes_nothing_half(tmp_path, monkeypatch, capsys):
    path = tmp_path / "own_line.py"
    path.write_text(A_MODEL)

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(files, "render_module", interrupted)
    assert cli.main(["generate", str(path)]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert not (tmp_path / "generated" / "own_line.py").exists()


def test_every_case_is_counted():
    """The bad-input suite has at least 40 cases (issue 8)."""
    assert len(BAD_CALLS) + len(BAD_COMMANDS) >= 40


def test_a_loss_without_a_parameter_is_named_not_a_sympy_error(tmp_path):
    path = tmp_path / "no_parameter.py"
    path.write_text("from symdl.model import Model\n"
                    "derivation = Model('no_parameter', title='t', source='s')\n"
                    "x = derivation.data('x')\n"
                    "y = derivation.target('y')\n"
                    "derivation.loss((y - x) ** 2)\n")
    with pytest.raises(DerivationError, match="depends on no parameter.*derivation.param"):
        files.write([str(path)])
