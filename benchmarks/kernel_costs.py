"""Two properties of the generated kernels themselves, timed interleaved in one process.

    python -m benchmarks.kernel_costs

* The cheap-gradient principle: the fused loss-and-gradient kernel should cost at most 3×
  the loss-only kernel (W1 logistic regression and the W2 two-layer net, H = 64).
* Scaling of W1: time per epoch at m = 10k, 100k and 1M rows (it should be linear in m),
  with 2 threads and with 1.
"""

import numba
import numpy as np

from benchmarks import harness, problems
from symdl.generated import logistic_regression, two_layer_network


def cheap_gradient():
    print("| kernel | loss only | loss and gradient | ratio |")
    print("|---|---|---|---|")
    w1 = problems.logistic(200_000)
    theta = np.zeros(w1.X.shape[1])
    w2 = problems.two_layer(64, 100_000)
    cases = {"W1 logistic_regression, m = 200,000 × 32": (logistic_regression, (theta, w1.X, w1.y)),
             "W2 two_layer_network, H = 64, m = 100,000": (two_layer_network,
                                                            (*w2.init_params(), w2.x, w2.c))}
    for name, (module, args) in cases.items():
        timings = harness.time_interleaved({"loss": lambda: module.loss(*args),
                                            "both": lambda: module.loss_and_gradient(*args)}, 15)
        loss, both = timings["loss"].median, timings["both"].median
        print(f"| {name} | {loss * 1e3:.2f} ms | {both * 1e3:.2f} ms | {both / loss:.2f} |")


def scaling():
    """W1's loss_and_gradient at m = 10k, 100k, 1M: per-row cost, and which path ran.

    The block kernels run one chunk serially (no parallel region) below 2·ROWS_PER_CHUNK rows
    and split larger data into chunks under prange; "chunks" says which. Epochs are timed
    back to back, as training runs them (enough of them for 10M rows a repeat): the
    harness's pause and gc.collect before each timed call would evict 10k rows from the
    cache that a training loop keeps warm.
    """
    print("\n| m | path | threads | seconds per epoch (median of 10 repeats, epochs back to back) "
          "| per row |")
    print("|---|---|---|---|---|")
    for m in (10_000, 100_000, 1_000_000):
        w1 = problems.logistic(m)
        theta = np.zeros(w1.X.shape[1])
        chunks = logistic_regression._chunk_count(m)
        path = "serial (1 chunk)" if chunks == 1 else f"parallel ({chunks} chunks)"
        for threads in (2, 1):
            numba.set_num_threads(threads)
            epochs = max(1, 10_000_000 // m)

            def run(epochs=epochs):
                for _ in range(epochs):
                    logistic_regression.loss_and_gradient(theta, w1.X, w1.y)

            seconds = harness.time_interleaved({"epochs": run}, 10)["epochs"].median / epochs
            print(f"| {m:,} | {path} | {threads} | {seconds * 1e3:.3f} ms | {seconds / m * 1e9:.1f} ns |")
    numba.set_num_threads(2)


if __name__ == "__main__":
    cheap_gradient()
    scaling()
