"""`symdl report`: the handout compiles, with its sections, figures and errata."""

import shutil

import pytest

from symdl import cli, report

ENGINE = shutil.which("pdflatex")
NAMES = ["affine_mse", "unit_square"]


def test_the_source_has_every_part_of_the_handout():
    tex = report.source(NAMES, {"unit_square": "unit_square.pdf"})
    for part in (r"\textbf{The documents}", r"\subsection{\texorpdfstring{An affine layer $\hat{y}",
                 r"\section{Mathematical Intuition of Deep Learning (2024)}",
                 r"\subsection{Translating, scaling and rotating the unit square}",
                 r"\includegraphics[width=\textwidth]{unit_square.pdf}", r"\section{Errata}",
                 r"\subsection{Between the documents}", "Mathematical Intuition of Deep Learning (2024)"):
        assert part in tex, part
    errata = tex[tex.index(r"\section{Errata}"):]
    assert "the loss of the first forward pass is $e = 0.0825$ & error &" in errata
    assert "times $Y$ & typo &" in errata
    assert r"\footnote" not in tex  # file names are a column of the documents' table


@pytest.mark.skipif(ENGINE is None, reason="no pdflatex (.ci/run installs it)")
def test_symdl_report_compiles_a_pdf(tmp_path, capsys):
    out = tmp_path / "handout" / "report.pdf"
    assert cli.main(["report", *NAMES, "--out", str(out)]) == 0
    assert out.read_bytes()[:5] == b"%PDF-" and out.stat().st_size > 20_000
    assert f"wrote {out}" in capsys.readouterr().out
    if shutil.which("pdftotext"):
        import subprocess
        text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True).stdout
        assert "Errata" in text and "Between the documents" in text and "The documents" in text


def test_no_pdflatex_is_a_clear_error(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(report.shutil, "which", lambda name: None)
    assert cli.main(["report", "affine_mse", "--out", str(tmp_path / "r.pdf")]) == 1
    assert "needs pdflatex" in capsys.readouterr().err and not (tmp_path / "r.pdf").exists()


def test_sections_follow_each_document_in_its_own_order():
    """000's slides reach the unit square (Matrix Translation) before the affine layer's loss
    (Forward Pass), 001 its line y = mx before the blue or orange dots and the network; the
    documents come in their listed order, 004 included."""
    groups = report.ordered(report.builtin_names())
    assert [number for number, _ in groups][:5] == ["000", "001", "002", "003", "004"]
    order = dict(groups)
    assert order["000"].index("unit_square") < order["000"].index("affine_mse")
    assert order["001"] == ["line_through_origin", "logistic_three_parameter", "two_layer_network"]
    assert order["004"] == ["perceptron_layers"]
    assert report.names_of_document("001") == order["001"]


PRACTITIONERS = {"ridge_regression", "elastic_net_logistic", "elastic_net_regression",
                 "multinomial_logistic", "poisson_glm", "huber_regressor", "mlp_classifier",
                 "mlp_regressor"}


def test_the_handout_holds_the_documents_models_and_the_builtins_only_when_asked():
    """A teacher's handout of the documents: no ridge regression the documents never wrote;
    `--builtins` adds symdl's practitioners' models in a last section of their own."""
    assert not PRACTITIONERS & set(report.default_names())
    assert set(report.default_names()) == {n for names in report.ORDER.values() for n in names}
    with_builtins = report.default_names(builtins=True)
    assert set(with_builtins[-len(PRACTITIONERS):]) == PRACTITIONERS
    assert report.ordered(with_builtins)[-1] == ("", sorted(PRACTITIONERS))
    assert set(report.default_names("003", builtins=True)) > set(report.names_of_document("003"))


def test_every_builtin_beyond_the_documents_says_so():
    """A built-in not listed in report.ORDER is left out of the handout: its file must say
    that it is not from the documents (a new document derivation belongs in ORDER)."""
    from symdl.sources import derivations_dir
    for name in report.practitioners_names():
        assert "Not from the documents" in (derivations_dir() / f"{name}.py").read_text(), name


def test_each_claim_shows_its_verdict_beside_the_document_and_symdl():
    """✓ or ✗ with the severity, the document's number beside symdl's: e = 0.0825 is marked
    an error next to symdl's 0.04125, and 002's 0.0412 is marked as agreeing."""
    tex = report.source(["affine_mse"], {})
    block = tex[tex.index("What the document states"):tex.index(r"\section{Errata}")]
    wrong = next(line for line in block.splitlines() if "$e = 0.0825$" in line)
    assert wrong.startswith(r"\item[\disagrees]") and r"\textbf{error}" in wrong
    assert "$0.0825$" in wrong and "$0.04125$" in wrong
    right = next(line for line in block.splitlines() if "$e = 0.0412$" in line)
    assert right.startswith(r"\item[\agrees]")


def test_a_long_claim_value_is_displayed_broken_over_lines():
    """001's J written out for n = 3 is too long for a line: it is displayed, broken at its
    + and − into rows that fit the claims' width, not left out."""
    import sympy as sp
    from symdl.render import visible_width
    c, p = sp.symbols("c1:7", real=True), sp.symbols("p1:7", positive=True)
    value = sum(ci * sp.log(pi) + (1 - ci) * sp.log(1 - pi) for ci, pi in zip(c, p)) / 3
    shown = report.shown_value(value)
    assert shown.startswith(r"\begin{align*}") and shown.endswith(r"\end{align*}")
    rows = shown.split(r"\\")
    assert len(rows) > 1 and all(visible_width(row) <= report.DISPLAY_WIDTH + 6 for row in rows)
    assert report.shown_value(sp.Symbol("x") + 1) == "$1 + x$"  # a short one stays in the line


def test_a_finding_that_follows_from_another_is_listed_under_its_cause():
    """001's three sign errors follow from its J without the minus sign: one cause."""
    tex = report.source(["logistic_three_parameter", "two_layer_network"], {})
    errata = tex[tex.index(r"\section{Errata}"):]
    assert errata.count("follows from it") == 3
    assert "from 4 causes" in errata or "causes (" in errata


@pytest.mark.skipif(ENGINE is None, reason="no pdflatex (.ci/run installs it)")
def test_the_whole_handout_has_no_overfull_box_and_settled_references(tmp_path):
    """The LaTeX log of the whole handout (every derivation; figures left out, they are
    scaled to the text width): no overfull box, no undefined reference, no request for
    another run, and only Type 1 fonts (Latin Modern), no bitmap Type 3 ones."""
    pdf, log = report.compile_latex(report.source(report.builtin_names(), {}), tmp_path)
    assert [line for line in log.splitlines() if line.startswith("Overfull")] == []
    assert "undefined" not in log.lower() and "Rerun to get" not in log
    assert r"\usepackage{lmodern}" in (tmp_path / "report.tex").read_text()
    assert "(not printed" not in (tmp_path / "report.tex").read_text()  # every value, however long
    if shutil.which("mutool"):
        import subprocess
        fonts = subprocess.run(["mutool", "info", "-F", str(pdf)], capture_output=True,
                               text=True).stdout
        assert "Type1" in fonts and "Type3" not in fonts


@pytest.mark.skipif(ENGINE is None, reason="no pdflatex (.ci/run installs it)")
def test_symdl_report_document_builds_one_documents_handout(tmp_path, capsys):
    out = tmp_path / "001.pdf"
    assert cli.main(["report", "--document", "001", "--no-figures", "--out", str(out)]) == 0
    assert out.read_bytes()[:5] == b"%PDF-"
    tex = report.source(report.names_of_document("001"), {}, document="001")
    assert r"\section{The Mathematics of Deep Learning (2022)}" in tex
    assert r"\section{Mathematical Intuition" not in tex


def test_the_handout_names_documents_by_author_and_year_not_number():
    """Derivation files write "001's J"; a student reads "Bearden (2022)'s J". Only the file
    names of the documents' table keep the numbers."""
    from symdl import documents
    assert documents.by_author("001's J, (000 Gradient Descent II), 60,000 images, 000/002") == \
        "Bearden (2022)'s J, (Copeland (2024) Gradient Descent II), 60,000 images, Copeland (2024, 2025)"
    tex = report.source(["affine_mse", "two_layer_network", "mnist_mlp"], {})
    body = tex[tex.index(r"\tableofcontents"):]
    import re
    assert re.findall(r"(?<![\w,.])00[0-4](?![\d_])", body.replace(r"\_", "_")) == []
