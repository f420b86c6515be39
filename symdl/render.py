"""Prints a derivation step by step: unicode for the terminal, LaTeX for a document or a notebook.

The printed derivation is built once as a list of `Line`s (derivation_lines), each a
sentence and optionally an equation `lhs = rhs` whose sides are SymPy expressions or
`Partial` markers; `TextPrinter` (SymPy's unicode pretty printer), `LatexPrinter` (a document)
and `NotebookPrinter` (one align* block for Jupyter) then print the same lines.
Results are simplified the way the documents write them (`tidy`): (p − c)/(p(1 − p)), not
−(p − c)/(p(−1 + p)).
For a Model the lines are: the tensors, each named intermediate, the loss, the chain rule
for every parameter factor by factor (as 001 writes it), the adjoints the kernel computes,
the stable form of the loss, and the Hessian and closed form where symdl derives them.

Long because one set of lines is printed three ways (terminal, LaTeX document, notebook) and
simplified the way the documents write it first; the lines and their printers are read
together.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, replace

import sympy as sp
from sympy.printing.latex import LatexPrinter as SympyLatexPrinter
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.pretty.pretty import PrettyPrinter
from sympy.printing.pretty.stringpict import prettyForm

from symdl import documents, prose
from symdl.derive import LSE, ONEHOT, Derived, adjoint_symbol, chain_rule, outermost_reductions
from symdl.functions import REDUCTIONS, total
from symdl.model import Affine, Derivation, Model, Step, outside_reductions


def upright(tex: str) -> str:
    """A name of several letters (deviation, pred) upright, as \\mathrm{deviation}: in
    italics it would read as a product of letters."""
    return re.sub(r"^\{?([A-Za-z]{2,})\}?(?=_|$)", r"\\mathrm{\1}", tex)


class Partial(sp.Expr):
    """∂f/∂x shown as a symbol in a chain-rule product (never evaluated).

    `indices` are the index letters free in it (∂z_c/∂h_k carries c and k), so that the
    printed equations' free indices can be checked (symdl.notation)."""

    def __new__(cls, numerator: str, denominator: str, numerator_tex: str, denominator_tex: str,
                indices=()):
        obj = sp.Expr.__new__(cls)
        obj.texts = (numerator, denominator, numerator_tex, denominator_tex)
        obj.indices = frozenset(indices)
        return obj

    def _hashable_content(self):
        return self.texts + (tuple(sorted(self.indices)),)

    def _latex(self, printer):
        return r"\frac{\partial %s}{\partial %s}" % tuple(upright(t) for t in self.texts[2:])

    def _sympystr(self, printer):
        return f"∂{self.texts[0]}/∂{self.texts[1]}"

    def _pretty(self, printer):
        top, bottom = (printer._print(sp.Symbol(t)) if t.isidentifier() else prettyForm(t)
                       for t in self.texts[:2])
        return prettyForm(*prettyForm("∂").right(top)) / prettyForm(*prettyForm("∂").right(bottom))


class IndexSum(sp.Expr):
    """Σ_j (body): a sum over an index, shown, never evaluated; in parentheses inside a
    product or a power, as a sum is."""

    precedence = PRECEDENCE["Add"]

    def __new__(cls, index: str, body):
        index = sp.Symbol(index) if isinstance(index, str) else index
        return sp.Expr.__new__(cls, index, sp.sympify(body))

    def _latex(self, printer):
        return r"\sum_{%s} %s" % (self.args[0], printer._print(self.args[1]))

    def _sympystr(self, printer):
        return f"Σ_{self.args[0]} {printer.parenthesize(self.args[1], 50)}"

    def _pretty(self, printer):
        body = printer._print(self.args[1])
        if isinstance(self.args[1], sp.Add):
            body = prettyForm(*body.parens())
        sigma = prettyForm(*prettyForm("Σ").below(printer._print(self.args[0])))
        sigma.baseline = 0
        return prettyForm(*sigma.right(" ", body), binding=prettyForm.ADD)


class SoftmaxElement(sp.Symbol):
    """softmax(z)_c = e^{z_c}/Σ_c' e^{z_c'}, the c-th probability, written as 002 and 004
    name it rather than as e^{z_c − log Σ e^{z}}; its one free index is the class letter."""

    def __new__(cls, tensor, letter):
        obj = super().__new__(cls, f"softmax__{tensor.name}__{letter}", real=True)
        obj.texts = (tensor_base_latex(tensor.latex), letter)
        return obj

    def __getnewargs_ex__(self):
        return ((), {})

    def _latex(self, printer):
        return r"\operatorname{softmax}(%s)_{%s}" % self.texts

    def _pretty(self, printer):
        return prettyForm(f"softmax({unicode_of_latex(self.texts[0])})_{self.texts[1]}")


def tensor_base_latex(latex: str) -> str:
    """The vector's (or matrix's) own name from its element's: {W^{(1)}}_{kj} → W^{(1)}."""
    base = re.sub(r"_\{[^{}]*\}$", "", latex)
    if base.startswith("{") and base.endswith("}"):
        base = base[1:-1]
    return base


def indicator_latex(printer, expr) -> str:
    """Heaviside(u, 0), the derivative of ReLU, as the indicator 1[u > 0]: SymPy prints it
    θ(u, 0), and θ names parameters in every document."""
    argument = printer._print(expr.args[0])
    if len(expr.args) > 1 and expr.args[1] == 0:
        return r"\mathbf{1}[%s > 0]" % argument
    return r"H(%s)" % argument


@dataclass
class Line:
    """A sentence of structured text (its mathematics in $…$: symdl.prose) and optionally an
    equation lhs = rhs[0] = rhs[1] …; `tex` is the sentence's LaTeX where render writes it
    itself, else it is typeset from the structured text (`latex`)."""

    text: str
    lhs: object = None
    rhs: list | None = None  # successive right-hand sides: lhs = rhs[0] = rhs[1] ...
    tex: str = ""

    @property
    def latex(self) -> str:
        return self.tex or prose.to_latex(self.text)


# ---- simplifying the way the documents write it ----------------------------------------

def positive_constant(factor):
    """(sign, factor) with a power of a sum whose constant is negative negated: p − 1 → −(1 − p)."""
    base, exponent = factor.as_base_exp()
    if base.is_Add and exponent.is_Integer and base.as_coeff_Add()[0].is_negative:
        return sp.Integer(-1) ** int(exponent), (-base) ** exponent
    return sp.Integer(1), factor


def negated(terms: sp.Add) -> sp.Add:
    """−(a − b) as b − a: the positive terms first, unevaluated so the order stays."""
    flipped = [-t for t in terms.args]
    ordered = sorted(flipped, key=lambda t: t.could_extract_minus_sign())
    return sp.Add(*ordered, evaluate=False)


def tidy(expr, hints=()):
    """`expr` written the way a document prints it: a sum of fractions over one denominator,
    constant terms first and positive ((1 − p), not (p − 1)) so that equal factors cancel, the
    sign moved into a factor of the numerator: (p − c)/(p(1 − p)), not −(p − c)/(p(−1 + p)).
    Factors are ordered by the first of `hints` (the chain-rule factors, say) that shares a
    symbol with them, so (p − c)·θ⁽²⁾·a(1 − a)·x reads as 001's. Polynomials inside a factor
    are left alone: 1 − tanh², not (1 − tanh)(1 + tanh)."""
    if not isinstance(expr, sp.Expr) or expr.is_Atom or expr.has(Partial, IndexSum):
        return expr
    if expr.is_Add:
        expr = sp.factor(sp.together(expr))
    coefficient, rest = sp.Integer(1), []
    for factor in sp.Mul.make_args(expr):
        content, factor = factor.as_content_primitive()  # 20a − 20x → 20·(a − x)
        sign, factor = positive_constant(factor)
        coefficient *= sign * content
        if factor.is_Number:
            coefficient *= factor
        else:
            rest.append(factor)
    top, bottom = [], []
    for factor in sp.Mul.make_args(sp.Mul(*rest)):  # a number would spread over a sum here
        if factor.is_Number:
            coefficient *= factor
            continue
        sign, factor = positive_constant(factor)
        coefficient *= sign
        base, exponent = factor.as_base_exp()
        if base.is_Add:
            base = sp.Add(*sorted(base.args, key=lambda t: t.could_extract_minus_sign()), evaluate=False)
        (bottom if exponent.is_Number and exponent.is_negative else top).append((base, exponent))
    if coefficient.is_negative:
        flippable = [k for k, (base, exponent) in enumerate(top)
                     if base.is_Add and exponent == 1 and base.as_coeff_Add()[0] == 0]
        if flippable:
            top[flippable[0]] = (negated(top[flippable[0]][0]), 1)
            coefficient = -coefficient

    def first_hint(item):
        symbols = item[0].free_symbols
        return next((k for k, h in enumerate(hints) if symbols & sp.sympify(h).free_symbols),
                    len(hints))

    def product(items, sign=1):
        powers = [b if sign * e == 1 else sp.Pow(b, sign * e, evaluate=False)
                  for b, e in sorted(items, key=first_hint)]
        return powers[0] if len(powers) == 1 else sp.Mul(*powers, evaluate=False)

    numerator = product(top) if top else sp.Integer(1)
    if coefficient != 1:
        numerator = sp.Mul(coefficient, numerator, evaluate=False) if top else coefficient
    if not bottom:
        return numerator
    return sp.Mul(numerator, sp.Pow(product(bottom, -1), -1, evaluate=False), evaluate=False)


def factor_count(term) -> int:
    """How many factors a term multiplies, numbers aside, powers counted: 2·S_x·a·b has 3,
    S_x² has 2, Xθ has 2, b has 1."""
    count = 0
    for factor in (term.args if isinstance(term, (sp.Mul, sp.MatMul)) else (term,)):
        if factor.is_Number:
            continue
        base, exponent = factor.as_base_exp() if isinstance(factor, sp.Expr) else (factor, 1)
        count += int(exponent) if getattr(exponent, "is_Integer", False) and exponent > 0 else 1
    return count


def is_negative(term) -> bool:
    if isinstance(term, sp.MatMul):
        return bool(term.args and term.args[0].is_Number and term.args[0] < 0)
    return bool(term.could_extract_minus_sign())


def document_order(expr):
    """The terms of every sum in the order the documents write them, for printing only
    (the value is unchanged; sums are rebuilt unevaluated so SymPy does not sort them back):

    in a sum of two terms a positive number first (1 − h, as 001 and 003 write it; p − 1, not
    −1 + p), in a longer one the constant last (the highest degree first), then the products of more factors
    before those of fewer (W·X + B, w·x + b, Xθ − y, S_xx·a² + 2S_x·a·b + m·b² − 2S_xy·a:
    the highest degree first, as a textbook writes a polynomial), and among equals the
    positive terms first (m·S_xx − S_x², ŷ − y, softmax(z)_c − [c = y]). Terms that tie
    keep the order they had (tidy's, or the derivation file's)."""
    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(document_order)
    if not isinstance(expr, sp.Basic) or expr.is_Atom or isinstance(expr, (Partial, sp.Set)):
        return expr
    if isinstance(expr, IndexSum):
        return IndexSum(expr.args[0], document_order(expr.args[1]))
    args = [document_order(a) for a in expr.args]
    if isinstance(expr, (sp.Add, sp.MatAdd)):
        binomial = len(args) == 2  # 1 − h, 1 + e^{−z}: the number first; in a longer sum last
        ordered = sorted(args, key=lambda t: (not (binomial and t.is_Number and t > 0),
                                              -factor_count(t), is_negative(t)))
        return type(expr)(*ordered, evaluate=False)
    if isinstance(expr, (sp.Mul, sp.Pow)):
        return type(expr)(*args, evaluate=False)
    try:
        return expr.func(*args)
    except (TypeError, ValueError):
        return expr


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
    declared = [t for t in model.tensors.values() if t.role != "intermediate"]
    lines = [Line("The quantities: " + "; ".join(describe(t) for t in declared) + ".",
                  tex="The quantities: " + "; ".join(describe_latex(t) for t in declared) + ".")]
    for step in model.steps_of_model:
        lines.append(intermediate_line(model, step))
    if model.loss_kind == "softmax_cross_entropy":
        z = model.loss_input
        letter = model.index(z.shape[0])
        z_y = BoundElement(z.name, z.latex, ["y"])
        partition = IndexSum(letter, sp.exp(z.symbol))
        lines.append(Line("The loss of one sample with label $y$ is the cross-entropy of $softmax(z)$:",
                          sp.Symbol("ell"), [-sp.log(SoftmaxElement(z, "y"), evaluate=False),
                                             sp.Add(sp.log(partition, evaluate=False), -z_y,
                                                    evaluate=False)]))
    else:
        lines.append(Line("The loss of one sample:", sp.Symbol("ell"), [model.loss_expr]))
    m = count_name(model)
    total = (f"J = Σ_i ℓ⁽ⁱ⁾ over the {m} samples" if model.reduction == "sum"
             else f"J = (1/{m}) Σ_i ℓ⁽ⁱ⁾, the mean over the {m} samples")
    total_tex = (f"$J = \\sum_{{i}} \\ell^{{(i)}}$ over the ${m}$ samples" if model.reduction == "sum"
                 else f"$J = \\frac{{1}}{{{m}}} \\sum_{{i}} \\ell^{{(i)}}$, the mean over the ${m}$ samples")
    lines.append(Line(f"The cost: {total}." if model.features else "There is no data: J = ℓ.",
                      tex=f"The cost: {total_tex}." if model.features
                      else r"There is no data: $J = \ell$."))
    if model.penalty_expr != 0:
        lines.append(Line("Plus a penalty on the parameters, added once to $J$ (not per sample): "
                          "$J + R$, with", sp.Symbol("R"), [model.penalty_expr]))
        for param in model.params:
            value = derived.penalty_gradients[param.name]
            if value != 0:
                lines.append(Line("", Partial("R", param.name, "R", param.latex,
                                              indices_of(model, param)), [value]))
    for param in model.params:
        lines += gradient_lines(model, derived, param)
    if derived.adjoints:
        lines.append(Line("What the generated kernel computes per sample, latest first "
                          "($δt = ∂ℓ/∂t$; element-wise steps are composed before differentiating, "
                          "so nothing is evaluated as $0/0$ at a saturated unit):"))
    for adjoint in derived.adjoints:
        value = adjoint.local
        for step in adjoint.through:
            value = value + transpose_term(model, step)
        value = softmax_written(model, value)
        if value.is_Add:  # softmax(z)_c − [c = y], the positive term first as 002 writes it
            value = sp.Add(*sorted(value.args, key=lambda t: t.could_extract_minus_sign()),
                           evaluate=False)
        lines.append(Line("", adjoint_symbol(adjoint.tensor), [value]))
    if model.loss_kind == "expression" and derived.stable_loss != derived.loss:
        lines.append(Line("The loss in a form that stays finite at $|z| = 1000$ (what the kernel evaluates):",
                          sp.Symbol("ell"), [derived.stable_loss]))
    lines += curvature_lines(derived, count_name(model))
    for line in lines:
        line.lhs = as_sums(model, line.lhs)
        line.rhs = None if line.rhs is None else [as_sums(model, side) for side in line.rhs]
    return lines


class BoundElement(sp.Symbol):
    """An element of a tensor (or of its adjoint) under a sum whose index letter is not the
    tensor's own: z_l in z_k · Σ_l z_l², W_lp in Σ_p (Σ_l W_lp …), printed with those letters."""

    def __new__(cls, name, latex, letters):
        obj = super().__new__(cls, f"{name}__{''.join(letters)}", real=True)
        obj.texts = (latex, "".join(letters))
        return obj

    def __getnewargs_ex__(self):
        return ((), {})

    def _latex(self, printer):
        adjoint = self.texts[0].startswith("\\delta ")
        base = re.sub(r"_\{[^{}]*\}$", "", self.texts[0].removeprefix("\\delta "))
        base = re.sub(r"^\{?([A-Za-z]{2,})\}?$", r"\\mathrm{\1}", base) + "_{%s}" % self.texts[1]
        return "\\delta " + base if adjoint else base

    def _pretty(self, printer):
        return prettyForm(unicode_of_latex(self._latex(printer)).replace("δ ", "δ"))


def as_sums(model: Model, value):
    """Every reduction written as a teacher writes it: total(u, k) as Σ_k u_k, the log-sum-exp
    as log Σ_k e^{a_k}, a penalty's total(W**2) as Σ_{k,j} W_kj². A sum whose index letter is
    already taken, free outside it or bound by a sum around it, gets a letter of its own:
    z_k · Σ_l z_l², and Σ_l (… Σ_p a_p² …) inside it."""
    if not isinstance(value, sp.Basic) or not value.has(*REDUCTIONS):
        return value
    tensors = {}
    for t in model.tensors.values():
        tensors[t.symbol] = (t, t.latex)
        tensors[adjoint_symbol(t)] = (t, r"\delta " + t.latex)
    spare = [c for c in "lpqrsuvtm" if c not in model.index_of_dim.values() and c not in model.tensors]

    def letters(expr, renamed, skip=None) -> set:
        """The index letters free in expr outside its reductions (but the one over `skip`)."""
        return {renamed.get(d, model.index(d)) for s in outside_reductions(expr).free_symbols
                if s in tensors for d in tensors[s][0].shape if d != skip}

    def convert(expr, taken, renamed):
        held = {r: sp.Dummy() for r in outermost_reductions(expr)}
        flat = expr.xreplace(held)
        bound = {}
        for s in flat.free_symbols & tensors.keys():
            tensor, latex = tensors[s]
            if any(renamed.get(d, model.index(d)) != model.index(d) for d in tensor.shape):
                bound[s] = BoundElement(s.name, latex,
                                        [renamed.get(d, model.index(d)) for d in tensor.shape])
        flat = flat.xreplace(bound)
        return flat.xreplace({p: written(r, taken, renamed) for r, p in held.items()})

    def written(reduction, taken, renamed):
        summand = reduction.args[0]
        if reduction.dim is None:  # a penalty's total(W**2): Σ over every index of W
            shapes = [model.tensor(s).shape for s in summand.free_symbols if s.name in model.tensors]
            return IndexSum(",".join(model.index(d) for d in max(shapes, key=len, default=())), summand)
        busy = taken | letters(summand, renamed, skip=reduction.dim)
        index = model.index(reduction.dim)
        if index in busy:
            index = next((c for c in spare if c not in busy), index)
        body = convert(summand, busy | {index}, {**renamed, reduction.dim: index})
        if isinstance(reduction, total):
            return IndexSum(index, body)
        return sp.log(IndexSum(index, sp.exp(body)), evaluate=False)

    return convert(value, letters(value, {}), {})


def describe(tensor) -> str:
    shape = " × ".join(tensor.shape)
    kinds = {"data": "feature", "target": "target", "param": "parameter",
             "hyper": "hyperparameter"}
    where = f" ∈ ℝ^({shape})" if " × " in shape else (f" ∈ ℝ^{shape}" if shape else "")
    kind = kinds[tensor.role]
    if tensor.role == "target" and tensor.kind != "real":
        kind = {"binary": "label in {0, 1}", "class": "class label"}[tensor.kind]
    shown = shown_name(tensor)
    if tensor.role == "hyper" and shown != tensor.name:  # the name hyper={...} and --hyper take
        kind += f" {tensor.name}"
    return f"{shown}{where} ({kind})"


def describe_latex(tensor) -> str:
    """describe() in LaTeX: $\\theta \\in \\mathbb{R}^{n}$ (parameter): the vector, not its
    element θ_j, belongs to ℝⁿ."""
    where = r" \in \mathbb{R}^{%s}" % r" \times ".join(tensor.shape) if tensor.shape else ""
    kinds = {"data": "feature", "target": "target", "param": "parameter",
             "hyper": "hyperparameter"}
    kind = kinds[tensor.role]
    if tensor.role == "target" and tensor.kind != "real":
        kind = {"binary": r"label in $\{0, 1\}$", "class": "class label"}[tensor.kind]
    name = re.sub(r"^\{?([A-Za-z]{2,})\}?$", r"\\mathrm{\1}", tensor_base_latex(tensor.latex))
    if tensor.role == "hyper":
        kind += r" \texttt{%s}" % tensor.name.replace("_", r"\_")
    return f"${name}{where}$ ({kind})"  # a word such as label upright, as latex_names sets it


def intermediate_line(model: Model, step) -> Line:
    if isinstance(step, Affine):
        value = IndexSum(model.index(step.input.shape[0]),  # W·x, the weight first, as written
                         sp.Mul(step.weight.symbol, step.input.symbol, evaluate=False))
        if step.bias is not None:
            value = sp.Add(value, step.bias.symbol, evaluate=False)
        return Line("An affine map ($Y = W·X + B$ in 000/002, $h = W·x + b$ in 004):", step.out.symbol,
                    [value])
    return Line("A named intermediate:", step.out.symbol, [step.expr])


def softmax_written(model: Model, value):
    """e^{z_c − log Σ e^{z}} (and e^{z_c}·e^{−log Σ e^{z}}) written softmax(z)_c, as the
    documents write it (002 "A Real Example: Model Setup", 004 "MLP networks")."""
    if model.loss_kind != "softmax_cross_entropy" or not isinstance(value, sp.Basic) \
            or not value.has(LSE):
        return value
    z = model.loss_input
    return value.subs(sp.exp(-LSE), SoftmaxElement(z, model.index(z.shape[0])) / sp.exp(z.symbol))


def indices_of(model: Model, tensor) -> set:
    """The index letters of a tensor's element: W_kj → {k, j}; none for the loss ℓ."""
    return {model.index(d) for d in tensor.shape} if tensor is not None else set()


def gradient_lines(model: Model, derived: Derived, param) -> list[Line]:
    lines, routes = [], []
    paths = chain_rule(derived, param)
    for number, path in enumerate(paths, 1):
        symbols = [Partial(f.numerator.name if f.numerator else "ℓ", f.denominator.name,
                           f.numerator.latex if f.numerator else r"\ell", f.denominator.latex,
                           indices_of(model, f.numerator) | indices_of(model, f.denominator))
                   for f in path]
        raw = [softmax_written(model, f.value) for f in path]
        values = [tidy(v) for v in raw]
        # A junction index free on the left is not summed: W⁽²⁾_ck moves only z_c, so
        # ∂ℓ/∂W⁽²⁾_ck = ∂ℓ/∂z_c·h_k with no Σ_c (derive marks the softmax loss factor as
        # summed over c, which it is when the path goes on through W⁽²⁾ to the hidden layer).
        sums = sorted({f.summed_over for f in path if f.summed_over} - indices_of(model, param))
        product = sp.Mul(*symbols, evaluate=False)
        evaluated = sp.Mul(*values, evaluate=False)
        simplified = tidy(sp.Mul(*raw), hints=raw)
        for index in sums:
            product, evaluated = IndexSum(index, product), IndexSum(index, evaluated)
            simplified = IndexSum(index, simplified)
        shown = shown_name(param)
        text = f"The chain rule for {shown}, factor by factor:" if len(path) > 1 else \
            f"The derivative with respect to {shown}:"
        if len(paths) > 1:
            text = text[:-1] + f", route {number} of {len(paths)} (through " \
                + " → ".join([name for f in path for name in
                              (f.route or (f.numerator.name if f.numerator else "ℓ",))]
                             + [param.name]) + "):"
        lhs = Partial("ℓ", param.name, r"\ell", param.latex, indices_of(model, param))
        tex = (f"The chain rule for ${param.latex}$, factor by factor:" if len(path) > 1 else
               f"The derivative with respect to ${param.latex}$:")
        if len(paths) > 1:
            tex = tex[:-1] + f", route {number} of {len(paths)}:"
        lines.append(Line(text, lhs, [product, evaluated, simplified] if len(path) > 1 else [simplified],
                          tex=tex))
        routes.append(simplified)
    if len(routes) > 1:
        lhs = Partial("ℓ", param.name, r"\ell", param.latex, indices_of(model, param))
        together = sp.Add(*routes, evaluate=False)
        sides = [together]
        if not any(r.has(IndexSum, *REDUCTIONS) for r in routes):
            sides.append(sp.factor(sp.Add(*routes)))
        shown = shown_name(param)
        lines.append(Line(f"{shown} is reached by {len(routes)} routes; ∂ℓ/∂{shown} is "
                          f"their sum:", lhs, sides,
                          tex=f"${param.latex}$ is reached by {len(routes)} routes; "
                              f"$\\partial\\ell/\\partial {param.latex}$ is their sum:"))
    return lines


def transpose_term(model, step: Affine):
    if step.out.is_scalar:
        return step.weight.symbol * adjoint_symbol(step.out)
    return IndexSum(model.index(step.out.shape[0]), step.weight.symbol * adjoint_symbol(step.out))


def count_name(model: Model) -> str:
    """The letter for the number of samples: m (003), or n where a tensor prints as m, as in
    001, whose slope is m and whose count is n ("MSE = (1/n)(...)")."""
    return "n" if any(tensor_base_latex(t.latex) == "m" for t in model.tensors.values()) else "m"


def curvature_lines(derived: Derived, count_letter: str = "m") -> list[Line]:
    curvature = derived.curvature
    if curvature is None:
        return []
    lines = []
    if curvature.kind == "scalar":
        form = derived.closed if curvature.quadratic else None
        if form is not None:
            sums = [(s, v) for s, v in form.statistics.items() if v != 1]
            names = ", ".join(f"{plain_name(s)} = Σ {one_line(v)}" for s, v in sums)
            names_tex = ", ".join(r"$%s = \sum %s$" % (sp.latex(s), sp.latex(v)) for s, v in sums)
            text = (f"With the data sums ({names}; {count_letter} the number of samples) the cost is"
                    if form.statistics else "The cost:")
            tex = (f"With the data sums ({names_tex}; ${count_letter}$ the number of samples) the cost is"
                   if form.statistics else "The cost:")
            count = sp.Symbol("m", positive=True)
            if count_letter != "m":  # the count prints as n; a tensor already prints as m
                form = replace(form, cost=form.cost.subs(count, sp.Symbol(count_letter, positive=True)),
                               gradient=[g.subs(count, sp.Symbol(count_letter, positive=True))
                                         for g in form.gradient],
                               hessian=form.hessian.subs(count, sp.Symbol(count_letter, positive=True)),
                               solution={k: v.subs(count, sp.Symbol(count_letter, positive=True))
                                         for k, v in form.solution.items()})
                count = sp.Symbol(count_letter, positive=True)
            lines.append(Line(text, sp.Symbol("J"), [count_first(form.cost, count)], tex=tex))
            for p, g in zip(curvature.params, form.gradient):
                lines.append(Line("", Partial("J", p.name, "J", p.latex), [count_first(g, count)]))
            lines.append(Line("The Hessian:", sp.Symbol("H"), [form.hessian]))
            for p in curvature.params:
                lines.append(Line("Setting the gradient to zero and solving:", p.symbol,
                                  [count_first(form.solution[p.symbol], count)]))
        else:
            lines.append(Line("The Hessian of one sample's loss:", sp.Symbol("H"),
                              [sp.Matrix(curvature.entries)]))
    elif curvature.kind in ("softmax", "affine"):
        step = curvature.affine
        weight, data = shown_name(step.weight), shown_name(step.input)
        over = f"({weight}, {shown_name(step.bias)})" if step.bias is not None else f"({weight})"
        vector = f"({data}, 1)" if step.bias is not None else f"({data})"
        if curvature.kind == "softmax":
            lines.append(Line(f"The Hessian over ${over}$: $∂²ℓ/∂z_c∂z_d = p_c(δ_cd − p_d)$, "
                              f"$p = softmax(z)$, times $v·vᵀ$ with $v = {vector}$, summed over "
                              "samples."))
        else:
            lines.append(Line(f"The Hessian over ${over}$: $ℓ''(z)·v·vᵀ$ with $v = {vector}$, "
                              "summed over samples, with", sp.Symbol("ell''(z)"), [curvature.second]))
        if curvature.kind == "affine" and curvature.penalty_diagonal != 0:
            lines.append(Line(f"plus the penalty's $∂²R/∂{weight}ⱼ²$ on the diagonal:",
                              sp.Symbol("R''"), [curvature.penalty_diagonal]))
        if curvature.kind == "affine" and curvature.kink != 0:
            lines.append(Line(f"That is its curvature away from ${weight}ⱼ = 0$, where each "
                              f"$|{weight}ⱼ|$ has a kink: $∂²R/∂{weight}ⱼ²$ has a Dirac delta "
                              f"there, of weight", sp.Symbol("kink"), [curvature.kink]))
            lines.append(Line("Where that weight is 0, $J$ is twice differentiable and this is "
                              "its Hessian; elsewhere Newton's method does not apply."))
    else:
        x = curvature.affine.input
        theta, data = (tensor_base_latex(t.latex) for t in (curvature.params[0], x))
        shown = [unicode_of_latex(t) for t in (theta, data)]
        lines.append(Line(f"The Hessian: ∂²ℓ/∂{shown[0]}ⱼ∂{shown[0]}ₖ "
                          f"= ℓ''(z)·{shown[1]}ⱼ·{shown[1]}ₖ, summed over samples, with",
                          sp.Symbol("ell''(z)"), [tidy(curvature.second)],
                          tex=(r"The Hessian: $\frac{\partial^2 \ell}{\partial %s_{j}\,\partial %s_{k}}"
                               r" = \ell''(z)\, %s_{j} %s_{k}$, summed over samples, with"
                               % (theta, theta, data, data))))
        if curvature.quadratic:
            lines.append(Line("$ℓ''$ does not depend on the parameters, so $J$ is quadratic and its "
                              "minimiser solves $H·θ = −∇J(0)$: the normal equation."))
    return lines


def shown_name(tensor) -> str:
    """A tensor's own name as the documents write it, in unicode: W⁽¹⁾, not its element W⁽¹⁾ₖⱼ."""
    return unicode_of_latex(tensor_base_latex(tensor.latex))


def count_first(expr, count):
    """Each product with the sample count m written m first, after its number: m·S_xx − S_x²
    and m·b, as 003 §3.1 writes (mS_xy − S_xS_y)/(mS_xx − S_xS_x), not S_xx·m."""
    if not isinstance(expr, sp.Basic) or expr.is_Atom:
        return expr
    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(lambda e: count_first(e, count))
    args = [count_first(a, count) for a in expr.args]
    if isinstance(expr, sp.Mul) and count in args:
        numbers = [a for a in args if a.is_Number]
        rest = [a for a in args if not a.is_Number and a != count]
        return sp.Mul(*numbers, count, *rest, evaluate=False)
    if isinstance(expr, (sp.Add, sp.Mul, sp.Pow)):
        return type(expr)(*args, evaluate=False)
    return expr.func(*args)


def plain_name(symbol) -> str:
    """A LaTeX-named symbol for the terminal: S_{xy} → S_xy."""
    return symbol.name.replace("{", "").replace("}", "")


def one_line(expr) -> str:
    """An expression in a sentence of the terminal: x², x·y on one line (not a 2-line block)."""
    text = sp.sstr(expr).replace("**2", "²").replace("**3", "³").replace("*", "·")
    return unicode_of_latex(text)


# ---- printers -------------------------------------------------------------------------

class TextPrinter:
    """Unicode for a terminal: SymPy's pretty printer, each side of an equation a block."""

    def print(self, derivation: Derivation) -> str:
        title = prose.plain(derivation.title)
        out = [title, "=" * len(title), f"Source: {prose.plain(derivation.source)}"]
        if derivation.summary:
            out.append(textwrap.fill(prose.plain(derivation.summary), self.WIDTH + 12,
                                     break_on_hyphens=False))
        out.append("")
        names = unicode_names(derivation)
        for line in derivation_lines(derivation):
            if line.text:
                out.append(textwrap.fill(prose.plain(line.text), self.WIDTH + 12,
                                         break_on_hyphens=False))
            if line.lhs is not None:
                out += self.equation(line, names)
            out.append("")
        if derivation.claims:
            out.append("What the document states (checked by `symdl check`):")
            for claim in derivation.claims:
                out.append(f"  - {prose.plain(claim.statement)}  [{prose.plain(claim.source)}]")
        return "\n".join(out).rstrip() + "\n"

    def equation(self, line: Line, names) -> list[str]:
        """lhs, then `= rhs` for each right-hand side, multi-line blocks aligned on their baseline."""
        out = ["    " + row for row in self.block(line.lhs, names)[0]]
        for side in line.rhs:
            for number, (rows, baseline) in enumerate(self.wrapped(side, names)):
                lead = f"      {relation(side)} " if number == 0 else "          "
                out += [(lead if k == baseline else " " * len(lead)) + row
                        for k, row in enumerate(rows)]
        return out

    WIDTH = 88
    """Columns a right-hand side may take before it is broken (a terminal of 100, less the
    indent): equation lines of 300 characters never wrap in a terminal or a notebook cell."""

    def wrapped(self, value, names) -> list:
        """The blocks of one right-hand side: one when it fits; a long sum broken before a
        + or −, a long product before a ⋅, each continued block starting with its sign."""
        rows, baseline = self.block(value, names)
        if isinstance(value, str) or max(map(len, rows), default=0) <= self.WIDTH:
            return [(rows, baseline)]
        if isinstance(value, sp.MatrixBase):  # too wide: one entry after the other
            blocks = []
            for i in range(value.rows):
                for j in range(value.cols):
                    label = f"[{i + 1},{j + 1}]: " if value.cols > 1 else f"[{i + 1}]: "
                    for number, (entry, line) in enumerate(self.wrapped(value[i, j], names)):
                        lead = label if number == 0 else " " * len(label)
                        blocks.append(([(lead if k == line else " " * len(lead)) + r
                                        for k, r in enumerate(entry)], line))
            return blocks
        value = document_order(value)
        if not isinstance(value, (sp.Add, sp.Mul)) or len(value.args) < 2:
            return [(rows, baseline)]
        joiner = sp.Add if isinstance(value, sp.Add) else sp.Mul
        groups: list = [[]]
        for term in value.args:
            trial = self.block(joiner(*(groups[-1] + [term]), evaluate=False), names)[0]
            if groups[-1] and max(map(len, trial)) > self.WIDTH - 2:
                groups.append([])
            groups[-1].append(term)
        blocks = []
        for number, group in enumerate(groups):
            prefix = ""
            if number:
                if joiner is sp.Mul:
                    prefix = "⋅ "
                elif is_negative(group[0]):
                    prefix, group = "- ", [-group[0]] + group[1:]
                else:
                    prefix = "+ "
            shown = group[0] if len(group) == 1 else joiner(*group, evaluate=False)
            if joiner is sp.Mul and isinstance(shown, sp.Add) and \
                    max(map(len, self.block(shown, names)[0])) > self.WIDTH - 4:
                inner = self.wrapped(shown, names)  # a long sum inside a product: (… ↵ + …)
                for k, (rows, line) in enumerate(inner):
                    opening = prefix + "(" if k == 0 else " " * (len(prefix) + 1)
                    rows = [(opening if r == line else " " * len(opening)) + row
                            + (")" if k == len(inner) - 1 and r == line else "")
                            for r, row in enumerate(rows)]
                    blocks.append((rows, line))
                continue
            if joiner is sp.Mul and isinstance(shown, sp.Add):
                form = NamedPrettyPrinter(names)._print(shown)
                form = prettyForm(*form.parens())
                rows, baseline = [r.rstrip() for r in form.render(wrap_line=False).split("\n")], form.baseline
            else:
                rows, baseline = self.block(shown, names)
            blocks.append(([(prefix if k == baseline else " " * len(prefix)) + row
                            for k, row in enumerate(rows)], baseline))
        return blocks

    def block(self, value, names):
        if isinstance(value, str):
            return [value], 0
        form = NamedPrettyPrinter(names)._print(document_order(value))
        rows = form.render(wrap_line=False).split("\n")
        return [row.rstrip() for row in rows], form.baseline

    def expr(self, value, names=None) -> str:
        rows, _ = self.block(value, names or {})
        return "\n".join(rows)


class NamedPrettyPrinter(PrettyPrinter):
    """SymPy's unicode pretty printer, spelling each symbol the way the LaTeX typesets it.

    Names are looked up by the symbol's name, so nothing is rebuilt (an unevaluated product
    keeps the order its factors were written in)."""

    def __init__(self, names):
        super().__init__({"use_unicode": True, "order": "none", "wrap_line": False})
        self.names = names

    def _print_Symbol(self, symbol, bold_name=False):
        if symbol.name in self.names:
            return prettyForm(self.names[symbol.name])
        if "_{" in symbol.name:  # a data sum S_{xy}: S_xy, as the sentence above it names it
            return prettyForm(plain_name(symbol))
        return super()._print_Symbol(symbol, bold_name)

    def _print_MatrixSymbol(self, symbol):
        """A matrix or vector by its own name: the MatrixSymbol θ is the vector, never the
        element θⱼ that a tensor of the same name prints as."""
        return super()._print_Symbol(symbol)

    def _print_sigmoid(self, expr):
        """σ(z), as every document writes the logistic function (its LaTeX is σ too)."""
        return self._print_Function(expr, func_name="σ")

    def _print_relu(self, expr):
        return self._print_Function(expr, func_name="ReLU")

    def _print_Heaviside(self, expr):
        """ReLU's derivative as the indicator 1[u > 0] (see indicator_latex)."""
        if len(expr.args) > 1 and expr.args[1] == 0:
            form = self._print(expr.args[0])
            return prettyForm(*prettyForm(*form.left("1[")).right(" > 0]"))
        return super()._print_Heaviside(expr)


class LatexPrinter:
    """A standalone LaTeX document: each derivation an align* environment.

    Sentences go through symdl.prose, so their mathematics is typeset as mathematics;
    documents are named by title and year, the file name in a footnote.
    """

    def __init__(self, footnotes=True, authors=False):
        self.footnotes = footnotes  # each document's file name in a footnote where it is cited
        self.authors = authors  # documents named by author and year in the prose, not 001

    def words(self, text: str) -> str:
        """A sentence as LaTeX; with `authors`, "001's" as "Bearden (2022)'s" (a handout)."""
        return prose.to_latex(documents.by_author(text) if self.authors else text)

    def print(self, derivation: Derivation, standalone=True, heading=r"\section*",
              claims=True) -> str:
        """The derivation as LaTeX; `claims=False` leaves out the document's claims (the
        handout prints them itself, each with symdl's verdict: symdl.report)."""
        body = [heading + "{%s}" % heading_latex(self.words(derivation.title), derivation.title),
                r"\noindent Source: %s\par" % cite_latex(derivation.source, self.footnotes)]
        if derivation.summary:
            body.append(self.words(derivation.summary) + r"\par")
        equations = []
        symbol_names = latex_names(derivation)
        for line in derivation_lines(derivation):
            if line.text:
                tex = documents.by_author(line.latex) if self.authors else line.latex
                equations.append(r"\intertext{%s}" % tex)
            if line.lhs is not None:
                sides = [relation_latex(r) + " " + self.broken(r, symbol_names) for r in line.rhs]
                equations.append(self.expr(line.lhs, symbol_names) + " &"
                                 + r" \\ &".join(sides) + r" \\")
        body.append("\\begin{align*}\n" + "\n".join(equations).rstrip("\\ \n") + "\n\\end{align*}")
        if derivation.claims and claims:
            body.append(r"\subsection*{What the document states}" + "\n" + r"\begin{itemize}")
            for claim in derivation.claims:
                body.append(r"\item " + prose.to_latex(claim.statement)
                            + " [" + cite_latex(claim.source, self.footnotes) + "]")
            body.append(r"\end{itemize}")
        text = "\n".join(body)
        if not standalone:
            return text + "\n"
        return (PREAMBLE + text + "\n\\end{document}\n")

    def expr(self, value, symbol_names) -> str:
        if isinstance(value, str):
            return value
        return DocumentLatexPrinter({"symbol_names": symbol_names, "mul_symbol": "dot",
                                     "order": "none"}).doprint(document_order(value))


    WIDTH = 58
    """Characters of typeset mathematics (commands and braces not counted) that fit beside
    the left side of an align* line on an A4 page with 2 cm margins, at 11 pt."""

    def broken(self, value, symbol_names) -> str:
        """A long sum broken into lines of at most WIDTH visible characters, each continued
        line starting with its sign under the first term (as a textbook breaks a long sum);
        a short one, or anything not a sum, on one line."""
        value = document_order(value) if isinstance(value, sp.Basic) else value
        whole = self.expr(value, symbol_names)
        if visible_width(whole) <= self.WIDTH:
            return whole
        if isinstance(value, sp.Mul) and len(value.args) > 1:  # a long product: break at a ·
            pieces = []
            for k, factor in enumerate(value.args):
                tex = self.expr(factor, symbol_names)
                joint = "" if k == 0 else r" \cdot "
                if factor.is_Add and visible_width(tex) > self.WIDTH:  # (… ↵ + …): its terms
                    terms = self.terms(factor, symbol_names)
                    terms[0], terms[-1] = joint + r"\bigl(" + terms[0], terms[-1] + r"\bigr)"
                    pieces += terms
                    continue
                if factor.is_Add:
                    tex = r"\left(%s\right)" % tex
                pieces.append(joint + tex)
            return self.rows_of(pieces)
        if not isinstance(value, sp.Add):
            return whole
        return self.rows_of(self.terms(value, symbol_names))

    def terms(self, value: sp.Add, symbol_names) -> list[str]:
        """The terms of a sum as LaTeX, each after the first led by its + or −."""
        pieces = []
        for k, term in enumerate(value.args):
            negative = is_negative(term)
            tex = self.expr(-term if negative and k else term, symbol_names)
            pieces.append(tex if k == 0 else (" - " if negative else " + ") + tex)
        return pieces

    def rows_of(self, pieces: list[str]) -> str:
        """The pieces of a long formula (each after the first led by its + − or ·) packed into
        rows of at most WIDTH visible characters, each row after the first indented."""
        rows, current = [], ""
        for piece in pieces:
            if current and visible_width(current + piece) > self.WIDTH:
                rows.append(current)
                current = piece.lstrip()
            else:
                current += piece
        rows.append(current)
        return (r" \\ &\qquad ").join(rows)


def visible_width(tex: str) -> int:
    """Roughly how many characters a LaTeX formula typesets: commands, braces and script
    markers dropped, \frac's two halves counted as the longer one."""
    while True:
        fraction = re.search(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", tex)
        if not fraction:
            break
        longer = max(fraction.group(1), fraction.group(2), key=len)
        tex = tex[:fraction.start()] + longer + tex[fraction.end():]
    tex = re.sub(r"\\(left|right|cdot|,|;|quad)", "x", tex)
    tex = re.sub(r"\\[A-Za-z]+", "x", tex)
    return len(re.sub(r"[{}^_ ]", "", tex))


class DocumentLatexPrinter(SympyLatexPrinter):
    """SymPy's LaTeX printer with the documents' notation where SymPy's differs: ReLU's
    derivative 1[z > 0], not θ(z, 0); a name of several letters upright (likelihood,
    J_printed, s_max), as a word, not as a product of letters in italics; two letters (S_xy)
    stay italic, each a variable."""

    def _print_Symbol(self, expr, style="plain"):
        tex = super()._print_Symbol(expr, style)
        if expr in self._settings["symbol_names"]:
            return tex
        return re.sub(r"(?<![\\A-Za-z])([A-Za-z]{3,})(?![A-Za-z])", r"\\mathrm{\1}", tex)

    def _print_Heaviside(self, expr, exp=None):
        tex = indicator_latex(self, expr)
        return tex if exp is None else r"\left(%s\right)^{%s}" % (tex, exp)


def relation(side) -> str:
    """= between the sides of an equation; ∈ when the right side is a set: α ∈ (0, 16/19),
    never α = (0, 16/19), which reads as a point."""
    return "∈" if isinstance(side, sp.Set) else "="


def relation_latex(side) -> str:
    return r"\in" if isinstance(side, sp.Set) else "="


class NotebookPrinter(LatexPrinter):
    r"""One align* block for Jupyter's MathJax (`notebook_latex`): MathJax has no
    \intertext, so each sentence is a line of its own, words in \text{} and maths between."""

    def print(self, derivation: Derivation, standalone=False, heading=None, claims=False) -> str:
        symbol_names = latex_names(derivation)
        rows = ["&" + self.sentence(prose.to_latex(derivation.title), r"\textbf"),
                "&" + self.sentence(prose.to_latex("Source: " + documents.cite(derivation.source)))]
        for line in derivation_lines(derivation):
            if line.text:
                rows.append("&" + self.sentence(line.latex))
            if line.lhs is not None:
                sides = [relation_latex(r) + " " + self.broken(r, symbol_names) for r in line.rhs]
                rows.append(self.expr(line.lhs, symbol_names) + " &" + r" \\ &".join(sides))
        return "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}"

    @staticmethod
    def sentence(latex: str, words=r"\text") -> str:
        """`words $maths$ words` → `\text{words} maths \text{words}` (or `\textbf{words}`)."""
        parts = re.split(r"(?<!\\)\$", latex.replace(r"\allowbreak ", ""))  # one line each
        return "".join(part if k % 2 else (words + "{%s}" % part if part else "")
                       for k, part in enumerate(parts))


def heading_latex(latex: str, text: str) -> str:
    """A heading with mathematics in it, and its words alone for the PDF's bookmarks."""
    if "$" not in latex:
        return latex
    bookmark = "".join(prose.TEXT_CHARACTERS.get(ch, ch) for ch in prose.ascii_words(text))
    return r"\texorpdfstring{%s}{%s}" % (latex, bookmark)


def cite_latex(source: str, footnotes=True) -> str:
    """A citation with documents by title and year, each file name in a footnote."""
    if not footnotes:
        return prose.to_latex(documents.cite(source))
    marker = "\x00"
    named = documents.cite(source, footnote=lambda file: marker + file + marker)
    parts = named.split(marker)
    return "".join(prose.to_latex(part) if k % 2 == 0 else r"\footnote{\texttt{%s}}" % part.replace("_", r"\_")
                   for k, part in enumerate(parts))


PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[T1]{fontenc}
\usepackage[utf8]{inputenc}
\usepackage{lmodern}
\usepackage{amsmath,amssymb}
\usepackage[margin=2cm]{geometry}
\allowdisplaybreaks
\providecommand{\texorpdfstring}[2]{#1}
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
            names[tensor.symbol] = upright(tensor.latex)
            names[adjoint_symbol(tensor)] = r"\delta %s" % names[tensor.symbol]
    return names


UNICODE_GREEK = {tex.lstrip("\\"): ch for ch, tex in prose.GREEK.items()}
SUPERSCRIPT_OF = {v: k for k, v in prose.SUPERSCRIPTS.items()}
SUBSCRIPT_OF = {v: k for k, v in prose.SUBSCRIPTS.items()}


def unicode_of_latex(tex: str) -> str:
    r"""A typeset name in unicode for the terminal: {\theta^{(1)}}_{kj} → θ⁽¹⁾ₖⱼ, \hat{y} → ŷ."""
    text = re.sub(r"\\hat\{(\w)\}", lambda m: m.group(1) + "\u0302", tex)
    text = re.sub(r"\\mathrm\{(\w+)\}", r"\1", text)
    text = re.sub(r"\\([A-Za-z]+)", lambda m: UNICODE_GREEK.get(m.group(1), m.group(1)), text)

    def script(table, fallback):
        def convert(match):
            inner = match.group(1).replace("{", "").replace("}", "")
            if all(ch in table for ch in inner):
                return "".join(table[ch] for ch in inner)
            return fallback + inner
        return convert

    for _ in range(2):
        text = re.sub(r"\^\{([^{}]*)\}", script(SUPERSCRIPT_OF, "^"), text)
        text = re.sub(r"_\{([^{}]*)\}", script(SUBSCRIPT_OF, "_"), text)
    return text.replace("{", "").replace("}", "")


def unicode_names(derivation: Derivation) -> dict:
    """Symbol name → how the terminal spells it: theta1 → θ⁽¹⁾ₖⱼ, d_z2 → δz⁽²⁾, ell → ℓ."""
    names = {"ell": "ℓ", LSE.name: "log Σ_c exp(z_c)", ONEHOT.name: "[c = y]",
             "ell''(z)": "ℓ''(z)"}
    if isinstance(derivation, Model):
        for tensor in derivation.tensors.values():
            shown = unicode_of_latex(tensor.latex)
            names[tensor.name] = shown
            names[adjoint_symbol(tensor).name] = "δ" + shown
    return names


def render(derivation: Derivation, latex=False, standalone=True) -> str:
    if latex:
        return LatexPrinter().print(derivation, standalone)
    return TextPrinter().print(derivation)


def notebook_latex(derivation: Derivation) -> str:
    """The derivation step by step, as a Jupyter notebook displays it (MathJax)."""
    return NotebookPrinter().print(derivation)


# The notebook display is registered here, on the model classes, so that symdl.model imports
# nothing above it. `import symdl` also hands it to a running IPython (symdl/__init__.py).
Derivation._repr_latex_ = notebook_latex  # type: ignore[attr-defined]
