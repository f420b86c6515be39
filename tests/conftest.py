"""What several test files share."""

import shutil
from pathlib import Path

import pytest

from symdl.generate import files

EXAMPLES = Path(__file__).parent.parent / "examples" / "models"


@pytest.fixture(scope="session")
def example_models(tmp_path_factory):
    """examples/models copied outside the repository, their kernels generated beside them:
    once per session, so that their Numba kernels compile once for every test that uses them
    (not in the repository's own examples/models/generated, which a fresh clone lacks)."""
    copy = tmp_path_factory.mktemp("example_models")
    for path in EXAMPLES.glob("*.py"):
        shutil.copy(path, copy / path.name)
    files.write([copy])
    return copy
