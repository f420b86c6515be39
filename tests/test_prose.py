"""Structured text (symdl.prose): every sentence symdl ships marks its mathematics itself.

The derivation files, the example models and symdl's own sentences write their mathematics
between dollars and their code between backticks; the LaTeX writer typesets what is marked
and guesses nothing. These tests fail when a shipped sentence leaves mathematics unmarked
(it would be set as words, θ₁ = 0 in text mode) or its dollars unbalanced."""

import re
from pathlib import Path

import pytest

from symdl import prose
from symdl.model import Model
from symdl.render import derivation_lines
from symdl.sources import builtin_names, load_derivation

EXAMPLES = sorted(str(p) for p in (Path(__file__).parent.parent / "examples" / "models").glob("*.py"))
ENUMERATORS = {"(a)", "(b)", "(c)", "(d)"}
"""A figure's panels, (a) to (d): words, not variables."""


def sentences(derivation) -> list[str]:
    """Every sentence of a derivation a reader sees: title, summary, source, steps, claims
    and the lines symdl writes for a model (those without LaTeX of their own)."""
    found = [derivation.title, derivation.summary, derivation.source]
    found += [text for step in derivation.steps for text in (step.text, step.source)]
    for claim in derivation.claims:
        found += [claim.statement, claim.correction, claim.assumption, claim.between, claim.follows,
                  claim.source]
        if isinstance(claim.stated, str):
            found.append(claim.stated)
    if isinstance(derivation, Model):
        found += [line.text for line in derivation_lines(derivation) if not line.tex]
    return [s for s in found if s]


def unmarked(sentence: str) -> list[str]:
    """What in a sentence's words (outside its $…$ and `…`) is mathematics: a mathematical
    character (θ, ₁, ∂, =, _, ^) or a letter standing alone as a variable (not "a" or "I")."""
    if len(re.findall(r"(?<!\\)\$", sentence)) % 2:
        return ["an unbalanced $"]
    found = []
    for kind, part in prose.spans(re.sub(r"\d{3}_[0-9a-f]{16}\.txt", "", sentence)):  # cited
        if kind != "words":
            continue
        found += [ch for ch in part if ch in prose.MATH_CHARACTERS and (ord(ch) > 127 or ch in "_^=")]
        for word in part.split():
            core = word.strip("\"'“”‘’.,;:!?")
            if core not in ENUMERATORS and not word.startswith("'") and re.fullmatch(r"\(?[B-HJ-Zb-z]\)?", core):
                found.append(word)
    return found


def test_structured_text_marks_mathematics_and_code():
    assert prose.to_latex("the sums $S_x = Σ_{k=1}^m x⁽ⁱ⁾$ (over $k$)") == \
        r"the sums $S_{x} = \sum _{k=1}^{m} x^{(i)}$ (over $k$)"
    assert prose.to_latex("$θ ∈ ℝ^H × n$") == r"${\theta} \in \mathbb{R}^{H} \times n$"
    assert prose.to_latex("the `two_classes` dots") == r"the \texttt{two\_classes} dots"
    assert prose.to_latex(r"costs \$5") == r"costs \$5"
    assert prose.plain("the sums $S_x = Σ x⁽ⁱ⁾$ of `two_classes`") == "the sums S_x = Σ x⁽ⁱ⁾ of `two_classes`"


def test_an_unmarked_sentence_is_words_and_nothing_is_guessed():
    """A user's old-style sentence still prints: its words as words, a mathematical character
    as a symbol where it stands; no word around it is taken for mathematics."""
    assert prose.to_latex("θ₁ = 0 at x") == r"${\theta}_{1}$ = 0 at x"
    assert prose.to_latex("J(a, b) is convex") == "J(a, b) is convex"


@pytest.mark.parametrize("ref", builtin_names() + EXAMPLES)
def test_every_shipped_sentence_marks_its_mathematics(ref):
    derivation = load_derivation(ref)
    left = {s: unmarked(s) for s in sentences(derivation)}
    assert not {s: found for s, found in left.items() if found}


def test_every_figure_caption_marks_its_mathematics():
    plot = pytest.importorskip("symdl.plot")
    assert not {name: unmarked(text) for name, text in plot.CAPTIONS.items() if unmarked(text)}


def test_unmarked_mathematics_is_found():
    """The detector the test above relies on finds what the old heuristic used to guess."""
    assert unmarked("the slope m₁ = 2 over k") == ["₁", "=", "k"]
    assert unmarked("the slope $m₁ = 2$ over $k$, a line") == []
    assert unmarked("an unbalanced $x") == ["an unbalanced $"]
