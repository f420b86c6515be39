"""symdl.testing: a user's own derivations kept under test, one test id per model and check."""

import subprocess
import sys

from test_extending import NEW_MODEL

TEST_FILE = '''
from symdl.testing import derivation_tests

test_my_models = derivation_tests("models")
'''


def run_pytest(project):
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider",
                           "test_models.py"], capture_output=True, text=True, cwd=project,
                          timeout=600)


def test_a_user_folder_gets_one_test_per_model_and_check(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    (models / "tanh_unit_kept.py").write_text(NEW_MODEL.replace("tanh_unit_for_test",
                                                                "tanh_unit_kept"))
    (models / "broken_model.py").write_text("this is not python\n")
    (tmp_path / "test_models.py").write_text(TEST_FILE)
    generated = subprocess.run([sys.executable, "-m", "symdl", "generate",
                                str(models / "tanh_unit_kept.py")], capture_output=True,
                               text=True, cwd=tmp_path, timeout=300)
    assert generated.returncode == 0, generated.stderr

    done = run_pytest(tmp_path)
    report = done.stdout
    for check in ("loads", "fresh", "three-way", "stable", "scale"):
        assert f"PASSED test_models.py::test_my_models[tanh_unit_kept-{check}]" in report, report
    assert "FAILED test_models.py::test_my_models[broken_model-loads]" in report, report
    assert "1 failed, 5 passed" in report, report

    # A derivation changed but not regenerated: only its freshness fails, naming the fix.
    (models / "broken_model.py").unlink()
    path = models / "tanh_unit_kept.py"
    path.write_text(path.read_text().replace("10 * sp.tanh", "9 * sp.tanh"))
    done = run_pytest(tmp_path)
    assert "FAILED test_models.py::test_my_models[tanh_unit_kept-fresh]" in done.stdout
    assert "symdl generate" in done.stdout
