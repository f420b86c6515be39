"""A user adds a model by writing one file in derivations/, and gets everything else.

The model here is in none of the documents: a tanh unit fitted by least squares. The test
writes the file, then uses only the public commands, as the README describes.
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import symdl.derivations
from symdl import saved, sources

NEW_MODEL = '''"""A tanh unit fitted by least squares: a model that is not in the documents.

Source: none of the documents; it combines 000/002 "Mean Squared Error" with a tanh activation.
"""

import sympy as sp

from symdl.model import Model, Training

derivation = Model(
    "tanh_unit_for_test",
    title="A tanh unit fitted by least squares",
    source="000_b9e7c87dcfbd1c26.txt Mean Squared Error (with a tanh activation of our own)",
    reduction="mean",
    training=Training(dataset="floor_areas", optimizer="gd", learning_rate=0.001, epochs=200),
)
x = derivation.data("x")
y = derivation.target("y")
w = derivation.param("w")
b = derivation.param("b")
y_hat = derivation.let("y_hat", 10 * sp.tanh(w * x + b))
derivation.loss((y - y_hat) ** 2)
derivation.output(y_hat)
'''


@pytest.fixture
def new_model_file():
    path = Path(symdl.derivations.__path__[0]) / "tanh_unit_for_test.py"
    path.write_text(NEW_MODEL)
    yield path
    path.unlink()
    kernel = sources.generated_dir() / path.name
    if kernel.exists():
        kernel.unlink()


def symdl_command(*args):
    return subprocess.run([sys.executable, "-m", "symdl", *args], capture_output=True, text=True,
                          timeout=300)


def test_a_new_file_gets_derivation_kernel_trainer_and_check(new_model_file):
    derived = symdl_command("derive", "tanh_unit_for_test")
    assert derived.returncode == 0, derived.stderr
    assert "The chain rule for w" in derived.stdout and "tanh" in derived.stdout

    generated = symdl_command("generate", "tanh_unit_for_test")
    assert generated.returncode == 0, generated.stderr
    kernel = (sources.generated_dir() / new_model_file.name).read_text()
    assert "def loss_and_gradient(w, b, x, y):" in kernel and "_tanh(" in kernel

    trained = symdl_command("train", "tanh_unit_for_test")
    assert trained.returncode == 0, trained.stderr
    assert "final J" in trained.stdout

    checked = symdl_command("check", "tanh_unit_for_test")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "FAILS" not in checked.stdout


def test_a_model_file_outside_the_package_works_by_path(tmp_path):
    """The same model kept in the user's own folder: every command takes its path."""
    model_file = tmp_path / "tanh_unit_elsewhere.py"
    model_file.write_text(NEW_MODEL.replace("tanh_unit_for_test", "tanh_unit_elsewhere"))

    def run(*args):
        return subprocess.run([sys.executable, "-m", "symdl", *args], capture_output=True,
                              text=True, timeout=300, cwd=tmp_path)

    derived = run("derive", "tanh_unit_elsewhere.py")
    assert derived.returncode == 0, derived.stderr
    assert "The chain rule for w" in derived.stdout

    generated = run("generate", str(model_file))
    assert generated.returncode == 0, generated.stderr
    kernel = tmp_path / "generated" / "tanh_unit_elsewhere.py"
    assert "def loss_and_gradient(w, b, x, y):" in kernel.read_text()
    assert "from tanh_unit_elsewhere.py" in kernel.read_text()
    assert run("generate", "--check", str(model_file)).returncode == 0

    trained = run("train", "./tanh_unit_elsewhere.py", "--save", "model.npz")
    assert trained.returncode == 0, trained.stderr
    assert "final J" in trained.stdout

    (tmp_path / "x.csv").write_text("x\n1.5\n")
    (tmp_path / "elsewhere").mkdir()
    predicted = subprocess.run(  # from another folder, naming the model by its path
        [sys.executable, "-m", "symdl", "predict", str(model_file), "--params", "../model.npz",
         "--data", "../x.csv"], capture_output=True, text=True, timeout=300,
        cwd=tmp_path / "elsewhere")
    assert predicted.returncode == 0, predicted.stderr
    params = saved.load(tmp_path / "model.npz").params  # finds the model where it was saved
    assert float(predicted.stdout.split()[1]) == pytest.approx(
        10 * np.tanh(params["w"] * 1.5 + params["b"]), rel=1e-12)

    checked = run("check", ".")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "tanh_unit_elsewhere" in checked.stdout and "FAILS" not in checked.stdout

    other = tmp_path / "out"
    assert run("generate", "--out", str(other), "tanh_unit_elsewhere.py").returncode == 0
    assert (other / "tanh_unit_elsewhere.py").read_text() == kernel.read_text()


def test_an_unknown_model_name_suggests_a_path():
    from symdl import sources
    from symdl.errors import DerivationError
    with pytest.raises(DerivationError, match="give the path to its file"):
        sources.resolve("my_own_model")
    with pytest.raises(DerivationError, match="does not exist"):
        sources.resolve("./no_such_file.py")
