"""Holds every derivation against itself and against its document.

For each model, three independent computations of the same gradient must agree:

* symbolic: SymPy differentiates the fully substituted loss, written out element by element
  for small sizes from the elementary definitions (σ as 1/(1 + e^{−t}), not its identity);
* numeric: central finite differences of that loss, evaluated by NumPy;
* generated: the Numba kernel, built from the chain rule through named intermediates.

Plus: the kernel's loss equals the substituted loss, the kernels stay finite with
parameters of size 1000, and gradient descent ends at the closed form where there is one.
A disagreement among these is a bug in symdl and fails `symdl check`.

Each document claim is then evaluated; a disagreement there is a finding about the
document, reported with the correct statement, and does not fail the command.

Long because the three parts of a check — symdl against itself (`SampleProblem`, the closed
form), symdl against the documents (the claims) and the table both make — share `Row` and
are read together: the table's columns are what the first two parts fill in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from symdl import interrupts, kernels, train
from symdl.derive import almost_everywhere, explicit_instance
from symdl.errors import SymdlError
from symdl.interrupts import caused_by_interrupt
from symdl.functions import explicit
from symdl import sources
from symdl.model import SEVERITIES, Claim, Derivation, Model
from symdl.prose import plain
from symdl.scale import scale_check
from symdl.training.tiers import NumPyTier

SYMBOLIC_TOLERANCE = 1e-9  # kernel vs SymPy: both exact formulas, float64 rounding only
FINITE_DIFFERENCE_TOLERANCE = 1e-6  # central differences, step 1e-6: error ~1e-10 relative
INSTANCE_SIZE = 3  # every dimension written out with 3 elements (hidden units, classes, ...)


@dataclass
class Row:
    """One line of the `symdl check` table."""

    derivation: str
    source: str
    claim: str
    verdict: str  # "agrees" / "disagrees" for documents; "passes" / "FAILS" for symdl itself
    evidence: str
    correction: str = ""
    severity: str = ""  # for a discrepancy: "error", "typo", "assumption" or "unclassified"
    assumption: str = ""  # the unstated assumption under which the claim holds
    between: str = ""  # how the claim stands against another document
    follows: str = ""  # the statement of the claim whose slip this one repeats (its cause)
    value: object = None  # what symdl derived, for a handout to print beside the claim

    @property
    def is_failure(self):
        return self.verdict in ("FAILS", "ERROR")

    @property
    def is_discrepancy(self):
        return self.verdict == "disagrees"


# ---- symdl against itself ----------------------------------------------------------------

class SampleProblem:
    """A model written out for small sizes, with random parameters and data to evaluate at."""

    def __init__(self, model: Model, samples=5, seed=0, size=INSTANCE_SIZE):
        self.model = model
        self.module = kernels.load(model.origin or model.name)
        rng = np.random.default_rng(seed)
        self.sizes = {d: (d if isinstance(d, int) else size)
                      for t in model.tensors.values() for d in t.shape}
        self.label_value = 1
        self.instance = explicit_instance(model, self.sizes, self.label_value)
        self.param_values = {p.name: self._random(rng, p.shape) * 0.7 for p in model.params}
        self.samples = samples if model.features else 1
        self.inputs, self.y = self._data(rng)
        self.symbols = self._flat_param_symbols()
        data_symbols = self._data_symbols()
        loss = explicit(self.instance.loss)
        self.loss_expression = loss
        self.gradient_expressions = [almost_everywhere(sp.diff(loss, s)) for s in self.symbols]
        self.loss_function = scalar_function(self.symbols + data_symbols, loss)
        self.gradient_function = scalar_function(self.symbols + data_symbols,
                                                 self.gradient_expressions)
        penalty = explicit(self.instance.penalty)  # R(θ), once per cost, not per sample
        self.penalty_expression = penalty
        self.penalty_function = scalar_function(self.symbols, penalty)
        self.penalty_gradient_functions = [scalar_function(self.symbols, sp.diff(penalty, s))
                                           for s in self.symbols]

    def _random(self, rng, shape):
        dims = tuple(self.sizes[d] for d in shape)
        return rng.standard_normal(dims) if dims else float(rng.standard_normal())

    def _data(self, rng):
        """One random array per data tensor (in declaration order), and targets of its kind."""
        model = self.model
        inputs = [rng.standard_normal((self.samples,) + tuple(self.sizes[d] for d in t.shape))
                  for t in model.inputs]
        if model.label is None:
            return inputs, None
        kind = model.label.kind
        if kind == "binary":
            y = rng.integers(0, 2, self.samples).astype(float)
        elif kind == "class":
            y = np.full(self.samples, self.label_value, dtype=np.int64)
        else:
            shape = tuple(self.sizes[d] for d in model.label.shape)  # (k,) for a vector target
            y = rng.standard_normal((self.samples,) + shape)
        return inputs, y

    def _flat_param_symbols(self):
        symbols = []
        for p in self.model.params:
            value = self.instance.params[p.name]
            symbols += list(sp.flatten(value.tolist())) if isinstance(value, sp.Array) else [value]
        return symbols

    def _data_symbols(self):
        symbols = []
        for f in self.instance.inputs.values():
            symbols += list(f) if isinstance(f, sp.Array) else [f]
        label = self.instance.label
        if label is not None and self.instance.classes is None:
            symbols += list(label) if isinstance(label, sp.Array) else [label]
        return symbols

    def flat_params(self):
        return np.concatenate([np.ravel(self.param_values[p.name]) for p in self.model.params])

    def unflatten(self, flat):
        values, start = [], 0
        for p in self.model.params:
            size = int(np.prod([self.sizes[d] for d in p.shape])) if p.shape else 1
            chunk = flat[start:start + size]
            values.append(chunk.reshape([self.sizes[d] for d in p.shape]) if p.shape else float(chunk[0]))
            start += size
        return values

    def sample_args(self, i):
        args = []
        for x in self.inputs:
            args += list(np.ravel(x[i]))
        if self.y is not None and self.instance.classes is None:
            args += list(np.ravel(self.y[i]))
        return args

    def symbolic_loss(self, flat):
        total = sum(self.loss_function(*flat, *self.sample_args(i)) for i in range(self.samples))
        total = total / self.samples if self.model.reduction == "mean" else total
        return total + self.penalty_function(*flat)

    def symbolic_gradient(self, flat):
        total = np.sum([self.gradient_function(*flat, *self.sample_args(i))
                        for i in range(self.samples)], axis=0, dtype=float)
        total = total / self.samples if self.model.reduction == "mean" else total
        return total + np.array([g(*flat) for g in self.penalty_gradient_functions], dtype=float)

    def kernel(self, flat, tier="numba"):
        """J and the flat gradient from the generated kernels (or their NumPy tier)."""
        args = self.unflatten(flat) + self.inputs + ([self.y] if self.y is not None else [])
        module = NumPyTier(self.module) if tier == "numpy" else self.module
        loss, *grads = module.loss_and_gradient(*args)
        return float(loss), np.concatenate([np.ravel(g) for g in grads])

    def finite_difference_gradient(self, flat, step=1e-6):
        gradient = np.empty_like(flat)
        for k in range(len(flat)):
            h = step * max(1.0, abs(flat[k]))
            up, down = flat.copy(), flat.copy()
            up[k] += h
            down[k] -= h
            gradient[k] = (self.symbolic_loss(up) - self.symbolic_loss(down)) / (2 * h)
        return gradient


SCALAR_FUNCTIONS: dict = {"Heaviside": lambda t, at_zero=0.5: 1.0 if t > 0 else at_zero if t == 0 else 0.0,
                    "sign": lambda t: math.copysign(1.0, t) if t else 0.0}


def scalar_function(symbols, expr):
    """expr (or a list of them) as a Python function of floats, one sample at a time.

    Common subexpressions are computed once (lambdify's cse): the written-out gradient of a
    deep network repeats its forward pass in every entry, and took a minute to print and
    evaluate entry by entry.

    Python's `math` module, not NumPy: lambdify prints Piecewise for NumPy as nested
    numpy.select, which fails for the nested Max of two ReLU layers ("invalid entry 0 in
    condlist") and takes minutes to print; for scalars it prints plain conditional expressions.
    """
    return sp.lambdify(symbols, expr, [SCALAR_FUNCTIONS, "math"], cse=True)


def relative_error(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b))))


def check_model(model: Model) -> list[Row]:
    """The three-way gradient check, the loss check, stability, and the closed form."""
    rows = []

    def row(claim, ok, evidence):
        rows.append(Row(model.name, "symdl", claim, "passes" if ok else "FAILS", evidence))

    problem = SampleProblem(model)
    flat = problem.flat_params()
    kernel_loss, kernel_gradient = problem.kernel(flat)
    symbolic_gradient = problem.symbolic_gradient(flat)
    numeric_gradient = problem.finite_difference_gradient(flat)
    sizes = ", ".join(f"{d}={v}" for d, v in problem.sizes.items() if isinstance(d, str))
    where = f"{len(flat)} parameters{', ' + sizes if sizes else ''}, {problem.samples} samples"

    error = relative_error(kernel_loss, problem.symbolic_loss(flat))
    row("generated loss = substituted loss", error <= SYMBOLIC_TOLERANCE,
        f"rel. error {error:.1e} ≤ {SYMBOLIC_TOLERANCE:.0e} ({where})")
    error = relative_error(kernel_gradient, symbolic_gradient)
    row("generated gradient = SymPy diff of substituted loss", error <= SYMBOLIC_TOLERANCE,
        f"rel. error {error:.1e} ≤ {SYMBOLIC_TOLERANCE:.0e}")
    error = relative_error(symbolic_gradient, numeric_gradient)
    row("SymPy gradient = finite differences", error <= FINITE_DIFFERENCE_TOLERANCE,
        f"rel. error {error:.1e} ≤ {FINITE_DIFFERENCE_TOLERANCE:.0e} (central, step 1e-6)")

    large = flat / max(1e-12, np.abs(flat).max()) * 1000.0
    large_loss, large_gradient = problem.kernel(large)
    finite = kernel_finite = math.isfinite(large_loss) and bool(np.all(np.isfinite(large_gradient)))
    evidence = f"J = {large_loss:.4g}, max |∂J| = {np.abs(large_gradient).max():.3g}"
    bound = exp_overflow(problem, large)
    if bound is not None and bound[1] > 0:  # e^t of a t ≤ 0 (an RBF's e^(−‖x − c‖²)) never overflows
        shown, largest = bound
        beyond = largest > EXP_OVERFLOW
        finite = finite or beyond  # the true value is beyond float64 too: no form is finite
        evidence += (f"; e^({shown}) overflows float64 where its argument exceeds "
                     f"{EXP_OVERFLOW:.2f}; here it reaches {largest:.4g}"
                     + (", so the true J is not finite either" if beyond else ""))
    row("finite with parameters of size 1000", finite, evidence)
    if problem.module.SPEC.get("numpy_tier"):
        # finite where the Numba kernel is: where the true J is beyond float64, neither is
        rows.append(numpy_tier_row(problem, flat, large, kernel_finite))
    ok, evidence, _ = scale_check(problem)
    row(SCALE, ok, evidence)
    return rows + check_closed_form(model)


def numpy_tier_row(problem: SampleProblem, flat, large, numba_finite: bool) -> Row:
    """The NumPy tier (symdl.training.tiers) held to the Numba kernels' checks: its J and
    gradient against the substituted loss and SymPy's gradient, and finite where they are."""
    loss, gradient = problem.kernel(flat, tier="numpy")
    error = max(relative_error(loss, problem.symbolic_loss(flat)),
                relative_error(gradient, problem.symbolic_gradient(flat)))
    large_loss, large_gradient = problem.kernel(large, tier="numpy")
    finite = math.isfinite(large_loss) and bool(np.all(np.isfinite(large_gradient)))
    ok = error <= SYMBOLIC_TOLERANCE and (finite or not numba_finite)
    return Row(problem.model.name, "symdl", "NumPy tier = substituted loss and SymPy gradient",
               "passes" if ok else "FAILS",
               f"rel. error {error:.1e} ≤ {SYMBOLIC_TOLERANCE:.0e}; with parameters of size "
               f"1000 {'finite' if finite else 'NOT finite'} (J = {large_loss:.4g})")


SCALE = "exact at scale: targets offset 1e4–1e8, features ×2^±20, exponentials at the edge"
"""The scale row's claim (symdl.scale); symdl.testing's `scale` test id selects it by this text."""


EXP_OVERFLOW = math.log(np.finfo(float).max)  # 709.78: e^t is inf in float64 beyond this


def exp_overflow(problem: SampleProblem, flat) -> tuple[str, float] | None:
    """The exponentials the loss keeps (e^(θᵀx) of a Poisson loss) and their largest argument.

    The generator cannot make e^t finite where its true value is not, so instead of a bare
    inf the check says which exponential overflows and how far its argument goes.
    """
    from symdl.derive import Derived
    from symdl.functions import stable_logs
    written = [e for e in stable_logs(Derived(problem.model).loss).atoms(sp.exp)]
    arguments = [e.args[0] for e in stable_logs(problem.instance.loss).atoms(sp.exp)]
    if not written or not arguments:
        return None
    symbols = problem.symbols + problem._data_symbols()
    functions = [scalar_function(symbols, argument) for argument in arguments]
    largest = max(f(*flat, *problem.sample_args(i))
                  for f in functions for i in range(problem.samples))
    return ", ".join(sorted(sp.sstr(e.args[0]) for e in written)), float(largest)


def check_closed_form(model: Model) -> list[Row]:
    """Gradient descent on the built-in data ends where the closed form says.

    A model trained on its user's data only (no built-in data set) is checked on synthetic
    data instead: the gradient kernel at the closed form is zero, to rounding.
    """
    module = kernels.load(model.origin or model.name)
    spec = module.SPEC
    if not spec["closed_form"]:
        return []
    if spec["features"] and not (spec["training"] or {}).get("dataset"):
        return [closed_form_stationary(model, module)]
    if spec["training"] is None:
        return []
    result = train.train(model.origin or model.name)
    difference = result.metrics["max |p − closed form|"]
    tolerance = 1e-4
    return [Row(model.name, "symdl", "gradient descent reaches the closed form",
                "passes" if difference <= tolerance else "FAILS",
                f"max |p − closed form| = {difference:.1e} ≤ {tolerance:.0e} "
                f"after {len(result.history)} epochs")]


STATIONARY = "the closed form is a stationary point of J"


def closed_form_stationary(model: Model, module, samples=64, seed=0) -> Row:
    """‖∇J‖ at the closed form on random data, against ‖∇J‖ at zero: rounding only."""
    ref = model.origin or model.name
    rng = np.random.default_rng(seed)
    x = {t.name: rng.standard_normal((samples,) + tuple(INSTANCE_SIZE for _ in t.shape))
         for t in model.inputs}
    y = rng.standard_normal(samples) if model.label is not None else None
    if model.label is not None and model.label.kind == "binary":
        y = (y > 0).astype(float)
    solution = train.closed_form(ref, x, y)
    at_solution = train.loss_and_gradient(ref, solution, x, y)[1]
    zeros = {n: np.zeros_like(np.asarray(v, dtype=float)) for n, v in solution.items()}
    at_zero = train.loss_and_gradient(ref, zeros, x, y)[1]
    ratio = (max(float(np.max(np.abs(g))) for g in at_solution.values())
             / max(1e-300, max(float(np.max(np.abs(g))) for g in at_zero.values())))
    tolerance = 1e-9
    return Row(model.name, "symdl", STATIONARY, "passes" if ratio <= tolerance else "FAILS",
               f"max |∂J| at the closed form / at zero = {ratio:.1e} ≤ {tolerance:.0e} "
               f"({samples} random samples)")


# ---- symdl against the documents ---------------------------------------------------------

def evaluate_claim(name: str, claim: Claim) -> Row:
    try:
        derived = claim.derived()
        agrees, evidence = compare(claim, derived)
    except Exception as error:  # a claim that cannot be evaluated is a bug to show, not hide
        if caused_by_interrupt(error):  # Ctrl-C inside a Numba kernel: a SystemError
            raise KeyboardInterrupt from None
        return Row(name, claim.source, claim.statement, "ERROR", f"{type(error).__name__}: {error}")
    if agrees:
        return Row(name, claim.source, claim.statement, "agrees", evidence, value=derived)
    return Row(name, claim.source, claim.statement, "disagrees", evidence, claim.correction,
               claim.severity or "unclassified", claim.assumption, claim.between, claim.follows,
               value=derived)


def causes(count: int) -> str:
    return f"{count} cause" if count == 1 else f"{count} causes"


def by_cause(rows: list[Row]) -> list[tuple[Row, list[Row]]]:
    """The discrepancies one per cause: each with the discrepancies that follow from it
    (Claim.follows names its statement). A finding whose cause agrees or is not among `rows`
    stands as a cause of its own, so nothing is dropped."""
    found = [r for r in rows if r.is_discrepancy]
    by_statement = {r.claim: r for r in found}

    def root(row: Row) -> Row:
        seen = {row.claim}
        while row.follows in by_statement and row.follows not in seen:
            row = by_statement[row.follows]
            seen.add(row.claim)
        return row

    roots = [root(r) for r in found]
    return [(cause, [r for r, top in zip(found, roots) if top is cause and r is not cause])
            for cause in found if root(cause) is cause]


def compare(claim: Claim, derived) -> tuple[bool, str]:
    if claim.compare == "text":
        return bool(derived), f"computed: {'holds' if derived else 'does not hold'}"
    if claim.compare == "numeric":
        stated, value = np.asarray(claim.stated, float), np.asarray(derived, float)
        error = np.max(np.abs(stated - value) / np.maximum(1.0, np.abs(value)))
        return bool(error <= claim.tolerance), (
            f"stated {format_value(claim.stated)}, derived {format_value(derived)} "
            f"(tolerance {claim.tolerance:g})")
    difference = sp.simplify(sp.sympify(claim.stated) - sp.sympify(derived))
    zero = difference.is_zero_matrix if isinstance(difference, sp.MatrixBase) else difference == 0
    return bool(zero), f"stated {sp.sstr(claim.stated)}; derived {sp.sstr(derived)}"


def format_value(value) -> str:
    array = np.asarray(value, dtype=float)
    if array.ndim == 0:
        return f"{float(array):.6g}"
    return "[" + ", ".join(f"{v:.6g}" for v in array.ravel()) + "]"


# ---- the whole report --------------------------------------------------------------------

def check_derivation(derivation: Derivation) -> list[Row]:
    rows = check_model(derivation) if isinstance(derivation, Model) else []
    return rows + [evaluate_claim(derivation.name, claim) for claim in derivation.claims]


class Table(list):
    """The rows of `symdl check`, a list of Row: str() is the Markdown table, and a notebook
    shows it as HTML."""

    def __str__(self):
        return table(self)

    def _repr_html_(self):
        return html_table(self)


def claims(ref) -> Table:
    """Only the document claims of a derivation (a name or a path), evaluated now (no gradient checks)."""
    derivation = sources.load_derivation(ref)
    return Table(evaluate_claim(derivation.name, claim) for claim in derivation.claims)


def run(refs=None) -> Table:
    """Check the models named (built-in names, files or folders; default: the built-ins)."""
    rows = Table()
    with interrupts.raising():  # Ctrl-C stops the check: no verdict from a half-trained model
        for source in sources.resolve_many(refs):
            try:
                rows += check_derivation(sources.load_derivation(source))
            except SymdlError as error:  # one broken model is reported; the others are checked
                rows.append(Row(source.name, "symdl", "the derivation and its kernels load",
                                "ERROR", str(error)))
    return rows


def severity_text(row: Row) -> str:
    """How bad a discrepancy is, in words: 'typo or notation slip ...', 'holds only if ...'."""
    if row.severity == "assumption":
        return f"holds only under an unstated assumption: {plain(row.assumption)}"
    return SEVERITIES.get(row.severity, "not classified by the derivation file")


def correction_text(row: Row) -> str:
    """The correct statement for a terminal: the derivation file's, or symdl's evidence."""
    return plain(row.correction) if row.correction else "symdl derives otherwise: " + row.evidence


def table(rows: list[Row]) -> str:
    """The rows as a Markdown table, then every discrepancy with its severity and correction."""
    lines = ["| derivation | document and heading | claim | verdict | severity | evidence |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        evidence = r.evidence if len(r.evidence) <= 200 else r.evidence[:197] + "..."
        cells = [r.derivation, plain(r.source), plain(r.claim), r.verdict, r.severity, evidence]
        lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    discrepancies = [r for r in rows if r.is_discrepancy]
    grouped = by_cause(rows)
    if discrepancies:
        lines += ["", f"Discrepancies between the documents and the derivations "
                      f"({len(discrepancies)}, from {causes(len(grouped))}):"]
        for number, (r, following) in enumerate(grouped, 1):
            lines.append(f"{number}. [{severity_text(r)}] {r.derivation} — {plain(r.source)}: the document "
                         f"states \"{plain(r.claim)}\". {correction_text(r)}")
            for f in following:
                lines.append(f"   - follows from it: {f.derivation} — {plain(f.source)}: "
                             f"\"{plain(f.claim)}\". {correction_text(f)}")
    between = [cause for cause, _ in grouped if cause.between]  # one note per cause
    if between:
        lines += ["", f"Between the documents ({len(between)}):"]
        for number, r in enumerate(between, 1):
            lines.append(f"{number}. {r.derivation} — \"{plain(r.claim)}\" ({plain(r.source)}): "
                         f"{plain(r.between)}")
    failures = [r for r in rows if r.is_failure]
    counts = ", ".join(f"{sum(r.severity == s for r in discrepancies)} {s}"
                       for s in (*SEVERITIES, "unclassified")
                       if s != "unclassified" or any(r.severity == s for r in discrepancies))
    lines += ["", f"{len(rows)} checks: {sum(r.verdict == 'passes' for r in rows)} internal passes, "
                  f"{sum(r.verdict == 'agrees' for r in rows)} document agreements, "
                  f"{len(discrepancies)} document discrepancies ({counts}; "
                  f"{causes(len(grouped))}), "
                  f"{len(failures)} failures."]
    return "\n".join(lines) + "\n"


def html_table(rows: list[Row]) -> str:
    """The rows as an HTML table for a notebook; a discrepancy shows its severity and correction."""
    from html import escape
    from symdl.documents import cite
    colours = {"disagrees": "#fde2e1", "FAILS": "#f8b4b4", "ERROR": "#f8b4b4"}
    head = "".join(f"<th>{h}</th>" for h in ("derivation", "document", "claim", "verdict",
                                              "severity", "evidence or correction"))
    body = []
    for r in rows:
        detail = r.evidence
        if r.is_discrepancy:
            detail = f"{plain(r.correction) or r.evidence} ({severity_text(r)})"
            if r.between:
                detail += f" Between the documents: {plain(cite(r.between))}"
            if r.follows:
                detail += f" It follows from an earlier slip: {plain(r.follows)}"
        style = f' style="background:{colours[r.verdict]}"' if r.verdict in colours else ""
        cells = [r.derivation, plain(cite(r.source)), plain(r.claim), r.verdict, r.severity, detail]
        body.append(f"<tr{style}>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
    summary = (f"{len(rows)} checks: {sum(r.is_discrepancy for r in rows)} discrepancies with the "
               f"documents, {sum(r.is_failure for r in rows)} failures.")
    return (f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            f"<p>{escape(summary)}</p>")
