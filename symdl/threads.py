"""How symdl's kernels share the cores: OpenMP threads that sleep when they have no work.

Numba runs a kernel's `prange` loop on its threading layer, on Linux by default OpenMP
(libgomp). After each parallel region libgomp's idle threads spin for a while before they
sleep, which is fastest on an otherwise idle machine and takes the cores from everything
else — the process's own serial work included — when other processes want them. Measured
side by side (`python -m benchmarks.threading`, benchmarks/README.md), W1's fused
loss-and-gradient kernel (200k × 32) took 15.5 ms per call with the default and 8.2 ms with
`OMP_WAIT_POLICY=passive` at a load of 2.3–3.6 on 2 cores. A symdl kernel parallelises only
above one chunk of rows (16,384), where a call lasts a millisecond or more, so waking a
sleeping thread (microseconds) costs nothing that shows.

So symdl asks OpenMP to wait passively unless the user has chosen (OMP_WAIT_POLICY or
GOMP_SPINCOUNT set). libgomp reads this once, when it loads, which is at the first parallel
kernel unless another library (PyTorch, say) loaded it first; then its setting stands.
"""

import contextlib
import os

CHOSEN_BY_THE_USER = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")


def configure() -> None:
    """Set OMP_WAIT_POLICY=passive for this process and its children, unless already chosen."""
    if not any(name in os.environ for name in CHOSEN_BY_THE_USER):
        os.environ["OMP_WAIT_POLICY"] = "passive"


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
def serial_blas():
    """BLAS on one thread inside; yields a context manager that gives the kernels theirs back.

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
    with blas.limit(limits=1):
        yield lambda: blas.limit(limits=threads)
