"""`symdl report`: one PDF a teacher can hand out.

The handout has, in order: the documents by title, author and year; every derivation step by
step (render.LatexPrinter, the prose in math mode, results simplified the way the documents
write them), each followed by its figure from symdl.plot when matplotlib is installed; and
the errata: every claim where symdl disagrees with a document, with its severity and the
correct statement, then the contradictions between documents. The claims' verdicts are
computed when the report is built (check.evaluate_claim), never written down.

It is compiled with pdflatex in a temporary folder, twice (for the table of contents), and
only the finished PDF is copied to `out`, so a failed build leaves no half-written file.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from symdl import check, documents, prose
from symdl.errors import SymdlError
from symdl.model import SEVERITIES
from symdl.render import LatexPrinter, cite_latex
from symdl.sources import builtin_names, load_derivation

PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[T1]{fontenc}
\usepackage[utf8]{inputenc}
\usepackage{amsmath,amssymb}
\usepackage[margin=2cm]{geometry}
\usepackage{graphicx,longtable,array,booktabs}
\usepackage[hidelinks]{hyperref}
\allowdisplaybreaks
\title{The mathematics of deep learning, derived and checked\\[4pt]
\large a handout made by symdl from five lecture documents}
\date{}
\begin{document}
\maketitle
\tableofcontents
"""
SEVERITY_LABELS = {"error": "error", "typo": "typo", "assumption": "assumption",
                   "unclassified": "unclassified"}


class ReportError(SymdlError):
    """The report cannot be built: no pdflatex, or LaTeX refused the text."""


def build(out: Path, names=None, figures=True, log=None) -> Path:
    """Write the handout for derivations `names` (all by default) to `out` (a .pdf)."""
    engine = shutil.which("pdflatex")
    if engine is None:
        raise ReportError("`symdl report` needs pdflatex: apt-get install texlive-latex-base "
                          "texlive-latex-recommended (or use `symdl derive NAME --latex`)")
    names = list(names or builtin_names())
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="symdl-report-") as folder:
        work = Path(folder)
        drawn = draw_figures(names, work, log) if figures else {}
        (work / "report.tex").write_text(source(names, drawn, log))
        for _ in range(2):
            done = subprocess.run([engine, "-interaction=nonstopmode", "-halt-on-error",
                                   "report.tex"], cwd=work, capture_output=True, text=True,
                                  errors="replace", timeout=300)
            if done.returncode != 0:
                errors = [line for line in done.stdout.splitlines() if line.startswith("!")]
                raise ReportError(f"pdflatex failed on the report: {'; '.join(errors) or done.stdout[-500:]}")
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(work / "report.pdf", out)
    return out


def draw_figures(names, folder: Path, log=None) -> dict:
    """name → PDF file of its figure, for the names that have one; {} without matplotlib."""
    try:
        from symdl import plot
        plot.new_figure()
    except SymdlError:
        if log:
            log("matplotlib is not installed: the report has no figures (pip install 'symdl[plot]')")
        return {}
    drawn = {}
    for name in names:
        if name not in plot.FIGURES:
            continue
        if log:
            log(f"drawing {name}")
        path = folder / f"{name}.pdf"
        plot.FIGURES[name]().savefig(path)
        drawn[name] = path.name
    return drawn


def source(names, figures: dict, log=None) -> str:
    """The LaTeX of the whole handout."""
    parts = [PREAMBLE, documents_section()]
    rows = []
    printer = LatexPrinter(footnotes=False)  # the file names are footnoted once, above
    for name in names:
        derivation = load_derivation(name)
        if log:
            log(f"deriving {name}")
        parts.append(r"\clearpage")
        parts.append(printer.print(derivation, standalone=False, heading=r"\section"))
        if name in figures:
            parts.append("\\begin{figure}[h]\n\\centering\n\\includegraphics[width=\\textwidth]{%s}\n"
                         "\\caption{%s}\n\\end{figure}" % (figures[name], prose.to_latex(derivation.title)))
        rows += [check.evaluate_claim(name, claim) for claim in derivation.claims]
    parts.append(r"\clearpage")
    parts.append(errata_section(rows))
    parts.append(r"\end{document}")
    return "\n\n".join(parts) + "\n"


def documents_section() -> str:
    lines = [r"\section*{The documents}",
             r"\begin{tabular}{@{}p{0.5\textwidth}p{0.22\textwidth}lp{0.15\textwidth}@{}}",
             r"\toprule title & author & year & kind\\ \midrule"]
    for document in documents.DOCUMENTS.values():
        lines.append(r"%s\footnote{\texttt{%s}} & %s & %d & %s\\" % (
            prose.text_mode(document.title), document.file.replace("_", r"\_"),
            prose.text_mode(document.author), document.year, prose.text_mode(document.kind)))
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines)


def errata_section(rows) -> str:
    """Every discrepancy with its severity and correction; then the documents against each other."""
    found = [r for r in rows if r.is_discrepancy]
    broken = [r for r in rows if r.is_failure]
    counts = ", ".join(f"{sum(r.severity == s for r in found)} {s}" for s in SEVERITIES)
    lines = [r"\section{Errata}",
             prose.to_latex(f"symdl checked {len(rows)} statements of the documents and disagrees "
                            f"with {len(found)} of them ({counts}). Severity: "
                            + "; ".join(f"{s}: {text}" for s, text in SEVERITIES.items())
                            + ". Each correct statement below is what symdl derives.")]
    if broken:
        lines.append(prose.to_latex(f"{len(broken)} claims could not be evaluated: "
                                    + "; ".join(r.claim for r in broken)))
    column = r">{\raggedright\arraybackslash}p{%s\textwidth}"
    lines += [r"\begin{longtable}{@{}%s@{}}" % "".join(column % w for w in ("0.22", "0.29", "0.1", "0.33")),
              r"\toprule document and heading & the document states & severity & correct statement\\ \midrule",
              r"\endhead"]
    for r in found:
        severity = SEVERITY_LABELS.get(r.severity, r.severity)
        correction = r.correction or f"symdl derives otherwise: {r.evidence}"
        if r.severity == "assumption":
            correction = f"Holds only if {r.assumption}. " + correction
        lines.append(r"%s & %s & %s & %s\\ \midrule" % (
            cite_latex(r.source, False), prose.to_latex(r.claim), severity, prose.to_latex(correction)))
    lines += [r"\bottomrule", r"\end{longtable}"]
    between = [r for r in found if r.between]
    if between:
        lines.append(r"\subsection{Between the documents}" + "\n" + r"\begin{enumerate}")
        for r in between:
            lines.append(r"\item %s (%s): %s" % (prose.to_latex(r.claim), cite_latex(r.source, False),
                                                  cite_latex(r.between, False)))
        lines.append(r"\end{enumerate}")
    return "\n".join(lines)
