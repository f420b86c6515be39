"""W1: logistic regression, full-batch gradient descent, 50 epochs, lr 0.5, float64.

Also times the floor (one parallel read of X per epoch and nothing else) and measures the
peak memory of training against the size of X.
"""

from functools import partial

from benchmarks import environment, harness, memory, problems, registry, symdl_fit
from benchmarks.interfaces import train_full_batch
from benchmarks.numba_kernels import read_floor

FULL = dict(m=200_000, repeats=7, memory_m=200_000, memory_epochs=10)
QUICK = dict(m=20_000, repeats=5, memory_m=200_000, memory_epochs=3)
GATE_EPOCHS = 3
GATE_RTOL = 1e-9
FLOOR = "floor: one parallel read of X (Numba prange sum)"


def run(quick: bool, repeats=None, only=None) -> bool:
    """Print W1's tables; return False if any implementation failed or disagreed."""
    size = QUICK if quick else FULL
    problem = problems.logistic(size["m"])
    epochs = problem.epochs
    X = problem.X
    print(
        f"\n## W1 logistic regression: m = {problem.m:,} × n = {X.shape[1]} float64 "
        f"(X is {harness.fmt_bytes(X.nbytes)}), {epochs} epochs, lr {problem.lr}\n",
        flush=True,
    )

    passed, notes = harness.checked_trainers(
        registry.W1, problem, only, lambda t: train_full_batch(t, GATE_EPOCHS)[0], GATE_RTOL,
        "epochs", f"mean loss of the first {GATE_EPOCHS} epochs vs NumPy", registry.BASELINE)

    candidates = {name: partial(train_full_batch, t, epochs) for name, t in passed.items()}
    _add_fit(candidates, notes, passed, symdl_fit.w1(problem), epochs)
    candidates[FLOOR] = lambda: [read_floor(X) for _ in range(epochs)]
    with environment.OtherProcesses() as others:
        timings = harness.time_interleaved(candidates, repeats or size["repeats"])
    print(
        f"\nTime per epoch ({repeats or size['repeats']} interleaved repeats of {epochs} epochs "
        "after 1 warm-up; the floor row reads X once per epoch and computes nothing).\n"
    )
    print(
        harness.timing_table(
            timings,
            registry.BASELINE,
            per=epochs,
            unit="per epoch",
            notes=notes,
            extra={"X read at (GB/s, one pass per epoch)": lambda t: f"{epochs * X.nbytes / t.median / 1e9:.1f}"},
        ),
        flush=True,
    )
    print(f"\n{others.note()}")

    print(
        f"\nPeak memory of training ({size['memory_epochs']} epochs, m = {size['memory_m']:,}), "
        "each implementation in its own process, after a warm-up on tiny data.\n",
        flush=True,
    )
    names = [name for name in registry.W1 if not only or name in only]
    print(memory.w1_table(names, size["memory_m"], size["memory_epochs"]), flush=True)
    return not any(note.startswith("FAILED") for note in notes.values())


def _add_fit(candidates, notes, passed, run, epochs):
    """symdl's train.fit as one more candidate, once its history agrees with NumPy's."""
    if "symdl" not in passed:
        notes[symdl_fit.FIT] = "not run: the symdl kernel row did not pass or was not asked for"
        return
    reference = train_full_batch(passed[registry.BASELINE], GATE_EPOCHS + 1)[0]
    try:
        difference, compared = symdl_fit.gate_full_batch(run, reference, GATE_RTOL)
    except Exception as error:  # report it, and go on with the others
        notes[symdl_fit.FIT] = f"FAILED while training: {type(error).__name__}: {error}"
        return
    verdict = "pass" if difference <= GATE_RTOL else "**FAIL**"
    print(f"\n{symdl_fit.FIT}: J after epochs 1..{compared} vs NumPy's loss at epochs "
          f"2..{compared + 1}: max rel. diff {difference:.1e} (rtol {GATE_RTOL:g}), {verdict}.")
    if difference <= GATE_RTOL:
        candidates[symdl_fit.FIT] = partial(run, epochs)
    else:
        notes[symdl_fit.FIT] = f"FAILED the correctness gate (max rel. diff {difference:.2e})"
