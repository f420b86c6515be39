"""`symdl derive NAME --latex` compiles with a LaTeX engine, for every derivation."""

import shutil
import subprocess

import pytest

from symdl import prose
from symdl.render import render, tensor_base_latex, unicode_of_latex
from symdl.sources import builtin_names, load_derivation

ENGINE = shutil.which("pdflatex") or shutil.which("lualatex") or shutil.which("xelatex")


@pytest.mark.skipif(ENGINE is None, reason="no LaTeX engine installed (.ci/run installs one)")
@pytest.mark.parametrize("name", builtin_names())
def test_latex_compiles(name, tmp_path):
    derivation = load_derivation(name)
    source = tmp_path / f"{name}.tex"
    source.write_text(render(derivation, latex=True))
    done = subprocess.run([ENGINE, "-interaction=nonstopmode", "-halt-on-error", source.name],
                          cwd=tmp_path, capture_output=True, text=True, errors="replace", timeout=120)
    errors = [line for line in done.stdout.splitlines() if line.startswith("!")]
    assert done.returncode == 0 and (tmp_path / f"{name}.pdf").exists(), errors or done.stdout[-2000:]


@pytest.mark.parametrize("name", builtin_names())
def test_text_derivation_shows_every_parameter(name):
    derivation = load_derivation(name)
    text = render(derivation)
    assert prose.plain(derivation.title) in text and prose.plain(derivation.source) in text
    for tensor in getattr(derivation, "params", []):
        shown = unicode_of_latex(tensor_base_latex(tensor.latex))  # θ⁽¹⁾ for theta1, m for slope
        assert (f"The chain rule for {shown}," in text
                or f"The derivative with respect to {shown}:" in text), tensor.name
