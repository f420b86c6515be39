"""SymPy derives every gradient of a model, through its named intermediates.

This is reverse-mode differentiation at the level a lecture works at: the model is a chain
of named quantities (z = θᵀx, p = σ(z), J = ...), SymPy computes each local derivative
(∂J/∂p, ∂p/∂z, ...), and the chain rule multiplies them back to every parameter — the way
001 writes ∂J/∂θ₁⁽²⁾ = ∂J/∂p · ∂p/∂z⁽²⁾ · ∂z⁽²⁾/∂θ₁⁽²⁾.

Two views of the same derivative come out of it:

* `chain_rule(...)`: the factor-by-factor product for one parameter, for printing.
* `Backward`: the adjoints δt = ∂J/∂t the generator needs. Element-wise intermediates
  between two affine maps are composed before differentiating, so a product like
  (p − c)/(p(1 − p)) · p(1 − p) is simplified to p − c symbolically instead of being
  evaluated as 0/0 at a saturated sigmoid.

`explicit_instance` builds the fully substituted loss for small sizes, which tests hold
against the chain-rule result.

Long because derivation is four views of one `Derived`: the adjoints the generator needs,
the factor-by-factor chain rule the printers show, closed forms through sufficient
statistics, and the explicit instance the checks hold them against; each reads the same
intermediates, so they live beside them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import sympy as sp

from symdl.errors import DerivationError
from sympy.core.symbol import Str

from symdl.functions import REDUCTIONS, logsumexp, stabilize, stable_logs, total
from symdl.model import Affine, Let, Model, Tensor, outermost_of

LSE = sp.Symbol("lse", real=True)
ONEHOT = sp.Symbol("onehot", real=True)
SAMPLE_WEIGHT = sp.Symbol("sample_weight", real=True)
"""w_i, the weight of one sample in the weighted kernels: J = Σ_i w_i ℓ⁽ⁱ⁾."""


def adjoint_symbol(tensor: Tensor) -> sp.Symbol:
    """δt, the symbol for ∂J/∂t of one element of t."""
    return sp.Symbol(f"d_{tensor.name}", real=True)


@dataclass
class Adjoint:
    """δt for one element of an intermediate t.

    δt = `local` + Σ over the affine maps that read t of Wᵀ·δ(out): `local` collects what
    flows back through element-wise expressions (in terms of named quantities and other
    adjoints), `through` the affine maps.
    """

    tensor: Tensor
    local: sp.Expr
    through: list[Affine] = field(default_factory=list)


@dataclass
class ParamGradient:
    """∂J/∂p for one sample: element-wise part plus outer products from affine maps."""

    param: Tensor
    local: sp.Expr
    as_weight: list[Affine] = field(default_factory=list)
    as_bias: list[Affine] = field(default_factory=list)


@dataclass
class Curvature:
    """The per-sample Hessian of the loss, for models where symdl derives it.

    kind "scalar": every parameter is a scalar; `entries[p][q]` = ∂²ℓ/∂p∂q.
    kind "linear": one vector parameter θ enters through z = θᵀx; ∂²ℓ/∂θ_j∂θ_k = ℓ''(z)·x_j·x_k
    with `second` = ℓ''(z). `quadratic` says the loss is a polynomial of degree 2 in the
    parameters, so the minimiser solves H·θ = −∇J(0) (the normal equation of 003 §3.2); it is
    derived for the kinds "scalar", "linear" and "affine" (no second derivative depends on a
    parameter), and is what SPEC["quadratic"] tells a trainer (one Newton step).
    kind "affine": a vector w enters through z = wᵀx + b (b a scalar parameter, or none), and
    the other parameters are scalars the loss reads directly (a learned scale s), with a
    penalty R or not: over the flat parameters, ∂²ℓ/∂(w, b)² = ℓ_zz·(x, 1)(x, 1)ᵀ, the
    column of a scalar s is ℓ_zs·(x, 1), and `entries[s][t]` = ℓ_st, where `second` = ℓ_zz and
    `cross[s]` = ℓ_zs; R adds `penalty_diagonal[w]` (∂²R/∂w_j², R a sum over w_j, so
    diagonal) and `penalty_entries[s][t]`. A penalty with kinks, αρ‖w‖₁'s |w_j| at w_j = 0
    (elastic net, lasso), has `penalty_diagonal` its curvature away from them and `kink` the
    weight in front of their DiracDelta (2αρ), a function of hyperparameters alone: where it
    is 0, J is twice differentiable everywhere and the Hessian is exact; elsewhere Newton's
    method does not apply (symdl.training.newton refuses it, naming the weight).
    kind "softmax": the softmax cross-entropy of z = W·x + b (W a matrix, b a vector or none):
    ∂²ℓ/∂z_c∂z_d = p_c(δ_cd − p_d), so over the flat (W, b) the Hessian is that C × C matrix
    times (x, 1)(x, 1)ᵀ; a penalty adds `penalty_diagonal` (∂²R/∂W_cj²) and, for b, the
    diagonal `bias_diagonal`.
    """

    kind: str
    params: list[Tensor]
    entries: list[list[sp.Expr]] | None = None
    second: sp.Expr | None = None
    affine: Affine | None = None
    quadratic: bool = False
    scalars: list[Tensor] = field(default_factory=list)  # kind "affine": the loose scalars
    cross: list[sp.Expr] = field(default_factory=list)  # ℓ_zs for each of `scalars`
    penalty_diagonal: sp.Expr = sp.Integer(0)  # ∂²R/∂w_j², in terms of w_j
    penalty_entries: list[list[sp.Expr]] | None = None  # ∂²R/∂s∂t over `scalars` (and b)
    bias_diagonal: sp.Expr = sp.Integer(0)  # kind "softmax": ∂²R/∂b_c²
    kink: sp.Expr = sp.Integer(0)  # kind "affine": the weight of R's kinks (`without_kinks`)


class Derived:
    """Everything SymPy derives for one model, computed once and shared by printer and generator."""

    def __init__(self, model: Model, weighted: bool = False):
        """`weighted`: every per-sample loss and adjoint carries the sample's weight
        SAMPLE_WEIGHT (the weighted kernels, J = Σ_i w_i ℓ⁽ⁱ⁾)."""
        self.weighted = weighted
        if model.loss_kind is None:
            raise DerivationError(f"{model.name}: the model declares no loss")
        if not model.params:
            raise DerivationError(f"{model.name}: the loss depends on no parameter, so there is "
                                  f"nothing to derive or train; declare one with "
                                  f"derivation.param(name, shape) and use it in the loss")
        self.model: Model = model
        self.steps: list[Affine | Let] = list(model.steps_of_model)
        self.definition: dict[str, Affine | Let] = {s.out.name: s for s in self.steps}
        unused = [p.name for p in model.params if p.name not in self.cost_reads]
        if unused:
            raise DerivationError(
                f"{model.name}: the cost does not depend on the parameter(s) {', '.join(unused)}: "
                f"their gradient is 0 everywhere, so training could never change them; use them "
                f"in the loss (or the penalty), or remove their declaration")

    @cached_property
    def cost_reads(self) -> set[str]:
        """The names of every tensor the loss or the penalty reads, directly or through steps."""
        model = self.model
        pending = ([model.loss_input.name] if model.loss_kind == "softmax_cross_entropy"
                   else [s.name for s in model.loss_expr.free_symbols])
        pending += [s.name for s in model.penalty_expr.free_symbols]
        found: set[str] = set()
        while pending:
            name = pending.pop()
            if name in found:
                continue
            found.add(name)
            step = self.definition.get(name)
            if isinstance(step, Affine):
                pending += [t.name for t in (step.weight, step.input, step.bias) if t is not None]
            elif isinstance(step, Let):
                pending += [s.name for s in step.expr.free_symbols]
        return found

    # ---- which intermediates are kept as arrays ---------------------------------------
    @cached_property
    def affine_inputs(self) -> set[str]:
        return {s.input.name for s in self.steps if isinstance(s, Affine)}

    def is_junction(self, tensor: Tensor) -> bool:
        """A point where an adjoint is kept: affine outputs and non-data affine inputs."""
        step = self.definition.get(tensor.name)
        if isinstance(step, Affine):
            return True
        return isinstance(step, Let) and tensor.name in self.affine_inputs

    def composed(self, expr: sp.Expr) -> sp.Expr:
        """expr with every element-wise intermediate that is not a junction substituted in."""
        model = self.model
        for _ in range(len(self.steps) + 1):
            replacements = {}
            for symbol in expr.free_symbols:
                step = self.definition.get(symbol.name)
                if isinstance(step, Let) and not self.is_junction(model.tensor(symbol)):
                    replacements[symbol] = step.expr
            if not replacements:
                return expr
            expr = expr.xreplace(replacements)
        raise DerivationError(f"{model.name}: intermediates refer to each other in a cycle")

    def named(self, expr: sp.Expr) -> sp.Expr:
        """Replace composed sub-expressions by the intermediate names they were defined as.

        A sum is found wherever its terms appear in a larger sum with one common factor:
        SymPy writes −(y − w·x − b) as b + w·x − y, which is −r all the same (`rename_sum`).
        """
        for step in reversed(self.steps):
            if isinstance(step, Let):
                value = self.composed(step.expr)
                if isinstance(value, sp.Add):
                    expr = rename_sum(expr, value, step.out.symbol)
                else:
                    expr = expr.subs(value, step.out.symbol)
        return expr

    # ---- the loss ---------------------------------------------------------------------
    @cached_property
    def loss(self) -> sp.Expr:
        """The per-sample loss in junction quantities, as written (not yet stabilised)."""
        if self.model.loss_kind == "softmax_cross_entropy":
            z = self.model.loss_input.symbol
            return LSE - ONEHOT * z  # summed over classes c, the one-hot picks z_y
        return self.composed(self.model.loss_expr)

    @cached_property
    def stable_loss(self) -> sp.Expr:
        """The loss in a form that stays finite at |z| = 1000 (functions.stabilize)."""
        if self.model.loss_kind == "softmax_cross_entropy":
            return self.loss
        return stabilize(self.loss)

    @cached_property
    def named_loss(self) -> sp.Expr:
        """The stable loss through the named intermediates, for a kernel that computed them:
        the forward pass and the loss share ŷ and r instead of recomputing y − w·x − b."""
        return self.named(self.stable_loss)

    # ---- reverse mode ----------------------------------------------------------------
    @cached_property
    def sinks(self):
        """What adjoints flow back from: the loss, and every element-wise junction.

        Each is (weight, expression, level): the level is the dimension the sink runs over
        (None for a number per sample), so that a number read by every element of a vector
        gets the sum over them (differentiate).
        """
        seed = SAMPLE_WEIGHT if self.weighted else sp.Integer(1)
        sinks = [(seed, self.loss_for_differentiation, None)]
        for step in self.steps:
            if isinstance(step, Let) and self.is_junction(step.out):
                level = step.out.shape[0] if step.out.shape else None
                sinks.append((adjoint_symbol(step.out), stable_logs(self.composed(step.expr)), level))
        return sinks

    @cached_property
    def has_reductions(self) -> bool:
        """Whether a per-sample expression sums over a dimension (total, norm, softmax)."""
        exprs = [s.expr for s in self.steps if isinstance(s, Let)]
        exprs += [self.model.loss_expr] if self.model.loss_expr is not None else []
        return any(e.has(*REDUCTIONS) for e in exprs)

    @cached_property
    def loss_for_differentiation(self) -> sp.Expr:
        if self.model.loss_kind == "softmax_cross_entropy":
            z = self.model.loss_input.symbol
            return logsumexp(z) - ONEHOT * z
        return stable_logs(self.loss)  # log cosh differentiates to tanh, not sinh/cosh

    def _local(self, symbol: sp.Symbol) -> sp.Expr:
        tensor = self.model.tensor(symbol)
        found = sp.Integer(0)
        for weight, sink, level in self.sinks:
            found += differentiate(weight * sink, level, symbol, tensor.shape)
        found = found.xreplace({logsumexp(s): LSE for s in found.atoms(sp.Symbol)})
        return self.through_names(found)

    def through_names(self, expr: sp.Expr) -> sp.Expr:
        """expr written through the named intermediates, then simplified with them held whole.

        The names go in before any expansion: expanding first multiplies a named sum out
        (r² with r = y − ŷ became y² − 2yŷ + ŷ², every digit lost at y = 1e8) and can turn
        ½ − ½r²e^{−s} into −½(r² − e^{s})e^{−s}, inf·0 at s = 710; after naming, r and s
        are atoms that expansion cannot open. A simplified form replaces the one the chain
        rule gave only when it is strictly shorter (σ(1 − σ)/σ and −y(1 − h) + (1 − y)h = h − y
        still cancel) and it pairs no e^{u} with e^{−u}.
        """
        named = self.named(expr)
        tidy = simplify_gradient(named)
        if sp.count_ops(tidy) < sp.count_ops(named) and not opposite_exponentials(tidy):
            return tidy
        return named

    @cached_property
    def adjoints(self) -> list[Adjoint]:
        """δt for every junction, latest first: the order the backward pass computes them."""
        found = []
        for step in reversed(self.steps):
            tensor = step.out
            if not self.is_junction(tensor):
                continue
            through = [s for s in self.steps if isinstance(s, Affine) and s.input == tensor]
            found.append(Adjoint(tensor, self._local(tensor.symbol), through))
        return found

    @cached_property
    def gradients(self) -> list[ParamGradient]:
        """∂ℓ/∂p of one sample's loss for every parameter, in declaration order."""
        result = []
        for param in self.model.params:
            as_weight = [s for s in self.steps if isinstance(s, Affine) and s.weight == param]
            as_bias = [s for s in self.steps if isinstance(s, Affine) and s.bias == param]
            local = self._local(param.symbol)  # 0 for one read only through a step (floor)
            result.append(ParamGradient(param, local, as_weight, as_bias))
        return result

    @cached_property
    def penalty_gradients(self) -> dict[str, sp.Expr]:
        """∂R/∂p for the parameter-only term R of the cost (0 for a parameter R lacks)."""
        penalty = self.model.penalty_expr
        return {p.name: simplify_gradient(sp.diff(penalty, p.symbol)) for p in self.model.params}

    # ---- the fully composed per-sample gradient, for scalar models --------------------
    @cached_property
    def fully_composed_loss(self) -> sp.Expr:
        """The per-sample loss with every intermediate substituted: data, target, parameters."""
        expr = self.loss
        for step in reversed(self.steps):
            value = step.expr if isinstance(step, Let) else affine_expression(step)
            expr = expr.xreplace({step.out.symbol: self.composed(value)})
        return self.composed(expr)

    # ---- curvature and closed form ---------------------------------------------------
    @cached_property
    def curvature(self) -> Curvature | None:
        params = self.model.params
        if self.model.loss_kind == "softmax_cross_entropy":
            return self.softmax_curvature()
        if self.model.loss_kind != "expression" or self.has_reductions:
            return None  # (a reduction's curvature is not derived)
        if self.model.penalty_expr != 0:
            return self.affine_curvature()
        if all(p.is_scalar for p in params):
            if any(isinstance(s, Affine) for s in self.steps):
                return None
            loss = self.fully_composed_loss
            symbols = [p.symbol for p in params]
            if len(symbols) <= HESSIAN_TIDY_PARAMS:
                entries = hessian_entries(loss, symbols)
            else:
                entries = self.named_hessian(symbols)
            if any(entry.has(sp.DiracDelta, sp.Derivative) for row in entries for entry in row):
                return None  # a kink such as |c − x| or a step: the second derivative is not a function
            # degree ≤ 2: no second derivative depends on a parameter (no Poly of the
            # expanded loss, which has P² terms)
            quadratic = (loss.is_polynomial(*symbols)
                         and not any(self.composed(entry).free_symbols & set(symbols)
                                     for row in entries for entry in row))
            return Curvature("scalar", params, entries=entries, quadratic=quadratic)
        affines = [s for s in self.steps if isinstance(s, Affine)]
        if (len(params) == 1 and len(affines) == 1 and affines[0].weight == params[0]
                and affines[0].bias is None and affines[0].out.is_scalar
                and self.model.tensor(affines[0].input.name).role == "data"):
            z = affines[0].out.symbol
            second = sp.factor(self.named(simplify_gradient(sp.diff(self.loss, z, 2))))
            forward_names = {s.out.symbol for s in self.steps}
            return Curvature("linear", params, second=second, affine=affines[0],
                             quadratic=not second.free_symbols & forward_names)
        return self.affine_curvature()

    def softmax_curvature(self) -> Curvature | None:
        """Curvature of kind "softmax" (see `Curvature`), or None when the model is not a
        softmax regression z = W·x + b or its penalty is not a sum over the elements."""
        model = self.model
        affines = [s for s in self.steps if isinstance(s, Affine)]
        if len(affines) != 1 or len(self.steps) != 1 or affines[0].out != model.loss_input:
            return None
        step = affines[0]
        if step.input.role != "data" or len(step.weight.shape) != 2:
            return None
        diagonals = []
        for p in (step.weight, step.bias):
            if p is None:
                diagonals.append(sp.Integer(0))
                continue
            diagonal = simplify_gradient(sp.diff(self.penalty_gradients[p.name], p.symbol))
            others = [q.symbol for q in model.params if q is not p]
            if (diagonal.has(sp.DiracDelta, sp.Derivative, sp.Subs)
                    or any(sp.diff(self.penalty_gradients[p.name], q) != 0 for q in others)):
                return None
            diagonals.append(diagonal)
        penalty = model.penalty_expr
        held = {t: sp.Dummy() for t in penalty.atoms(total)}
        linear = penalty.xreplace(held)
        if any(sp.diff(linear, d, e) != 0 for d in held.values() for e in held.values()):
            return None  # a sum inside a non-linear function (a norm): not diagonal
        return Curvature("softmax", model.params, affine=step, penalty_diagonal=diagonals[0],
                         bias_diagonal=diagonals[1])

    def affine_curvature(self) -> Curvature | None:
        """Curvature of kind "affine" (see `Curvature`), or None when the model is not of
        that shape or a second derivative is not a function (a kink: |w|, |r| in a branch)."""
        model = self.model
        affines = [s for s in self.steps if isinstance(s, Affine)]
        if len(affines) != 1:
            return None
        step = affines[0]
        w, b = step.weight, step.bias
        if (not step.out.is_scalar or len(w.shape) != 1 or step.input.role != "data"
                or (b is not None and not b.is_scalar)):
            return None
        scalars = [p for p in model.params if p not in (w, b)]
        if not all(p.is_scalar for p in scalars):
            return None
        loss, z = self.loss, step.out.symbol
        if loss.free_symbols & ({w.symbol} | ({b.symbol} if b is not None else set())):
            return None  # read beside z as well: not through the affine map alone
        symbols = [s.symbol for s in scalars]
        second = simplify_gradient(sp.diff(loss, z, 2))
        cross = [simplify_gradient(sp.diff(loss, z, s)) for s in symbols]
        entries = [[simplify_gradient(sp.diff(loss, s, t)) for t in symbols] for s in symbols]
        penalty = model.penalty_expr
        loose = ([b.symbol] if b is not None else []) + symbols
        diagonal, kink = without_kinks(
            simplify_gradient(sp.diff(self.penalty_gradients[w.name], w.symbol)),
            {h.symbol for h in model.hypers})
        penalty_entries = [[simplify_gradient(sp.diff(penalty, s, t)) for t in loose] for s in loose]
        mixed = [sp.diff(self.penalty_gradients[w.name], s) for s in loose]
        found = [second, diagonal, *cross, *mixed] + [e for row in entries + penalty_entries for e in row]
        if any(e.has(sp.DiracDelta, sp.Derivative, sp.Subs) for e in found) or any(mixed):
            return None  # a kink (|w|, |r|), or a penalty that mixes w with a scalar
        held = {t: sp.Dummy() for t in penalty.atoms(total) if t.has(w.symbol)}
        linear = penalty.xreplace(held)
        if any(sp.diff(linear, d, e) != 0 for d in held.values() for e in held.values()):
            return None  # a sum over w inside a non-linear function (a norm): not diagonal
        return Curvature("affine", model.params, entries=entries, second=self.named(second),
                         affine=step, scalars=scalars, cross=[self.named(c) for c in cross],
                         penalty_diagonal=diagonal, penalty_entries=penalty_entries, kink=kink,
                         quadratic=self.constant_curvature([second, diagonal, *cross]
                                                           + [e for row in entries + penalty_entries
                                                              for e in row]))

    def constant_curvature(self, entries: list[sp.Expr]) -> bool:
        """Whether no second derivative depends on a parameter, directly or through an
        intermediate the forward pass computes from them: then J is quadratic, and one
        Newton step from anywhere lands on its minimiser (ridge regression)."""
        varying = {p.symbol for p in self.model.params} | {s.out.symbol for s in self.steps}
        return not any(sp.sympify(e).free_symbols & varying for e in entries)


    def named_hessian(self, symbols: list[sp.Symbol]) -> list[list[sp.Expr]]:
        """∂²ℓ/∂p∂q through the named intermediates, for a model of many scalar parameters.

        Differentiating the fully composed loss P(P + 1)/2 times rebuilds its long sums each
        time (seconds for 100 parameters, and each entry long). Here every intermediate t
        (ŷ = Σ wᵢ·fᵢ(x)) is held as a symbol: ∂e/∂q = ∂e/∂q|direct + Σ_t ∂e/∂t · ∂t/∂q, with
        ∂t/∂q derived once per pair (t, q). The entries are then short expressions in the
        intermediates, which the Hessian kernel computes once per sample.
        """
        lets = {s.out.symbol: s.expr for s in self.steps if isinstance(s, Let)}
        through: dict = {}

        def total_diff(expr, q):
            found = sp.diff(expr, q)
            for t in sorted(expr.free_symbols & lets.keys(), key=sp.default_sort_key):
                outer = sp.diff(expr, t)
                if outer != 0:
                    if (t, q) not in through:
                        through[(t, q)] = total_diff(lets[t], q)
                    found += outer * through[(t, q)]
            return found

        first = [total_diff(self.model.loss_expr, p) for p in symbols]
        entries: list[list[sp.Expr]] = [[sp.Integer(0)] * len(symbols) for _ in symbols]
        for a in range(len(symbols)):
            for b in range(a, len(symbols)):
                entries[a][b] = entries[b][a] = total_diff(first[a], symbols[b])
        return entries

    @cached_property
    def closed(self) -> ClosedForm | None:
        """The closed form (`closed_form`), solved once: a generated file and its SPEC both ask."""
        return closed_form(self)

    @property
    def has_closed_form(self) -> bool:
        """Whether the minimiser is one formula: a linear model's normal equation, or a unique
        stationary point of a quadratic in scalar parameters ((a + b)·x has a line of them)."""
        curvature = self.curvature
        return bool(curvature and curvature.quadratic
                    and (curvature.kind == "linear" or self.closed is not None))


def without_kinks(expr: sp.Expr, hypers: set) -> tuple[sp.Expr, sp.Expr]:
    """(expr without its DiracDelta terms, the weight in front of them): ∂²|w|/∂w² = 2δ(w),
    so a penalty αρ‖w‖₁ + α(1 − ρ)/2‖w‖² has the curvature α(1 − ρ) away from w = 0 and kinks
    of weight 2αρ there. A weight that depends on anything but the hyperparameters (a kink
    whose size moves with the parameters or the data) is left in expr, which the caller then
    refuses like any kink."""
    deltas = expr.atoms(sp.DiracDelta)
    if not deltas:
        return expr, sp.Integer(0)
    smooth = expr.xreplace({d: sp.Integer(0) for d in deltas})
    weight = sp.factor(sp.expand(expr - smooth).xreplace({d: sp.Integer(1) for d in deltas}))
    if not weight.free_symbols <= hypers:
        return expr, sp.Integer(0)
    return smooth, weight


HESSIAN_TIDY_PARAMS = 16
"""Up to this many scalar parameters each Hessian entry is simplified (`hessian_entries`);
beyond, the entries are derived through the named intermediates unsimplified (`named_hessian`)."""


def hessian_entries(loss: sp.Expr, symbols: list[sp.Symbol]) -> list[list[sp.Expr]]:
    """∂²loss/∂p∂q for every pair, each derived (and simplified) once: the matrix is symmetric.

    simplify() on a polynomial in every symbol (data included) is quick and exact; anything
    else gets the targeted `simplify_gradient` (simplify() on a loss quadratic in the
    parameters with tanh(x) features took seconds per entry: docs/engineering.md, 'SymPy
    simplify()'). Either costs milliseconds per entry, and there are P(P + 1)/2 of them:
    with 40 parameters that was most of a minute, so only models of at most
    HESSIAN_TIDY_PARAMS parameters come here (`Derived.curvature`).
    """
    tidy = sp.simplify if loss.is_polynomial(*loss.free_symbols) else simplify_gradient
    first = [sp.diff(loss, p) for p in symbols]
    entries: list[list[sp.Expr]] = [[sp.Integer(0)] * len(symbols) for _ in symbols]
    for a, p in enumerate(symbols):
        for b in range(a, len(symbols)):
            entries[a][b] = entries[b][a] = tidy(sp.diff(first[a], symbols[b]))
    return entries


def differentiate(expr: sp.Expr, level: str | None, symbol: sp.Symbol, shape: tuple,
                  free: str | None = None) -> sp.Expr:
    """∂/∂t of Σ over `level` of expr, for one element t = `symbol` of a tensor of `shape`
    (() for a number, ("n",) for a vector, ("H", "n") for a matrix).

    Every expression is written with typical elements, so SymPy's own derivative is the
    element-wise (diagonal) part. A reduction R = Σ_k g_k inside expr is held fixed for that
    part, then adds its own route: (Σ over the level of ∂expr/∂R)·∂R/∂t, with ∂R/∂t the
    element g'(t) for t over R's dimension, Σ_k ∂g_k/∂t for a number t. A number read by
    every element of a vector sink likewise gets the sum over the sink's elements. For
    log Σ_k e^{a_k} the route is weighted by the softmax e^{a_k − log Σ e^{a}}.

    A sum over a matrix's rows, R_h = Σ_j (x_j − C_hj)², is one number per h (its `free`
    dimension): read at the level h it is R's own element there, so its route is not summed
    over the level when t runs over h too (C_hj), and summed with ∂R_h/∂t inside when not (a
    number γ, a vector c_j). `free` is the dimension the level itself leaves, when expr is the
    summand of such a sum.
    """
    reductions = outermost_reductions(expr)
    held = {r: sp.Dummy(f"R{n}", real=True) for n, r in enumerate(reductions)}
    flat = expr.xreplace(held)

    def over_level(value):
        if level is None or value == 0:
            return value
        return total(value, Str(level), Str(free)) if free else total(value, Str(level))

    direct = almost_everywhere(sp.diff(flat, symbol))
    found = direct if level in shape else over_level(direct)
    for reduction, placeholder in held.items():
        outer = sp.diff(flat, placeholder)
        if outer == 0:
            continue
        summand = reduction.args[0]
        if isinstance(reduction, total):
            inner = differentiate(summand, reduction.dim, symbol, shape, reduction.free)
        else:  # log Σ e^{a}: ∂/∂t = Σ_k softmax_k · ∂a_k/∂t
            softmax = sp.Dummy("softmax", real=True)
            inner = differentiate(softmax * summand, reduction.dim, symbol, shape)
            inner = inner.xreplace({softmax: sp.exp(summand - placeholder)})
        if reduction.free is None:
            found += over_level(outer) * inner
        elif level in shape:  # R_h and t both at the level's element h
            found += outer * inner
        else:
            found += over_level(outer * inner)
    return found.xreplace({p: r for r, p in held.items()})


STEP_SLOPES = {sp.floor: 0, sp.ceiling: 0, sp.frac: 1}
"""The slope of a piecewise-constant (or piecewise-linear) function away from its jumps."""


def almost_everywhere(expr: sp.Expr) -> sp.Expr:
    """A derivative SymPy left unevaluated or as a Dirac δ, written as its value away from the jumps.

    floor, ceiling, sign and Heaviside are flat between their jumps, so their derivative is
    0 almost everywhere (SymPy writes δ(u) for sign and Heaviside and leaves floor's as a
    Derivative); frac(u) = u − ⌊u⌋ has slope 1 there. A parameter that enters only
    through such a step gets a gradient of 0: gradient descent does not move it. Any other
    derivative SymPy cannot evaluate is refused here, naming the function.
    """
    expr = expr.replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: sp.Integer(0))

    def slope(derivative):
        function = derivative.expr.func
        if function in STEP_SLOPES:
            return sp.Integer(STEP_SLOPES[function]) if derivative.derivative_count == 1 else sp.Integer(0)
        raise DerivationError(
            f"SymPy cannot differentiate {derivative.expr} (the function {function}), so symdl "
            f"cannot generate its gradient; write it with functions SymPy differentiates, or as a "
            f"Piecewise of expressions it does")

    expr = expr.replace(lambda e: isinstance(e, sp.Derivative), slope)
    return expr.doit() if expr.has(sp.Subs) else expr


def outermost_reductions(expr: sp.Expr) -> list:
    """The reductions of expr that no other reduction contains, each once, in a fixed order."""
    return list(dict.fromkeys(outermost_of(expr)))


def affine_expression(step: Affine) -> sp.Expr:
    """W·x + b for one typical element (the sum over the inner index is implied)."""
    value = step.weight.symbol * step.input.symbol
    return value + step.bias.symbol if step.bias is not None else value


def rename_sum(expr: sp.Expr, value: sp.Add, name: sp.Symbol) -> sp.Expr:
    """expr with every sum that holds k·value among its terms written with k·name instead."""
    terms = value.as_coefficients_dict()
    first = next(iter(terms))

    def rename(node):
        found = node.as_coefficients_dict()
        if first not in found:
            return node
        k = found[first] / terms[first]
        if any(found.get(t, 0) != k * c for t, c in terms.items()):
            return node
        return sp.Add(*[c * t for t, c in found.items() if t not in terms]) + k * name

    return expr.replace(lambda e: isinstance(e, sp.Add), rename)


def opposite_exponentials(expr: sp.Expr) -> bool:
    """Whether expr holds e^{u} and e^{v} with u + v constant: a product inf·0 waits there."""
    arguments = [e.args[0] for e in expr.atoms(sp.exp)]
    return any((u + v).is_number for n, u in enumerate(arguments) for v in arguments[n + 1:])


def simplify_gradient(expr: sp.Expr) -> sp.Expr:
    """A targeted simplification: expand, then factor if that is shorter (and not too long).

    `simplify()` is slow and can rewrite sums inside exp as products (docs/engineering.md,
    'SymPy simplify()'); expansion cancels the σ(1 − σ)/σ quotients the chain rule makes,
    factoring restores the shape a document would print. Sums inside exp stay together:
    e^{z − lse} is the softmax, finite at z = 1000, while e^{z}·e^{−lse} is inf·0 there.
    """
    if sp.count_ops(expr) > SIMPLIFY_OPS:
        return expr  # expanding a long chain-rule product only makes it longer (and slow)
    expanded = sp.expand(expr, power_exp=False)
    candidates = [expanded, sp.factor_terms(expanded)]
    if sp.count_ops(expanded) <= FACTOR_OPS:
        candidates.append(sp.factor(expanded))
    return min(candidates, key=sp.count_ops)


SIMPLIFY_OPS = 150
"""A gradient of more operations than this is kept as the chain rule writes it, a product
such as −2·tanh(x)·(y − Σ wᵢ·tanh(x + cᵢ)), where `Derived.named` finds ŷ again; expanded
it was P terms per parameter, and expand + factor_terms took a third of a second each
(the built-in and example models stay below 60)."""
FACTOR_OPS = 150
"""factor() is tried only on expressions of at most this many operations. On longer ones
(a sum over 20 or more parameters) it took seconds per gradient, growing faster than the
sum, and saved almost nothing over factor_terms; the built-in models stay below 110."""


# ---- the factor-by-factor chain rule, for printing ---------------------------------------

@dataclass
class ChainFactor:
    """One factor ∂num/∂den of a chain-rule product, with its value."""

    numerator: Tensor | None  # None for the loss J
    denominator: Tensor
    value: sp.Expr
    summed_over: str = ""  # an index the product sums over (a vector junction)
    reduces: bool = False  # the step reads the source through a sum: not element by element
    route: tuple = ()  # a folded factor: the names it runs through, ℓ first (ℓ, u, s)


def chain_rule(derived: Derived, param: Tensor) -> list[list[ChainFactor]]:
    """Every path from the loss back to `param`, as lists of factors, loss side first.

    A step that reads its source through a sum (u_k = z_k/‖z‖) has no element-by-element
    factor ∂u_k/∂z_k; there the factors on the loss side are folded into one,
    ∂ℓ/∂z_j = Σ_k ∂ℓ/∂u_k · ∂u_k/∂z_j, evaluated by `differentiate`.
    """
    return [fold_reductions(derived, path) for path in _paths(derived, param)]


def fold_reductions(derived: Derived, path: list[ChainFactor]) -> list[ChainFactor]:
    folded: list[ChainFactor] = []
    for factor in path:
        if not factor.reduces:
            folded.append(factor)
            continue
        step = derived.definition[factor.numerator.name]
        assert isinstance(step, Let)  # only a Let reads its source through a sum
        level = factor.numerator.shape[0] if factor.numerator.shape else None
        upstream = sp.Dummy("upstream", real=True)
        value = differentiate(upstream * step.expr, level, factor.denominator.symbol,
                              factor.denominator.shape)
        value = value.subs(step.expr, step.out.symbol)  # σ(b + Σ h_k·w_k) is p
        value = value.xreplace({upstream: folded_product(derived.model, folded)})
        route = sum((f.route or (f.numerator.name if f.numerator else "ℓ",) for f in folded), ())
        folded = [ChainFactor(None, factor.denominator, sp.factor_terms(value),
                              route=route + (factor.numerator.name,))]
    return folded


def folded_product(model: Model, factors: list[ChainFactor]) -> sp.Expr:
    """∂ℓ/∂t for the tensor t the last of `factors` differentiates: their product, with the
    sum over each index a factor sums over written as a total over its dimension.

    After a sum over units (Σ_l ∂ℓ/∂z_l·W_lk, or Σ_k ∂ℓ/∂u_k·∂u_k/∂s for a number s read by
    every u_k) the product is one element of ∂ℓ/∂t only once that sum is taken: a reduction
    read further down the path then differentiates the sum, not one of its terms.
    """
    dim_of = {letter: dim for dim, letter in model.index_of_dim.items()}
    product = sp.Mul(*[f.value for f in factors])
    for letter in sorted({f.summed_over for f in factors if f.summed_over}):
        product = total(product, Str(dim_of[letter]))
    return product


def _paths(derived: Derived, param: Tensor) -> list[list[ChainFactor]]:
    paths = []

    def extend(tensor: Tensor, trail: list[ChainFactor]):
        direct = _loss_edge(derived, tensor)
        if direct is not None:
            paths.append([direct] + trail)
        for step in derived.steps:
            factor = _edge(derived, step, tensor)
            if factor is not None:
                extend(step.out, [factor] + trail)

    extend(param, [])
    return paths


def _edge(derived: Derived, step, source: Tensor) -> ChainFactor | None:
    """∂(step output)/∂source for one step, or None when the step does not read source."""
    if isinstance(step, Affine):
        if step.weight == source:
            return ChainFactor(step.out, source, step.input.symbol)
        if step.bias == source:
            return ChainFactor(step.out, source, sp.Integer(1))
        if step.input == source:
            summed = "" if step.out.is_scalar else derived.model.index(step.out.shape[0])
            return ChainFactor(step.out, source, step.weight.symbol, summed)
        return None
    if source.symbol not in step.expr.free_symbols:
        return None
    if any(source.symbol in r.free_symbols for r in step.expr.atoms(*REDUCTIONS)):
        return ChainFactor(step.out, source, sp.Integer(1), reduces=True)  # folded by chain_rule
    value = almost_everywhere(sp.diff(step.expr, source.symbol))
    value = value.subs(step.expr, step.out.symbol)
    # a number read by every element of a vector: the chain rule sums over those elements
    summed = derived.model.index(step.out.shape[0]) if source.is_scalar and step.out.shape else ""
    return ChainFactor(step.out, source, sp.factor_terms(value), summed)


def _loss_edge(derived: Derived, source: Tensor) -> ChainFactor | None:
    model = derived.model
    if model.loss_kind == "softmax_cross_entropy":
        if source != model.loss_input:
            return None
        value = sp.diff(logsumexp(source.symbol) - ONEHOT * source.symbol, source.symbol)
        value = value.xreplace({logsumexp(source.symbol): LSE})
        return ChainFactor(None, source, value, model.index(source.shape[0]))
    if source.symbol not in model.loss_expr.free_symbols:
        return None
    return ChainFactor(None, source, sp.factor(differentiate(model.loss_expr, None, source.symbol,
                                                              source.shape)))


# ---- closed forms through sufficient statistics (003 §3.1, 001) -----------------------------

@dataclass
class ClosedForm:
    """J written with data sums S (S_x = Σx, S_xy = Σxy, m = Σ1) and its stationary point."""

    statistics: dict[sp.Symbol, sp.Expr]  # S symbol -> the per-sample monomial it sums
    cost: sp.Expr  # J in terms of parameters and S
    gradient: list[sp.Expr]
    hessian: sp.Matrix
    solution: dict[sp.Symbol, sp.Expr]


def closed_form(derived: Derived) -> ClosedForm | None:
    """Solve ∇J = 0 symbolically for a model whose loss is quadratic in scalar parameters."""
    curvature = derived.curvature
    if curvature is None or curvature.kind != "scalar" or not curvature.quadratic:
        return None
    model = derived.model
    params = [p.symbol for p in model.params]
    data = [t.symbol for t in model.tensors.values() if t.role in ("data", "target")]
    if not derived.fully_composed_loss.is_polynomial(*data):
        return None  # a feature such as tanh(x): J is not a function of data sums
    per_sample = sp.Poly(sp.expand(derived.fully_composed_loss), *params)
    count = sp.Symbol("m", positive=True)
    statistics, cost = {}, sp.Integer(0)
    for monomial, coefficient in per_sample.terms() if data else []:
        term = sp.Mul(*[p**e for p, e in zip(params, monomial)])
        if not coefficient.is_polynomial(*data):
            return None  # a feature such as tanh(x): not a sum of data monomials
        for data_monomial, weight in sp.Poly(coefficient, *data).terms():
            sample = sp.Mul(*[d**e for d, e in zip(data, data_monomial)])
            statistic = statistic_symbol(sample, data, count)
            statistics[statistic] = sample
            cost += weight * term * statistic
    if not data:
        cost = per_sample.as_expr()  # no samples to sum over: J is the loss itself
    elif model.reduction == "mean":
        cost = cost / count
    gradient = [sp.diff(cost, p) for p in params]
    hessian = sp.hessian(cost, params)
    solutions = sp.solve(gradient, params, dict=True)
    if len(solutions) != 1 or set(solutions[0]) != set(params):
        return None  # none, several, or a family ((a + b)·x fixes only a + b; ŷ = w·x + b + c)
    solution = {p: sp.factor(v) for p, v in solutions[0].items()}
    return ClosedForm(statistics, cost, gradient, hessian, solution)



def statistic_symbol(sample: sp.Expr, data, count) -> sp.Symbol:
    """S_x for Σx, S_xx for Σx², S_xy for Σxy; m for Σ1."""
    if sample == 1:
        return count
    letters = "".join(d.name * int(sample.as_powers_dict().get(d, 0)) for d in data)
    return sp.Symbol(f"S_{{{letters}}}", real=True)


# ---- the fully substituted loss for small sizes --------------------------------------

@dataclass
class Instance:
    """The model written out element by element for concrete sizes (n = 3, H = 2, ...)."""

    loss: sp.Expr  # one sample's loss in explicit element symbols, nothing named left
    params: dict[str, sp.Array | sp.Symbol]
    features: sp.Array | sp.Symbol | None  # the first data tensor's elements
    label: sp.Array | sp.Symbol | None  # an Array for a vector target
    classes: int | None
    penalty: sp.Expr = sp.Integer(0)  # R(θ) in explicit elements, added once to J
    inputs: dict = field(default_factory=dict)  # every data tensor's elements, by name, in order


def explicit_instance(model: Model, sizes: dict[str, int], label_value: int = 0) -> Instance:
    """Substitute every intermediate, element by element, for the given dimension sizes."""
    values: dict[str, Any] = {}  # a symbol, or a sympy Array of them, per tensor

    def elements(tensor: Tensor):
        if tensor.is_scalar:
            return tensor.symbol
        shape = tuple(sizes[d] for d in tensor.shape)
        if len(shape) == 1:
            return sp.Array([sp.Symbol(f"{tensor.name}_{i}", real=True) for i in range(shape[0])])
        return sp.Array([[sp.Symbol(f"{tensor.name}_{i}_{j}", real=True) for j in range(shape[1])]
                         for i in range(shape[0])])

    for tensor in model.tensors.values():
        if tensor.role == "hyper":  # written out at its default: the checks use that value
            values[tensor.name] = sp.Rational(repr(model.hyper_defaults[tensor.name]))
        elif tensor.role != "intermediate":
            values[tensor.name] = elements(tensor)
    for step in model.steps_of_model:
        if isinstance(step, Affine):
            w, x = values[step.weight.name], values[step.input.name]
            if step.out.is_scalar:
                out = sum(w[j] * x[j] for j in range(len(x)))
                out = out + values[step.bias.name] if step.bias is not None else out
            else:
                out = sp.Array([sum(w[k, j] * x[j] for j in range(len(x)))
                                + (values[step.bias.name][k] if step.bias is not None else 0)
                                for k in range(w.shape[0])])
        else:
            out = _elementwise(model, step, values)
        values[step.out.name] = out
    if model.loss_kind == "softmax_cross_entropy":
        z = values[model.loss_input.name]
        loss = sp.log(sum(sp.exp(zc) for zc in z)) - z[label_value]
        classes = len(z)
    else:
        loss = written_out_reductions(model, model.loss_expr, values)
        loss = loss.xreplace({model.tensor(s).symbol: values[s.name]
                              for s in loss.free_symbols if s.name in model.tensors})
        classes = None
    params = {p.name: values[p.name] for p in model.params}
    features = values[model.features.name] if model.features else None
    label = values[model.label.name] if model.label else None
    inputs = {t.name: values[t.name] for t in model.inputs}
    return Instance(loss, params, features, label, classes,
                    expand_totals(model, model.penalty_expr, values), inputs)


def expand_totals(model: Model, expr: sp.Expr, values) -> sp.Expr:
    """expr with every total(u) written out as the sum of u over the elements it runs over."""

    def written_out(reduction):
        (tensor,) = {model.tensor(s) for s in reduction.args[0].free_symbols}
        elements = sp.flatten(values[tensor.name].tolist())
        return sp.Add(*[reduction.args[0].xreplace({tensor.symbol: e}) for e in elements])

    expr = expr.replace(lambda e: isinstance(e, total), written_out)
    return expr.xreplace({model.tensor(s).symbol: values[s.name] for s in expr.free_symbols
                          if s.name in model.tensors})


def written_out_reductions(model: Model, expr: sp.Expr, values, fixed=None) -> sp.Expr:
    """expr with every per-sample reduction over a dimension written out element by element:
    total(u, k) as u_0 + u_1 + …, its log-sum-exp as log(e^{a_0} + e^{a_1} + …).

    The sums are written from the outside in, each fixing the index it runs over (`fixed`,
    dimension → element), so a matrix element C_kj inside Σ_j is C[k, j] once an enclosing
    sum or the element of the vector being computed has fixed k. A tensor whose every index
    is fixed (a number: all of them) is replaced by its value; the others are left for the
    caller (an element of a vector the caller picks itself).
    """
    fixed = dict(fixed or {})
    held = {r: sp.Dummy() for r in outermost_reductions(expr) if r.dim is not None}
    flat = expr.xreplace(held)
    elements = {}
    for symbol in flat.free_symbols:
        tensor = model.tensors.get(symbol.name)
        if tensor is not None and tensor.name in values and all(d in fixed for d in tensor.shape):
            value = values[tensor.name]
            elements[symbol] = value[tuple(fixed[d] for d in tensor.shape)] if tensor.shape else value
    flat = flat.xreplace(elements)
    for reduction, placeholder in held.items():
        terms = [written_out_reductions(model, reduction.args[0], values, {**fixed, reduction.dim: k})
                 for k in range(dimension_size(model, reduction, values))]
        written = (sp.Add(*terms) if isinstance(reduction, total)
                   else sp.log(sp.Add(*[sp.exp(term) for term in terms])))
        flat = flat.xreplace({placeholder: written})
    return flat


def dimension_size(model: Model, reduction, values) -> int:
    """How many elements the reduction's dimension has, read off a tensor it sums over."""
    for symbol in reduction.args[0].free_symbols:
        tensor = model.tensors.get(symbol.name)
        if tensor is not None and reduction.dim in tensor.shape and tensor.name in values:
            return sp.Array(values[tensor.name]).shape[tensor.shape.index(reduction.dim)]
    raise DerivationError(f"{model.name}: no value gives the size of {reduction.dim}")


def _elementwise(model, step: Let, values):
    if step.out.is_scalar:
        return written_out_reductions(model, step.expr, values)
    dim = step.out.shape[0]
    size = next(sp.Array(values[t.name]).shape[t.shape.index(dim)] for t in model.tensors.values()
                if dim in t.shape and t.name in values)
    return sp.Array([written_out_reductions(model, step.expr, values, {dim: k}) for k in range(size)])
