"""How derivations, check tables and training results show themselves: terminal, LaTeX, notebook."""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

from symdl import check, prose, train
from symdl.render import PREAMBLE, render, tidy
from symdl.sources import builtin_names, load_derivation

ENGINE = shutil.which("pdflatex")
p, c, a, x = sp.symbols("p c a x", real=True)


def test_tidy_writes_results_the_way_the_documents_do():
    assert sp.latex(tidy(-(p - c) / (p * (-1 + p))), order="none") == r"\frac{p - c}{p \left(1 - p\right)}"
    chain = [(p - c) / (p * (1 - p)), p * (1 - p), sp.Symbol("theta"), a * (1 - a), x]
    assert sp.sstr(tidy(sp.Mul(*chain), hints=chain), order="none") == "(p - c)*theta*a*(1 - a)*x"
    shown = sp.latex(tidy(2 * (a - x) * 10 * x * (1 - sp.tanh(p) ** 2)), order="none")
    assert shown.startswith("20") and r"\left(a - x\right)" in shown
    assert r"1 - \tanh^{2}" in shown  # as written, not (1 − tanh)(1 + tanh)


@pytest.mark.parametrize("expr", [-(p - c) / (p * (-1 + p)), (a - 1) * (c - p) * x / (2 * (p - 1) ** 2),
                                  -3 * (x - 1) / (a * (1 - x)), p ** 2 - 2 * p + 1, sp.Integer(5)])
def test_tidy_keeps_the_value(expr):
    assert sp.simplify(sp.sympify(tidy(expr)) - expr) == 0


def test_the_terminal_shows_pretty_unicode():
    text = render(load_derivation("two_layer_network"))
    assert "(p - c)⋅θ⁽²⁾ₖ⋅aₖ⋅(1 - aₖ)⋅xⱼ" in text  # 001's (p − c)θ₁⁽²⁾a₁(1 − a₁)x
    assert "-1 + " not in text and "sigmoid(z1)" not in text
    square = render(load_derivation("unit_square"))
    assert "⎡0  0  1  1  0  0⎤" in square and "Matrix([" not in square


@pytest.mark.parametrize("name", builtin_names())
def test_latex_prose_has_no_raw_unicode_or_code_names(name):
    tex = render(load_derivation(name), latex=True)
    for raw in ("ℝ", "Σ", "θ", "∂", "²", "textasciicircum", "theta1", "_txt"):
        assert raw not in tex, raw
    assert r"\footnote{\texttt{0" in tex  # the file name only in a footnote


def test_a_notebook_shows_a_derivation_step_by_step():
    derivation = load_derivation("logistic_regression")
    latex = derivation._repr_latex_()
    assert latex.startswith(r"\begin{align*}") and r"\intertext" not in latex
    assert r"\frac{\partial \ell}{\partial {\theta}_{j}}" in latex
    assert "Short Introduction to Deep Learning and its Math" in latex


MODEL_MADE_IN_A_CELL = """
import sys
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
from symdl.model import Model
assert "symdl.render" not in sys.modules  # the model layer imports nothing above it
model = Model("made_in_a_cell", title="A model made in a cell", source="none")
c = model.param("c")
model.loss((c - 3) ** 2)
shown, _ = shell.display_formatter.format(model)
print(shown["text/latex"])
"""


def test_a_notebook_shows_a_model_made_in_a_cell(tmp_path):
    """`import symdl` in a running IPython hands it the display: render is imported on first use."""
    pytest.importorskip("IPython")
    env = {**os.environ, "IPYTHONDIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", MODEL_MADE_IN_A_CELL], capture_output=True,
                          text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith(r"\begin{align*}") and "A model made in a cell" in done.stdout


@pytest.mark.skipif(ENGINE is None, reason="no pdflatex (.ci/run installs it)")
def test_every_notebook_display_is_valid_latex(tmp_path):
    blocks = [load_derivation(name)._repr_latex_() for name in builtin_names()]
    (tmp_path / "all.tex").write_text(PREAMBLE + "\n\n".join(blocks) + "\n\\end{document}\n")
    done = subprocess.run([ENGINE, "-interaction=nonstopmode", "-halt-on-error", "all.tex"],
                          cwd=tmp_path, capture_output=True, text=True, errors="replace", timeout=120)
    assert done.returncode == 0, [line for line in done.stdout.splitlines() if line.startswith("!")]


def test_check_tables_and_training_results_show_as_html():
    rows = check.run(["unit_square"])
    assert str(rows) == check.table(rows)
    html = rows._repr_html_()
    assert html.count("<tr") == len(rows) + 1
    assert "an error in a result" in html and "Mathematical Intuition of Deep Learning (2024)" in html
    result = train.train("paraboloid_gradient", epochs=5)
    html = result._repr_html_()
    assert "<b>paraboloid_gradient</b>" in html and "final J" in html
    assert f"{result.metrics['final J']:.6g}" in html and np.isfinite(result.metrics["final J"])
