"""Hand-written Numba kernels: the memory-read floor of W1, and a fused W1 gradient.

``read_floor`` is the fastest possible W1 epoch: it reads X once and computes nothing useful.
An epoch of gradient descent must read all of X at least once (z = Xθ and Xᵀr can share one
pass over the rows), so no W1 implementation can beat it on this machine.

``logistic_loss_and_gradient`` has exactly the signature expected from symdl's generated W1
kernel, so it runs through the same adapter (adapters.py) and the same W4 cold/warm-cache
measurement before symdl's kernel exists. It is a baseline, not a model for the generator.

All functions use ``cache=True`` (they live in a real file, so Numba can cache them) and a
fastmath subset without nnan/ninf, so NaN and inf still behave (docs/engineering.md, 'fastmath and NaN').
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


# ---------------------------------------------------------------- blocked expert kernels
#
# HAND-WRITTEN benchmark references, never used by symdl: what an expert writes for W1 and
# W2 in Numba, against which the generated block kernels are measured (target: within 1.3×).
# Blocks of 64 rows, the element-wise work in loops over a block that LLVM vectorises (e^t
# and ln(1 + u) as polynomials here, since the llvmlite wheels have no SVML), the 2-input
# hidden layer with weights as (2, H) so the loops run over a contiguous H, and 64 fixed
# chunks with per-chunk gradient buffers.

from llvmlite import ir as _llvm_ir  # noqa: E402
from numba import njit as _njit, types as _types  # noqa: E402
from numba.extending import intrinsic as _intrinsic  # noqa: E402

BLOCK_ROWS = 64
FAST = {"reassoc", "contract", "nsz", "arcp", "afn"}


@_intrinsic
def _as_double(typingctx, bits):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], _llvm_ir.DoubleType())
    return _types.float64(_types.int64), codegen


@_njit(inline="always", fastmath=FAST, error_model="numpy")
def _exp_neg(t):
    """e^t for t <= 0: t = k ln2 + r, e^r by Taylor to r^12, 2^k from bits; 0 below −708."""
    c = max(t, -708.0)
    k = math.floor(c * 1.4426950408889634 + 0.5)
    r = c - k * 0.6931471805599453
    p = ((((((((((((1.0 / 479001600) * r + 1.0 / 39916800) * r + 1.0 / 3628800) * r
                  + 1.0 / 362880) * r + 1.0 / 40320) * r + 1.0 / 5040) * r + 1.0 / 720) * r
             + 1.0 / 120) * r + 1.0 / 24) * r + 1.0 / 6) * r + 0.5) * r + 1.0) * r + 1.0
    return p * _as_double((np.int64(k) + 1023) << 52)


@_njit(inline="always", fastmath=FAST, error_model="numpy")
def _log1p_unit(u):
    """ln(1 + u) for 0 <= u <= 1: s = u/(2 + u), 2 atanh(s) by its series to s^21."""
    s = u / (2.0 + u)
    z = s * s
    p = ((((((((((2.0 / 21) * z + 2.0 / 19) * z + 2.0 / 17) * z + 2.0 / 15) * z + 2.0 / 13) * z
               + 2.0 / 11) * z + 2.0 / 9) * z + 2.0 / 7) * z + 2.0 / 5) * z + 2.0 / 3) * z + 2.0
    return s * p


@_njit(fastmath=FAST, error_model="numpy", cache=True)
def _w1_rows(theta, X, y, start, stop, grad):
    n = X.shape[1]
    z = np.empty(BLOCK_ROWS)
    loss = 0.0
    for begin in range(start, stop, BLOCK_ROWS):
        size = min(BLOCK_ROWS, stop - begin)
        for r in range(size):
            total = 0.0
            for j in range(n):
                total += X[begin + r, j] * theta[j]
            z[r] = total
        for r in range(size):
            e = _exp_neg(-abs(z[r]))
            s = 1.0 / (1.0 + e)
            loss += max(z[r], 0.0) + _log1p_unit(e) - y[begin + r] * z[r]
            z[r] = (s if z[r] >= 0.0 else e * s) - y[begin + r]
        for r in range(size):
            d = z[r]
            for j in range(n):
                grad[j] += d * X[begin + r, j]
    return loss


@_njit(parallel=True, cache=True)
def logistic_blocked(theta, X, y):
    """W1 (hand-written, blocked): (Σ loss, Σ gradient) like logistic_loss_and_gradient."""
    m, n = X.shape
    chunks = min(N_CHUNKS, m)
    partial = np.zeros((chunks, n))
    losses = np.zeros(chunks)
    for c in prange(chunks):
        losses[c] = _w1_rows(theta, X, y, c * m // chunks, (c + 1) * m // chunks, partial[c])
    return losses.sum(), partial.sum(axis=0)


@_njit(fastmath=FAST, error_model="numpy", cache=True)
def _w2_rows(Wt, b1, w2, b2, x, c, start, stop, gWt, gb1, gw2):
    H = Wt.shape[1]
    a = np.empty((BLOCK_ROWS, H))
    dz2 = np.empty(BLOCK_ROWS)
    loss = 0.0
    gb2 = 0.0
    for begin in range(start, stop, BLOCK_ROWS):
        size = min(BLOCK_ROWS, stop - begin)
        for r in range(size):
            x0, x1 = x[begin + r, 0], x[begin + r, 1]
            for k in range(H):
                t = x0 * Wt[0, k] + x1 * Wt[1, k] + b1[k]
                e = _exp_neg(-abs(t))
                s = 1.0 / (1.0 + e)
                a[r, k] = s if t >= 0.0 else e * s
        for r in range(size):
            total = b2
            for k in range(H):
                total += a[r, k] * w2[k]
            dz2[r] = total
        for r in range(size):
            z = dz2[r]
            e = _exp_neg(-abs(z))
            s = 1.0 / (1.0 + e)
            loss += max(z, 0.0) + _log1p_unit(e) - c[begin + r] * z
            dz2[r] = (s if z >= 0.0 else e * s) - c[begin + r]
            gb2 += dz2[r]
        for r in range(size):
            x0, x1, d = x[begin + r, 0], x[begin + r, 1], dz2[r]
            for k in range(H):
                gw2[k] += d * a[r, k]
                dz1 = d * w2[k] * a[r, k] * (1.0 - a[r, k])
                gb1[k] += dz1
                gWt[0, k] += dz1 * x0
                gWt[1, k] += dz1 * x1
    return loss, gb2


@_njit(parallel=True, cache=True)
def two_layer_blocked(W1, b1, w2, b2, x, c):
    """W2 (hand-written, blocked): (Σ loss, ΣgW1, Σgb1, Σgw2, Σgb2), sums over the rows."""
    m = x.shape[0]
    H = W1.shape[0]
    Wt = np.ascontiguousarray(W1.T)
    chunks = min(N_CHUNKS, m)
    gWt = np.zeros((chunks, 2, H))
    gb1 = np.zeros((chunks, H))
    gw2 = np.zeros((chunks, H))
    losses = np.zeros(chunks)
    gb2 = np.zeros(chunks)
    for p in prange(chunks):
        losses[p], gb2[p] = _w2_rows(Wt, b1, w2, b2, x, c, p * m // chunks, (p + 1) * m // chunks,
                                     gWt[p], gb1[p], gw2[p])
    return (losses.sum(), np.ascontiguousarray(gWt.sum(axis=0).T), gb1.sum(axis=0),
            gw2.sum(axis=0), gb2.sum())
