"""The gradient of the paraboloid z = x² + y², and gradient descent down to its minimum.

Source: 000_b9e7c87dcfbd1c26.txt and 002_4c33554d2058975c.txt, "Rate of Change: The
Derivative" (its notation ∂y/∂x for a one-variable derivative, checked below) and "Rate of
Change: The Gradient": "if we have the surface z = x² + y² the slope in the x direction is ∂z/∂x = 2x
and the slope in the y direction is ∂z/∂y = 2y."

The surface is the whole model: two parameters x and y, no data, and z itself is the cost,
so the generated kernels take only (x, y). Training walks from (1.5, −2) down the gradient
to the minimum at the origin; 1.5 and −2 are an arbitrary point off the minimum, not numbers
from the documents. The step 0.1 shrinks both coordinates by the factor 1 − 2·0.1 = 0.8 per
step (the Hessian of z is 2·I, so any step below 2/2 = 1 converges).
"""

import sympy as sp

from symdl.derive import Derived
from symdl.model import Model, Training

SOURCE = ("000_b9e7c87dcfbd1c26.txt and 002_4c33554d2058975c.txt, "
          "Rate of Change: The Gradient")

derivation = Model(
    "paraboloid_gradient",
    title="The gradient of the paraboloid $z = x² + y²$",
    source=SOURCE,
    summary="$z = x² + y²$ with $x$ and $y$ the parameters; its gradient points up the slope.",
    reduction="sum",
    training=Training(dataset=None, optimizer="gd", learning_rate=0.1, epochs=100,
                      initial={"x": 1.5, "y": -2.0}),
)
x = derivation.param("x")
y = derivation.param("y")
surface = x**2 + y**2
derivation.loss(surface)



def derived_slope(param):
    """∂z/∂param as symdl derives it for the generated kernel."""
    return next(g.local for g in Derived(derivation).gradients if g.param.symbol == param)


derivation.claim(
    "the slope of $z = x² + y²$ in the $x$ direction is $∂z/∂x = 2x$",
    2 * x,
    lambda: derived_slope(x),
)
derivation.claim(
    "the slope of $z = x² + y²$ in the $y$ direction is $∂z/∂y = 2y$",
    2 * y,
    lambda: derived_slope(y),
)


DERIVATIVE_SLIDE = ("000_b9e7c87dcfbd1c26.txt and 002_4c33554d2058975c.txt, "
                    "Rate of Change: The Derivative")


def one_variable_derivative_uses_partial():
    """Whether the derivative of y = f(x), one variable, is written with ∂: SymPy, like
    every calculus text, writes d/dx for it and keeps ∂ for a function of several
    variables (∂z/∂x of z = x² + y², the next slide)."""
    t = sp.Symbol("t")
    one = sp.latex(sp.Derivative(sp.Function("f")(t), t))
    several = sp.latex(sp.Derivative(sp.Function("g")(t, sp.Symbol("s")), t))
    return r"\partial" in one and r"\partial" in several


derivation.claim(
    "the derivative of $y$ with respect to $x$ ($y$ a function of $x$ alone) is denoted $∂y/∂x$",
    "A derivative measures the rate of change or slope at any point denoted by $∂y/∂x$, which is "
    "read “the change in $y$ with respect to the change in $x$.”",
    one_variable_derivative_uses_partial,
    source=DERIVATIVE_SLIDE, compare="text",
    severity="typo",
    correction=("The derivative of a function of one variable is written $dy/dx$; $∂y/∂x$ is the "
                "partial derivative, for $y$ a function of several variables, as the next slide's "
                "$∂z/∂x = 2x$ of $z = x² + y²$. Both editions print the slide unchanged."))
