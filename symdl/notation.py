"""Checks the printed equations of a derivation from their SymPy objects, not their text.

A printed equation can be wrong while every kernel is right: `symdl report` once printed
∂ℓ/∂b⁽²⁾_c = Σ_c (softmax(z)_c − [c = y]), a sum over the index c that is free on the left,
which as printed adds up every class instead of giving the one c names. The kernels never
read the printed lines, so only a check of the lines themselves catches such a slip.

`problems(derivation)` reads every line render.derivation_lines builds and returns what is
wrong with it, in words:

* **free indices** (Einstein's bookkeeping, as every document writes its sums): each side of
  `lhs = rhs` carries the same free index letters. A tensor's element carries the letters of
  its dimensions (W⁽²⁾_ck: c and k), a chain-rule factor ∂z_c/∂h_k those of both tensors, a
  sum Σ_c binds c;
* **no sum over a free index**: Σ_c inside an equation whose left side has c free, and no sum
  over an index its body does not carry (Σ_c h_k is C·h_k, never what is meant);
* **terms of a sum agree**: a_k + b_j adds elements of different shapes; a term without any
  index (a scalar, broadcast) may stand beside any;
* **vector or element, not both**: an expression of matrices and vectors (SymPy
  MatrixSymbols: Xθ, yᵀ) holds no tensor element (θ_j), which would mix the vector θ with one
  of its numbers.

Derivation steps that are not a Model's (a worked example's numbers, a matrix derivation)
are checked for the last rule only: their symbols are not tensors with declared indices.
"""

from __future__ import annotations

import sympy as sp

from symdl.derive import LSE, ONEHOT, adjoint_symbol
from symdl.model import Derivation, Model
from symdl.render import BoundElement, IndexSum, Line, Partial, SoftmaxElement, derivation_lines


LETTERS = "index letters"
"""The key of a letter table under which the model's index letters are kept: z_y names the
element of the sample's label y, a number, not an index."""


class IndexSlip(Exception):
    """One printed expression breaks an index rule (raised inside `free_indices`)."""


def letter_table(model: Model) -> dict:
    """Symbol → the index letters its element carries, for every tensor and its adjoint."""
    table: dict = {LETTERS: frozenset(model.index_of_dim.values())}
    for tensor in model.tensors.values():
        letters = frozenset(model.index(d) for d in tensor.shape)
        table[tensor.symbol] = letters
        table[adjoint_symbol(tensor)] = letters
    if model.loss_kind == "softmax_cross_entropy":
        table[ONEHOT] = frozenset(model.index(d) for d in model.loss_input.shape)  # [c = y]
        table[LSE] = frozenset()  # log Σ_c e^{z_c}: c is bound
    return table


def free_indices(expr, table: dict, outer: frozenset = frozenset()) -> frozenset:
    """The index letters free in `expr`; raises IndexSlip on a rule broken inside it.

    `outer` holds the letters free on the left side of the equation: a sum inside the right
    side may not bind one of them."""
    if isinstance(expr, (BoundElement, SoftmaxElement)):
        return frozenset(expr.texts[1]) & table.get(LETTERS, frozenset())
    if isinstance(expr, Partial):
        return expr.indices
    if isinstance(expr, sp.Symbol):
        return table.get(expr, frozenset())
    if isinstance(expr, IndexSum):
        letters = frozenset(str(expr.args[0]).split(","))
        clash = letters & outer
        if clash:
            raise IndexSlip(f"a sum over {', '.join(sorted(clash))}, an index free on the "
                              f"left side")
        body = free_indices(expr.args[1], table, outer)
        missing = letters - body
        if missing:
            raise IndexSlip(f"a sum over {', '.join(sorted(missing))}, which its body "
                              f"{sp.sstr(expr.args[1])} does not carry")
        return body - letters
    if isinstance(expr, sp.MatrixBase):
        found = [free_indices(e, table, outer) for e in expr]
        return frozenset().union(*found) if found else frozenset()
    if not isinstance(expr, sp.Basic):
        return frozenset()
    found = [free_indices(a, table, outer) for a in expr.args]
    if isinstance(expr, sp.Add):
        shapes = {f for f in found if f}
        if len(shapes) > 1:
            raise IndexSlip("a sum of terms with different free indices: "
                              + " + ".join("{" + ", ".join(sorted(f)) + "}" for f in shapes))
    return frozenset().union(*found) if found else frozenset()


def mixes_vectors_and_elements(expr, table: dict) -> bool:
    """True when a matrix expression (MatrixSymbols, their products and transposes) also holds
    a tensor's element symbol: θ_j inside (y − Xθ)ᵀ(y − Xθ)."""
    if not isinstance(expr, sp.Basic) or isinstance(expr, sp.MatrixBase):
        return False
    if not expr.has(sp.MatrixSymbol):
        return False
    return any(s in table for s in expr.free_symbols if isinstance(s, sp.Symbol)
               and not isinstance(s, sp.MatrixSymbol))


def line_problems(line: Line, table: dict, indexed: bool) -> list[str]:
    """What is wrong with one printed line (an empty list when it is right)."""
    if line.lhs is None:
        return []
    out = []
    sides = [line.lhs] + list(line.rhs or [])
    for side in sides:
        if mixes_vectors_and_elements(side, table):
            out.append(f"{sp.sstr(side)} mixes vectors (matrix symbols) with tensor elements")
    if not indexed:
        return out
    try:
        left = free_indices(line.lhs, table)
    except IndexSlip as error:
        return out + [f"left side {sp.sstr(line.lhs)}: {error}"]
    for side in line.rhs or []:
        if isinstance(side, (str, sp.Set)):
            continue
        try:
            right = free_indices(side, table, outer=left)
        except IndexSlip as error:
            out.append(f"{sp.sstr(line.lhs)} = {sp.sstr(side)}: {error}")
            continue
        if right != left:
            out.append(f"{sp.sstr(line.lhs)} = {sp.sstr(side)}: free indices "
                       f"{{{', '.join(sorted(left))}}} on the left, "
                       f"{{{', '.join(sorted(right))}}} on the right")
    return out


def problems(derivation: Derivation) -> list[str]:
    """Every index or shape slip in the equations `derivation` prints (none when all are right).

    A Model's own lines (its tensors, chain rules, adjoints) are checked for all rules; the
    steps a derivation file shows are checked for vector/element confusion, with the Model's
    tensors (when it is one) as the elements."""
    model_table = letter_table(derivation) if isinstance(derivation, Model) else {}
    lines = derivation_lines(derivation)
    steps = len(derivation.steps)
    found = []
    for number, line in enumerate(lines):
        own = isinstance(derivation, Model) and number < len(lines) - steps
        for problem in line_problems(line, model_table, indexed=own):
            found.append(f"{derivation.name}: {problem}")
    return found
