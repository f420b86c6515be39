"""W2 (doc 001): 2 → H sigmoid → 1 sigmoid on two moons, full-batch GD, 50 epochs, lr 1.0.

Run for H = 16, 64 and 256. At H = 256 the loss rises with lr 1.0, in every implementation:
it is timed all the same, and the loss trajectories of the timed runs are compared epoch by
epoch (rtol 1e-6), which shows that the implementations agree even while diverging.
"""

from functools import partial

from benchmarks import environment, harness, problems, registry, symdl_fit
from benchmarks.w1_logistic import _add_fit
from benchmarks.interfaces import train_full_batch

FULL = dict(m=100_000, repeats=3)
QUICK = dict(m=5_000, repeats=2)
HIDDEN = (16, 64, 256)
GATE_EPOCHS = 3
GATE_RTOL = 1e-9
TRAJECTORY_RTOL = 1e-6


def run(quick: bool, repeats=None, only=None) -> bool:
    """Print W2's tables for each H; return False if any implementation failed or disagreed."""
    size = QUICK if quick else FULL
    repeats = repeats or size["repeats"]
    ok = True
    for hidden in HIDDEN:
        ok &= _run_one(problems.two_layer(hidden, size["m"]), repeats, only)
    return ok


def _run_one(problem, repeats, only) -> bool:
    epochs = problem.epochs
    print(
        f"\n## W2 two-layer sigmoid net: H = {problem.hidden}, m = {len(problem.c):,} two-moons "
        f"points, {epochs} epochs, lr {problem.lr}, float64\n",
        flush=True,
    )
    passed, notes = harness.checked_trainers(
        registry.W2, problem, only, lambda t: train_full_batch(t, GATE_EPOCHS)[0], GATE_RTOL,
        "epochs", f"mean loss of the first {GATE_EPOCHS} epochs vs NumPy", registry.BASELINE)

    candidates = {name: partial(train_full_batch, t, epochs) for name, t in passed.items()}
    _add_fit(candidates, notes, passed, symdl_fit.w2(problem), epochs)
    with environment.OtherProcesses() as others:
        timings = harness.time_interleaved(candidates, repeats)
    print(f"\nTime per epoch ({repeats} interleaved repeats of {epochs} epochs after 1 warm-up).\n")
    print(harness.timing_table(timings, registry.BASELINE, per=epochs, unit="per epoch", notes=notes))
    timings.pop(symdl_fit.FIT, None)  # gated on its own: its history is J after each update
    print(f"\n{others.note()}", flush=True)

    # Every timed run returned (losses, final parameters): compare the whole trajectories.
    losses = {name: t.result[0] for name, t in timings.items()}
    trajectory_rows = harness.compare(losses[registry.BASELINE], losses, TRAJECTORY_RTOL)
    print(f"\nLoss trajectories of the timed runs, all {epochs} epochs vs NumPy.\n")
    print(
        harness.agreement_table(
            trajectory_rows,
            registry.BASELINE,
            "epochs",
            extra={
                "loss, epoch 1": lambda name: f"{losses[name][0]:.6f}",
                f"loss, epoch {epochs}": lambda name: f"{losses[name][-1]:.6f}",
            },
        ),
        flush=True,
    )
    ok = all(row.ok for row in trajectory_rows)
    return ok and not any(note.startswith("FAILED") for note in notes.values())
