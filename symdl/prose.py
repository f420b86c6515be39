"""Unicode prose with mathematics in it, as LaTeX: the words in text mode, the maths in $…$.

Derivation files write their sentences, claims and corrections the way the documents do,
in unicode: "S_x = Σ_{k=1}^m x⁽ⁱ⁾", "θ ∈ ℝ^H × n", "∂J/∂θ₁⁽²⁾ = (p − c)·a₁". A handout
cannot print those characters in text mode, so `to_latex` finds the mathematical stretches
of a sentence and typesets them as mathematics:

* a word is mathematical when it holds a mathematical character (Greek letters, operators,
  sub- and superscripts, `_`, `^`, `=`), when it is a single letter other than "a", "A"
  and "I", or when it opens a function call such as `J(a,`;
* an operator standing alone (`=`, `+`, `−`, `<`, `×`, …) joins its neighbours to the
  mathematics, and an opened parenthesis keeps the stretch going until it closes;
* inside the maths, ⁽²⁾ becomes ^{(2)}, θ₁ becomes {\\theta}_{1}, Σ becomes \\sum, words
  of one's own become \\mathrm{MSE} or \\text{ of }, and braces not after `_`/`^` are the
  set braces \\{ \\}.

    >>> print(to_latex("the sums S_x = Σ_{k=1}^m x⁽ⁱ⁾ are over k"))
    the sums $S_{x} = \\sum _{k=1}^{m} x^{(i)}$ are over $k$
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
OPERATORS = {"=", "+", "−", "-", "<", ">", "≤", "≥", "≠", "≈", "×", "·", "∈", "⇒", "→",
             "⟺", "⇔", "≡", "/", "*"}
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
TRAILING = ",.;:!?"
QUOTES = "\"'“”‘’"


def is_code(word: str) -> bool:
    """A Python name or setting such as two_classes or batch_size=128: typewriter, not maths."""
    core = word.strip(QUOTES + TRAILING + "()")
    parts = core.split("=")[0].split("_")
    return (len(parts) >= 2 and all(re.fullmatch(r"[A-Za-z0-9.]+", part) for part in parts)
            and (len(parts[0]) >= 2 and any(len(part) >= 3 and part.islower() for part in parts)
                 or "=" in core))  # two_classes is code; S_xxS_y and m_bestest are maths


def is_mathematical(word: str) -> bool:
    core = word.strip(QUOTES + TRAILING + "()")
    if not core or is_code(word):
        return False
    if any(ch in MATH_CHARACTERS for ch in core):
        return True
    if len(core) == 1 and core.isalpha() and core not in "aAI" or core in FUNCTIONS:
        return True
    if re.match(r"^[A-Za-z]{1,3}\(", core):  # J(a, … , f(x)
        return True
    return bool(re.fullmatch(r"[A-Za-z]+'+", core)) or bool(re.fullmatch(r"\(?[A-Za-z][0-9]+\)?", core))


def is_prose(word: str) -> bool:
    """An ordinary word (three letters or more, nothing else), which an operator leaves alone."""
    return bool(re.fullmatch(r"[A-Za-z]{3,}[,.;:]?", word.strip(QUOTES)))


def to_latex(text: str) -> str:
    """A sentence of unicode prose as LaTeX text with its mathematics in $…$.

    A sentence that marks its mathematics itself, "the factor $p_i$ for each dot", is
    structured text: what is between the dollars is mathematics (unicode allowed, θ₁ and
    Σ), the rest is words, and nothing is guessed. An unmarked sentence is split by the
    rules of the module docstring."""
    if "$" in text:
        parts = re.split(r"(?<!\\)\$", text)
        if len(parts) % 2 == 1:  # balanced: words, maths, words, ...
            return "".join(words_latex(part) if k % 2 == 0 else "$" + math_mode(part) + "$"
                           for k, part in enumerate(parts))
    words = text.split(" ")
    math = [is_mathematical(w) for w in words]
    for k, word in enumerate(words):
        if word in OPERATORS and 0 < k < len(words) - 1:
            math[k] = True
            for neighbour in (k - 1, k + 1):
                math[neighbour] = math[neighbour] or not (is_prose(words[neighbour])
                                                          or is_code(words[neighbour]))
    for k in range(len(words)):  # a stretch with an open parenthesis runs until it closes,
        if math[k] and (k == 0 or not math[k - 1]):  # unless words of prose stand inside it
            depth, j, group = 0, k, []
            while j < len(words):
                if not math[j] and depth <= 0:
                    break
                group.append(j)
                depth += words[j].count("(") + words[j].count("[") - words[j].count(")") - words[j].count("]")
                j += 1
            if not any(is_prose(words[g].strip("()[]")) and words[g].strip("()[],.;:") not in FUNCTIONS
                       for g in group if not math[g]):
                for g in group:
                    math[g] = True
    out, k = [], 0
    while k < len(words):
        if not math[k]:
            out.append(code(words[k]) if is_code(words[k]) else text_mode(words[k]))
            k += 1
            continue
        j = k
        while j < len(words) and math[j]:
            j += 1
            if j < len(words) and ends_sentence(words[j - 1], words[j]):
                break  # "B is 1 × 4. W⁽¹⁾X is 4 × N": two stretches, the full stop between
        out.append(math_stretch(" ".join(words[k:j])))
        k = j
    return " ".join(out)


def ends_sentence(word: str, following: str) -> bool:
    """A full stop or semicolon after `word` ends a sentence when the next word starts one:
    not the point of 0.5, nor an ellipsis."""
    return (word.endswith((".", ";")) and not word.endswith("..") and bool(following)
            and (following[0].isupper() or word.endswith(";")))


def words_latex(text: str) -> str:
    """The words of a structured sentence (outside its $…$): text mode, code in typewriter."""
    return " ".join(code(w) if is_code(w) else text_mode(w) for w in text.split(" "))


def code(word: str) -> str:
    """two_classes, → \\texttt{two\\_classes},"""
    match = re.fullmatch(r"([\"“‘(]*)(.*?)([,.;:)\"”’]*)", word)
    lead, core, trail = match.groups()
    return text_mode(lead) + r"\texttt{" + text_mode(core) + "}" + text_mode(trail)


def math_stretch(stretch: str) -> str:
    """`lead$maths$trail`: quotes and closing punctuation stay outside the maths."""
    lead = re.match(r"^[\"“‘]*", stretch).group()
    body = stretch[len(lead):]
    trail = re.search(r"[" + re.escape(TRAILING) + r"\"”’]*$", body).group()
    body = body[:len(body) - len(trail)] if trail else body
    if body.count(")") > body.count("(") and body.endswith(")"):
        body, trail = body[:-1], ")" + trail
    if body.count("(") > body.count(")") and body.startswith("("):
        lead, body = lead + "(", body[1:]
    return text_mode(lead) + "$" + math_mode(body) + "$" + text_mode(trail)


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
            match = re.match(r"[a-z0-9]+|[A-Za-z]|\(\w+\)", text[k + 1:])
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
            out.append(r"\mathrm{" + word + "}" if called and word not in FUNCTIONS
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
    return re.sub(r"(?<=[0-9.]) (?=[0-9.])", r"\\;", latex)  # [0.2 0.25] keeps its spaces


def math_word(word: str) -> str:
    """ln → \\ln, MSE → \\mathrm{MSE}, mean → \\text{ mean }, mS → mS (a product of letters)."""
    if word in FUNCTIONS:
        return "\\" + word + " "
    if len(word) >= 2 and word.isupper() or len(word) >= 3 and not word.islower():
        return r"\mathrm{" + word + "}"  # MSE, ReLU, Dense: names, upright
    if word.islower() and (len(word) >= 3 or word in SHORT_WORDS):
        return r"\text{ " + word + " }"
    return word


SHORT_WORDS = {"if", "of", "in", "is", "on", "or", "at", "to", "as", "by", "be", "an"}
"""Two-letter English words that a mathematical stretch may hold, (pᵢ if cᵢ = 1): set as
words, not as the product of two letters."""


def text_mode(text: str) -> str:
    """Plain words, escaped for LaTeX text mode; a stray mathematical character in $…$."""
    out = []
    for ch in text:
        if ch in TEXT_CHARACTERS:
            out.append(TEXT_CHARACTERS[ch])
        elif ord(ch) < 128:
            out.append(ch)
        elif ch in MATH_CHARACTERS or ch in SYMBOLS or ch in GREEK:
            out.append("$" + math_mode(ch) + "$")
        elif unicodedata.category(ch).startswith("L"):
            out.append(ch)  # a Latin letter with an accent: pdflatex reads UTF-8
        else:
            out.append("?")
    return "".join(out)
