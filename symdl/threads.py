"""How symdl's kernels share the cores: OpenMP threads that stop spinning soon.

symdl's generated kernels start a parallel region only for data of several chunks
(docs/engineering.md, 'Threads and prange'). Numba runs a `prange` loop on its threading layer, on Linux by default OpenMP
(libgomp). After each parallel region libgomp's idle threads spin (GOMP_SPINCOUNT, 300,000
by default) before they sleep: fastest when nothing else wants the cores, and slow for
everything else — the process's own serial work included — when something does. Measured
side by side in fresh processes (`python -m benchmarks.threading`, benchmarks/README.md),
W1's fused loss-and-gradient kernel (200k × 32) took, per call:

| waiting | idle machine (load 0.8) | two busy processes beside it |
|---|---|---|
| libgomp's default (spin 300,000) | 2.01 ms | 7.98 ms |
| GOMP_SPINCOUNT=10000 | 1.95 ms | 4.25 ms |
| OMP_WAIT_POLICY=passive (no spin) | 2.29 ms | 3.81 ms |

So symdl sets GOMP_SPINCOUNT=10000 — as fast as the default on an idle machine, about twice
as fast on a busy one — unless the user has chosen (OMP_WAIT_POLICY or GOMP_SPINCOUNT set).
libgomp reads it once, when it loads, which is at the first parallel kernel unless another
library (PyTorch, say) loaded it first; then that library's setting stands.
"""

import contextlib
import os

CHOSEN_BY_THE_USER = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")
SPIN_COUNT = "10000"


def configure() -> None:
    """Set GOMP_SPINCOUNT for this process and its children, unless already chosen."""
    if not any(name in os.environ for name in CHOSEN_BY_THE_USER):
        os.environ["GOMP_SPINCOUNT"] = SPIN_COUNT


# ---- BLAS threads around SciPy's L-BFGS-B ---------------------------------------------------

_controller: list = []  # [threadpoolctl's BLAS controller, or None], filled on first use


def _blas():
    """threadpoolctl's view of the loaded BLAS libraries, made once; None without threadpoolctl."""
    if not _controller:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _controller.append(None)
        else:
            _controller.append(ThreadpoolController().select(user_api="blas"))
    return _controller[0]


@contextlib.contextmanager
def serial_blas(kernels_use_blas: bool = True):
    """BLAS on one thread inside; yields a context manager that gives the kernels theirs back
    (a no-op when the kernels call no BLAS, the rows and block layouts: 0.14 ms a switch).

    SciPy's L-BFGS-B does its own small linear algebra (a few P × 10 matrices) through the
    BLAS, and a multithreaded OpenBLAS wakes its threads for each of those tiny calls: on
    W5 (P = 32) one `setulb` step took 5.5 ms on 2 threads at load 8, next to 1–2 ms for the
    whole fused kernel pass, and a full minimisation of a 32-parameter quadratic spent 7.1 s
    in `setulb` on 2 threads against 0.02 s on one. So the minimisation runs on one BLAS
    thread and each evaluation of J and ∇J (which may call BLAS: the blas layout) on all of
    them. Needs threadpoolctl (installed with scikit-learn); without it nothing changes.
    """
    blas = _blas()
    if blas is None or not blas.lib_controllers:
        yield contextlib.nullcontext
        return
    threads = max(lib.num_threads for lib in blas.lib_controllers)
    if threads == 1:  # one thread already: nothing to switch
        yield contextlib.nullcontext
        return
    with blas.limit(limits=1):
        yield (lambda: blas.limit(limits=threads)) if kernels_use_blas else contextlib.nullcontext
