"""`NumbaPrinter`: one SymPy expression printed as Numba-compatible Python.

Like SymPy's own printers, a method per node type. σ, softplus, exp, log, log1p and tanh
become the helpers of `helpers.py.txt` (polynomials, no libm call, so loops of them
vectorise: docs/engineering.md, 'Vectorisation'), which every generated file carries, so a
kernel's Numba cache never depends on another file (docs/engineering.md, 'Helpers in
another file').
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.pycode import PythonCodePrinter


class ArrayPrinter(NumPyPrinter):
    """Prints an expression over whole parameter arrays (np.sum for total), for penalties."""

    def __init__(self, names: dict[sp.Symbol, str]):
        super().__init__({"fully_qualified_modules": True})
        self.names = names

    def doprint(self, expr, assign_to=None):
        return super().doprint(expr, assign_to).replace("numpy.", "np.")

    def _print_Symbol(self, expr):
        return self.names.get(expr, expr.name)

    def _print_total(self, expr):
        return f"np.sum({self._print(expr.args[0])})"

    def _print_Abs(self, expr):
        return f"np.abs({self._print(expr.args[0])})"

    def _print_Rational(self, expr):
        return f"{expr.p}.0/{expr.q}.0" if expr.q != 1 else f"{expr.p}.0"

    def _print_Integer(self, expr):
        return f"{int(expr)}.0"


class NumbaPrinter(PythonCodePrinter):
    """Prints one expression as Numba code; symbols are looked up in `names`."""

    def __init__(self, names: dict[sp.Symbol, str]):
        super().__init__({"fully_qualified_modules": True, "standard": "python3"})
        self.names = names

    def _print_Symbol(self, expr):
        return self.names.get(expr, expr.name)

    def _print_sigmoid(self, expr):
        return f"_sigmoid({self._print(expr.args[0])})"

    def _print_softplus(self, expr):
        return f"_softplus({self._print(expr.args[0])})"

    def _print_logcosh(self, expr):
        return f"_logcosh({self._print(expr.args[0])})"

    def _print_relu(self, expr):
        return f"max({self._print(expr.args[0])}, 0.0)"

    def _print_Heaviside(self, expr):
        return f"(1.0 if {self._print(expr.args[0])} > 0.0 else 0.0)"

    def _print_sign(self, expr):
        return f"np.sign({self._print(expr.args[0])})"

    def _print_Abs(self, expr):
        return f"abs({self._print(expr.args[0])})"

    def _print_exp(self, expr):
        return f"_exp({self._print(expr.args[0])})"

    def _print_log(self, expr):
        return f"_log({self._print(expr.args[0])})"

    def _print_log1p(self, expr):
        return f"_log1p({self._print(expr.args[0])})"

    def _print_tanh(self, expr):
        return f"_tanh({self._print(expr.args[0])})"

    def _print_Rational(self, expr):
        return f"{expr.p}.0/{expr.q}.0" if expr.q != 1 else f"{expr.p}.0"

    def _print_Integer(self, expr):
        return f"{int(expr)}.0"

    def _print_total(self, expr):
        raise TypeError("a reduction reaches the printer: Emitter.reduced computes it first")

    _print_logsumexp_total = _print_total

    def _print_Pow(self, expr, rational=False):
        base, exponent = expr.args
        # a square printed as b*b is a product: always in parentheses, since SymPy's printers
        # parenthesize by b**2's precedence, and a/b**2 printed a/b*b (== a) in a denominator
        if exponent == 2:
            b = self.parenthesize(base, sp.printing.precedence.PRECEDENCE["Mul"])
            return f"({b}*{b})"
        if exponent == -1:
            return f"1.0/{self.parenthesize(base, sp.printing.precedence.PRECEDENCE['Mul'])}"
        return super()._print_Pow(expr, rational)
