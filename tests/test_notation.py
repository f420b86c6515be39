"""The printed equations, checked from their SymPy objects (symdl.notation): every displayed
equation of every derivation and every example model has the same free indices on both sides,
no sum over a free index, and no vector mixed with an element.

The kernels never read the printed lines, so a slip there (a sum over the free index c in
∂ℓ/∂W⁽²⁾_ck, which `symdl report` once printed for mnist_mlp) passes every numeric check;
only this test sees it. The unit cases below rebuild that slip and show the check fails on it.
"""

from pathlib import Path

import pytest
import sympy as sp

from symdl import notation
from symdl.functions import relu
from symdl.model import Model
from symdl.render import IndexSum, Line, Partial, TextPrinter, derivation_lines, unicode_names
from symdl.sources import builtin_names, load_derivation

EXAMPLES = sorted((Path(__file__).parent.parent / "examples" / "models").glob("*.py"))


@pytest.mark.parametrize("name", builtin_names())
def test_every_printed_equation_of_a_derivation_keeps_its_indices(name):
    assert notation.problems(load_derivation(name)) == []


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_printed_equation_of_an_example_model_keeps_its_indices(path):
    assert notation.problems(load_derivation(path)) == []


def two_layer_softmax() -> Model:
    """mnist_mlp's shape, small: x → ReLU(W1 x + b1) → W2 h + b2 → softmax cross-entropy."""
    model = Model("tiny_softmax", title="t", source="s", dims={"n": "j", "H": "k", "C": "c"})
    x = model.data("x", ("n",))
    label = model.target("label", kind="class", classes=3)
    W1, b1 = model.param("W1", ("H", "n")), model.param("b1", ("H",))
    W2, b2 = model.param("W2", ("C", "H")), model.param("b2", ("C",))
    h = model.let("h", relu(model.affine("z1", W1, x, b1)))
    z2 = model.affine("z2", W2, h, b2)
    model.softmax_cross_entropy(z2, label)
    return model


def test_the_sum_over_a_free_index_that_mnist_mlp_once_printed_is_caught():
    """∂ℓ/∂W⁽²⁾_ck = Σ_c (softmax_c − [c = y])·h_k and ∂ℓ/∂b⁽²⁾_c = Σ_c (…), built as the
    old render built them (the loss factor marked as summed over c), fail the check."""
    model = two_layer_softmax()
    table = notation.letter_table(model)
    W2, b2, h, z2 = (model.tensor(n) for n in ("W2", "b2", "h", "z2"))
    error = sp.Symbol("e_c", real=True)  # stands for softmax(z)_c − [c = y]: carries c
    table[error] = frozenset("c")
    old_w2 = Line("", Partial("ℓ", "W2", "", "", {"c", "k"}), [IndexSum("c", error * h.symbol)])
    old_b2 = Line("", Partial("ℓ", "b2", "", "", {"c"}), [IndexSum("c", error)])
    for line in (old_w2, old_b2):
        (problem,) = notation.line_problems(line, table, indexed=True)
        assert "a sum over c, an index free on the left side" in problem
    right = Line("", Partial("ℓ", "W2", "", "", {"c", "k"}), [error * h.symbol])
    assert notation.line_problems(right, table, indexed=True) == []
    assert notation.problems(model) == []  # the lines render builds now


def test_a_side_with_other_free_indices_is_caught():
    model = two_layer_softmax()
    table = notation.letter_table(model)
    x, h = model.tensor("x").symbol, model.tensor("h").symbol
    (problem,) = notation.line_problems(Line("", h, [x]), table, indexed=True)
    assert "{k} on the left, {j} on the right" in problem
    (problem,) = notation.line_problems(Line("", h, [IndexSum("j", h)]), table, indexed=True)
    assert "does not carry" in problem
    (problem,) = notation.line_problems(Line("", h, [h + x]), table, indexed=True)
    assert "different free indices" in problem


def test_a_vector_mixed_with_an_element_is_caught():
    """(y − Xθ_j)ᵀ(y − Xθ_j): the element θ_j where the vector θ is meant."""
    model = Model("tiny", title="t", source="s", dims={"n": "j"})
    theta = model.param("theta", ("n",))
    X, y = sp.MatrixSymbol("X", 4, 1), sp.MatrixSymbol("y", 4, 1)
    mixed = (y - X * theta).T * (y - X * theta)
    table = notation.letter_table(model)
    assert notation.line_problems(Line("", sp.Symbol("J"), [mixed]), table, indexed=False)
    vector = sp.MatrixSymbol("theta", 1, 1)
    assert not notation.line_problems(Line("", sp.Symbol("J"), [(y - X * vector).T * (y - X * vector)]),
                                      table, indexed=False)


def test_a_matrix_symbol_prints_as_the_vector_not_the_element():
    """The terminal once printed the MatrixSymbol θ as θⱼ, since a tensor θ prints so."""
    model = Model("tiny", title="t", source="s", dims={"n": "j"})
    model.param("theta", ("n",))
    theta = sp.MatrixSymbol("theta", 3, 1)
    shown = TextPrinter().expr(theta.T * theta, unicode_names(model))
    assert "θ" in shown and "ⱼ" not in shown


def test_relu_derivative_prints_as_an_indicator_not_theta():
    model = load_derivation("mnist_mlp")
    text = TextPrinter().print(model)
    assert "θ(" not in text and "1[z⁽¹⁾ₖ > 0]" in text
    from symdl.render import LatexPrinter
    assert r"\mathbf{1}[" in LatexPrinter().print(model, standalone=False)


def test_an_interval_is_printed_with_in_not_equals():
    from symdl.render import LatexPrinter
    tex = LatexPrinter().print(load_derivation("affine_mse"), standalone=False)
    assert r"\alpha &\in \left(0, \frac{16}{19}\right)" in tex
    text = TextPrinter().print(load_derivation("affine_mse"))
    assert "      ∈ ⎜0, ──⎟" in text


def test_the_quantities_are_vectors_not_elements():
    lines = derivation_lines(load_derivation("mnist_mlp"))
    assert "x ∈ ℝ^n" in lines[0].text and r"$x \in \mathbb{R}^{n}$" in lines[0].tex


def test_every_follows_names_a_claim_of_the_built_in_derivations():
    """Claim.follows is matched by statement: a statement edited on one side only would let
    the finding stand beside its cause again without a word."""
    statements = {c.statement for n in builtin_names() for c in load_derivation(n).claims}
    for name in builtin_names():
        for claim in load_derivation(name).claims:
            assert not claim.follows or claim.follows in statements, (name, claim.statement)


@pytest.mark.parametrize("ref", builtin_names() + EXAMPLES, ids=lambda r: getattr(r, "stem", r))
def test_terminal_lines_wrap_instead_of_running_off_the_screen(ref):
    """Equation lines of 300–417 characters never wrap in a terminal: a long sum breaks
    before a + or −, a long product before a ⋅, a wide matrix entry by entry; sentences are
    filled to 100 columns. (The source line and the claims' list items are left whole.)"""
    rows = [row for row in TextPrinter().print(load_derivation(ref)).splitlines()
            if not row.startswith(("  - ", "Source:"))]
    assert max(map(len, rows)) <= 100, max(rows, key=len)
