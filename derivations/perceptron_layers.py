"""004's perceptron, its MLP layer written out and as matrices, and the deep recurrence.

Source: 004_36f6966e031dacf2.txt (the workshop slides "Mathematics in Deep Learning"),
"Simple perceptron networks" (a = w₁·x₁ + w₂·x₂ + b, f a non-linear activation, "limited
to linear decision boundaries"), "Non-linear activation functions" (the remark "Deep
learning doesn't work without non-linear activation functions"), "MLP networks" (the
hidden layer written out as h₁ = w₁,₁·x₁ + w₁,₂·x₂ + b₁, …, then as matrices, then
"with an activation function" h = f(W·x + b), and the deep recurrence hᵢ = f(Wᵢ·hᵢ₋₁ + bᵢ);
"The combination of hidden layers and non-linear activation functions gives us a non-linear
decision boundary") and "Training" (∇J the column of ∂J/∂θᵢ; "the gradient tells us the
steepest way down").

Nothing here is trained: every verdict is SymPy algebra on the slides' own symbols, or on
the four points of XOR, the smallest data no line separates.
"""

import sympy as sp

from symdl.model import Derivation

PERCEPTRON = "004_36f6966e031dacf2.txt, Simple perceptron networks"
ACTIVATIONS = "004_36f6966e031dacf2.txt, Non-linear activation functions"
MLP = "004_36f6966e031dacf2.txt, MLP networks"
TRAINING = "004_36f6966e031dacf2.txt, Training"

derivation = Derivation(
    "perceptron_layers",
    title="The perceptron, the MLP layer and the deep recurrence",
    source=f"{PERCEPTRON}; {MLP}",
    summary=("$a = w₁x₁ + w₂x₂ + b$, output $f(a)$; the hidden layer $h = f(W·x + b)$; "
             "$hᵢ = f(Wᵢ·hᵢ₋₁ + bᵢ)$ with $h₀ = x$."),
)

x1, x2, w1, w2, b = sp.symbols("x_1 x_2 w_1 w_2 b", real=True)
HIDDEN, INPUTS = 3, 2
W = sp.Matrix(HIDDEN, INPUTS, lambda i, j: sp.Symbol(f"w_{{{i + 1},{j + 1}}}", real=True))
BIAS = sp.Matrix(HIDDEN, 1, lambda i, _: sp.Symbol(f"b_{i + 1}", real=True))
X = sp.Matrix([x1, x2])
f = sp.Function("f")
sigma = sp.Function("sigma")


def logistic(t):
    return 1 / (1 + sp.exp(-t))


def written_out():
    """The slide's three equations h_i = w_{i,1}·x_1 + w_{i,2}·x_2 + b_i, as a column."""
    return sp.Matrix([sum(W[i, j] * X[j] for j in range(INPUTS)) + BIAS[i] for i in range(HIDDEN)])


def perceptron_boundary_is_a_line():
    """σ(a) ≥ 1/2 exactly when a ≥ 0 (SymPy's solveset), so the perceptron decides by the side
    of the line w₁x₁ + w₂x₂ + b = 0; the same holds for any increasing f and threshold."""
    t = sp.Symbol("t", real=True)
    return sp.solveset(logistic(t) >= sp.Rational(1, 2), t, sp.S.Reals) == sp.Interval(0, sp.oo)


XOR = [((0, 0), 0), ((1, 0), 1), ((0, 1), 1), ((1, 1), 0)]
"""The four points of XOR with their classes: no line separates them."""


def no_line_separates_xor():
    """A line would need a < 0 at (0,0) and (1,1) and a > 0 at (1,0) and (0,1). The two
    positive values and the two negative ones have the same sum, w₁ + w₂ + 2b (SymPy checks
    the identity), which cannot be both > 0 and < 0: no perceptron classifies XOR."""
    def a(point):
        return w1 * point[0] + w2 * point[1] + b
    positive = sum(a(p) for p, c in XOR if c == 1)
    negative = sum(a(p) for p, c in XOR if c == 0)
    return sp.simplify(positive - negative) == 0


HIDDEN_XOR = sp.Matrix([[20, 20], [20, 20]]), sp.Matrix([-10, -30])
OUTPUT_XOR = sp.Matrix([[20, -20]]), sp.Matrix([-10])
"""A 2-2-1 sigmoid network by hand: h₁ ≈ x₁ OR x₂, h₂ ≈ x₁ AND x₂, output ≈ h₁ AND NOT h₂."""


def hidden_layer_separates_xor():
    """The network above, evaluated exactly: its output is above 1/2 on the two points of
    class 1 and below on the two of class 0, which no perceptron achieves."""
    def output(point):
        h = (HIDDEN_XOR[0] * sp.Matrix(point) + HIDDEN_XOR[1]).applyfunc(logistic)
        return (OUTPUT_XOR[0] * h + OUTPUT_XOR[1]).applyfunc(logistic)[0]
    return all((output(p) > sp.Rational(1, 2)) == bool(c) for p, c in XOR)


def linear_layers_collapse():
    """Two layers with f the identity: W₂(W₁x + b₁) + b₂ equals the one layer
    (W₂W₁)x + (W₂b₁ + b₂), element by element (expanded by SymPy)."""
    W2 = sp.Matrix(1, HIDDEN, lambda _, k: sp.Symbol(f"v_{k + 1}", real=True))
    b2 = sp.Symbol("c", real=True)
    deep = W2 * (W * X + BIAS) + sp.Matrix([b2])
    single = (W2 * W) * X + (W2 * BIAS + sp.Matrix([b2]))
    return sp.expand(deep - single) == sp.zeros(1, 1)


def recurrence_unrolled(layers=2):
    """hᵢ = f(Wᵢ·hᵢ₋₁ + bᵢ) from h₀ = x, written out for `layers` layers with symbols."""
    h = sp.Symbol("x")
    for i in range(1, layers + 1):
        h = f(sp.Add(sp.Symbol(f"W_{i}") * h, sp.Symbol(f"b_{i}"), evaluate=False))
    return h


def steepest_descent_is_minus_gradient():
    """For J = θ₁² + 3θ₂² at (1, 1), the slope along a unit direction u = (cos t, sin t) is
    ∇J·u; SymPy's minimum of it over t ∈ [0, 2π] is −|∇J|, reached at u = −∇J/|∇J|: the
    steepest way down is against the gradient, and ∇J·u is largest (+|∇J|) along it."""
    t1, t2, t = sp.symbols("theta_1 theta_2 t", real=True)
    J = t1**2 + 3 * t2**2
    gradient = sp.Matrix([sp.diff(J, v) for v in (t1, t2)]).subs({t1: 1, t2: 1})
    slope = (gradient.T * sp.Matrix([sp.cos(t), sp.sin(t)]))[0]
    least = sp.minimum(slope, t, sp.Interval(0, 2 * sp.pi))
    against = (gradient.T * (-gradient / gradient.norm()))[0]
    return sp.simplify(least - against) == 0 and sp.simplify(least + gradient.norm()) == 0


derivation.show("The perceptron's activation (004 writes $w₁·x₁ + w₂·x₂ + b$):",
                sp.Symbol("a"), [sp.Add(w1 * x1, w2 * x2, b, evaluate=False)], source=PERCEPTRON)
derivation.show("The hidden layer written out, three units and two inputs (004 names them $h₁, "
                "h₂, h₃$; before the activation they are the pre-activations $z$):",
                sp.Matrix([sp.Symbol(f"z_{i + 1}") for i in range(HIDDEN)]), [written_out()],
                source=MLP)
derivation.show("and with the activation $f$ applied to each unit, the output of the hidden layer:",
                sp.Symbol("h"), [f(sp.Add(sp.Symbol("W") * sp.Symbol("x"), sp.Symbol("b"),
                                          evaluate=False))], source=MLP)
derivation.show("The recurrence $hᵢ = f(Wᵢ·hᵢ₋₁ + bᵢ)$ from $h₀ = x$, unrolled for two layers:",
                sp.Symbol("h_2"), [recurrence_unrolled(2)], source=MLP)

derivation.claim(
    "the system $h₁ = w₁,₁·x₁ + w₁,₂·x₂ + b₁$, …, $h₃ = w₃,₁·x₁ + w₃,₂·x₂ + b₃$ is the matrix "
    "equation $h = W·x + b$",
    written_out(),
    lambda: W * X + BIAS,
    source=MLP)
derivation.claim(
    "$h$ names both the layer without its activation $(h₁ = w₁,₁·x₁ + w₁,₂·x₂ + b₁, …)$ and the "
    "layer's output $h = f(W·x + b)$",
    "Calculations: $h_1 = w_{1,1}·x_1 + w_{1,2}·x_2 + b_1$ … With an activation function, the "
    "output of the hidden layer is: $h = f(W·x + b)$",
    lambda: sp.simplify(written_out()[0] - logistic(written_out()[0])) == 0,
    source=MLP, compare="text",
    severity="typo",
    correction=("The written-out equations are the pre-activations, $z = W·x + b$ (one $zᵢ$ per "
                "unit); the hidden layer's output is $h = f(z)$, which differs from $z$ for a "
                "non-linear $f$ (for $σ$, $σ(z) = z$ nowhere: SymPy finds $z − σ(z)$ not zero). The "
                "slide's own remark says the activations are \"still there and being used in "
                "calculations\", so the $hᵢ$ as written are not the layer's output."))
derivation.claim(
    "a simple perceptron is limited to linear decision boundaries: it decides by the side of "
    "the line $w₁x₁ + w₂x₂ + b = 0$",
    "Limited to linear decision boundaries",
    perceptron_boundary_is_a_line,
    source=PERCEPTRON, compare="text")
derivation.claim(
    "no simple perceptron separates XOR (the four points (0,0), (1,1) against (1,0), (0,1))",
    "Limited to linear decision boundaries",
    no_line_separates_xor,
    source=PERCEPTRON, compare="text")
derivation.claim(
    "hidden layers with a non-linear activation give a non-linear decision boundary: a 2-2-1 "
    "sigmoid network classifies XOR",
    "The combination of hidden layers and non-linear activation functions gives us a "
    "non-linear decision boundary",
    hidden_layer_separates_xor,
    source=MLP, compare="text")
derivation.claim(
    "without a non-linear activation, two layers are one affine layer (\"Deep learning doesn't "
    "work without non-linear activation functions\")",
    "Deep learning doesn't work without non-linear activation functions.",
    linear_layers_collapse,
    source=ACTIVATIONS, compare="text")
derivation.claim(
    "the recurrence $hᵢ = f(Wᵢ·hᵢ₋₁ + bᵢ)$, from $h₀ = x$, gives the two-layer network "
    "$f(W₂·f(W₁·x + b₁) + b₂)$",
    recurrence_unrolled(2),
    lambda: f(sp.Symbol("W_2") * f(sp.Symbol("W_1") * sp.Symbol("x") + sp.Symbol("b_1"))
              + sp.Symbol("b_2")),
    source=MLP)
derivation.claim(
    "the gradient tells us the steepest way down (the steepest descent is along $−∇J$, the "
    "gradient itself points up)",
    "A great way to visualise this is walking down a mountain, the gradient tells us the "
    "steepest way down.",
    steepest_descent_is_minus_gradient,
    source=TRAINING, compare="text")
