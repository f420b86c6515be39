"""`symdl report`: the handout compiles, with its sections, figures and errata."""

import shutil

import pytest

from symdl import cli, report

ENGINE = shutil.which("pdflatex")
NAMES = ["affine_mse", "unit_square"]


def test_the_source_has_every_part_of_the_handout():
    tex = report.source(NAMES, {"unit_square": "unit_square.pdf"})
    for part in (r"\section*{The documents}", r"\section{An affine layer",
                 r"\section{Translating, scaling and rotating the unit square}",
                 r"\includegraphics[width=\textwidth]{unit_square.pdf}", r"\section{Errata}",
                 r"\subsection{Between the documents}", "Mathematical Intuition of Deep Learning (2024)"):
        assert part in tex, part
    errata = tex[tex.index(r"\section{Errata}"):]
    assert "the loss of the first forward pass is $e = 0.0825$ & error &" in errata
    assert "times $Y$ & typo &" in errata
    assert "000_b9e7c87dcfbd1c26.txt" not in tex.replace(r"\_", "_").split(r"\footnote")[0]


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
