"""generated/ is what the derivations generate, byte for byte, and a change shows up as stale."""

import subprocess
import sys
from pathlib import Path

import pytest

from symdl import generate


def test_generated_files_are_fresh():
    assert generate.stale() == []


def test_generate_check_command_passes():
    done = subprocess.run([sys.executable, "-m", "symdl", "generate", "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_regenerating_is_byte_identical():
    first = generate.expected_files()
    second = generate.expected_files()
    assert first == second
    for path, text in first.items():
        assert path.read_text() == text


def test_writing_twice_changes_nothing():
    assert generate.write() == []


@pytest.fixture
def scratch_derivation():
    """A copy of a derivation under a new name, removed afterwards with its kernel."""
    import symdl.derivations as package
    source = Path(package.__path__[0])
    path = source / "scratch_for_staleness.py"
    text = (source / "logistic_regression.py").read_text().replace(
        '"logistic_regression"', '"scratch_for_staleness"')
    path.write_text(text)
    yield path
    path.unlink()
    kernel = generate.generated_dir() / "scratch_for_staleness.py"
    if kernel.exists():
        kernel.unlink()
    for module in [m for m in sys.modules if m.endswith("scratch_for_staleness")]:
        del sys.modules[module]


def test_editing_a_derivation_makes_check_fail(scratch_derivation):
    generate.write(["scratch_for_staleness"])
    assert generate.stale(["scratch_for_staleness"]) == []
    scratch_derivation.write_text(scratch_derivation.read_text().replace(
        "learning_rate=0.005", "learning_rate=0.02"))
    problems = generate.stale(["scratch_for_staleness"])
    assert problems and "differs" in problems[0]


def test_a_generator_change_makes_every_file_stale(monkeypatch):
    monkeypatch.setattr(generate, "generator_hash", lambda: "0" * 16)
    assert len(generate.stale()) == len(generate.expected_files())


def test_header_says_where_the_file_came_from():
    for path, text in generate.expected_files().items():
        head = text[:600]
        assert f"derivations/{path.stem}.py" in head
        assert "symdl generate" in head
        assert "Derivation sha256:" in head and "Source document:" in head


def test_generated_code_does_not_import_sympy():
    for text in generate.expected_files().values():
        assert "sympy" not in text


def test_unknown_derivation_is_a_clear_error():
    from symdl.errors import DerivationError
    with pytest.raises(DerivationError, match="no derivation named"):
        generate.load_derivation("no_such_model")

