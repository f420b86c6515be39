"""Every notebook in examples/ runs from top to bottom and shows what it promises.

One notebook per document (000–004); each trains for a few seconds at most. nbclient runs
them in a fresh kernel of this interpreter; a cell that raises fails the test.
"""

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("[0-9][0-9][0-9]_*.ipynb"))


def test_there_is_one_notebook_per_document():
    assert [path.name[:3] for path in EXAMPLES] == ["000", "001", "002", "003", "004"]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name[:3])
def test_notebook_runs_and_shows_derivations_figures_and_tables(path, tmp_path):
    notebook = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    shown = [kind for cell in notebook.cells if cell.cell_type == "code"
             for output in cell.get("outputs", []) for kind in output.get("data", {})]
    assert "text/latex" in shown  # a derivation, step by step
    assert "image/png" in shown  # a document's figure
    errors = [output for cell in notebook.cells for output in cell.get("outputs", [])
              if output.get("output_type") == "error"]
    assert not errors
