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

import os

CHOSEN_BY_THE_USER = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")


def configure() -> None:
    """Set OMP_WAIT_POLICY=passive for this process and its children, unless already chosen."""
    if not any(name in os.environ for name in CHOSEN_BY_THE_USER):
        os.environ["OMP_WAIT_POLICY"] = "passive"
