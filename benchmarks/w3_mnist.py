"""W3 (doc 002): 784 → 512 ReLU → 10 softmax on real MNIST digits, RMSprop, batch 128, float32.

Reports seconds per epoch and the accuracy reached after the timed training. The first 8,000
of the 10,000 official test images train, the last 2,000 test (the 60,000 training images
are not available here), so the accuracies are below the document's 0.9725 / 0.9586.
"""

from functools import partial

import numpy as np

from benchmarks import environment, harness, problems, registry, symdl_fit
from benchmarks.interfaces import mnist_accuracy, train_minibatch

FULL = dict(n_train=8000, n_test=2000, epochs=5, repeats=3)
QUICK = dict(n_train=2000, n_test=500, epochs=2, repeats=2)
GATE_STEPS = 10
GATE_RTOL = 1e-3  # float32: different summation orders differ in the 6th-7th digit per step


def run(quick: bool, repeats=None, only=None) -> bool:
    """Print W3's tables; return False if any implementation failed or disagreed."""
    size = QUICK if quick else FULL
    repeats = repeats or size["repeats"]
    problem = problems.mnist(size["n_train"], size["n_test"])
    problem.epochs = epochs = size["epochs"]
    steps_per_epoch = -(-len(problem.y) // problem.batch)
    print(
        f"\n## W3 MNIST 784 → 512 ReLU → 10 softmax: {len(problem.y):,} train / {len(problem.y_test):,} "
        f"test digits ({problem.source}), batch {problem.batch} ({steps_per_epoch} steps/epoch), "
        f"{epochs} epochs, RMSprop (Keras form) lr {problem.lr}, ρ {problem.rho}, eps {problem.eps}, float32\n",
        flush=True,
    )
    passed, notes = harness.checked_trainers(
        registry.W3, problem, only,
        lambda t: train_minibatch(t, problem, epochs=1, max_steps=GATE_STEPS)[0], GATE_RTOL,
        "steps", f"batch loss of the first {GATE_STEPS} steps vs NumPy", registry.BASELINE)

    candidates = {name: partial(train_minibatch, t, problem, epochs) for name, t in passed.items()}
    if "symdl" in passed:
        candidates[symdl_fit.FIT] = partial(symdl_fit.w3(problem), epochs)
        candidates[symdl_fit.FIT_DENSE] = partial(symdl_fit.w3(problem, path="dense"), epochs)
        candidates[symdl_fit.FIT_SPARSE] = partial(symdl_fit.w3(problem, path="sparse"), epochs)
    with environment.OtherProcesses() as others:
        timings = harness.time_interleaved(candidates, repeats)
        gflops = symdl_fit.sgemm_gflops()
    flops = symdl_fit.dense_epoch_flops(len(problem.y))

    def last_epoch_loss(t):
        if t.name in symdl_fit.W3_FITS:  # fit's history: the epoch's mean
            return f"{t.result[0][-1]:.4f}"
        return f"{np.mean(t.result[0][-steps_per_epoch:]):.4f}"

    reference_accuracy = mnist_accuracy(timings[registry.BASELINE].result[1], problem.x_test,
                                        problem.y_test)
    for name in symdl_fit.W3_FITS:
        if name in timings:
            got = mnist_accuracy(timings[name].result[1], problem.x_test, problem.y_test)
            if abs(got - reference_accuracy) > 0.01:
                notes[name] = f"FAILED the accuracy gate ({got:.4f} vs NumPy's {reference_accuracy:.4f})"

    def accuracy(x, y):
        return lambda t: f"{mnist_accuracy(t.result[1], x, y):.4f}"

    print(
        f"\nTime per epoch ({repeats} interleaved repeats of {epochs} epochs from the same "
        "initial weights after 1 warm-up); loss and accuracies are those of the last timed run.\n"
    )
    print(
        harness.timing_table(
            timings,
            registry.BASELINE,
            per=epochs,
            unit="per epoch",
            notes=notes,
            extra={
                "mean loss, last epoch": last_epoch_loss,
                "train accuracy": accuracy(problem.x, problem.y),
                "test accuracy": accuracy(problem.x_test, problem.y_test),
                "dense-equivalent GFLOP/s": lambda t: f"{epochs * flops / t.median / 1e9:.1f}",
            },
        ),
    )
    print(f"\nOne 2048³ float32 GEMM through NumPy's BLAS in the same run: {gflops:.1f} GFLOP/s. "
          f"An epoch is {flops / 1e9:.2f} dense GFLOP (x·W1ᵀ, h·W2ᵀ, ∂z2·W2 and the two weight "
          f"gradients); the sparse path does fewer, so its figure is dense-equivalent. "
          f"{symdl_fit.FIT} rows: accuracy gate within 0.01 of NumPy's test accuracy "
          f"({reference_accuracy:.4f}); fit shuffles with its own seed.")
    print(f"\n{others.note()}", flush=True)
    return not any(note.startswith("FAILED") for note in notes.values())
