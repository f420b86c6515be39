"""`symdl report`: one PDF a teacher can hand out.

The handout follows the documents: a section for each of the five, by title and year, in the
order they are listed (`documents.DOCUMENTS`), and inside it the derivations in the order the
document reaches them (`ORDER`, read from each document's headings). Each derivation is
printed step by step (render.LatexPrinter), followed by its figure from symdl.plot when
matplotlib is installed, then by what the document states: every transcribed claim quoted,
symdl's own result beside it, and a verdict, ✓ or ✗ with the severity of the slip. The
errata at the end list each discrepancy once per cause (check.by_cause: a slip that only
repeats another is listed under it), then the contradictions between the documents. The
verdicts are computed when the report is built (check.evaluate_claim), never written down.

`symdl report --document 001` builds the handout of one document. The handout holds the
documents' own derivations (`ORDER`); symdl's other built-in models, written for practitioners
(ridge_regression, elastic_net_*, multinomial_logistic, poisson_glm, huber_regressor,
mlp_classifier, mlp_regressor), are not in the documents and are left out unless asked for
(`builtins=True`, `symdl report --builtins`): then they follow in a section of their own.

It is compiled with pdflatex in a temporary folder, as many times as the contents and the
cross references need (at most five), and only the finished PDF is copied to `out`, so a
failed build leaves no half-written file. `compile_latex` returns pdflatex's log as well:
the tests read it for overfull boxes and undefined references.

Long because a handout has parts of its own beside the derivations that render prints: the
documents' table, each claim with the document's value and symdl's (a value too long for a
line displayed and broken to the claims' width), and the errata grouped by cause.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import sympy as sp

from symdl import check, documents, prose
from symdl.errors import SymdlError
from symdl.model import SEVERITIES, Claim
from symdl.render import (DocumentLatexPrinter, LatexPrinter, cite_latex, document_order, tidy,
                          visible_width)
from symdl.sources import builtin_names, load_derivation

PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[T1]{fontenc}
\usepackage[utf8]{inputenc}
\usepackage{lmodern}
\usepackage{amsmath,amssymb}
\usepackage[margin=2cm]{geometry}
\usepackage{graphicx,longtable,array,booktabs}
\usepackage{microtype}
\usepackage[hidelinks,unicode]{hyperref}
\allowdisplaybreaks
\setlength{\emergencystretch}{2em}
\newcommand{\agrees}{$\checkmark$}
\newcommand{\disagrees}{$\boldsymbol{\times}$}
\title{%s}
\date{}
\begin{document}
\maketitle
%s
\enlargethispage{4\baselineskip}
\tableofcontents
"""
TITLE = (r"The mathematics of deep learning, derived and checked\\[4pt]"
         r"\large a handout made by symdl from %s")
PASSES = 5
"""pdflatex runs at most this often: until the table of contents and the references stop
changing (two runs are one short when the contents page itself moves the page numbers)."""

ORDER = {
    "000": ["unit_square", "paraboloid_gradient", "affine_mse", "affine_collapse"],
    "001": ["line_through_origin", "logistic_three_parameter", "two_layer_network"],
    "002": ["mnist_mlp"],
    "003": ["univariate_least_squares", "center_mean", "center_median",
            "multivariate_least_squares", "logistic_regression"],
    "004": ["perceptron_layers"],
}
"""The derivations of each document in the order its headings reach them: 000 "Matrix
Translation" … "Rate of Change: The Gradient" … "Representation of a Single-Layer Neural
Network" … "What Is ϱ(h)"; 001 the Test 1 / Test 2 scores, the blue or orange dots, "Neural
networks!"; 003 §3.1 (its footnote 3 on the mean and the median), §3.2, §3.3; 004 "Simple
perceptron networks" to "MLP networks". These are the documents' own derivations, what a
handout of the documents holds; a built-in not listed here is a practitioners' model (its file
says "Not from the documents"), and so is a user's model file."""
SEVERITY_LABELS = {"error": "error", "typo": "typo", "assumption": "assumption",
                   "unclassified": "unclassified"}
LONGEST_VALUE = 90
"""Visible characters of a value shown in the line of its claim; a longer one is displayed."""


class ReportError(SymdlError):
    """The report cannot be built: no pdflatex, or LaTeX refused the text."""


def document_of(name: str) -> str:
    """The number of the document a derivation belongs to: the first its source cites."""
    for number, names in ORDER.items():
        if name in names:
            return number
    cited = documents.documents_in(load_derivation(name).source)
    return cited[0].file[:3] if cited else ""


def ordered(names) -> list[tuple[str, list[str]]]:
    """(document number, its derivations in the document's order), documents in order; the
    derivations that are not the documents' own (the practitioners' built-ins, a user's
    model files) come last under '', sorted."""
    names = list(names)
    groups = [(number, [n for n in listed if n in names]) for number, listed in ORDER.items()]
    own = {n for listed in ORDER.values() for n in listed}
    groups.append(("", sorted(n for n in names if n not in own)))
    return [(number, group) for number, group in groups if group]


def practitioners_names(document=None) -> list[str]:
    """symdl's built-in models that are not the documents' own (ridge_regression, …), those
    that extend document `document` where it is given."""
    own = {n for listed in ORDER.values() for n in listed}
    return [n for n in builtin_names() if n not in own
            and (document is None or document_of(n) == document)]


def names_of_document(number: str) -> list[str]:
    """The documents' own derivations of document `number` ("001"), in the document's order."""
    if number not in documents.DOCUMENTS:
        raise ReportError(f"no document {number!r}: the documents are "
                          f"{', '.join(documents.DOCUMENTS)}")
    return list(ORDER.get(number, []))


def default_names(document=None, builtins=False) -> list[str]:
    """What a handout holds when no derivation is named: the documents' own derivations (of
    one document with `document="001"`), and with `builtins` the practitioners' models too."""
    numbers = [document] if document else list(documents.DOCUMENTS)
    names = [n for number in numbers for n in names_of_document(number)]
    return names + (practitioners_names(document) if builtins else [])


def build(out: Path, names=None, figures=True, log=None, document=None, builtins=False) -> Path:
    """Write the handout for derivations `names` (by default the documents' own, those of one
    document with `document="001"`, and with `builtins` symdl's practitioners' models after
    them) to `out` (a .pdf)."""
    engine = shutil.which("pdflatex")
    if engine is None:
        raise ReportError("`symdl report` needs pdflatex: apt-get install texlive-latex-base "
                          "texlive-latex-recommended texlive-fonts-recommended (or use "
                          "`symdl derive NAME --latex`)")
    names = list(names or default_names(document, builtins))
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="symdl-report-") as folder:
        work = Path(folder)
        drawn = draw_figures(names, work, log) if figures else {}
        pdf, _ = compile_latex(source(names, drawn, log, document), work)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(pdf, out)
    return out


def compile_latex(tex: str, folder: Path) -> tuple[Path, str]:
    """pdflatex on `tex` in `folder` until the contents and references are settled; the PDF
    and the last run's log."""
    engine = shutil.which("pdflatex") or "pdflatex"
    (folder / "report.tex").write_text(tex)
    previous = None
    for _ in range(PASSES):
        done = subprocess.run([engine, "-interaction=nonstopmode", "-halt-on-error", "report.tex"],
                              cwd=folder, capture_output=True, text=True, errors="replace",
                              timeout=300)
        if done.returncode != 0:
            errors = [line for line in done.stdout.splitlines() if line.startswith("!")]
            raise ReportError(f"pdflatex failed on the report: {'; '.join(errors) or done.stdout[-500:]}")
        settled = [(folder / f"report.{e}").read_bytes() if (folder / f"report.{e}").exists()
                   else b"" for e in ("toc", "aux", "out")]
        log_text = (folder / "report.log").read_text(errors="replace")
        if settled == previous and "Rerun to get" not in log_text:
            break
        previous = settled
    return folder / "report.pdf", log_text


def draw_figures(names, folder: Path, log=None) -> dict:
    """name → PDF file of its figure, for the names that have one; {} without matplotlib."""
    try:
        from symdl import plot
        plot.new_figure()
        import matplotlib
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
        # TrueType (42) instead of matplotlib's default Type 3 fonts: a figure's words then
        # copy and search in the PDF like the handout's own
        with matplotlib.rc_context({"pdf.fonttype": 42}):
            plot.FIGURES[name]().savefig(path)
        drawn[name] = path.name
    return drawn


def source(names, figures: dict, log=None, document=None) -> str:
    """The LaTeX of the whole handout (or of one document's, `document="001"`)."""
    subject = ("five lecture documents" if document is None
               else prose.text_mode(documents.DOCUMENTS[document].short))
    parts = [PREAMBLE % (TITLE % subject, documents_section(document))]
    rows = []
    printer = LatexPrinter(footnotes=False, authors=True)  # file names listed once, above
    for number, group in ordered(names):
        parts.append(r"\clearpage")
        parts.append(document_heading(number))
        for name in group:
            derivation = load_derivation(name)
            if log:
                log(f"deriving {name}")
            parts.append(printer.print(derivation, standalone=False, heading=r"\subsection",
                                       claims=False))
            if name in figures:
                caption = getattr(derivation, "figure_caption", "") or figure_caption(name)
                parts.append("\\begin{figure}[htbp]\n\\centering\n\\includegraphics[width=\\textwidth]"
                             "{%s}\n\\caption{%s}\n\\end{figure}" % (figures[name], words(caption)))
            verdicts = [check.evaluate_claim(name, claim) for claim in derivation.claims]
            if verdicts:
                parts.append(claims_block(derivation.claims, verdicts))
            rows += verdicts
    parts.append(r"\clearpage")
    parts.append(errata_section(rows))
    parts.append(r"\end{document}")
    return "\n\n".join(parts) + "\n"


def words(text: str) -> str:
    """Prose for the handout: documents named by author and year (documents.by_author)."""
    return prose.to_latex(documents.by_author(text))


def figure_caption(name: str) -> str:
    """What a figure shows, from symdl.plot's description of it."""
    from symdl import plot
    return getattr(plot, "CAPTIONS", {}).get(name, f"symdl's figure for `{name}`.")


def document_heading(number: str) -> str:
    if not number:
        return (r"\section{Models beyond the documents}" + "\n"
                + r"\noindent Not from the documents: models built on them for practitioners "
                  r"(a penalty, another loss, a network of any width), derived and checked the "
                  r"same way.\par")
    d = documents.DOCUMENTS[number]
    return (r"\section{%s}" % prose.text_mode(d.short) + "\n"
            + r"\noindent %s, %s (\texttt{%s}).\par" % (prose.text_mode(d.author),
                                                       prose.text_mode(d.kind),
                                                       d.file.replace("_", r"\_")))


def documents_section(document=None) -> str:
    """The documents by title, author and year; their file names in a column of their own
    (a footnote inside a table loses its text)."""
    lines = [r"\noindent\textbf{The documents}\par\smallskip",
             r"\begin{tabular}{@{}>{\raggedright\arraybackslash}p{0.4\textwidth}"
             r">{\raggedright\arraybackslash}p{0.17\textwidth}l"
             r">{\raggedright\arraybackslash}p{0.26\textwidth}@{}}",
             r"\toprule title & author & year & kind and file\\ \midrule"]
    for number, d in documents.DOCUMENTS.items():
        if document and number != document:
            continue
        lines.append(r"%s & %s & %d & %s, {\small\texttt{%s}}\\" % (
            prose.text_mode(d.title), prose.text_mode(d.author), d.year, prose.text_mode(d.kind),
            d.file.replace("_", r"\_\allowbreak ")))
    lines += [r"\bottomrule", r"\end{tabular}", r"\bigskip"]
    return "\n".join(lines)


# ---- what the document states, with symdl's verdict -------------------------------------

def shown_value(value, tidied=True, hints=()) -> str:
    """A stated or derived value as the handout prints it: a formula in $…$, numbers to six
    digits, a statement as quoted prose. A derived formula is tidied (its factors in the order
    of `hints`, the document's); a stated one is printed as transcribed. A matrix is displayed;
    a formula too long for a line is displayed broken over lines (`displayed`)."""
    if value is None:
        return ""
    if isinstance(value, str):
        quoted = re.sub(r"\.([\"”’]?)$", r"\1", value.strip())  # the full stop goes after the quote
        return "``" + words(quoted) + "''"
    if isinstance(value, (bool, np.bool_)):
        return "it holds" if value else "it does not hold"
    if isinstance(value, (int, float, np.floating, np.integer, np.ndarray, list, tuple)):
        return "$" + prose.math_mode(check.format_value(value)) + "$"
    if isinstance(value, sp.Basic) or isinstance(value, sp.MatrixBase):
        if tidied and isinstance(value, sp.Expr) and not value.has(sp.MatrixSymbol):
            value = tidy(value, hints)  # (c − p)/(p(1 − p)), factors in the document's order
        if isinstance(value, sp.MatrixBase) and 1 in value.shape and not value.free_symbols:
            return shown_value(np.array(value, dtype=float).ravel())  # [0.05, 0.15, …] inline
        if isinstance(value, sp.MatrixBase):
            return displayed_matrix(value, tidied)
        tex = DocumentLatexPrinter({"mul_symbol": "dot", "order": "none"}).doprint(document_order(value))
        if visible_width(tex) > LONGEST_VALUE:
            return displayed([("", value)])
        return "$" + tex + "$"
    return prose.text_mode(str(value))


DISPLAY_WIDTH = 62
"""Visible characters of a displayed row that fit at the claims' indent, after a label."""

MOST_LINES = 16
"""A value written out over more displayed lines than this is not printed: a generic matrix
multiplied out symbol by symbol, which the statement's own formula says better."""


class ValuePrinter(LatexPrinter):
    """Breaks a claim's value as a derivation's equations are broken, to the claims' width."""

    WIDTH = DISPLAY_WIDTH


def displayed_matrix(value: sp.MatrixBase, tidied: bool) -> str:
    """A matrix displayed whole when its widest row fits; else entry by entry, each entry
    labelled with its place and broken over lines."""
    printer = DocumentLatexPrinter({"mul_symbol": "dot", "order": "none"})

    def written(entry):  # tidied, unless one fraction over a common denominator is longer
        forms = [document_order(entry)] + ([document_order(tidy(entry))] if tidied else [])
        return min(reversed(forms), key=lambda form: visible_width(printer.doprint(form)))

    entries = [[written(e) for e in value.row(i)] for i in range(value.rows)]
    widest = max((sum(visible_width(printer.doprint(e)) + 2 for e in row) for row in entries), default=0)
    if widest <= DISPLAY_WIDTH:
        cells = [[printer.doprint(e).replace(r"\frac", r"\dfrac") for e in row] for row in entries]
        tall = any(r"\dfrac" in cell for row in cells for cell in row)  # fractions apart
        body = (r" \\[8pt] " if tall else r" \\ ").join(" & ".join(row) for row in cells)
        return r"\[\begin{pmatrix}%s\end{pmatrix}\]" % body  # displayed: a matrix cannot break
    column = value.cols == 1
    if value.shape == (1, 1):
        return displayed([("", entries[0][0])])
    return displayed([((f"{i + 1}" if column else f"{i + 1},{j + 1}"), e)
                      for i, row in enumerate(entries) for j, e in enumerate(row)])


def displayed(entries: list[tuple[str, object]]) -> str:
    """Formulas displayed in an align*, each broken into rows of DISPLAY_WIDTH (a long sum at
    its + and −, a long product at its ·), an entry of a matrix led by its place; a note
    instead when they would run past MOST_LINES lines or a piece cannot be broken."""
    printer, lines, count = ValuePrinter(), [], 0
    for label, value in entries:
        rows = printer.broken(value, {}).split(r" \\ &\qquad ")
        if max(visible_width(row) for row in rows) > DISPLAY_WIDTH + 6:  # multiplied out, a sum
            rows = printer.broken(sp.expand(value), {}).split(r" \\ &\qquad ")
        if max(visible_width(row) for row in rows) > DISPLAY_WIDTH + 6:
            return unprinted("it has a factor too long for a line")
        lead = r"\text{entry } %s\colon\ " % label if label else ""
        lines.append(lead + "&" + r" \\ &\qquad ".join(rows))
        count += len(rows)
    if count > MOST_LINES:
        return unprinted(f"written out it runs to {count} lines")
    return "\\begin{align*}\n" + " \\\\\n".join(lines) + "\n\\end{align*}"


def unprinted(why: str) -> str:
    """What the handout says in place of a value it does not print."""
    return r"(not printed: %s; \texttt{symdl check} compares it symbolically)" % why


def claims_block(claims: list[Claim], rows: list) -> str:
    """Each claim quoted, the document's value and symdl's beside it, and the verdict."""
    items = [r"\subsubsection*{What the document states, and what symdl finds}",
             r"\begin{itemize}"]
    for claim, row in zip(claims, rows):
        if row.verdict == "agrees":
            mark, verdict = r"\agrees", ""
        elif row.is_discrepancy:
            mark = r"\disagrees"
            verdict = r"\textbf{%s}" % SEVERITY_LABELS.get(row.severity, row.severity) + ". "
        else:
            mark, verdict = "?", "not evaluated: " + prose.text_mode(row.evidence) + ". "
        parts = [words(claim.statement) + "."]
        stated = shown_value(claim.stated, tidied=False) if claim.compare != "text" else ""
        if claim.compare == "text" and isinstance(claim.stated, str):
            stated = shown_value(claim.stated)
        hints = sp.Mul.make_args(claim.stated) if isinstance(claim.stated, sp.Expr) else ()
        derived = shown_value(row.value, hints=hints)
        for who, shown in ((r"\emph{The document:} ", stated), (r"\emph{symdl:} ", derived)):
            if shown:  # a displayed value ends its own line: no full stop after it
                parts.append(who + shown + ("" if shown.endswith((r"\]", "{align*}")) else "."))
        parts.append(verdict + "(" + cite_latex(row.source, False) + ")")
        if row.is_discrepancy:
            parts.append(r"\emph{Correct:} " + words(correction_of(row)))
            if row.follows:
                parts.append(r"\emph{It follows from an earlier slip:} "
                             + words(row.follows) + ".")
        items.append(r"\item[%s] " % mark + " ".join(parts))
    items.append(r"\end{itemize}")
    return "\n".join(items)


# ---- the errata --------------------------------------------------------------------------

def errata_section(rows) -> str:
    """Every discrepancy once per cause, with its severity and correction, the findings that
    follow from it beneath it; then the documents against each other."""
    found = [r for r in rows if r.is_discrepancy]
    grouped = check.by_cause(rows)
    broken = [r for r in rows if r.is_failure]
    counts = ", ".join(f"{sum(c.severity == s for c, _ in grouped)} {s}" for s in SEVERITIES)
    lines = [r"\section{Errata}",
             prose.to_latex(f"symdl checked {len(rows)} statements of the documents and disagrees "
                            f"with {len(found)} of them, from {len(grouped)} causes ({counts}). "
                            "Severity: " + "; ".join(f"{s}: {text}" for s, text in
                                                     SEVERITIES.items())
                            + ". Each correct statement below is what symdl derives; a finding "
                            "that only repeats an earlier slip is listed under it.")]
    if broken:
        lines.append(prose.to_latex(f"{len(broken)} claims could not be evaluated: "
                                    + "; ".join(r.claim for r in broken)))
    column = r">{\raggedright\arraybackslash}p{%s\textwidth}"
    lines += [r"\begin{longtable}{@{}%s@{}}" % "".join(column % w for w in ("0.18", "0.28", "0.12", "0.32")),
              r"\toprule document and heading & the document states & severity & correct statement\\ \midrule",
              r"\endhead"]
    for cause, following in grouped:
        severity = SEVERITY_LABELS.get(cause.severity, cause.severity)
        lines.append(r"%s & %s & %s & %s\\" % (
            cite_latex(cause.source, False), words(cause.claim), severity,
            words(correction_of(cause))))
        for f in following:
            lines.append(r"\multicolumn{4}{@{}p{0.98\textwidth}@{}}{\small\quad $\hookrightarrow$ "
                         r"follows from it, in %s: %s (%s)}\\" % (
                             cite_latex(f.source, False), words(f.claim),
                             SEVERITY_LABELS.get(f.severity, f.severity)))
        lines.append(r"\midrule")
    lines += [r"\bottomrule", r"\end{longtable}"]
    between = [c for c, _ in grouped if c.between]
    if between:
        lines.append(r"\subsection{Between the documents}" + "\n" + r"\begin{enumerate}")
        for r in between:
            lines.append(r"\item %s (%s): %s" % (words(r.claim), cite_latex(r.source, False),
                                                  cite_latex(documents.by_author(r.between), False)))
        lines.append(r"\end{enumerate}")
    return "\n".join(lines)


def correction_of(row) -> str:
    """The correct statement as structured text (symdl.prose): the derivation file's
    correction, or symdl's evidence as code where the file gives none."""
    correction = row.correction or f"symdl derives otherwise: `{row.evidence}`"
    if row.severity == "assumption":
        correction = f"Holds only if {row.assumption}. " + correction
    return correction
