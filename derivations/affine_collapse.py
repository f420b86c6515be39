"""Two affine layers with no activation between them collapse into one.

Source: 000_b9e7c87dcfbd1c26.txt, "What Is ϱ(h) and Why Do We Need It?": "A two-layer Neural
Network without a non-linear transformation between layers is a single-layer neural network
in disguise!", shown with the shapes written on every matrix:

    Y₁ₓN = W⁽²⁾₁ₓ₄·h⁽¹⁾₄ₓN + B⁽²⁾₁ₓ₁
         = W⁽²⁾₁ₓ₄·(W⁽¹⁾₄ₓ₃·X₃ₓN + B⁽¹⁾₁ₓ₄) + B⁽²⁾₁ₓ₁
         = (W⁽²⁾₁ₓ₄·W⁽¹⁾₄ₓ₃)·X₃ₓN + (W⁽²⁾₁ₓ₄B⁽¹⁾₁ₓ₄ + B⁽²⁾₁ₓ₁).

002_4c33554d2058975c.txt makes the same statement under the same heading ("Without an
activation function between layers, a deep neural network is actually a single-layer neural
network in disguise"), without the equation.

SymPy's MatrixSymbols carry the shapes. As printed, B⁽¹⁾ is 1 × 4: then W⁽¹⁾X + B⁽¹⁾ (4 × N
plus 1 × 4) and W⁽²⁾B⁽¹⁾ (1 × 4 times 1 × 4) are undefined, and SymPy refuses both. With
B⁽¹⁾ 4 × 1, one bias per hidden neuron added to every column (B⁽¹⁾·1ᵀ, 1 the vector of N
ones), and B⁽²⁾ added the same way, the identity holds and SymPy proves it by expansion.
"""

import numpy as np
import sympy as sp
from sympy.matrices import ShapeError

from symdl.model import Derivation

SOURCE_000 = "000_b9e7c87dcfbd1c26.txt, What Is $ϱ(h)$ and Why Do We Need It?"
SOURCE_002 = "002_4c33554d2058975c.txt, What Is $ϱ(h)$ and Why Do We Need It?"

derivation = Derivation(
    "affine_collapse",
    title="Two affine layers without an activation are one affine layer",
    source=f"{SOURCE_000}; {SOURCE_002}",
    summary="$W⁽²⁾(W⁽¹⁾X + B⁽¹⁾1ᵀ) + B⁽²⁾1ᵀ = (W⁽²⁾W⁽¹⁾)X + (W⁽²⁾B⁽¹⁾ + B⁽²⁾)1ᵀ$.",
)

FEATURES, HIDDEN, OUTPUTS = 3, 4, 1
"""X is 3 × N, the hidden layer has 4 neurons, Y is 1 × N (the subscripts 000 prints)."""

N = sp.Symbol("N", integer=True, positive=True)
X = sp.MatrixSymbol("X", FEATURES, N)
W1 = sp.MatrixSymbol("W^(1)", HIDDEN, FEATURES)
W2 = sp.MatrixSymbol("W^(2)", OUTPUTS, HIDDEN)
B2 = sp.MatrixSymbol("B^(2)", OUTPUTS, 1)
B1_AS_PRINTED = sp.MatrixSymbol("B^(1)", 1, HIDDEN)
B1 = sp.MatrixSymbol("B^(1)", HIDDEN, 1)
ONES_ROW = sp.MatrixSymbol("1^T", 1, N)
"""1ᵀ, a row of N ones: B·1ᵀ repeats the column B in each of the N columns."""


def printed_shapes_are_defined():
    """Whether SymPy can form the two products and sums 000 prints with B⁽¹⁾ of shape 1 × 4.

    B⁽²⁾₁ₓ₁ added to a 1 × N matrix is read as the document's own "matrix translation" (a
    constant added to every element) and is not what fails here.
    """
    try:
        W1 * X + B1_AS_PRINTED
        W2 * B1_AS_PRINTED
    except ShapeError:
        return False
    return True


def two_layers():
    """Y through the hidden layer h = W⁽¹⁾X + B⁽¹⁾1ᵀ, with no activation in between."""
    return W2 * (W1 * X + B1 * ONES_ROW) + B2 * ONES_ROW


def one_layer():
    """The collapsed form: weight W⁽²⁾W⁽¹⁾ and bias W⁽²⁾B⁽¹⁾ + B⁽²⁾."""
    return (W2 * W1) * X + (W2 * B1 + B2) * ONES_ROW


def collapses_symbolically():
    """The two forms expand to the same sum of products, for every N."""
    return sp.expand(two_layers() - one_layer()) == sp.ZeroMatrix(OUTPUTS, N)


def collapses_numerically(columns=7, seed=0):
    """The two forms agree for random matrices with actual ones in 1ᵀ (float64, rtol 1e-12)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((FEATURES, columns))
    w1, b1 = rng.standard_normal((HIDDEN, FEATURES)), rng.standard_normal((HIDDEN, 1))
    w2, b2 = rng.standard_normal((OUTPUTS, HIDDEN)), rng.standard_normal((OUTPUTS, 1))
    ones = np.ones((1, columns))
    through_hidden = w2 @ (w1 @ x + b1 @ ones) + b2 @ ones
    collapsed = (w2 @ w1) @ x + (w2 @ b1 + b2) @ ones
    return bool(np.allclose(through_hidden, collapsed, rtol=1e-12, atol=0.0))


def is_one_affine_layer():
    """The collapsed weight is 1 × 3 and the collapsed bias 1 × 1: Y = W·X + B, one layer."""
    return ((W2 * W1).shape == (OUTPUTS, FEATURES) and (W2 * B1 + B2).shape == (OUTPUTS, 1)
            and collapses_symbolically() and collapses_numerically())


# ---- the printed steps -----------------------------------------------------------------------

derivation.show(
    "As printed, $B⁽¹⁾$ is $1 × 4$. $W⁽¹⁾X$ is $4 × N$, so $W⁽¹⁾X + B⁽¹⁾$ has no meaning, and "
    "neither has $W⁽²⁾B⁽¹⁾$ ($1 × 4$ times $1 × 4$). With $B⁽¹⁾$ of shape "
    f"${B1.shape[0]} × {B1.shape[1]}$, one bias per hidden neuron added to every column, and "
    "$1ᵀ$ a row of $N$ ones:", source=SOURCE_000)
derivation.show(
    "", sp.MatrixSymbol("Y", OUTPUTS, N),
    [W2 * sp.MatrixSymbol("h^(1)", HIDDEN, N) + B2 * ONES_ROW, two_layers(),
     sp.expand(two_layers()), one_layer()],
    source=SOURCE_000)
derivation.show(
    f"The collapsed weight is ${(W2 * W1).shape[0]} × {(W2 * W1).shape[1]}$ and the collapsed "
    f"bias ${(W2 * B1 + B2).shape[0]} × {(W2 * B1 + B2).shape[1]}$: one affine layer "
    "$Y = W·X + B·1ᵀ$ with",
    sp.MatrixSymbol("W", OUTPUTS, FEATURES), [W2 * W1])
derivation.show("", sp.MatrixSymbol("B", OUTPUTS, 1), [W2 * B1 + B2])


# ---- the document's claims -------------------------------------------------------------------

derivation.claim(
    "the shapes as printed: $B⁽¹⁾$ is $1 × 4$, added to $W⁽¹⁾X$ ($4 × N$) and multiplied as $W⁽²⁾B⁽¹⁾$",
    "$W⁽²⁾₁ₓ₄·(W⁽¹⁾₄ₓ₃·X₃ₓN + B⁽¹⁾₁ₓ₄) + B⁽²⁾₁ₓ₁ = (W⁽²⁾₁ₓ₄·W⁽¹⁾₄ₓ₃)·X₃ₓN + "
    "(W⁽²⁾₁ₓ₄B⁽¹⁾₁ₓ₄ + B⁽²⁾₁ₓ₁)$",
    printed_shapes_are_defined,
    source=SOURCE_000, compare="text",
    severity="typo",  # the subscript 1 × 4 for 4 × 1: the collapse it illustrates holds
    correction=("$B⁽¹⁾$ is $4 × 1$, one bias per hidden neuron, added to every column of $W⁽¹⁾X$ "
                "($B⁽¹⁾·1ᵀ$ with $1ᵀ$ a row of $N$ ones); $B⁽²⁾$ ($1 × 1$) is added to every column the "
                "same way. Then $W⁽²⁾B⁽¹⁾$ is $1 × 1$ and $Y = W⁽²⁾(W⁽¹⁾X + B⁽¹⁾1ᵀ) + B⁽²⁾1ᵀ = "
                "(W⁽²⁾W⁽¹⁾)X + (W⁽²⁾B⁽¹⁾ + B⁽²⁾)1ᵀ$, with $W⁽²⁾W⁽¹⁾$ of shape $1 × 3$."))
derivation.claim(
    "a two-layer network without a non-linear $ϱ$ between the layers is a single-layer network "
    "in disguise",
    "A two-layer Neural Network without a non-linear transformation between layers is a "
    "single-layer neural network in disguise!",
    is_one_affine_layer,
    source=f"{SOURCE_000}; {SOURCE_002}", compare="text")
