"""`symdl.train.fit` end to end on W1–W3, timed beside the kernel-through-adapter rows.

A row here is what a user runs: `train.fit(model, x, y, ...)`, data validation, the trainer's
epochs and their history included. Each is gated against the NumPy reference first:

- W1, W2 (full-batch GD): fit's history holds J after each update, which is the reference's
  loss at the start of the next epoch; the first epochs must agree to GATE_RTOL.
- W3 (mini-batches): fit shuffles with its own generator, so no step lines up with the
  reference's; the gate is the test accuracy of the trained model, within 0.01 of NumPy's.
"""

import numpy as np

FIT = "symdl train.fit (end to end)"
FIT_DENSE = "symdl train.fit, dense kernel (sparse path off)"
FIT_SPARSE = "symdl train.fit, sparse-input kernel (forced)"
W3_FITS = (FIT, FIT_DENSE, FIT_SPARSE)


def _train():
    from symdl import train
    return train


def w1(problem):
    """run(epochs) -> mean loss after each epoch: full-batch GD, lr 0.5 on the mean loss."""
    train = _train()
    m = problem.m

    def run(epochs):
        result = train.fit("logistic_regression", problem.X, problem.y, optimizer="gd",
                           learning_rate=problem.lr / m, epochs=epochs)  # the kernel sums
        return np.array([j for _, j in result.history]) / m

    return run


def w2(problem):
    """W2's step (lr 1.0, the frameworks' setting) makes J rise before it falls at H = 64 and
    256, which fit's divergence watch would stop: the run asks it to warn instead."""
    import warnings
    train = _train()
    from symdl.errors import DivergenceWarning

    def run(epochs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DivergenceWarning)
            result = train.fit("two_layer_network", problem.x, problem.c, optimizer="gd",
                               learning_rate=problem.lr, epochs=epochs, divergence="warn",
                               params=[np.array(p) if np.ndim(p) else float(p)
                                       for p in problem.init_params()])
        return np.array([j for _, j in result.history])

    return run


def w3(problem, path="auto"):
    """run(epochs) -> (epoch losses, parameters): Keras RMSprop, batch 128, float32.

    path: "auto" (training.batches.sparse_pays decides), "dense" or "sparse" (forced either way)."""
    train = _train()
    from symdl.training import batches
    from symdl.optimizers import RMSprop

    def run(epochs):
        saved = batches.SPARSE_DENSITY, batches.SPARSE_THREADS
        if path == "dense":
            batches.SPARSE_DENSITY = -1.0
        elif path == "sparse":
            batches.SPARSE_DENSITY, batches.SPARSE_THREADS = 1.0, 1 << 20
        try:
            result = train.fit("mnist_mlp", problem.x, problem.y, batch_size=problem.batch,
                               optimizer=RMSprop(problem.lr, problem.rho, problem.eps),
                               epochs=epochs, params=list(problem.init_params()),
                               sizes={"H": 512, "C": 10})
        finally:
            batches.SPARSE_DENSITY, batches.SPARSE_THREADS = saved
        params = tuple(result.params[n] for n in ("W1", "b1", "W2", "b2"))
        return np.array([j for _, j in result.history]), params

    return run


def gate_full_batch(run, reference_losses, rtol):
    """max relative difference of fit's J after epochs 1..k against the reference's k+1 first."""
    k = len(reference_losses) - 1
    got = run(k)
    return float(np.max(np.abs(got - reference_losses[1:]) / np.abs(reference_losses[1:]))), k


def dense_epoch_flops(samples, n=784, hidden=512, classes=10):
    """FLOPs of one dense epoch: forward x·W1ᵀ and h·W2ᵀ, backward ∂h = ∂z2·W2 and the two
    weight gradients (the input gradient ∂x is never formed), 2 per multiply-add."""
    return 2 * samples * (2 * n * hidden + 3 * hidden * classes)


def sgemm_gflops(size=2048, repeats=5):
    """GFLOP/s of one large float32 GEMM through NumPy's BLAS (the one Numba's np.dot calls)."""
    import time
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    a @ b
    best = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best.append(time.perf_counter() - start)
    return 2 * size ** 3 / np.median(best) / 1e9
