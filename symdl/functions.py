"""The activation functions of the documents as SymPy functions with known derivatives.

SymPy could differentiate σ(t) = 1/(1 + e^{-t}) from its definition, but the result is an
unreadable quotient of exponentials that overflows in floating point. Each function here
carries its derivative as the identity the documents use (σ' = σ(1 − σ), 001 and 003 §3.3),
so derivations stay small and printable; `tests/test_functions.py` holds every identity
against SymPy's own derivative of the definition.
"""

import sympy as sp


class sigmoid(sp.Function):
    r"""The logistic function σ(t) = 1/(1 + e^{-t}) (001; 003 §3.3, "the logistic function")."""

    nargs = 1

    def fdiff(self, argindex=1):
        s = sigmoid(self.args[0])
        return s * (1 - s)

    @classmethod
    def eval(cls, t):
        if t.is_zero:
            return sp.Rational(1, 2)
        return None

    def _eval_rewrite_as_exp(self, t, **kwargs):
        return 1 / (1 + sp.exp(-t))

    def _eval_is_real(self):
        return self.args[0].is_real

    def _latex(self, printer):
        return r"\sigma\left(%s\right)" % printer._print(self.args[0])


class softplus(sp.Function):
    r"""softplus(t) = log(1 + e^t), so that log σ(t) = −softplus(−t) and log(1 − σ(t)) = −softplus(t).

    It is the stable way to evaluate the cross-entropy of 003 §3.3: log σ(t) itself is
    log(0) = −inf at t = −1000 in floating point, softplus(1000) is simply 1000.
    """

    nargs = 1

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])

    def _eval_rewrite_as_log(self, t, **kwargs):
        return sp.log(1 + sp.exp(t))

    def _latex(self, printer):
        return r"\operatorname{softplus}\left(%s\right)" % printer._print(self.args[0])


class relu(sp.Function):
    r"""The rectified linear unit max(0, t) (000/002 "Rectified Linear Unit (ReLU)", 004).

    Its derivative is the Heaviside step with H(0) = 0, the convention of every framework.
    """

    nargs = 1

    def fdiff(self, argindex=1):
        return sp.Heaviside(self.args[0], 0)

    def _eval_rewrite_as_Max(self, t, **kwargs):
        return sp.Max(0, t)

    def _eval_rewrite_as_Piecewise(self, t, **kwargs):
        return sp.Piecewise((t, t > 0), (0, True))

    def _latex(self, printer):
        return r"\operatorname{ReLU}\left(%s\right)" % printer._print(self.args[0])


def stabilize(expr):
    """Rewrite log(1 − σ(t)) as −softplus(t) and log σ(t) as t − softplus(t): never overflows.

    SymPy's own simplification of a logistic loss gives forms like log(1 + e^z) − y·z that
    overflow at z = 1000 (ENGINEERING-NOTES.md); the stable form has to be produced on purpose.
    """
    t = sp.Wild("t")
    stable = expr.replace(sp.log(1 - sigmoid(t)), -softplus(t))
    stable = stable.replace(sp.log(sigmoid(t)), t - softplus(t))
    if stable == expr:
        return expr  # nothing to rewrite: (z − y)² stays a square, exact for large targets
    return sp.expand(stable)


def explicit(expr):
    """The expression with every symdl function replaced by its elementary definition."""
    return expr.rewrite(sp.exp).rewrite(sp.log).replace(relu, lambda t: sp.Max(0, t))


class logsumexp(sp.Function):
    r"""log Σ_c e^{z_c}, written as a function of one typical element z_c of the vector z.

    Its derivative with respect to that element is the softmax, e^{z_c − log Σ e^{z}}: the
    identity behind 002's softmax + sparse categorical cross-entropy. Evaluated with the
    maximum subtracted, it never overflows.
    """

    nargs = 1

    def fdiff(self, argindex=1):
        z = self.args[0]
        return sp.exp(z - logsumexp(z))

    def _latex(self, printer):
        return r"\log\sum_{c} e^{%s}" % printer._print(self.args[0])
