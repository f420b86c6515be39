"""The `symdl` command's conventions: help for everything, exit 0 / 1 / 2, JSON, pipes.

Exit 1 is symdl's own error (a bad name, data or file), 2 a usage error (argparse); no error a
user can cause prints a traceback. Most cases call `cli.main(argv)` in this process; the pipe
and the console script run as subprocesses.
"""

import argparse
import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest

from symdl import check, cli, kernels, saved, sources, stamps, train
from symdl.version import __version__


def run(capsys, *argv):
    """(exit status, stdout, stderr) of `symdl ARGV`."""
    try:
        status = cli.main(list(argv))
    except SystemExit as done:
        status = done.code
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, out, err


def subcommands() -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in cli.parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_version(capsys):
    assert run(capsys, "--version") == (0, f"symdl {__version__}\n", "")


def test_help_lists_commands_models_datasets_examples_and_exit_codes(capsys):
    status, out, _ = run(capsys, "--help")
    assert status == 0
    for word in [*subcommands(), "mnist_mlp", "unit_square", "two_moons", "examples:",
                 "symdl predict mnist_mlp --params", "exit status", "2 a usage error"]:
        assert word in out


def test_every_argument_of_every_command_has_help():
    for name, sub in subcommands().items():
        for action in sub._actions:
            assert action.help, f"symdl {name}: {action.dest} has no help text"


def test_help_shows_defaults(capsys):
    status, out, _ = run(capsys, "train", "--help")
    assert status == 0 and "(default: the derivation's)" in out


@pytest.mark.parametrize("argv, message", [
    ([], "the following arguments are required: COMMAND"),
    (["fly"], "invalid choice: 'fly'"),
    (["train"], "the following arguments are required: NAME"),
    (["train", "logistic_regression", "--epochs", "-3"], "must be greater than 0, not -3"),
    (["train", "logistic_regression", "--epochs", "many"], "'many' is not a number"),
    (["train", "logistic_regression", "--learning-rate", "0"], "must be greater than 0"),
    (["train", "logistic_regression", "--lr", "nan"], "must be greater than 0, not nan"),
    (["train", "logistic_regression", "--optimizer", "adamw"], "invalid choice: 'adamw'"),
    (["train", "logistic_regression", "--batch-size", "0"], "must be greater than 0"),
    (["predict", "logistic_regression", "--data", "x.csv"], "required: --params"),
    (["check", "--no-such-option"], "unrecognized arguments"),
])
def test_usage_errors_exit_2_with_the_usage_line(capsys, argv, message):
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == ""
    assert err.startswith("usage: symdl") and message in err


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "line.npz"
    saved.save(train.train("univariate_least_squares", epochs=10), path)
    return path


def symdl_errors(tmp_path, model_file):
    """Every (argv, message) of an error symdl itself reports, exit 1."""
    (tmp_path / "bad.csv").write_text("1\ntwo\n")
    (tmp_path / "wide.csv").write_text("1,2\n3,4\n")
    (tmp_path / "a_file").write_text("")
    np.savez(tmp_path / "x.npz", x=np.arange(3.0))
    predict = ["predict", "univariate_least_squares", "--params"]
    return [
        (["train", "no_such_model"], "no derivation named 'no_such_model'"),
        (["derive", "no_such_model"], "no derivation named 'no_such_model'"),
        (["train", "univariate_least_squares", "--dataset", "nope"], "no built-in dataset"),
        (["check", "--out", "/nonexistent/x.md"], "the folder /nonexistent does not exist"),
        (["check", "--out", str(tmp_path)], "it is a folder"),
        (["train", "univariate_least_squares", "--save", "/nonexistent/m.npz"],
         "the folder /nonexistent does not exist"),
        (["all", "--latex-dir", str(tmp_path / "a_file")], "a_file: File exists"),
        ([*predict, str(tmp_path / "none.npz"), "--data", str(tmp_path / "x.npz")],
         "does not exist"),
        ([*predict, str(tmp_path / "x.npz"), "--data", str(tmp_path / "x.npz")],
         "not a model saved by symdl"),
        (["predict", "logistic_regression", "--params", str(model_file),
          "--data", str(tmp_path / "x.npz")], "holds a trained 'univariate_least_squares'"),
        ([*predict, str(model_file), "--data", str(tmp_path / "none.csv")], "does not exist"),
        ([*predict, str(model_file), "--data", str(tmp_path / "bad.csv")], "must be a number"),
        ([*predict, str(model_file), "--data", str(tmp_path / "wide.csv")],
         "2 features per sample"),
        ([*predict, str(model_file), "--data", str(tmp_path / "x.npz"),
          "--out", "/nonexistent/p.csv"], "the folder /nonexistent does not exist"),
        # --params and --data swapped: neither np.load's advice to allow pickles nor a list of
        # the saved model's entries as if it were data
        ([*predict, str(tmp_path / "wide.csv"), "--data", str(model_file)],
         "wide.csv is not a model saved by symdl (it is not an .npz archive)"),
        ([*predict, str(model_file), "--data", str(model_file)],
         "line.npz is a saved model, not data"),
        (["train", "univariate_least_squares", "--data", str(model_file)],
         "line.npz is a saved model, not data"),
    ]


def test_symdl_errors_exit_1_with_one_line_and_no_traceback(capsys, tmp_path, model_file):
    for argv, message in symdl_errors(tmp_path, model_file):
        status, out, err = run(capsys, *argv)
        assert status == 1, argv
        assert err.startswith("symdl: ") and message in err, (argv, err)
        assert err.count("\n") == 1, (argv, err)


def test_kernels_that_changed_since_saving_exit_1(capsys, tmp_path, model_file, monkeypatch):
    np.savez(tmp_path / "x.npz", x=np.arange(3.0))
    module = kernels.load("univariate_least_squares")
    monkeypatch.setattr(module, "GENERATOR_SHA256", "f" * 16)
    monkeypatch.setattr(stamps, "code_hash", lambda text: "f" * 16)  # and the code with it
    status, _, err = run(capsys, "predict", "univariate_least_squares", "--params",
                         str(model_file), "--data", str(tmp_path / "x.npz"))
    assert status == 1
    assert "the generator changed" in err and "symdl train univariate_least_squares --save" in err


def test_train_save_then_predict_to_stdout_and_to_files(capsys, tmp_path):
    path = tmp_path / "line.npz"
    status, out, _ = run(capsys, "train", "univariate_least_squares", "--epochs", "20",
                         "--save", str(path))
    assert status == 0 and f"saved to {path}" in out
    (tmp_path / "area.csv").write_text("area\n10\n20.5\n")
    status, out, _ = run(capsys, "predict", "univariate_least_squares", "--params", str(path),
                         "--data", str(tmp_path / "area.csv"))
    assert status == 0
    model = saved.load(path)
    a, b = model.params["a"], model.params["b"]
    header, *rows = out.splitlines()
    assert header == "y_hat"
    np.testing.assert_allclose([float(r) for r in rows], [a * 10 + b, a * 20.5 + b], rtol=1e-12)
    for out_file in ("p.csv", "p.npz"):
        status, _, _ = run(capsys, "predict", "univariate_least_squares", "--params", str(path),
                           "--data", str(tmp_path / "area.csv"), "--out", str(tmp_path / out_file))
        assert status == 0
    assert (tmp_path / "p.csv").read_text() == out
    with np.load(tmp_path / "p.npz") as written:
        np.testing.assert_allclose(written["y_hat"], [a * 10 + b, a * 20.5 + b], rtol=1e-12)


def test_train_json_is_the_only_thing_on_stdout(capsys):
    status, out, err = run(capsys, "train", "univariate_least_squares", "--epochs", "4", "--json")
    assert status == 0
    result = json.loads(out)
    assert result["model"] == "univariate_least_squares"
    assert [epoch for epoch, _ in result["history"]] == [1, 2, 3, 4]
    assert result["settings"]["epochs"] == 4 and set(result["params"]) == {"a", "b"}
    assert "max |p − closed form|" in result["metrics"]
    assert "Training univariate_least_squares" in err and "epoch" in err
    status, out, _ = run(capsys, "train", "univariate_least_squares", "--epochs", "4", "--json",
                         "--verbose")
    epochs = json.loads(out)["epoch_metrics"]
    assert status == 0 and len(epochs["J"]) == len(epochs["mse"]) == 4


def test_check_json_serialises_every_field_of_a_row(capsys):
    status, out, _ = run(capsys, "check", "paraboloid_gradient", "--json")
    report = json.loads(out)
    # every field but `value`, the SymPy object or array a handout prints beside the claim
    fields = {f.name for f in dataclasses.fields(check.Row)} - {"value"}
    assert report["rows"] and all(set(row) == fields for row in report["rows"])
    assert report["failures"] == 0 and status == 0


@pytest.fixture
def two_models(monkeypatch):
    """`symdl all` over two quick models, so that the test does not train all of them."""
    monkeypatch.setattr(sources, "builtin_names",
                        lambda: ["paraboloid_gradient", "univariate_least_squares"])


def test_all_summary_escapes_pipes_in_its_markdown(capsys, two_models):
    status, out, _ = run(capsys, "all")
    assert status == 0
    rows = [line for line in out.splitlines() if line.startswith("| univariate")]
    assert len(rows) == 1 and r"max \|p − closed form\|" in rows[0]
    cells = rows[0].replace(r"\|", "").split("|")
    assert len(cells) == 8 + 2  # eight columns between the outer pipes


def test_all_json(capsys, two_models):
    status, out, err = run(capsys, "all", "--json")
    assert status == 0
    report = json.loads(out)
    assert [m["model"] for m in report["models"]] == ["paraboloid_gradient",
                                                      "univariate_least_squares"]
    assert report["models"][1]["dataset"] == "floor_areas" and "3. train" in err


def test_markdown_row_escapes_pipes():
    assert cli.markdown_row(["a|b", "c"]) == r"| a\|b | c |"


def test_a_closed_pipe_ends_quietly():
    """`symdl list | head -1`: the reader goes away; no BrokenPipeError traceback."""
    process = subprocess.Popen([sys.executable, "-m", "symdl", "list"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    process.stdout.close()
    err = process.stderr.read()
    assert process.wait(timeout=300) == 1  # what Python's docs do on a broken pipe
    assert err == b""


def test_the_console_script_maps_symdl_errors_to_exit_1():
    done = subprocess.run([sys.executable, "-m", "symdl", "derive", "no_such_model"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and done.stderr.startswith("symdl: no derivation named")
    assert "Traceback" not in done.stderr


# ---- symdl train --weights with a .csv or .npz file ------------------------------------------

@pytest.fixture
def weighted_rows():
    """Noisy logistic data (so the minimum is unique) and integer weights 0..3."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, 3))
    y = (x @ np.array([1.0, -1.0, 0.5]) + rng.standard_normal(60) > 0).astype(float)
    return x, y, rng.integers(0, 4, 60).astype(float)


def write_csv(path, columns: dict):
    np.savetxt(path, np.column_stack(list(columns.values())), delimiter=",",
               header=",".join(columns), comments="")
    return str(path)


def trained(capsys, *argv):
    status, out, err = run(capsys, "train", "logistic_regression", "--optimizer", "lbfgs",
                           "--epochs", "100", "--tol", "1e-10", "--json", *argv)
    assert status == 0, err
    return json.loads(out)


def test_weights_from_a_csv_column_or_npz_array_weigh_the_rows(capsys, tmp_path, weighted_rows):
    """`symdl train MODEL --data FILE --weights w`: the column w (not a feature) or the array
    w trains what train.fit(sample_weight=w) trains on the same arrays, with the settings the
    command uses (the derivation's, with the options on top)."""
    from symdl.training import inputs
    x, y, w = weighted_rows
    csv = write_csv(tmp_path / "d.csv", {"a": x[:, 0], "w": w, "b": x[:, 1], "c": x[:, 2], "y": y})
    np.savez(tmp_path / "d.npz", x=x, y=y, w=w)
    settings = {**kernels.load("logistic_regression").SPEC["training"], "optimizer": "lbfgs",
                "epochs": 100, "tol": 1e-10}
    settings.pop("dataset")
    expected = train.fit("logistic_regression", inputs.with_bias_column(x), y, sample_weight=w,
                         **settings)
    unweighted = train.fit("logistic_regression", inputs.with_bias_column(x), y, **settings)
    for data in (csv, str(tmp_path / "d.npz")):
        result = trained(capsys, "--data", data, "--weights", "w")
        assert result["settings"]["sample_weight"] is True
        np.testing.assert_allclose(result["params"]["theta"], expected.params["theta"],
                                   rtol=0, atol=1e-12)
        assert np.max(np.abs(expected.params["theta"] - unweighted.params["theta"])) > 0.01


def test_integer_weights_from_a_csv_are_repeated_rows(capsys, tmp_path, weighted_rows):
    x, y, w = weighted_rows
    repeat = w.astype(int)
    weighted = trained(capsys, "--data", write_csv(
        tmp_path / "w.csv", {"a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "y": y, "w": w}),
        "--weights", "w")
    repeated = trained(capsys, "--data", write_csv(
        tmp_path / "r.csv", {"a": np.repeat(x[:, 0], repeat), "b": np.repeat(x[:, 1], repeat),
                             "c": np.repeat(x[:, 2], repeat), "y": np.repeat(y, repeat)}))
    np.testing.assert_allclose(weighted["params"]["theta"], repeated["params"]["theta"],
                               rtol=0, atol=1e-7)


def test_held_out_data_may_carry_the_weights_column(capsys, tmp_path, weighted_rows):
    """--test-data with the same weights column (a split of one weighted file) or without it:
    the column is no feature there either, and the test metrics are the plain ones."""
    x, y, w = weighted_rows
    columns = {"a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "y": y}
    train_file = write_csv(tmp_path / "t.csv", {**columns, "w": w})
    accuracies = []
    for name, extra in [("with.csv", {"w": w}), ("without.csv", {})]:
        result = trained(capsys, "--data", train_file, "--weights", "w", "--test-data",
                         write_csv(tmp_path / name, {**columns, **extra}))
        accuracies.append(result["metrics"]["test accuracy"])
    assert accuracies[0] == accuracies[1]


@pytest.mark.parametrize("file, weights, message", [
    ("d.csv", "q", "no column 'q' for --weights; the columns are a, b, c, y, w"),
    ("d.npz", "q", "reads arrays named x, y, and --weights the array q; the file holds w, x, y"),
    ("d.csv", "y", "--weights y is the target column too"),
    ("d.npz", "y", "--weights y names the model's tensor y"),
    ("bare.csv", "w", "no column 'w' for --weights; the columns are 0..4 (the file has no header"),
    ("negative.csv", "w", "the --weights column 'w': sample_weight holds a negative weight"),
    ("nan.npz", "w", "the --weights array 'w': sample_weight contains 16 NaN"),
    ("short.npz", "w", "there are 60 samples: give one weight per sample"),
    ("zero.csv", "w", "sample_weight is 0 for every sample"),
])
def test_weights_that_cannot_be_used_are_named(capsys, tmp_path, weighted_rows, file, weights,
                                               message):
    x, y, w = weighted_rows
    columns = {"a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "y": y}
    write_csv(tmp_path / "d.csv", {**columns, "w": w})
    np.savez(tmp_path / "d.npz", x=x, y=y, w=w)
    np.savetxt(tmp_path / "bare.csv", np.column_stack([*columns.values(), w]), delimiter=",")
    write_csv(tmp_path / "negative.csv", {**columns, "w": w - 1})
    write_csv(tmp_path / "zero.csv", {**columns, "w": 0 * w})
    np.savez(tmp_path / "nan.npz", x=x, y=y, w=np.where(w > 2, np.nan, w))
    np.savez(tmp_path / "short.npz", x=x, y=y, w=w[:-1])
    status, _, err = run(capsys, "train", "logistic_regression", "--data", str(tmp_path / file),
                         "--weights", weights)
    assert status == 1
    assert message in err


def test_weights_without_data_say_where_they_come_from(capsys):
    status, _, err = run(capsys, "train", "logistic_regression", "--weights", "w")
    assert status == 1 and "--weights names the sample weights in your data: give --data" in err
