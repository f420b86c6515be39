"""The exact Hessian-vector product of a model with no closed-form curvature, by forward mode.

Pearlmutter's R-operator (Neural Computation 6, 1994): along a direction v of the flat
parameters, R{a} = d/dε a(θ + εv) at ε = 0 for every quantity a of the forward and the
backward pass. Each statement a = f(b, c, ...) the gradient kernels run gives one more,
R{a} = Σ_b ∂f/∂b · R{b}, with R{p} = v's block for a parameter p and R{x} = 0 for data,
targets and hyperparameters; the R of the gradient ∂J/∂p is then H·v's block for p. So
H·v costs about two gradients and P numbers of memory, never the P × P Hessian, and it is
exact: SymPy differentiates each statement of the derivation, and the products are printed
beside the gradient's own (symdl.generate.rows, `directional_kernels`).

The names follow the derivation's: R_z for R{z}, R_d_z for R{δz}, R_lse for the softmax's
R{log Σ e^z}. A ReLU's step (Heaviside) has derivative 0 away from 0, where it is a Dirac δ;
the product takes the derivative almost everywhere (`derive.almost_everywhere`), the usual
convention, so a ReLU network's Hessian is that of the linear piece each sample is on.

Refused (`unsupported`), leaving the trainers' difference of gradients: a loss or penalty
with a kink (|r|, sign, max: the curvature sits at the kink, where L1 and the median put
the minimum), sums over a dimension inside a sample's expressions (total, norm, softmax
written by hand), and a matrix parameter read element by element.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symdl.derive import (
    LSE,
    ONEHOT,
    SAMPLE_WEIGHT,
    Adjoint,
    Derived,
    ParamGradient,
    almost_everywhere,
)
from symdl.errors import DerivationError
from symdl.functions import REDUCTIONS, relu
from symdl.model import Affine, Let

R_LSE = sp.Symbol("R_lse", real=True)
"""R{lse}: Σ_c softmax_c · R{z_c}, the softmax's share of the product."""

KINKS = (sp.Abs, sp.sign, sp.Max, sp.Min, relu, sp.Heaviside)
"""Functions whose first derivative jumps: a loss or penalty of them has no Hessian where
its minimum tends to lie."""


def r_symbol(symbol: sp.Symbol) -> sp.Symbol:
    """R{s}, the symbol for the derivative of s along v."""
    return sp.Symbol(f"R_{symbol.name}", real=True)


def direction_symbol(param) -> sp.Symbol:
    """v's block for a parameter p (R{p}), named _v_p in the kernels."""
    return sp.Symbol(f"_v_{param.name}", real=True)


@dataclass
class Directional:
    """The R-statements of one model, in the order the kernel runs them.

    `forward`: for each step, R of its output (for a Let, as an expression; for an affine
    map None: R{W·x + b} = R{W}·x + W·R{x} + R{b}, written by the emitter as products).
    `adjoints` and `gradients`: R of each adjoint's and gradient's element-wise `local` part
    (the parts through affine maps are products the emitter writes). `penalty`: R{∂R/∂p} of
    the penalty, in terms of the parameters and `direction_symbol`s, element-wise over arrays.
    """

    forward: list[tuple[Affine | Let, sp.Expr | None]]
    adjoints: list[tuple[Adjoint, sp.Expr]]
    gradients: list[tuple[ParamGradient, sp.Expr]]
    penalty: dict[str, sp.Expr]
    reads_lse: bool


def along(derived: Derived, expr: sp.Expr) -> sp.Expr:
    """R{expr} = Σ_s ∂expr/∂s · R{s} over the symbols of expr that change along v (every
    one but data, targets, hyperparameters, the one-hot label and the sample's weight),
    with each derivative taken almost everywhere (a step's δ is 0)."""
    fixed = {ONEHOT, SAMPLE_WEIGHT}
    tensors = derived.model.tensors
    found = sp.Integer(0)
    for symbol in sorted(expr.free_symbols, key=sp.default_sort_key):
        tensor = tensors.get(symbol.name)
        if symbol in fixed or (tensor is not None and tensor.role in ("data", "target", "hyper")):
            continue
        partial = almost_everywhere(sp.diff(expr, symbol))
        if partial != 0:
            found += partial * (R_LSE if symbol == LSE else r_symbol(symbol))
    return found


def penalty_along(derived: Derived) -> dict[str, sp.Expr]:
    """R{∂R/∂p} = Σ_q ∂²R/∂p∂q · v_q for each parameter p, element-wise over the arrays."""
    params = derived.model.params
    found = {}
    for p in params:
        gradient = derived.penalty_gradients[p.name]
        found[p.name] = sp.Add(*[almost_everywhere(sp.diff(gradient, q.symbol)) * direction_symbol(q)
                                 for q in params])
    return found


def has_kink(expr: sp.Expr) -> bool:
    """Whether expr's first derivative jumps somewhere: |u|, sign, max, a step. A Piecewise's
    conditions only choose a piece (Huber's |r| ≤ ε), so only its pieces count."""
    if isinstance(expr, KINKS):
        return True
    if isinstance(expr, sp.Piecewise):
        return any(has_kink(piece) for piece, _ in expr.args)
    return any(has_kink(arg) for arg in expr.args)


def unsupported(derived: Derived) -> str:
    """Why the model gets no generated R-pass ("" when it does); its trainers then take
    differences of the gradient."""
    model = derived.model
    if derived.curvature is not None:
        return "its Hessian is derived in closed form (Derived.curvature)"
    if model.features is None:
        return "it has no data"
    if model.loss_kind not in ("expression", "softmax_cross_entropy"):
        return "its loss is not an element-wise expression"
    if derived.has_reductions:
        return "a sample's expressions sum over a dimension"
    if has_kink(derived.loss) or has_kink(model.penalty_expr):
        return "its loss or penalty has a kink (|u|, sign, max), where it has no Hessian"
    locals_ = ([a.local for a in derived.adjoints] + [g.local for g in derived.gradients]
               + list(derived.penalty_gradients.values()))
    if any(e.has(*REDUCTIONS) for e in locals_):
        return "a derivative sums over a dimension"
    if any(isinstance(s, Affine) and s.input.role == "param" for s in derived.steps):
        return "an affine map reads a parameter as its input"
    matrices = {p.symbol for p in model.params if len(p.shape) > 1}
    exprs = [s.expr for s in derived.steps if isinstance(s, Let)]
    exprs += [a.local for a in derived.adjoints] + [g.local for g in derived.gradients]
    if any(e.free_symbols & matrices for e in exprs):
        return "a matrix parameter is read element by element"
    return ""


def directional(derived: Derived) -> Directional | None:
    """The model's R-statements, or None where `unsupported` says why not, or where SymPy
    cannot take a second derivative (`almost_everywhere` refuses it): the trainers then
    difference the gradient, which the model's kernels have all the same."""
    if unsupported(derived):
        return None
    try:
        return r_statements(derived)
    except DerivationError:
        return None


def r_statements(derived: Derived) -> Directional:
    forward: list[tuple[Affine | Let, sp.Expr | None]] = []
    for step in derived.steps:
        if isinstance(step, Affine):
            forward.append((step, None))
        else:
            value = along(derived, step.expr).subs(step.expr, step.out.symbol)
            forward.append((step, sp.factor_terms(value)))
    adjoints = [(a, sp.factor_terms(along(derived, a.local))) for a in derived.adjoints]
    gradients = [(g, sp.factor_terms(along(derived, g.local))) for g in derived.gradients]
    reads_lse = any(R_LSE in value.free_symbols for _, value in adjoints + gradients)
    return Directional(forward, adjoints, gradients, penalty_along(derived), reads_lse)
