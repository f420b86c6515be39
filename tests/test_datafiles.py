"""The user's own data on the command line: `symdl train MODEL --data FILE [--test-data FILE]`."""

import subprocess
import sys

import numpy as np
import pytest

from symdl import datafiles, kernels, train
from symdl.errors import DataError

SPEC = kernels.load("logistic_regression").SPEC  # data tensor "x" (n features), target "y"


@pytest.fixture
def samples():
    rng = np.random.default_rng(0)
    x = np.column_stack([np.ones(60), rng.normal(size=(60, 2))])
    y = (x[:, 1] + x[:, 2] > 0).astype(float)
    return x, y


def test_npz_arrays_are_read_by_the_model_tensor_names(tmp_path, samples):
    np.savez(tmp_path / "d.npz", x=samples[0], y=samples[1])
    x, y = datafiles.load(tmp_path / "d.npz", SPEC)
    assert np.array_equal(x, samples[0]) and np.array_equal(y, samples[1])


def test_csv_with_a_header_takes_the_target_by_name_or_number(tmp_path, samples):
    x, y = samples
    path = tmp_path / "d.csv"
    np.savetxt(path, np.column_stack([y, x]), delimiter=",", header="y,one,a,b", comments="")
    for column in (None, "y", "0"):  # None: the column named after the model's target
        got_x, got_y = datafiles.load(path, SPEC, column)
        assert np.array_equal(got_y, y) and np.allclose(got_x, x)


def test_csv_without_a_header_takes_the_last_column(tmp_path, samples):
    x, y = samples
    path = tmp_path / "d.csv"
    np.savetxt(path, np.column_stack([x, y]), delimiter=",")
    got_x, got_y = datafiles.load(path, SPEC)
    assert np.allclose(got_x, x) and np.array_equal(got_y, y)


def truncated_npz(folder):
    np.savez(folder / "whole.npz", x=np.ones((3, 3)), y=np.ones(3))
    (folder / "d.npz").write_bytes((folder / "whole.npz").read_bytes()[:200])  # a cut download
    (folder / "whole.npz").unlink()


@pytest.mark.parametrize("write, message", [
    (lambda p: np.savez(p / "d.npz", x=np.ones((3, 3))), "missing: y"),
    (lambda p: np.savez(p / "d.npz", x=np.ones((3, 3)), y=np.ones(3), w=np.ones(3)), "not used: w"),
    (lambda p: (p / "d.npz").write_text("not a zip"), r"not a readable .npz file \(it is not a zip"),
    (truncated_npz, "not a readable .npz"),
    (lambda p: (p / "d.csv").write_bytes(b"\xff\xfe\x001,2\n"), "not a text CSV file"),
    (lambda p: (p / "d.csv").write_text("1,2,3\n4,5\n"), "line 2: 2 columns"),
    (lambda p: (p / "d.csv").write_text("a,b\n1,x\n"), "must be a number"),
    (lambda p: (p / "d.csv").write_text("a,b\n"), "no samples"),
    (lambda p: (p / "d.csv").write_text(""), "no rows"),
    (lambda p: (p / "d.csv").write_text("a,b,y\n1,2,0\n"), "no column 'q'"),
    (lambda p: (p / "d.txt").write_text("1,2\n"), "unknown data format"),
])
def test_bad_data_files_are_clear_errors(tmp_path, write, message):
    write(tmp_path)
    (path,) = list(tmp_path.iterdir())
    with pytest.raises(DataError, match=message):
        datafiles.load(path, SPEC, "q" if "no column" in message else None)


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        datafiles.load(tmp_path / "nothing.npz", SPEC)


def test_train_with_data_and_test_data_reports_held_out_metrics(tmp_path, samples):
    x, y = samples
    np.savez(tmp_path / "train.npz", x=x[:40], y=y[:40])
    np.savetxt(tmp_path / "test.csv", np.column_stack([x[40:], y[40:]]), delimiter=",")
    done = subprocess.run([sys.executable, "-m", "symdl", "train", "logistic_regression",
                           "--data", "train.npz", "--test-data", "test.csv", "--epochs", "30"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "train accuracy" in done.stdout and "test accuracy" in done.stdout
    # --data without --lr takes the step from the curvature on that data (issue 18)
    result = train.train("logistic_regression", data=(x[:40], y[:40]),
                         test_data=(x[40:], y[40:]), epochs=30, learning_rate="auto")
    reported = float(done.stdout.split("test accuracy:")[1].split()[0])
    assert reported == pytest.approx(result.metrics["test accuracy"], abs=1e-6)


@pytest.mark.parametrize("header", ["", "one,a,b,y\n"])
def test_a_byte_order_mark_keeps_every_sample(tmp_path, samples, header):
    """Excel's "CSV UTF-8" starts with a byte-order mark; the first sample was taken for a
    header (its first cell read as text), and the data lost a row without a word."""
    x, y = samples
    lines = "".join(",".join(repr(float(v)) for v in row) + "\n" for row in np.column_stack([x, y]))
    path = tmp_path / "d.csv"
    path.write_text(header + lines, encoding="utf-8-sig")
    got_x, got_y = datafiles.load(path, SPEC)
    assert len(got_x) == len(x) == 60
    assert np.allclose(got_x, x) and np.array_equal(got_y, y)


def test_line_numbers_count_the_blank_lines(tmp_path):
    (tmp_path / "d.csv").write_text("a,b,y\n\n1,2,0\n\n\n3,4\n")
    with pytest.raises(DataError, match=r"line 6: 2 columns"):
        datafiles.load(tmp_path / "d.csv", SPEC)
