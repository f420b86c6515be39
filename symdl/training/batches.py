"""Mini-batches: the rows of each step of a first-order rule, shuffled every epoch.

`batches` yields them as fresh arrays (chunked training takes them from one chunk at a time);
`Batches` gathers them into buffers made once, so that an epoch of many small batches
allocates nothing; `SparseBatches` gathers CSR rows, for sparse x (`CsrRows`, the `_csr`
kernels) and for a model with a sparse-input kernel (SPEC["sparse_input"]: a network whose
first layer reads x, as MNIST's does). Either carries the rows' sample weights when given.
"""

from __future__ import annotations

import numba
import numpy as np

from symdl.training.inputs import CsrRows, input_arrays, sample_count


def batches(x, y, batch_size, rng, weights=None):
    """The whole data set once (gradient descent), or shuffled mini-batches covering it:
    (x, y) each, or (x, y, the rows' weights) when `weights` are given."""
    if x is None or batch_size is None or batch_size >= sample_count(x):
        yield (x, y) if weights is None else (x, y, weights)
        return
    order = rng.permutation(sample_count(x))
    for start in range(0, len(order), batch_size):
        chosen = order[start:start + batch_size]
        rows = tuple(np.ascontiguousarray(a[chosen]) for a in input_arrays(x))
        batch = (rows if isinstance(x, tuple) else rows[0], np.ascontiguousarray(y[chosen]))
        yield batch if weights is None else batch + (np.ascontiguousarray(weights[chosen]),)


SPARSE_DENSITY = 0.5


SPARSE_THREADS = 1


def sparse_pays(x) -> bool:
    """Whether the sparse-input kernel beats the dense one: at most SPARSE_DENSITY of x is
    non-zero and Numba runs on at most SPARSE_THREADS threads.

    Its first layer is a serial loop over the non-zero inputs, while the dense kernel's two
    large products run on every BLAS thread. Measured on W3 (MNIST, 19% non-zero,
    benchmarks/README.md): on one thread the sparse epoch took 362 ms against 485 ms dense;
    on two, 165 ms against 119 ms.
    """
    return (numba.get_num_threads() <= SPARSE_THREADS
            and np.count_nonzero(x) <= SPARSE_DENSITY * x.size)


class Batches:
    """Shuffled mini-batches of (x, y) copied into buffers made once, not per batch.

    The order is `rng.permutation(m)` each epoch, as `batches` draws it, so both give the
    same batches from the same seed. Each batch is (rows, kernel data arguments): the same
    rows of every data tensor (x may be a tuple of them), then of the target, then of the
    samples' `weights` when given (the weighted kernels' last argument). With `compiled`
    False the rows are gathered by `np.take` instead of the compiled loop, for a job on the
    NumPy tier that should compile nothing (a few µs more per batch, against ~1 s of
    compiling per array type).
    """

    def __init__(self, x, y, batch_size, weights=None, compiled=True):
        self.arrays = (input_arrays(x) + (() if y is None else (y,))
                       + (() if weights is None else (weights,)))
        self.rows, self.size = len(self.arrays[0]), int(batch_size)
        self.buffers = [np.empty((self.size,) + a.shape[1:], a.dtype) for a in self.arrays]
        self.gather = _gather_rows if compiled else _take_rows

    def epoch(self, rng):
        order = rng.permutation(self.rows)
        for start in range(0, self.rows, self.size):
            count = min(self.size, self.rows - start)
            for array, buffer in zip(self.arrays, self.buffers):
                self.gather(array, order, start, buffer)
            yield count, tuple(buffer[:count] for buffer in self.buffers)


class SparseBatches(Batches):
    """The same batches with x as CSR rows: (values, columns, row starts) of its non-zeros,
    then the rows of y and of the weights. x is `CsrRows` (sparse x as the user gave it) or
    dense x, whose non-zeros are found here."""

    def __init__(self, x, y, batch_size, weights=None):
        if not isinstance(x, CsrRows):
            nonzero = x != 0
            starts = np.concatenate([[0], np.cumsum(nonzero.sum(axis=1))]).astype(np.int64)
            x = CsrRows(x[nonzero], np.nonzero(nonzero)[1].astype(np.int64), starts, x.shape[1])
        self.rows, self.size = len(x), int(batch_size)
        self.values, self.columns, self.starts = x.arrays
        self.arrays = [a for a in (y, weights) if a is not None]
        self.buffers = [np.empty((self.size,) + a.shape[1:], a.dtype) for a in self.arrays]
        widest = int(np.max(np.diff(self.starts), initial=0))
        self.value_buffer = np.empty(self.size * widest, x.dtype)
        self.column_buffer = np.empty(self.size * widest, np.int64)
        self.start_buffer = np.empty(self.size + 1, np.int64)

    def epoch(self, rng):
        order = rng.permutation(self.rows)
        for start in range(0, self.rows, self.size):
            count = min(self.size, self.rows - start)
            used = _gather_csr(self.values, self.columns, self.starts, order, start, count,
                               self.value_buffer, self.column_buffer, self.start_buffer)
            for array, buffer in zip(self.arrays, self.buffers):
                _gather_rows(array, order, start, buffer)
            yield count, (self.value_buffer[:used], self.column_buffer[:used],
                          self.start_buffer[:count + 1], *(b[:count] for b in self.buffers))


@numba.njit(cache=True)
def _gather_csr(values, columns, starts, order, start, count, out_values, out_columns,
                out_starts):
    """The CSR rows order[start:start + count] copied into the out buffers; returns their nnz."""
    used = 0
    out_starts[0] = 0
    for k in range(count):
        row = order[start + k]
        for e in range(starts[row], starts[row + 1]):
            out_values[used] = values[e]
            out_columns[used] = columns[e]
            used += 1
        out_starts[k + 1] = used
    return used


def _take_rows(source, order, start, out):
    """`_gather_rows` in NumPy."""
    count = min(out.shape[0], order.shape[0] - start)
    np.take(source, order[start:start + count], axis=0, out=out[:count])


@numba.njit(cache=True)
def _gather_rows(source, order, start, out):
    """out[k] = source[order[start + k]] for the rows that remain (at most len(out))."""
    count = min(out.shape[0], order.shape[0] - start)
    for k in range(count):
        out[k] = source[order[start + k]]
