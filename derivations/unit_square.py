"""Translating, scaling and rotating the unit square: the matrix pictures of 000 and 002.

Source: 000_b9e7c87dcfbd1c26.txt and 002_4c33554d2058975c.txt, the slides "Matrix
Translation", "Matrix Transformation: Scale", "Matrix Transformation: Rotation" and "Matris
Transformation: Affine" (sic). The columns of X₂ₓ₆ are the corners of a square, visited in
order; each slide transforms X and plots the result.

SymPy computes each transformed square from the matrices as printed (with 0.175, 0.2 and 0.5
as exact fractions) and the claims measure what the transformations do: every point moved by
the same vector, every side halved, and which way and how far the rotation turns.
"""

import math

import sympy as sp

from symdl.model import Derivation

TRANSLATION = ("000_b9e7c87dcfbd1c26.txt and 002_4c33554d2058975c.txt, Matrix Translation")
SCALE = "000_b9e7c87dcfbd1c26.txt and 002_4c33554d2058975c.txt, Matrix Transformation: Scale"
ROTATION = ("000_b9e7c87dcfbd1c26.txt and 002_4c33554d2058975c.txt, "
            "Matrix Transformation: Rotation")
AFFINE = "000_b9e7c87dcfbd1c26.txt and 002_4c33554d2058975c.txt, Matris Transformation: Affine"

derivation = Derivation(
    "unit_square",
    title="Translating, scaling and rotating the unit square",
    source=f"{TRANSLATION}; {SCALE}; {ROTATION}; {AFFINE}",
    summary="$X + 0.2$, $diag(0.5, 0.5)·X$, $R(0.175)·X$ and $R(0.175)·X + 0.2$ for the square $X$ ($2 × 6$).",
)

SQUARE = sp.Matrix([[0, 0, 1, 1, 0, 0],
                    [0, 1, 1, 0, 0, 1]])
"""X₂ₓ₆ as printed: its columns are the corners (0,0), (0,1), (1,1), (1,0), (0,0), (0,1)."""

SHIFT = sp.Rational(2, 10)
HALF = sp.Rational(5, 10)
ANGLE = sp.Rational(175, 1000)
"""The printed constants 0.2, 0.5 and 0.175 (radians, the argument of cos and sin)."""

PRINTED_PRECISION = math.degrees(0.0005) / 10
"""0.175 is printed to three decimals, ±0.0005 rad = ±0.029°: relative to 10°, 0.29%."""

theta = sp.Symbol("theta", real=True)
ROTATION_MATRIX = sp.Matrix([[sp.cos(theta), -sp.sin(theta)],
                             [sp.sin(theta), sp.cos(theta)]])
"""The rotation matrix as printed, with θ standing for its argument 0.175."""

ONES = sp.ones(*SQUARE.shape)


def translated():
    return SQUARE + SHIFT * ONES


def scaled():
    return sp.diag(HALF, HALF) * SQUARE


def rotation():
    return ROTATION_MATRIX.subs(theta, ANGLE)


def rotated():
    return rotation() * SQUARE


def affine():
    return rotated() + SHIFT * ONES


def decimals(matrix, digits=4):
    """The matrix for display: each entry to `digits` significant figures, integers as such."""
    def entry(value):
        value = float(value)
        if value == int(value):
            return sp.Integer(int(value))
        return sp.Float(f"{value:.{digits}g}", "")
    return matrix.applyfunc(entry)


# ---- measurements ------------------------------------------------------------------------

def displacements(before, after):
    """The vector each point moves by: one column per corner."""
    return after - before


def side_lengths(corners):
    """Lengths of the segments joining consecutive columns (the square's drawn edges)."""
    return [sp.sqrt(sum((corners[r, k + 1] - corners[r, k]) ** 2 for r in range(2)))
            for k in range(corners.shape[1] - 1)]


def turning_angle_degrees():
    """The signed angle from (1, 0) to its image under the printed matrix, counterclockwise > 0.

    A 2 × 2 matrix with orthonormal columns and determinant +1 is a rotation, and the angle it
    turns every vector by is the angle of the image of (1, 0).
    """
    image = rotation() * sp.Matrix([1, 0])
    return math.degrees(math.atan2(float(image[1]), float(image[0])))


def is_rotation(matrix):
    """Orthonormal columns and determinant +1: a rotation (not a reflection)."""
    orthonormal = sp.simplify(matrix.T * matrix - sp.eye(2)).is_zero_matrix
    return bool(orthonormal and sp.simplify(matrix.det() - 1) == 0)


# ---- the printed steps -----------------------------------------------------------------------

X = sp.MatrixSymbol("X", *SQUARE.shape)
derivation.show("The square, its corners as columns:", X, [SQUARE], source=TRANSLATION)
derivation.show("Translation: 0.2 added to every element moves every corner by (0.2, 0.2):",
                sp.MatAdd(X, sp.MatrixSymbol("0.2", *SQUARE.shape), evaluate=False),
                [decimals(translated())],
                source=TRANSLATION)
derivation.show("Scale: the dot product of $S = diag(0.5, 0.5)$ and $X$:",
                sp.MatrixSymbol("S", 2, 2), [decimals(sp.diag(HALF, HALF))], source=SCALE)
derivation.show("", sp.MatrixSymbol("S", 2, 2) * X, [decimals(scaled())])
derivation.show("Rotation: the printed matrix, with $θ = 0.175$:",
                sp.MatrixSymbol("R", 2, 2), [ROTATION_MATRIX, decimals(rotation())],
                source=ROTATION)
derivation.show(
    f"Its determinant is ${sp.simplify(ROTATION_MATRIX.det())}$ and it sends $(1, 0)$ to "
    f"$(cos θ, sin θ)$, above the $x$ axis: it turns counterclockwise, by $θ = 0.175$ rad $= "
    f"{turning_angle_degrees():.2f}°$. The rotated square:",
    sp.MatrixSymbol("R", 2, 2) * X, [decimals(rotated())], source=ROTATION)
derivation.show("Affine: the rotation followed by the translation of 0.2:",
                sp.MatrixSymbol("R", 2, 2) * X + sp.MatrixSymbol("0.2", *SQUARE.shape),
                [decimals(affine())], source=AFFINE)


# ---- the slides' claims ----------------------------------------------------------------------

derivation.claim(
    "adding 0.2 to each element of $X$ translates the square (every point moves by (0.2, 0.2))",
    "We can translate the square by 0.2 units by adding 0.2 to each element of $X₂ₓ₆$.",
    lambda: all(displacements(SQUARE, translated())[:, k] == sp.Matrix([SHIFT, SHIFT])
                for k in range(SQUARE.shape[1])),
    source=TRANSLATION, compare="text")
derivation.claim(
    "the dot product with diag(0.5, 0.5) scales $X$ by 50% (every side halved)",
    "$X₂ₓ₆$ can be scaled by 50% taking the dot product of $[[0.5, 0], [0, 0.5]]$ and $X₂ₓ₆$.",
    lambda: all(sp.simplify(after - HALF * before) == 0
                for before, after in zip(side_lengths(SQUARE), side_lengths(scaled()))),
    source=SCALE, compare="text")
derivation.claim(
    "the printed matrix is a rotation (orthonormal columns, determinant 1)",
    "$X₂ₓ₆$ can be rotated ... by taking the dot product of "
    "$[[cos(0.175), −sin(0.175)], [sin(0.175), cos(0.175)]]$ and $X₂ₓ₆$.",
    lambda: is_rotation(rotation()),
    source=ROTATION, compare="text")
derivation.claim(
    "the size of the turn: 10 degrees (0.175 rad, to the printed three decimals)",
    10,
    lambda: abs(turning_angle_degrees()),
    source=ROTATION, compare="numeric",
    tolerance=PRINTED_PRECISION)
derivation.claim(
    "the direction of the turn: rotated by negative 10 degrees (clockwise)",
    -10,
    turning_angle_degrees,
    source=ROTATION, compare="numeric",
    tolerance=PRINTED_PRECISION,
    severity="error",
    between=("000_b9e7c87dcfbd1c26.txt and 002_4c33554d2058975c.txt print this slide "
             "unchanged: the 2025 edition corrects the loss 0.0825 but keeps the direction, so "
             "both editions teach it."),
    correction=(
        "The printed matrix $[[cos 0.175, −sin 0.175], [sin 0.175, cos 0.175]]$ sends $(1, 0)$ to "
        "$(cos 0.175, sin 0.175)$, above the $x$ axis, and has determinant $1$: it rotates the square "
        "counterclockwise (positive orientation) by $+0.175$ rad $= +10.03°$. A rotation by $−10°$ "
        "needs the sine entries' signs swapped: $[[cos 0.175, sin 0.175], [−sin 0.175, "
        "cos 0.175]]$. The same holds for the affine slide's \"rotation transformation of $−10$ "
        "degrees\"."))
