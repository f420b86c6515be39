"""Side-by-side timing, the correctness gate, and markdown tables.

Timing rules, and why:
- All implementations of a workload are timed in one process, interleaved: each repeat runs
  every implementation once, in a rotated order, so that slow drift of a shared, noisy
  machine (other jobs, turbo, thermal) lands on all of them alike and none always goes first.
- Warm-up runs (JIT compilation, first-touch page faults, thread-pool start) are not timed.
- Before each timed call: a garbage collection and a short pause, so that one library's
  thread pool, still spinning after its call, does not steal cores from the next one.
- We report median, min and max, and the ratio of medians to a baseline. Only ratios
  measured this way are comparable between runs; absolute seconds are not.
"""

import gc
import statistics
import time
import traceback
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

# ------------------------------------------------------------------------------ timing


@dataclass
class Timing:
    """The timed runs of one implementation; `result` is what its last timed run returned."""

    name: str
    seconds: list = field(default_factory=list)
    result: object = None

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def time_interleaved(
    candidates: dict, repeats: int, warmup: int = 1, pause: float = 0.1
) -> dict:
    """Time zero-argument callables side by side; return {name: Timing}.

    `warmup` untimed rounds run every candidate first; then `repeats` rounds each run every
    candidate once, the starting candidate rotating from round to round.
    """
    names = list(candidates)
    for _ in range(warmup):
        for name in names:
            candidates[name]()
    timings = {name: Timing(name) for name in names}
    for round_ in range(repeats):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            gc.collect()
            time.sleep(pause)
            start = time.perf_counter()
            result = candidates[name]()
            timings[name].seconds.append(time.perf_counter() - start)
            timings[name].result = result
    return timings


# ------------------------------------------------------------------------------ building and checking


def build(registry: dict, problem, only: Optional[set] = None):
    """Call every factory of a registry on the problem.

    Returns (trainers, notes): notes maps the name of each implementation that could not be
    built to why ("not installed: ..." or "FAILED to build: ...").
    """
    trainers, notes = {}, {}
    for name, factory in registry.items():
        if only and name not in only:
            continue
        try:
            trainers[name] = factory(problem)
        except ImportError as error:
            notes[name] = f"not installed: {error}"
        except Exception as error:  # report it, and go on with the others
            notes[name] = f"FAILED to build: {type(error).__name__}: {error}"
            traceback.print_exc()
    return trainers, notes


@dataclass
class Agreement:
    """How far one implementation's loss trajectory is from the reference's."""

    name: str
    compared: int  # number of losses compared
    max_rel_diff: float  # max over the trajectory of |loss − reference| / |reference|
    rtol: float

    @property
    def ok(self) -> bool:
        return bool(np.isfinite(self.max_rel_diff) and self.max_rel_diff <= self.rtol)


def compare(reference: np.ndarray, trajectories: dict, rtol: float) -> list:
    """Compare each trajectory (a loss per epoch or step) with the reference, elementwise."""
    rows = []
    for name, losses in trajectories.items():
        losses = np.asarray(losses, dtype=np.float64)
        if losses.shape != reference.shape or not np.all(np.isfinite(losses)):
            rows.append(Agreement(name, len(losses), float("inf"), rtol))
            continue
        rel = np.abs(losses - reference) / np.abs(reference)
        rows.append(Agreement(name, len(losses), float(rel.max()), rtol))
    return rows


def gate(trainers: dict, trajectory: Callable, baseline: str, rtol: float):
    """The correctness gate run before timing: every implementation against the baseline.

    `trajectory(trainer)` runs a few epochs or steps and returns their losses. Returns
    (passed trainers, agreement rows, notes for implementations that crashed).
    """
    trajectories, notes = {}, {}
    for name, trainer in trainers.items():
        try:
            trajectories[name] = trajectory(trainer)
        except Exception as error:
            notes[name] = f"FAILED while training: {type(error).__name__}: {error}"
            traceback.print_exc()
    if baseline not in trajectories:
        raise RuntimeError(f"the baseline {baseline!r} did not run: nothing to check against")
    rows = compare(trajectories[baseline], trajectories, rtol)
    passed = {row.name: trainers[row.name] for row in rows if row.ok}
    for row in rows:
        if not row.ok:
            notes[row.name] = f"FAILED the correctness gate (max rel. diff {row.max_rel_diff:.2e})"
    return passed, rows, notes


def checked_trainers(implementations: dict, problem, only, trajectory: Callable, rtol: float,
                     what: str, heading: str, baseline: str = "numpy"):
    """Build every implementation, gate it against the baseline, print the gate's table.

    `what` names the units the trajectory counts ("epochs", "steps"). Returns (the trainers
    that passed, notes for those that failed to build, crashed or disagreed).
    """
    trainers, notes = build(implementations, problem, only)
    passed, rows, failures = gate(trainers, trajectory, baseline, rtol)
    notes.update(failures)
    print(f"Correctness gate: {heading}.\n")
    print(agreement_table(rows, baseline, what), flush=True)
    return passed, notes


# ------------------------------------------------------------------------------ tables


def fmt_seconds(seconds: float) -> str:
    """Seconds in s, ms or µs, with three significant digits and no exponent."""
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if seconds >= scale or unit == "µs":
            value = seconds / scale
            decimals = 0 if value >= 100 else 1 if value >= 10 else 2
            return f"{value:.{decimals}f} {unit}"


def fmt_bytes(n: float) -> str:
    return f"{n / 2**20:.1f} MiB"


def markdown_table(header: list, rows: list) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def timing_table(
    timings: dict,
    baseline: str,
    per: int = 1,
    unit: str = "per run",
    notes: Optional[dict] = None,
    extra: Optional[dict] = None,
) -> str:
    """One row per implementation: median/min/max (`unit` names them) and the ratio to the baseline.

    Times are divided by `per` (e.g. the number of epochs in a run). `extra` maps a column
    title to a function of the Timing; `notes` adds rows for implementations not timed.
    """
    extra = extra or {}
    header = ["implementation", f"median {unit}", "min", "max", f"median ÷ {baseline} median"]
    header += list(extra)
    base = timings[baseline].median if baseline in timings else float("nan")
    rows = []
    for name, t in timings.items():
        row = [name] + [fmt_seconds(s / per) for s in (t.median, min(t.seconds), max(t.seconds))]
        row.append(f"{t.median / base:.2f}×")
        row += [column(t) for column in extra.values()]
        rows.append(row)
    for name, note in (notes or {}).items():
        rows.append([name, note] + [""] * (len(header) - 2))
    return markdown_table(header, rows)


def agreement_table(rows: list, baseline: str, what: str, extra: Optional[dict] = None) -> str:
    """One row per implementation: how far its losses are from the baseline's, and the verdict.

    `extra` maps a column title to a function of the implementation's name.
    """
    extra = extra or {}
    header = ["implementation", f"{what} compared", f"max relative difference vs {baseline}", "rtol", "result"]
    table = [
        [r.name, r.compared, f"{r.max_rel_diff:.1e}", f"{r.rtol:g}", "pass" if r.ok else "**FAIL**"]
        + [column(r.name) for column in extra.values()]
        for r in rows
    ]
    return markdown_table(header + list(extra), table)
