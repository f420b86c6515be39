"""Hand-written Numba kernels: the memory-read floor of W1, and a fused W1 gradient.

``read_floor`` is the fastest possible W1 epoch: it reads X once and computes nothing useful.
An epoch of gradient descent must read all of X at least once (z = Xθ and Xᵀr can share one
pass over the rows), so no W1 implementation can beat it on this machine.

``logistic_loss_and_gradient`` has exactly the signature expected from symdl's generated W1
kernel, so it runs through the same adapter (adapters.py) and the same W4 cold/warm-cache
measurement before symdl's kernel exists. It is a baseline, not a model for the generator.

All functions use ``cache=True`` (they live in a real file, so Numba can cache them) and a
fastmath subset without nnan/ninf, so NaN and inf still behave (see ENGINEERING-NOTES.md).
"""

import math

import numpy as np
from numba import njit, prange

# Lets LLVM reorder sums (SIMD) but keeps NaN/inf semantics intact.
FASTMATH = {"reassoc", "contract", "nsz", "arcp"}

# The rows are split into this many chunks whatever the thread count, so the summation order,
# and hence the result, does not depend on how many threads run.
N_CHUNKS = 64


@njit(parallel=True, fastmath=FASTMATH, cache=True)
def read_floor(X):
    """Sum every element of X in parallel: one read of X and nothing else."""
    total = 0.0
    for i in prange(X.shape[0]):
        for j in range(X.shape[1]):
            total += X[i, j]
    return total


@njit(fastmath=FASTMATH, error_model="numpy", cache=True)
def _rows_loss_and_gradient(theta, X, y, start, stop, grad):
    """Rows start..stop: return Σ(softplus(z) − y·z) and add Σ(σ(z) − y)·x into grad."""
    loss = 0.0
    for i in range(start, stop):
        z = 0.0
        for j in range(X.shape[1]):
            z += X[i, j] * theta[j]
        # softplus and sigmoid from one exponential of −|z|, which cannot overflow
        e = math.exp(-abs(z))
        if z >= 0.0:
            softplus, sig = z + math.log1p(e), 1.0 / (1.0 + e)
        else:
            softplus, sig = math.log1p(e), e / (1.0 + e)
        loss += softplus - y[i] * z
        residual = sig - y[i]
        for j in range(X.shape[1]):
            grad[j] += residual * X[i, j]
    return loss


@njit(parallel=True, cache=True)
def logistic_loss_and_gradient(theta, X, y):
    """W1 in one pass over X: return (Σ loss, Σ gradient), sums over rows as in doc 003.

    Each chunk of rows writes its gradient into its own row of `partial`; adding into one
    shared array from inside prange would race.
    """
    m, n = X.shape
    chunks = min(N_CHUNKS, m)
    partial = np.zeros((chunks, n))
    loss = 0.0
    for c in prange(chunks):
        loss += _rows_loss_and_gradient(theta, X, y, c * m // chunks, (c + 1) * m // chunks, partial[c])
    return loss, partial.sum(axis=0)
