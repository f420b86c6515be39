"""The activation functions of the documents as SymPy functions with known derivatives.

SymPy could differentiate σ(t) = 1/(1 + e^{-t}) from its definition, but the result is an
unreadable quotient of exponentials that overflows in floating point. Each function here
carries its derivative as the identity the documents use (σ' = σ(1 − σ), 001 and 003 §3.3),
so derivations stay small and printable; `tests/test_functions.py` holds every identity
against SymPy's own derivative of the definition.
"""

import sympy as sp


def _power(tex, exp):
    """A function's LaTeX raised to a power, as SymPy prints sin²: σ(z)² is {σ(z)}^{2}."""
    return tex if exp is None else r"{%s}^{%s}" % (tex, exp)


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

    def _latex(self, printer, exp=None):
        return _power(r"\sigma\left(%s\right)" % printer._print(self.args[0]), exp)


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

    def _latex(self, printer, exp=None):
        return _power(r"\operatorname{softplus}\left(%s\right)" % printer._print(self.args[0]), exp)


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

    def _latex(self, printer, exp=None):
        return _power(r"\operatorname{ReLU}\left(%s\right)" % printer._print(self.args[0]), exp)


class logcosh(sp.Function):
    r"""log cosh(t) = |t| + softplus(−2|t|) − log 2: finite for every finite t (cosh is inf at 711).

    The generator writes every log(cosh(t)) as this function; its derivative is tanh(t),
    where sinh(t)/cosh(t) would be inf/inf.
    """

    nargs = 1

    def fdiff(self, argindex=1):
        return sp.tanh(self.args[0])

    def _eval_rewrite_as_log(self, t, **kwargs):
        return sp.log(sp.cosh(t))

    def _eval_is_real(self):
        return self.args[0].is_real

    def _latex(self, printer, exp=None):
        return _power(r"\log\cosh\left(%s\right)" % printer._print(self.args[0]), exp)


def stable_logs(expr):
    """Every log whose argument can overflow, rewritten so that it cannot.

    log cosh(t) becomes logcosh(t); a log of a sum of exponentials and positive constants,
    however it is spelled (log(1 + eᵗ), log(e⁻ᵗ + 1), log(2eᵃ + eᵇ), log(1/(1 + e⁻ᵗ))),
    becomes a + softplus(b − a), folded over the terms; a log of a product of positive
    factors becomes the sum of their logs. Anything else is left as written.
    """
    expr = expr.replace(lambda e: isinstance(e, sp.log),
                        lambda e: _stable_log(e.args[0]) or e)
    return expr.replace(lambda e: isinstance(e, sp.Mul), _stable_softmax)


def _stable_softmax(product):
    """e^{a}/Σ_k e^{a_k} as e^{a − log Σ_k e^{a_k}}: finite where e^{a} and the sum are inf."""
    factors = list(product.args)
    for position, factor in enumerate(factors):
        base, exponent = factor.as_base_exp()
        if (exponent == -1 and isinstance(base, total) and base.dim is not None and base.free is None
                and isinstance(base.args[0], sp.exp) and base.args[0] in factors):
            summand = base.args[0]
            rest = [f for k, f in enumerate(factors) if k != position]
            rest.remove(summand)
            return sp.Mul(*rest) * sp.exp(summand.args[0] - logsumexp_total(summand.args[0], base.args[1]))
    return product


def _stable_log(arg):
    """log(arg) in a form that never overflows, or None when no rule applies."""
    if isinstance(arg, sp.cosh):
        return logcosh(arg.args[0])
    if isinstance(arg, sp.Pow) and arg.exp.is_Integer and arg.base.is_positive:
        inner = _stable_log(arg.base)
        return None if inner is None else arg.exp * inner
    if isinstance(arg, sp.Mul) and all(f.is_positive for f in arg.args):
        parts = [_stable_log(f) for f in arg.args]
        if all(part is None for part in parts):
            return None
        return sp.Add(*[sp.log(f) if part is None else part for f, part in zip(arg.args, parts)])
    if isinstance(arg, sp.exp):
        return arg.args[0]
    if (isinstance(arg, total) and arg.dim is not None and arg.free is None
            and isinstance(arg.args[0], sp.exp)):
        return logsumexp_total(arg.args[0].args[0], arg.args[1])
    if not isinstance(arg, sp.Add) or not arg.has(sp.exp):
        return None
    exponents = []
    for term in arg.args:
        coefficient, rest = term.as_coeff_Mul()
        if not coefficient.is_positive:
            together = sp.together(arg)
            return _stable_log(together) if together != arg else None
        if rest == 1:
            exponents.append(sp.log(coefficient))
        elif isinstance(rest, sp.exp):
            exponents.append(rest.args[0] + sp.log(coefficient))
        else:
            return None
    exponents.sort(key=lambda e: not e.is_number)  # constants first: log(1 + eᵗ) = softplus(t)
    return _fold_log_sum_exp(exponents)


def _fold_log_sum_exp(exponents):
    """log Σ e^(a_i) as a₀ + softplus(log Σ_{i>0} e^(a_i) − a₀), recursively."""
    first = exponents[0]
    if len(exponents) == 1:
        return first
    return first + softplus(_fold_log_sum_exp(exponents[1:]) - first)


def stabilize(expr):
    """Rewrite log(1 − σ(t)) as −softplus(t) and log σ(t) as t − softplus(t): never overflows.

    SymPy's own simplification of a logistic loss gives forms like log(1 + e^z) − y·z that
    overflow at z = 1000 (docs/engineering.md, 'Stable logistic forms'); the stable form has
    to be produced on purpose.
    """
    t = sp.Wild("t")
    expr = stable_logs(expr)
    stable = expr.replace(sp.log(1 - sigmoid(t)), -softplus(t))
    stable = stable.replace(sp.log(sigmoid(t)), t - softplus(t))
    if stable == expr:
        return expr  # nothing to rewrite: (z − y)² stays a square, exact for large targets
    return expand_outside_functions(stable)


def expand_outside_functions(expr):
    """expr expanded with every function application held whole: −y(z − softplus(z)) +
    (1 − y)·softplus(z) becomes softplus(z) − y·z, but a sum inside a function is not
    multiplied out, so Σ_j (x_j − c_j)² keeps its form and its name (Derived.named), and a
    difference of large numbers is never expanded into a cancellation."""
    held = {f: sp.Dummy() for f in expr.atoms(sp.Function)}
    return sp.expand(expr.xreplace(held)).xreplace({d: f for f, d in held.items()})


class total(sp.Function):
    r"""Σ over every element of a vector or matrix expression: total(θ**2) = Σ_j θ_j² = ‖θ‖².

    Written with the typical element, as every expression of a model is; its derivative
    with respect to that element is the derivative of the summand (∂/∂θ_j Σ_k θ_k² = 2θ_j).
    `norm`, `mean` and `softmax` are built from it. Inside a per-sample expression (a loss or
    a `let`) the model records which dimension it runs over as a second argument,
    total(u, Str("k")): Σ_k u_k (model.bound_reductions). A sum over j of a matrix's row,
    Σ_j (x_j − C_kj)², is one number per k: the model records that dimension as a third
    argument, total(u, Str("n"), Str("H")), a vector over H (`free`).
    """

    nargs = (1, 2, 3)

    @classmethod
    def eval(cls, summand, *dims):
        if summand.is_zero:
            return sp.Integer(0)  # Σ 0 = 0, as ∂/∂t of a sum that does not read t
        return None

    def fdiff(self, argindex=1):
        return sp.Integer(1)

    def _eval_derivative(self, s):
        return self.args[0].diff(s)

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_is_positive(self):
        return True if self.args[0].is_positive else None

    def _eval_is_nonnegative(self):
        return True if self.args[0].is_nonnegative else None

    @property
    def dim(self) -> str | None:
        """The dimension summed over, once the model has bound it (None in a penalty)."""
        return self.args[1].name if len(self.args) >= 2 else None

    @property
    def free(self) -> str | None:
        """The dimension the sum leaves (H in Σ_j (x_j − C_kj)²), or None: a number per sample."""
        return self.args[2].name if len(self.args) == 3 else None

    def _sympystr(self, printer):
        return "Σ(%s)" % printer._print(self.args[0])

    def _latex(self, printer, exp=None):
        return _power(r"\sum \left(%s\right)" % printer._print(self.args[0]), exp)


class logsumexp_total(sp.Function):
    r"""log Σ_k e^{a_k} over a bound dimension: what log(total(exp(a))) is evaluated as.

    `stable_logs` writes a log of a softmax's denominator as this function; the kernels
    evaluate it with the maximum subtracted, max_k a_k + log Σ_k e^{a_k − max a}, finite for
    every finite a (log Σ e^{a} itself overflows at a = 710).
    """

    nargs = 2

    @property
    def dim(self) -> str:
        return self.args[1].name

    free = None  # always a number per sample (a log-sum-exp over a matrix's rows is not derived)

    def _eval_is_real(self):
        return self.args[0].is_real

    def _sympystr(self, printer):
        return "logΣexp(%s)" % printer._print(self.args[0])

    def _latex(self, printer, exp=None):
        return _power(r"\log\sum e^{%s}" % printer._print(self.args[0]), exp)


REDUCTIONS = (total, logsumexp_total)


def mean(expr, size):
    """The mean (1/K) Σ_k u_k of a vector expression over a dimension of `size` elements."""
    return total(expr) / size


def softmax(z):
    """softmax(z)_k = e^{z_k} / Σ_c e^{z_c}, for a typical element z_k of a vector z.

    The log of it, however it is written (log softmax(z), log(e^z / total(e^z))), is
    evaluated as z_k − log Σ_c e^{z_c} with the maximum subtracted (stable_logs).
    """
    return sp.exp(z) / total(sp.exp(z))


def norm(expr):
    """The Euclidean norm ‖u‖ = sqrt(Σ u²) of a vector or matrix expression."""
    return sp.sqrt(total(expr ** 2))


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

    def _latex(self, printer, exp=None):
        return _power(r"\left(\log\sum_{c} e^{%s}\right)" % printer._print(self.args[0]), exp) \
            if exp else r"\log\sum_{c} e^{%s}" % printer._print(self.args[0])
