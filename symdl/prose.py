"""Structured text: sentences whose mathematics is marked, as LaTeX and for a terminal.

Derivation files write their sentences, claims and corrections the way the documents do, in
unicode, and mark what is mathematics and what is code themselves:

    "the sums $S_x = Σ_{k=1}^m x⁽ⁱ⁾$ are over $k$, on the `two_classes` dots"

* between dollars, mathematics: unicode as the documents write it (θ₁, x⁽ⁱ⁾, Σ_{k=1}^m,
  ∂J/∂a, ‖w‖², log, softmax(z)_c); `math_mode` translates it to LaTeX character by character:
  ⁽²⁾ becomes ^{(2)}, θ₁ becomes {\\theta}_{1}, Σ becomes \\sum, a word of several letters is
  upright (\\mathrm{MSE}, \\text{ if }), braces not after `_`/`^` are the set braces \\{ \\};
* between backticks, code: a Python name or setting (`batch_size=128`), in typewriter;
* everything else is words, set in text mode. `\\$` is a dollar sign.

`to_latex` typesets a sentence for a LaTeX document and `plain` for a terminal (the dollars
dropped). Nothing is guessed: a sentence without marks is words only, and a mathematical
character standing in it (a user's old-style "θ₁ = 0") is set as a mathematical symbol where
it stands, so that LaTeX can print it, without deciding which words around it are maths.

    >>> print(to_latex("the sums $S_x = Σ_{k=1}^m x⁽ⁱ⁾$ are over $k$"))
    the sums $S_{x} = \\sum _{k=1}^{m} x^{(i)}$ are over $k$
    >>> print(plain("the sums $S_x = Σ_{k=1}^m x⁽ⁱ⁾$ are over $k$"))
    the sums S_x = Σ_{k=1}^m x⁽ⁱ⁾ are over k
"""

from __future__ import annotations

import re
import unicodedata

GREEK = {
    "α": r"\alpha", "β": r"\beta", "γ": r"\gamma", "δ": r"\delta", "ε": r"\varepsilon",
    "ζ": r"\zeta", "η": r"\eta", "θ": r"\theta", "κ": r"\kappa", "λ": r"\lambda", "μ": r"\mu",
    "ν": r"\nu", "ξ": r"\xi", "π": r"\pi", "ρ": r"\rho", "ϱ": r"\varrho", "σ": r"\sigma",
    "τ": r"\tau", "φ": r"\varphi", "χ": r"\chi", "ψ": r"\psi", "ω": r"\omega",
    "Γ": r"\Gamma", "Δ": r"\Delta", "Θ": r"\Theta", "Λ": r"\Lambda", "Φ": r"\Phi",
    "Ψ": r"\Psi", "Ω": r"\Omega",
}
SYMBOLS = {
    "Σ": r"\sum", "Π": r"\prod", "∂": r"\partial", "∇": r"\nabla", "·": r"\cdot ",
    "−": "-", "×": r"\times ", "≤": r"\leq ", "≥": r"\geq ", "≠": r"\neq ", "≈": r"\approx ",
    "∈": r"\in ", "∉": r"\notin ", "ℝ": r"\mathbb{R}", "ℓ": r"\ell ", "ŷ": r"\hat{y}",
    "ȳ": r"\bar{y}", "‖": r"\|", "√": r"\surd ", "∞": r"\infty ", "⇒": r"\Rightarrow ",
    "→": r"\to ", "⟺": r"\iff ", "⇔": r"\iff ", "±": r"\pm ", "…": r"\ldots ", "′": "'",
    "″": "''", "⌈": r"\lceil ", "⌉": r"\rceil ", "⊗": r"\otimes ", "≡": r"\equiv ",
    "∘": r"\circ ", "°": r"^{\circ}", "%": r"\%", "&": r"\&", "#": r"\#", "$": r"\$",
    "<": "<", ">": ">", "|": "|", "\u0304": "",
}
SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾⁻⁺ᵀⁱʲᵏᵐⁿ", "0123456789()-+Tijkmn"))
SUBSCRIPTS = dict(zip("₀₁₂₃₄₅₆₇₈₉₍₎₋₊ᵢⱼₖₘₙₓ", "0123456789()-+ijkmnx"))
FUNCTIONS = {"ln", "log", "exp", "sin", "cos", "tan", "tanh", "max", "min", "det", "sup",
             "inf", "lim", "arg"}
SYMBOLS = {ch: tex + " " if tex.startswith("\\") and tex[-1].isalpha() else tex
           for ch, tex in SYMBOLS.items()}
MATH_CHARACTERS = (set(GREEK) | set(SYMBOLS) | set(SUPERSCRIPTS) | set(SUBSCRIPTS)
                   | set("_^=")) - set("%&#$…°")
TEXT_CHARACTERS = {
    "’": "'", "‘": "`", "“": "``", "”": "''", "—": "---", "–": "--", "…": r"\ldots{}",
    "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
    "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}",
    "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}", "°": r"\textdegree{}",
    "§": r"\S{}", "ä": r"\"a", "ö": r"\"o", "ü": r"\"u", "é": r"\'e", "č": r"\v{c}",
}


SPAN = re.compile(r"(?<!\\)(\$[^$]*(?<!\\)\$|`[^`]*`)")
r"""A span of structured text: $mathematics$ or `code` (a dollar written \$ is a dollar)."""


def spans(text: str) -> list[tuple[str, str]]:
    """The parts of a sentence in order, each ("words" | "math" | "code", its text)."""
    parts = []
    for k, part in enumerate(SPAN.split(text)):
        if k % 2 == 0:
            if part:
                parts.append(("words", part.replace(r"\$", "$")))
        elif part.startswith("$"):
            parts.append(("math", part[1:-1]))
        else:
            parts.append(("code", part[1:-1]))
    return parts


def to_latex(text: str) -> str:
    """A sentence of structured text as LaTeX: its words in text mode, its $mathematics$ in
    $…$, its `code` in typewriter."""
    out = []
    for kind, part in spans(text):
        if kind == "math":
            out.append("$" + math_mode(part) + "$")
        elif kind == "code":
            out.append(r"\texttt{" + text_mode(part) + "}")
        else:
            out.append(text_mode(part))
    return "".join(out)


def ascii_words(text: str) -> str:
    """A sentence of structured text in ASCII, for a PDF bookmark: L² as L2, θ as theta."""
    spelled = {**SUPERSCRIPTS, **SUBSCRIPTS, **{ch: tex.lstrip("\\") for ch, tex in GREEK.items()},
               "−": "-", "×": "x", "→": "->", "·": "."}
    return "".join(ch if ord(ch) < 128 else spelled.get(ch, "") for ch in plain(text))


def plain(text: str) -> str:
    """A sentence of structured text for a terminal or a Markdown table: the dollars around
    its mathematics dropped (the unicode reads as the documents write it), code kept in
    backticks."""
    return "".join(part if kind != "code" else "`" + part + "`" for kind, part in spans(text))


def math_mode(text: str) -> str:
    """Unicode mathematics as LaTeX mathematics."""
    out, k, braces = [], 0, []
    while k < len(text):
        ch = text[k]
        if ch in SUPERSCRIPTS or ch in SUBSCRIPTS:
            table, mark = (SUPERSCRIPTS, "^") if ch in SUPERSCRIPTS else (SUBSCRIPTS, "_")
            j = k
            while j < len(text) and text[j] in table:
                j += 1
            out.append(mark + "{" + "".join(table[c] for c in text[k:j]) + "}")
            k = j
            continue
        if ch in "_^":
            if k + 1 < len(text) and text[k + 1] == "{":
                out.append(ch + "{")
                braces.append("}")
                k += 2
                continue
            match = re.match(r"[a-z0-9]+|[A-Za-z]|\(\w+\)|[%s]" % "".join(GREEK), text[k + 1:])
            if match:
                out.append(ch + "{" + math_mode(match.group()) + "}")
                k += 1 + len(match.group())
                continue
            out.append(r"\_" if ch == "_" else r"\hat{}")
            k += 1
            continue
        if ch == "{":
            out.append(r"\{")
            braces.append(r"\}")
        elif ch == "}":
            out.append(braces.pop() if braces else r"\}")
        elif ch in GREEK:
            out.append("{" + GREEK[ch] + "}")
        elif ch in SYMBOLS:
            out.append(SYMBOLS[ch])
        elif ch.isalpha() and ch.isascii():
            word = re.match(r"[A-Za-z]+", text[k:]).group()
            called = text[k + len(word):k + len(word) + 1] == "("
            out.append(r"\mathrm{" + word + "}" if called and len(word) > 1 and word not in FUNCTIONS
                       else math_word(word))
            k += len(word)
            continue
        elif ch == "\\":
            out.append(r"\backslash ")
        elif ch == "~":
            out.append(r"\sim ")
        elif ord(ch) < 128:
            out.append(ch)
        else:
            out.append(r"\text{" + text_mode(ch) + "}")
        k += 1
    latex = re.sub(r" {2,}", " ", "".join(out)).strip()
    latex = latex.replace(", ", r",\allowbreak ")  # a list or a matrix may break after a comma
    return re.sub(r"(?<=[0-9.]) (?=[0-9.])", r"\\;", latex)  # [0.2 0.25] keeps its spaces


def math_word(word: str) -> str:
    """ln → \\ln, MSE → \\mathrm{MSE}, softmax → \\operatorname{softmax}, if → \\text{ if },
    mS → mS (a product of letters)."""
    if word in FUNCTIONS:
        return "\\" + word + " "
    if len(word) >= 2 and word.isupper() or len(word) >= 3 and not word.islower():
        return r"\mathrm{" + word + "}"  # MSE, ReLU, Dense: names, upright
    if word.islower() and len(word) >= 3:
        return r"\operatorname{" + word + "}"  # softmax, mean, diag: an operator's name
    if word in SHORT_WORDS:
        return r"\text{ " + word + " }"
    return word


SHORT_WORDS = {"if", "of", "in", "is", "on", "or", "at", "to", "as", "by", "be", "an"}
"""Two-letter English words that a mathematical stretch may hold, (pᵢ if cᵢ = 1): set as
words, not as the product of two letters."""


def text_mode(text: str) -> str:
    """Plain words, escaped for LaTeX text mode, straight quotes as opening and closing ones;
    a mathematical character standing in them (θ, a subscript, ∂) set as mathematics where it
    stands, a run of them together (θ₁)."""
    out, run = [], []
    for ch in text + " ":
        if ch in MATH_CHARACTERS and ord(ch) > 127:
            run.append(ch)
            continue
        if run:
            out.append("$" + math_mode("".join(run)) + "$")
            run = []
        if ch == '"':  # a straight quote opens after a space, else closes
            out.append("``" if not out or out[-1][-1:] in " ([" else "''")
        elif ch in TEXT_CHARACTERS:
            out.append(TEXT_CHARACTERS[ch])
        elif ord(ch) < 128:
            out.append(ch)
        elif unicodedata.category(ch).startswith("L"):
            out.append(ch)  # a Latin letter with an accent: pdflatex reads UTF-8
        else:
            out.append("?")
    return "".join(out)[:-1]
