"""Prints a derivation step by step: plain text for the terminal, or a LaTeX document.

The printed derivation is built once as a list of `Line`s (derivation_lines), each a
sentence and optionally an equation `lhs = rhs` whose sides are SymPy expressions or
`Partial` markers; `TextPrinter` and `LatexPrinter` then print the same lines two ways.
For a Model the lines are: the tensors, each named intermediate, the loss, the chain rule
for every parameter factor by factor (as 001 writes it), the adjoints the kernel computes,
the stable form of the loss, and the Hessian and closed form where symdl derives them.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symdl.derive import LSE, ONEHOT, Derived, adjoint_symbol, chain_rule, closed_form
from symdl.model import Affine, Derivation, Model, Step


class Partial(sp.Expr):
    """∂f/∂x shown as a symbol in a chain-rule product (never evaluated)."""

    def __new__(cls, numerator: str, denominator: str, numerator_tex: str, denominator_tex: str):
        obj = sp.Expr.__new__(cls)
        obj.texts = (numerator, denominator, numerator_tex, denominator_tex)
        return obj

    def _hashable_content(self):
        return self.texts

    def _latex(self, printer):
        return r"\frac{\partial %s}{\partial %s}" % self.texts[2:]

    def _sympystr(self, printer):
        return f"∂{self.texts[0]}/∂{self.texts[1]}"


class IndexSum(sp.Expr):
    """Σ_j (body): a sum over an index, shown, never evaluated."""

    def __new__(cls, index: str, body):
        return sp.Expr.__new__(cls, sp.Symbol(index), sp.sympify(body))

    def _latex(self, printer):
        return r"\sum_{%s} %s" % (self.args[0], printer._print(self.args[1]))

    def _sympystr(self, printer):
        return f"Σ_{self.args[0]} {printer.parenthesize(self.args[1], 50)}"


@dataclass
class Line:
    text: str
    lhs: object = None
    rhs: list | None = None  # successive right-hand sides: lhs = rhs[0] = rhs[1] ...


# ---- the lines of a derivation ---------------------------------------------------------

def derivation_lines(derivation: Derivation) -> list[Line]:
    lines = []
    if isinstance(derivation, Model):
        lines += model_lines(derivation)
    for step in derivation.steps:
        lines.append(step_line(step))
    return lines


def step_line(step: Step) -> Line:
    if step.lhs is None:
        return Line(step.text)
    rhs = step.rhs if isinstance(step.rhs, (list, tuple)) else [step.rhs]
    return Line(step.text, step.lhs, list(rhs))


def model_lines(model: Model) -> list[Line]:
    derived = Derived(model)
    lines = [Line("The quantities: " + "; ".join(describe(t) for t in model.tensors.values()
                                                   if t.role != "intermediate") + ".")]
    for step in model.steps_of_model:
        lines.append(intermediate_line(model, step))
    if model.loss_kind == "softmax_cross_entropy":
        z_y, total = sp.Symbol("z_y"), sp.Symbol(r"\sum_{c} e^{z_c}")
        lines.append(Line("The loss of one sample with label y is the cross-entropy of softmax(z):",
                          sp.Symbol("ell"), [-sp.log(sp.exp(z_y) / total),
                                             sp.Symbol(r"\log\sum_{c} e^{z_c}") - z_y]))
    else:
        lines.append(Line("The loss of one sample:", sp.Symbol("ell"), [model.loss_expr]))
    total = "J = Σ_i ℓ⁽ⁱ⁾ over the m samples" if model.reduction == "sum" else "J = (1/m) Σ_i ℓ⁽ⁱ⁾, the mean over the m samples"
    lines.append(Line(f"The cost: {total}." if model.features else "There is no data: J = ℓ."))
    for param in model.params:
        lines += gradient_lines(model, derived, param)
    if derived.adjoints:
        lines.append(Line("What the generated kernel computes per sample, latest first "
                          "(δt = ∂ℓ/∂t; element-wise steps are composed before differentiating, "
                          "so nothing is evaluated as 0/0 at a saturated unit):"))
    for adjoint in derived.adjoints:
        value = adjoint.local
        for step in adjoint.through:
            value = value + transpose_term(model, step)
        lines.append(Line("", adjoint_symbol(adjoint.tensor), [value]))
    if model.loss_kind == "expression" and derived.stable_loss != derived.loss:
        lines.append(Line("The loss in a form that stays finite at |z| = 1000 (what the kernel evaluates):",
                          sp.Symbol("ell"), [derived.stable_loss]))
    lines += curvature_lines(derived)
    return lines


def describe(tensor) -> str:
    shape = " × ".join(tensor.shape)
    kinds = {"data": "feature", "target": "target", "param": "parameter"}
    where = f" ∈ ℝ^{shape}" if shape else ""
    kind = kinds[tensor.role]
    if tensor.role == "target" and tensor.kind != "real":
        kind = {"binary": "label in {0, 1}", "class": "class label"}[tensor.kind]
    return f"{tensor.name}{where} ({kind})"


def intermediate_line(model: Model, step) -> Line:
    if isinstance(step, Affine):
        value = IndexSum(model.index(step.input.shape[0]), step.weight.symbol * step.input.symbol)
        if step.bias is not None:
            value = sp.Add(value, step.bias.symbol, evaluate=False)
        return Line("An affine map (000/002 Y = W·X + B; 004 h = W·x + b):", step.out.symbol, [value])
    return Line("A named intermediate:", step.out.symbol, [step.expr])


def gradient_lines(model: Model, derived: Derived, param) -> list[Line]:
    lines = []
    for path in chain_rule(derived, param):
        symbols = [Partial(f.numerator.name if f.numerator else "ℓ", f.denominator.name,
                           f.numerator.latex if f.numerator else r"\ell", f.denominator.latex)
                   for f in path]
        values = [f.value for f in path]
        sums = sorted({f.summed_over for f in path if f.summed_over})
        product = sp.Mul(*symbols, evaluate=False)
        evaluated = sp.Mul(*values, evaluate=False)
        simplified = sp.factor(sp.Mul(*values))
        for index in sums:
            product, evaluated = IndexSum(index, product), IndexSum(index, evaluated)
            simplified = IndexSum(index, simplified)
        text = f"The chain rule for {param.name}, factor by factor:" if len(path) > 1 else \
            f"The derivative with respect to {param.name}:"
        lhs = Partial("ℓ", param.name, r"\ell", param.latex)
        lines.append(Line(text, lhs, [product, evaluated, simplified] if len(path) > 1 else [simplified]))
    return lines


def transpose_term(model, step: Affine):
    if step.out.is_scalar:
        return step.weight.symbol * adjoint_symbol(step.out)
    return IndexSum(model.index(step.out.shape[0]), step.weight.symbol * adjoint_symbol(step.out))


def curvature_lines(derived: Derived) -> list[Line]:
    curvature = derived.curvature
    if curvature is None:
        return []
    lines = []
    if curvature.kind == "scalar":
        form = closed_form(derived) if curvature.quadratic else None
        if form is not None:
            names = ", ".join(f"{s} = Σ {v}" for s, v in form.statistics.items() if v != 1)
            text = (f"With the data sums ({names}; m the number of samples) the cost is"
                    if form.statistics else "The cost:")
            lines.append(Line(text, sp.Symbol("J"), [form.cost]))
            for p, g in zip(curvature.params, form.gradient):
                lines.append(Line("", Partial("J", p.name, "J", p.latex), [g]))
            lines.append(Line("The Hessian:", sp.Symbol("H"), [form.hessian]))
            for p in curvature.params:
                lines.append(Line("Setting the gradient to zero and solving:", p.symbol,
                                  [form.solution[p.symbol]]))
        else:
            lines.append(Line("The Hessian of one sample's loss:", sp.Symbol("H"),
                              [sp.Matrix(curvature.entries)]))
    else:
        x = curvature.affine.input
        lines.append(Line(f"The Hessian: ∂²ℓ/∂{curvature.params[0].name}_j∂{curvature.params[0].name}_k "
                          f"= ℓ''(z)·{x.name}_j·{x.name}_k, summed over samples, with",
                          sp.Symbol("ell''(z)"), [curvature.second]))
        if curvature.quadratic:
            lines.append(Line("ℓ'' does not depend on the parameters, so J is quadratic and its "
                              "minimiser solves H·θ = −∇J(0): the normal equation."))
    return lines


# ---- printers -------------------------------------------------------------------------

class TextPrinter:
    """Plain text for a terminal."""

    def print(self, derivation: Derivation) -> str:
        out = [derivation.title, "=" * len(derivation.title), f"Source: {derivation.source}"]
        if derivation.summary:
            out.append(derivation.summary)
        out.append("")
        for line in derivation_lines(derivation):
            if line.text:
                out.append(line.text)
            if line.lhs is not None:
                sides = [self.expr(line.lhs)] + [self.expr(r) for r in line.rhs]
                out.append("    " + "\n      = ".join(sides))
            out.append("")
        if derivation.claims:
            out.append("What the document states (checked by `symdl check`):")
            for claim in derivation.claims:
                out.append(f"  - {claim.statement}  [{claim.source}]")
        return "\n".join(out).rstrip() + "\n"

    def expr(self, value) -> str:
        if isinstance(value, str):
            return value
        text = sp.sstr(value, order="none")
        return (text.replace("ell", "ℓ").replace(str(LSE), "log Σ_c e^(z_c)")
                .replace(str(ONEHOT), "[c = y]"))


class LatexPrinter:
    """A standalone LaTeX document: each derivation an align* environment."""

    def print(self, derivation: Derivation, standalone=True) -> str:
        body = [r"\section*{%s}" % text_to_latex(derivation.title),
                r"\noindent Source: %s\par" % text_to_latex(derivation.source)]
        if derivation.summary:
            body.append(text_to_latex(derivation.summary) + r"\par")
        equations = []
        symbol_names = latex_names(derivation)
        for line in derivation_lines(derivation):
            if line.text:
                equations.append(r"\intertext{%s}" % text_to_latex(line.text))
            if line.lhs is not None:
                sides = [self.expr(r, symbol_names) for r in line.rhs]
                equations.append(self.expr(line.lhs, symbol_names) + " &= "
                                 + r" \\ &= ".join(sides) + r" \\")
        body.append("\\begin{align*}\n" + "\n".join(equations).rstrip("\\ \n") + "\n\\end{align*}")
        if derivation.claims:
            body.append(r"\subsection*{What the document states}" + "\n" + r"\begin{itemize}")
            for claim in derivation.claims:
                body.append(r"\item " + text_to_latex(f"{claim.statement} [{claim.source}]"))
            body.append(r"\end{itemize}")
        text = "\n".join(body)
        if not standalone:
            return text + "\n"
        return (PREAMBLE + text + "\n\\end{document}\n")

    def expr(self, value, symbol_names) -> str:
        if isinstance(value, str):
            return value
        return sp.latex(value, symbol_names=symbol_names, mul_symbol="dot", order="none")


PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[T1]{fontenc}
\usepackage{amsmath,amssymb}
\usepackage[margin=2cm]{geometry}
\allowdisplaybreaks
\begin{document}
"""


def latex_names(derivation: Derivation) -> dict:
    """How each symbol is typeset: θ_j, W_{kj}, δ_{z} for adjoints, Σ_j for sums."""
    names = {sp.Symbol("ell"): r"\ell", LSE: r"\log\sum_{c} e^{z_{c}}", ONEHOT: r"[c = y]",
             sp.Symbol("z_y"): "z_{y}", sp.Symbol(r"\sum_{c} e^{z_c}"): r"\sum_{c} e^{z_{c}}",
             sp.Symbol(r"\log\sum_{c} e^{z_c}"): r"\log\sum_{c} e^{z_{c}}",
             sp.Symbol("ell''(z)"): r"\ell''(z)"}
    if isinstance(derivation, Model):
        for tensor in derivation.tensors.values():
            names[tensor.symbol] = tensor.latex
            names[adjoint_symbol(tensor)] = r"\delta %s" % tensor.latex
    return names


LATEX_OF_CHARACTER = {
    "σ": r"$\sigma$", "θ": r"$\theta$", "∂": r"$\partial$", "·": r"$\cdot$", "−": "-",
    "≥": r"$\geq$", "≤": r"$\leq$", "²": r"$^2$", "³": r"$^3$", "ⁱ": r"$^i$", "⁽": r"$^($",
    "⁾": r"$^)$", "ᵀ": r"$^T$", "ℓ": r"$\ell$", "Σ": r"$\Sigma$", "ℝ": r"$\mathbb{R}$",
    "×": r"$\times$", "δ": r"$\delta$", "α": r"$\alpha$", "ε": r"$\varepsilon$",
    "ρ": r"$\rho$", "∇": r"$\nabla$", "≈": r"$\approx$", "→": r"$\to$", "§": r"\S{}",
    "₁": r"$_1$", "₂": r"$_2$", "₀": r"$_0$", "ŷ": r"$\hat{y}$", "|": r"$|$", "∈": r"$\in$",
    "’": "'", "“": "``", "”": "''", "—": "---", "–": "--", "…": r"\ldots{}", "⊗": r"$\otimes$",
    "η": r"$\eta$", "π": r"$\pi$", "°": r"$^\circ$", "√": r"$\sqrt{}$", "≠": r"$\neq$",
    "μ": r"$\mu$", "λ": r"$\lambda$", "ϱ": r"$\varrho$", "⁻": r"$^-$", "¹": r"$^1$",
    "″": "''", "′": "'", "ₙ": r"$_n$", "ᵢ": r"$_i$", "ᵐ": r"$^m$", "ʲ": r"$^j$",
    "ȳ": r"$\bar{y}$", "\u0304": "", "ε": r"$\varepsilon$", "⁰": r"$^0$", "ₖ": r"$_k$",
    "‖": r"$\|$", "⁺": r"$^+$", "⟺": r"$\iff$", "⇔": r"$\iff$", "⇒": r"$\Rightarrow$", "∞": r"$\infty$", "±": r"$\pm$",
}
LATEX_SPECIAL = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
                 "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                 "\\": r"\textbackslash{}", "<": r"$<$", ">": r"$>$"}


def text_to_latex(text: str) -> str:
    """Escape a sentence for LaTeX text mode; unicode math letters become math commands."""
    out = []
    for character in text:
        if character in LATEX_SPECIAL:
            out.append(LATEX_SPECIAL[character])
        elif character in LATEX_OF_CHARACTER:
            out.append(LATEX_OF_CHARACTER[character])
        elif ord(character) < 128:
            out.append(character)
        else:
            out.append("?")
    return "".join(out)


def render(derivation: Derivation, latex=False, standalone=True) -> str:
    if latex:
        return LatexPrinter().print(derivation, standalone)
    return TextPrinter().print(derivation)
