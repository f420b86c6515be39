"""The wheel carries every file symdl needs, and mypy accepts symdl/.

A wheel that lacks a template installs fine and then crashes on the first `symdl generate`, so
the test builds the wheel from a clean copy of the source and compares its contents with the
source tree. (`.ci/run` goes further: it installs the wheel into a fresh environment and runs
`symdl all` from a folder that is not the repository.)
"""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Folders of the repository and the names they install under (pyproject's package-dir).
INSTALLED_AS = {"symdl": "symdl", "derivations": "symdl/derivations",
                "generated": "symdl/generated"}
BUILD_INPUTS = ["pyproject.toml", "README.md", "LICENSE"]
NOT_SHIPPED = ("__pycache__", ".pyc", ".nbi", ".nbc")  # bytecode and Numba's caches


def package_files() -> dict[str, Path]:
    """Every file of the three package folders, keyed by its path inside the wheel; the value
    is its path in the repository."""
    files = {}
    for folder, installed in INSTALLED_AS.items():
        for path in sorted((ROOT / folder).rglob("*")):
            relative = path.relative_to(ROOT / folder)
            if path.is_file() and not any(part.endswith(NOT_SHIPPED) for part in relative.parts):
                files[f"{installed}/{relative.as_posix()}"] = path.relative_to(ROOT)
    return files


@pytest.fixture(scope="module")
def wheel_build(tmp_path_factory) -> tuple[set[str], str]:
    """The names in the wheel built from a clean copy of the source, and the build's log."""
    source = tmp_path_factory.mktemp("source")
    for path in package_files().values():
        (source / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / path, source / path)
    for name in BUILD_INPUTS:
        shutil.copy2(ROOT / name, source / name)
    dist = tmp_path_factory.mktemp("dist")
    # PYTHONDONTWRITEBYTECODE makes setuptools warn that it skips byte-compiling: a setting of
    # the environment, not of the project, so the build runs without it
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-v",
         "-w", str(dist), str(source)], capture_output=True, text=True, timeout=300,
        env=environment)
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = dist.glob("symdl-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist()), built.stdout + built.stderr


@pytest.fixture(scope="module")
def wheel_names(wheel_build) -> set[str]:
    return wheel_build[0]


def test_the_wheel_builds_without_a_warning(wheel_build):
    """Issue 18: setuptools warned that a TOML table license is deprecated and that
    symdl.data.mnist was absent from the packages configuration."""
    log = wheel_build[1]
    warnings = [line for line in log.splitlines()
                if any(word in line.lower() for word in ("warning", "deprecat", "absent from"))]
    assert not warnings, "\n".join(warnings)


def test_the_wheel_holds_every_file_of_the_package(wheel_names):
    expected = package_files()
    assert {"symdl/py.typed", "symdl/data/mnist/t10k-images-idx3-ubyte.gz",
            "symdl/generated/mnist_mlp.py", "symdl/derivations/mnist_mlp.py"} <= set(expected)
    assert any(name.endswith(".txt") for name in expected), "the kernel helpers template"
    missing = sorted(set(expected) - wheel_names)
    assert not missing, f"the wheel lacks {missing}: widen [tool.setuptools.package-data]"


def test_the_wheel_holds_nothing_else_but_its_metadata(wheel_names):
    extra = {n for n in wheel_names - set(package_files()) if ".dist-info/" not in n}
    assert not extra, f"the wheel carries files that are not in the package: {sorted(extra)}"
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in wheel_names)


def test_mypy_accepts_symdl():
    """`mypy symdl/` with the settings of pyproject's [tool.mypy] reports no error."""
    pytest.importorskip("mypy")
    done = subprocess.run([sys.executable, "-m", "mypy", "symdl/"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
