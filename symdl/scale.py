"""Exact at any scale: the generated loss and gradient against a high-precision reference.

The three-way check evaluates at unit scale, where a gradient written in an expanded form
(r² as y² − 2yŷ + ŷ²) and one written through the named intermediates agree to the last
digit. They part at scale, so this check evaluates the kernels where users' data goes:

* targets offset by 1e4, 1e6 and 1e8 (real targets only), with the model's offset
  parameter moved along when it has one (a parameter p with ℓ(y + C, p + C) = ℓ(y, p), the
  intercept b of ŷ = w·x + b), so that the residual stays O(1) as it does near a fit;
* features scaled by 2²⁰ and 2⁻²⁰ (about 1e±6), the parameters by the inverse, so that
  w·x stays O(1) while ∂J/∂w = δ·x grows or shrinks with x;
* the parameters scaled until the largest argument of an exponential (e^{s}, σ's e^{−t},
  softplus, tanh) is 740, past float64's overflow edge at 709.78, in both signs.

At the edge the values must be finite wherever the true ones are; their error is reported
but not held to the bound (see `scale_check`).

The reference is the loss written out element by element from the elementary definitions
(`SampleProblem`'s, the one the three-way check differentiates), evaluated with mpmath at
50 digits, more where an exponential needs them (1 − σ(740) is e^{−740}: its digits start
322 places down; at most 50 + 1480/ln 10, which is what an argument of 2·740 needs). It shares no code with the generator.

What float64 can honestly reach decides the data. The features, parameters and targets are
multiples of 1/16 of a few bits, so that every affine intermediate (w·x + b, y − ŷ) is exact
in float64 even at 1e8: the true function is then well-conditioned in its inputs, and any
error beyond rounding is the formula's, not the data's. (With arbitrary doubles, y − ŷ at
1e8 carries ŷ's rounding, 1e8·2⁻⁵³ ≈ 1e-8 absolute, and no float64 formula could do better.)
Each component's error is measured against the sum of the samples' absolute contributions,
Σᵢ|gᵢ|, which is what float64 summation of the samples itself reaches, and a value below
float64's smallest normal number counts as zero. A formula through the named intermediates
then stays within a few ulps; the bound, 1e-8 (8 digits lost of 16), leaves room for an
exponential's argument of 740 to amplify its own rounding (740·2⁻⁵³ ≈ 1e-13), while the
expanded Student-t gradient of issue 17 loses all 16 digits at 1e8. A sample whose true
loss or gradient overflows float64 is left out (no formula can be finite there), and so is
one where an exponential's argument passes +1480, beyond the reference's digits; the
evidence says how many; a kernel value that is inf or NaN where the truth is finite fails.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import sympy as sp


TOLERANCE = 1e-8  # worst relative error allowed, against Σᵢ|gᵢ|: 8 of float64's 16 digits
OFFSETS = (1e4, 1e6, 1e8)
FEATURE_SCALES = (2.0**20, 2.0**-20)
EXP_EDGE = 740.0  # beyond e^709.78 = float64's largest number, below e^-745 = its smallest
DIGITS = 50
SAMPLES = 4
HUGE = 1e300  # a true value beyond this overflows float64 (or nearly): the sample is left out
TINY = np.finfo(float).tiny  # below the smallest normal number: counts as zero
# Near underflow a float64 sum cannot carry 8 digits: each sample's term may be flushed to 0
# (the kernels' e^t is 0 below float64's normal range), an absolute error of up to TINY per
# sample. So errors are measured against at least SAMPLES·TINY/TOLERANCE, where that much
# error still passes (an RBF unit at features ×2^-20 and centres ×2^20 has e^(−s·r) ≈ 1e-316).
FLOOR = SAMPLES * TINY / TOLERANCE
UNIT = 2.0**-52
SIXTEENTHS = 16.0


def dyadic(values, rng=None):
    """values rounded to multiples of 1/16, zeros moved to ±1/16: few bits, exact products."""
    rounded = np.round(np.asarray(values, dtype=float) * SIXTEENTHS) / SIXTEENTHS
    return np.where(rounded == 0.0, 1.0 / SIXTEENTHS, rounded)


class Reference:
    """The written-out loss, its gradient and the penalty's, as mpmath functions."""

    def __init__(self, problem):
        self.problem = problem
        modules = [MPMATH_FUNCTIONS, "mpmath"]
        symbols = problem.symbols + problem._data_symbols()
        loss = problem.loss_expression
        self.loss = sp.lambdify(symbols, loss, modules)
        # one function for every entry, each shared subexpression computed once
        self.gradient = sp.lambdify(symbols, problem.gradient_expressions, modules, cse=True)
        penalty = problem.penalty_expression
        self.penalty = sp.lambdify(problem.symbols, penalty, modules)
        self.penalty_gradient = [sp.lambdify(problem.symbols, sp.diff(penalty, s), modules)
                                 for s in problem.symbols]
        self.exponents = [sp.lambdify(symbols, e.args[0], modules)
                          for e in loss.atoms(sp.exp) if e.args[0].free_symbols & set(problem.symbols)]

    def sample(self, flat, args, digits):
        """(ℓ, ∂ℓ/∂p) of one sample at `digits` digits, as mpf numbers."""
        with mpmath.workdps(digits):
            values = [mpmath.mpf(float(v)) for v in flat] + [mpmath.mpf(float(a)) for a in args]
            return self.loss(*values), list(self.gradient(*values))

    def penalty_terms(self, flat, digits):
        with mpmath.workdps(digits):
            values = [mpmath.mpf(float(v)) for v in flat]
            return self.penalty(*values), [g(*values) for g in self.penalty_gradient]

    def exponents_at(self, flat, rows) -> list[float]:
        """The arguments of the written-out loss's exponentials that read parameters."""
        with mpmath.workdps(30):
            return [float(f(*[mpmath.mpf(float(v)) for v in flat],
                            *[mpmath.mpf(float(a)) for a in args]))
                    for f in self.exponents for args in rows]

    def largest_exponent(self, flat, rows) -> float:
        """The largest |argument| of the written-out loss's exponentials that read parameters."""
        return max((abs(t) for t in self.exponents_at(flat, rows)), default=0.0)

    def resolvable(self, flat, args) -> bool:
        """Whether the reference reaches this sample: no e^{t} with t past 2·EXP_EDGE (there
        1/(1 + e^{t}) needs more digits than it has, and mpmath can stall aligning numbers
        whose exponents differ by ~2^t bits); e^{t} of a very negative t is simply tiny."""
        return max(self.exponents_at(flat, [args]), default=0.0) <= 2 * EXP_EDGE


def _heaviside(t, at_zero=0.5):
    return 1 if t > 0 else (at_zero if t == 0 else 0)


def _sign(t):
    return 1 if t > 0 else (-1 if t < 0 else 0)


MPMATH_FUNCTIONS = {"Heaviside": _heaviside, "sign": _sign}


class Scenario:
    """One kind of scale: parameters, one array per data tensor, targets, and what it is."""

    def __init__(self, label, flat, inputs, y, held=True):
        self.label, self.flat, self.inputs, self.y = label, flat, inputs, y
        self.held = held  # whether the accuracy bound applies (always: finiteness)


def _rows(problem, inputs, y, count):
    """The scalar arguments of each sample, in the written-out loss's order."""
    rows = []
    for i in range(count):
        args = []
        for x in inputs:
            args += list(np.ravel(x[i]))
        if y is not None and problem.instance.classes is None:
            args += list(np.ravel(y[i]))
        rows.append(args)
    return rows


def offset_parameter(problem, reference, flat, inputs, y) -> list[int]:
    """Positions in `flat` of a parameter the loss is shifted along with the targets, or []."""
    count = len(problem.symbols)
    size = int(np.prod(y.shape[1:])) if y.ndim > 1 else 1
    rows = _rows(problem, inputs, y, 1)
    shift = 12345.6875
    shifted_rows = _rows(problem, inputs, y + shift, 1)
    base, _ = reference.sample(flat, rows[0], DIGITS)
    start = 0
    for p in problem.model.params:
        width = int(np.prod([problem.sizes[d] for d in p.shape])) if p.shape else 1
        if width == size:
            moved = flat.copy()
            moved[start:start + width] += shift
            value, _ = reference.sample(moved, shifted_rows[0], DIGITS)
            if abs(value - base) <= mpmath.mpf(10) ** -30 * (1 + abs(base)):
                return list(range(start, start + width))
        start += width
    assert start == count
    return []


def scenarios(problem, reference, rng) -> list[Scenario]:
    model = problem.model
    flat = dyadic(rng.standard_normal(len(problem.symbols)) * 0.7)
    samples = SAMPLES if model.features is not None else 1
    inputs = [dyadic(rng.standard_normal((samples,) + x.shape[1:])) for x in problem.inputs]
    y = problem.y
    if y is not None:
        y = np.resize(y, (samples,) + y.shape[1:])
        if model.label.kind == "real":
            y = dyadic(rng.standard_normal(y.shape))
    found = []
    if y is not None and model.label.kind == "real" and model.features is not None:
        moved = offset_parameter(problem, reference, flat, inputs, y)
        for offset in OFFSETS:
            shifted = flat.copy()
            shifted[moved] += offset
            label = f"targets offset by {offset:.0e}" + (
                f" (with {_names(problem, moved)})" if moved else "")
            found.append(Scenario(label, shifted, inputs, y + offset))
    for factor in FEATURE_SCALES if model.features is not None else ():
        power = round(math.log2(factor))
        found.append(Scenario(f"features scaled by 2^{power}, parameters by 2^{-power}",
                              flat / factor, [x * factor for x in inputs], y))
    largest = reference.largest_exponent(flat, _rows(problem, inputs, y, samples))
    if largest > 0:
        for sign in (1.0, -1.0):
            edge = flat * (sign * EXP_EDGE / largest)
            found.append(Scenario(f"parameters scaled to an exponent of {EXP_EDGE:g}"
                                  + (" (sign flipped)" if sign < 0 else ""), edge, inputs, y,
                                  held=False))
    return found


def _names(problem, positions) -> str:
    return ", ".join(str(problem.symbols[k]) for k in positions) + " moved along"


def _digits_for(reference, scenario, rows) -> int:
    """50 digits, plus what the largest exponential needs to keep 1 − σ(t) nonzero."""
    largest = min(reference.largest_exponent(scenario.flat, rows), 2 * EXP_EDGE)
    return DIGITS + int(largest / math.log(10)) + 5


def measure(problem, reference, scenario) -> tuple[float | None, int, str]:
    """(worst relative error, samples left out, what went wrong) for one scenario; the
    error is None when every sample's true J or ∂J overflows float64 (nothing to compare)."""
    count = len(scenario.inputs[0]) if scenario.inputs else 1
    rows = _rows(problem, scenario.inputs, scenario.y, count)
    digits = _digits_for(reference, scenario, rows)
    kept, losses, gradients = [], [], []
    for i, args in enumerate(rows):
        if not reference.resolvable(scenario.flat, args):
            continue
        try:
            loss, gradient = reference.sample(scenario.flat, args, digits)
        except (ZeroDivisionError, ValueError):  # 1 − σ(t) = 0 even at these digits: t > 1480
            continue
        values = [loss] + gradient
        if all(mpmath.isfinite(v) and abs(v) < HUGE for v in values):
            kept.append(i)
            losses.append(loss)
            gradients.append(gradient)
    if not kept:
        return None, count, ""
    penalty, penalty_gradient = reference.penalty_terms(scenario.flat, digits)
    scale = mpmath.mpf(1) / len(kept) if problem.model.reduction == "mean" else mpmath.mpf(1)
    with mpmath.workdps(digits):
        columns = [[losses[s]] + gradients[s] for s in range(len(kept))]
        exact = [sum(c[k] for c in columns) * scale for k in range(len(columns[0]))]
        magnitude = [sum(abs(c[k]) for c in columns) * scale for k in range(len(columns[0]))]
        exact[0] += penalty
        magnitude[0] += abs(penalty)
        for k, g in enumerate(penalty_gradient, 1):
            exact[k] += g
            magnitude[k] += abs(g)
        if any(not (abs(v) < HUGE) for v in exact):
            return None, count, ""
    inputs = [x[kept] for x in scenario.inputs]
    y = scenario.y[kept] if scenario.y is not None else None
    args = problem.unflatten(np.asarray(scenario.flat, dtype=float)) + inputs + (
        [y] if y is not None else [])
    with np.errstate(all="ignore"):
        loss, *grads = problem.module.loss_and_gradient(*args)
    computed = np.concatenate([[float(loss)]] + [np.ravel(np.asarray(g, dtype=float)) for g in grads])
    if not np.all(np.isfinite(computed)):
        bad = "J" if not math.isfinite(computed[0]) else "∂J"
        return math.inf, count - len(kept), f"{bad} is not finite where the true value is"
    worst = 0.0
    for value, truth, size in zip(computed, exact, magnitude):
        denominator = max(float(size), FLOOR)
        worst = max(worst, float(abs(mpmath.mpf(float(value)) - truth)) / denominator)
    return worst, count - len(kept), ""


def digits_lost(error: float) -> float:
    """How many of float64's ~16 significant digits an error of this size costs."""
    if error == math.inf:
        return 16.0
    return max(0.0, math.log10(max(error, UNIT) / UNIT))


def scale_check(problem, seed=0) -> tuple[bool, str, list[tuple[str, float, bool]]]:
    """(passes, evidence, [(scale, error, held)]) of the scale check for one SampleProblem.

    Every scale must give finite values where the truth is finite. The accuracy bound holds
    at the offsets and feature scales; at the exponential edge it is reported, not held: a
    sample there can sit at t ≈ 40, where 1 − σ(t) of the named, rounded σ has no correct
    digit left in any float64 formula through the names (the logistic h − y included).
    """
    reference = Reference(problem)
    rng = np.random.default_rng(seed)
    results, left_out, failures = [], 0, []
    for scenario in scenarios(problem, reference, rng):
        error, skipped, failure = measure(problem, reference, scenario)
        left_out += skipped
        if failure:
            failures.append(f"{failure} ({scenario.label})")
        if error is not None:
            results.append((scenario.label, error, scenario.held))
    held = [r for r in results if r[2]]
    if not results:
        return True, "no scale applies (no data, no exponential of a parameter)", results
    parts = []
    if held:
        label, worst, _ = max(held, key=lambda r: r[1])
        parts.append(f"worst rel. error {worst:.1e} ≤ {TOLERANCE:.0e} ({digits_lost(worst):.1f} "
                     f"digits lost) at {label}")
    else:
        worst = 0.0
    edge = [r for r in results if not r[2]]
    if edge:
        edge_worst = max(r[1] for r in edge)
        parts.append(f"at the exponentials' edge finite, rel. error {edge_worst:.1e} "
                     f"({digits_lost(edge_worst):.1f} digits lost; reported, not held)")
    ok = worst <= TOLERANCE and not failures
    evidence = "; ".join(parts) + f"; {len(results)} scales vs mpmath at ≥{DIGITS} digits"
    if left_out:
        evidence += (f"; {left_out} sample(s) left out where the true J or ∂J overflows float64 "
                     f"(or an exponential's argument passes {2 * EXP_EDGE:g})")
    if failures:
        evidence = "; ".join(failures) + "; " + evidence
    return ok, evidence, results
