"""generated/ is what the derivations generate, byte for byte, and a change shows up as stale."""

import subprocess
import sys
from pathlib import Path

import pytest

from symdl import sources, stamps
from symdl.generate import files


def test_generated_files_are_fresh():
    assert files.stale() == []


def test_generate_check_command_passes():
    done = subprocess.run([sys.executable, "-m", "symdl", "generate", "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_regenerating_is_byte_identical():
    first = files.expected_files()
    second = files.expected_files()
    assert first == second
    for path, text in first.items():
        assert path.read_text() == text


def test_writing_twice_changes_nothing():
    assert files.write() == []


@pytest.fixture
def scratch_derivation(tmp_path):
    """A copy of a derivation under a new name, in a folder of its own: outside the package,
    so that a test running beside this one (pytest -n) never sees it among the built-ins."""
    import symdl.derivations as package
    source = Path(package.__path__[0]) / "logistic_regression.py"
    path = tmp_path / "scratch_for_staleness.py"
    path.write_text(source.read_text().replace('"logistic_regression"', '"scratch_for_staleness"'))
    yield path
    for module in [m for m in sys.modules if m.endswith("scratch_for_staleness")]:
        del sys.modules[module]


def test_editing_a_derivation_makes_check_fail(scratch_derivation):
    files.write([str(scratch_derivation)])
    assert files.stale([str(scratch_derivation)]) == []
    scratch_derivation.write_text(scratch_derivation.read_text().replace(
        "learning_rate=0.005", "learning_rate=0.02"))
    problems = files.stale([str(scratch_derivation)])
    assert problems and "differs" in problems[0]


def test_a_generator_change_makes_every_file_stale(monkeypatch):
    monkeypatch.setattr(stamps, "generator_hash", lambda: "0" * 16)
    assert len(files.stale()) == len(files.expected_files())


def test_header_says_where_the_file_came_from():
    for path, text in files.expected_files().items():
        head = text[:1500]
        assert f"derivations/{path.stem}.py" in head
        assert "symdl generate" in head and "Source document:" in head
        assert "DERIVATION_SHA256 = " in head and "GENERATOR_SHA256 = " in head


def test_generated_code_does_not_import_sympy():
    for text in files.expected_files().values():
        assert "sympy" not in text


def test_unknown_derivation_is_a_clear_error():
    from symdl.errors import DerivationError
    with pytest.raises(DerivationError, match="no derivation named"):
        sources.load_derivation("no_such_model")



def test_every_kernel_runs_from_a_warm_cache_in_a_fresh_process(tmp_path):
    """Compile in one process (what the cache lacks), load from Numba's cache in the next:
    no crash, same numbers. The cache is the one every other test uses, so a kernel another
    test compiled already is not compiled twice; the second process loads every kernel from
    it either way.

    Guards against numba/numba#8578 (a cached serial function calling a parallel one
    segfaults when loaded from the cache), which `gradient` once hit.
    """
    script = tmp_path / "call_every_kernel.py"
    script.write_text(CALL_EVERY_KERNEL)
    outputs = []
    for _ in range(2):
        done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-2000:]}"
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    assert len(outputs[0].splitlines()) == len(files.expected_files())


CALL_EVERY_KERNEL = '''
import importlib
import numpy as np
from symdl import train
from symdl.generate import files
from symdl.training.inputs import initial_params

for name in sorted(p.stem for p in files.expected_files()):
    module = importlib.import_module(f"symdl.generated.{name}")
    spec = module.SPEC
    rng = np.random.default_rng(0)
    x = y = None
    if spec["features"]:
        shape = (7,) + ((3,) if spec["features"][1] else ())
        x = rng.standard_normal(shape)
        kind = spec["target"][1] if spec["target"] else None
        y = {"binary": (rng.random(7) < 0.5) * 1.0, "class": rng.integers(0, 3, 7),
             "real": rng.standard_normal(7), None: None}[kind]
    sizes = {d: 3 for _, shape in spec["params"] for d in shape}
    params = initial_params(spec, sizes, init_scale=1.0, seed=1)
    data = [a for a in (x, y) if a is not None]
    loss, *grads = module.loss_and_gradient(*params, *data)
    values = [module.loss(*params, *data)] + [np.sum(g) for g in module.gradient(*params, *data)]
    if hasattr(module, "predict"):
        values.append(np.sum(module.predict(*params, x)))
    if hasattr(module, "hessian"):
        values.append(np.sum(module.hessian(*params, *data)))
    print(name, " ".join(f"{float(v):.12e}" for v in values))
'''
