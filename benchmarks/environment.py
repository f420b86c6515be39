"""Thread settings for every framework, and the header that reports them.

Why: NumPy's BLAS, Numba, PyTorch and XLA each keep their own thread pool, and each sizes it
on its own. On a 2-core machine two pools busy at once (or one pool larger than the machine)
make timings meaningless, so we size each pool deliberately to the cores we may use, and print
what was set at the top of every report.

The implementations run one after another, never at the same time, so each pool may use all
cores. Environment variables are only set if the user has not set them already, so any setting
can be overridden from the shell: ``OPENBLAS_NUM_THREADS=1 python -m benchmarks w1``.

``configure()`` must run before NumPy, Numba, PyTorch or JAX is imported; ``__main__`` calls it
first thing. PyTorch and JAX are imported only through ``import_torch()`` / ``import_jax()``,
so their own settings are applied exactly once, in one place.
"""

import datetime
import os
import platform
import sys
import time
from pathlib import Path


def usable_cores() -> int:
    """Cores this process may run on (respects taskset/cgroup affinity where Linux reports it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# The variables we set before any numerical library loads, and why:
#   OPENBLAS_NUM_THREADS  NumPy's and SciPy's OpenBLAS (SciPy's is the BLAS Numba's np.dot calls)
#   MKL_NUM_THREADS       PyTorch's CPU wheel links MKL
#   OMP_NUM_THREADS       PyTorch's OpenMP pool and Numba's 'omp' threading layer
#   NUMBA_NUM_THREADS     Numba's prange pool, whatever its threading layer
# Numba's threading layer is left to Numba (it picks 'omp' when libgomp loads, else
# 'workqueue') unless NUMBA_THREADING_LAYER is set; the header reports the one in use.
# On this machine the 'omp' layer read X about twice as fast as 'workqueue'.
# XLA (JAX) has no supported thread-count flag; its pool is sized to the cores whatever
# --threads says. XLA_FLAGS, if set, is shown in the header.
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS", "NUMBA_NUM_THREADS")


def configure(threads: int = 0) -> None:
    """Set thread-pool sizes in the environment before the numerical libraries load.

    `threads` (from ``--threads``) overrides every variable; 0 keeps the user's variables and
    fills in the rest with the number of usable cores.
    """
    for name in THREAD_VARIABLES:
        if threads:
            os.environ[name] = str(threads)
        else:
            os.environ.setdefault(name, str(usable_cores()))
    # JAX would otherwise print a warning about a missing GPU/TPU on every run.
    os.environ.setdefault("JAX_PLATFORMS", "cpu")


def torch_threads() -> int:
    """PyTorch's intra-op pool follows OMP_NUM_THREADS, so child processes agree with us."""
    return int(os.environ.get("OMP_NUM_THREADS") or usable_cores())


def load_note() -> str:
    """The machine's 1-minute load average (it includes this process's own threads)."""
    try:
        return f"machine load (1-min average) {os.getloadavg()[0]:.2f} on {usable_cores()} cores"
    except OSError:
        return "machine load: unknown"


def _cpu_seconds():
    """(CPU seconds the whole machine has been busy, CPU seconds of this process and its children)."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    user, nice, system, _idle, _iowait, irq, softirq = fields
    busy = (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")
    own = os.times()
    return busy, own.user + own.system + own.children_user + own.children_system


class OtherProcesses:
    """Measures how many cores OTHER processes kept busy while a block of timing ran.

    Why: thread pools that spin at barriers (OpenBLAS, OpenMP: NumPy, PyTorch, Numba) slow
    down far more than XLA's when another process takes a core. On this 2-core machine, with
    other jobs running, we saw NumPy and PyTorch 10× slower while JAX barely moved, so ratios
    measured under load mostly measure the load. The report says so next to each table.

        with OtherProcesses() as others:
            ... timing ...
        print(others.note())
    """

    def __enter__(self):
        self.cores = None
        try:
            self._start = _cpu_seconds()
        except (OSError, ValueError):  # no /proc/stat: not Linux
            self._start = None
        self._wall = time.monotonic()
        return self

    def __exit__(self, *exc_info):
        wall = time.monotonic() - self._wall
        if self._start is not None and wall > 0:
            busy, own = _cpu_seconds()
            others = (busy - self._start[0]) - (own - self._start[1])
            self.cores = max(others, 0.0) / wall
        return False

    def note(self) -> str:
        if self.cores is None:
            return f"_{load_note()}_"
        text = f"_other processes kept {self.cores:.2f} of {usable_cores()} cores busy during this timing_"
        if self.cores > 0.25:
            text += (
                " — **the machine was not quiet: spinning thread pools (NumPy/OpenBLAS, "
                "PyTorch/OpenMP, Numba) suffer most; re-run on a quiet machine or with --threads 1**"
            )
        return text


_torch_configured = False


def import_torch():
    """Import PyTorch with its intra-op pool = the cores and one inter-op thread.

    Raises ImportError when PyTorch is not installed; callers report that as "not installed".
    """
    global _torch_configured
    import torch

    if not _torch_configured:
        torch.set_num_threads(torch_threads())
        try:
            # We never run two torch ops concurrently, so a second inter-op pool only adds threads.
            torch.set_num_interop_threads(1)
        except RuntimeError:  # already fixed because some inter-op work ran before us
            pass
        _torch_configured = True
    return torch


def preload_torch() -> None:
    """Import PyTorch, if installed, before Numba starts its first parallel region.

    Why: Numba's 'omp' threading layer loads the system's libgomp.so.1. If that happens first,
    PyTorch's own bundled libgomp.so.1 (same soname) is never loaded and PyTorch runs on the
    system one. Measured on this machine with no other load: a W3 PyTorch step took ~7.5 ms
    instead of ~2.6 ms. Imported first, PyTorch keeps its own runtime and Numba keeps the
    system one.
    """
    try:
        import_torch()
    except ImportError:
        pass


def import_jax():
    """Import JAX with float64 enabled (W1/W2 run in float64; W3 asks for float32 explicitly)."""
    import jax

    jax.config.update("jax_enable_x64", True)
    return jax


def _version(module_name: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(module_name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _blas_name() -> str:
    """Which BLAS NumPy was built against (NumPy >= 1.25 reports it as a dict)."""
    import numpy as np

    try:
        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # older NumPy, or a build that does not report it
        return "unknown"


def _numba_threading() -> str:
    """Numba's threading layer is only decided by the first parallel call, so make one."""
    import numba
    import numpy as np

    from benchmarks.numba_kernels import read_floor

    read_floor(np.ones((8, 4)))
    return f"layer `{numba.threading_layer()}`, {numba.get_num_threads()} threads"


def header(command: str, frameworks: bool = True) -> str:
    """Markdown lines: command, date, versions and every thread setting in force.

    `frameworks=False` leaves PyTorch and JAX unimported (W6 measures this process's memory).
    """
    import numba
    import numpy as np

    lines = [
        f"- command: `{command}`",
        f"- date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"- machine: {platform.machine()}, {usable_cores()} usable cores, {platform.platform()}",
        f"- python {platform.python_version()}, numpy {np.__version__} (BLAS: {_blas_name()}), "
        f"numba {numba.__version__}, torch {_version('torch')}, jax {_version('jax')} "
        f"(jaxlib {_version('jaxlib')})",
        "- threads: "
        + ", ".join(f"{name}={os.environ.get(name, 'unset')}" for name in THREAD_VARIABLES)
        + f"; OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}, "
        + f"GOMP_SPINCOUNT={os.environ.get('GOMP_SPINCOUNT', 'unset')} (symdl/threads.py)"
        + f"; numba: {_numba_threading()}",
        f"- {load_note()}",
    ]
    try:
        if not frameworks:
            raise ImportError
        torch = import_torch()
        lines.append(
            f"- torch: set_num_threads({torch.get_num_threads()}), "
            f"set_num_interop_threads({torch.get_num_interop_threads()})"
        )
    except ImportError:
        pass
    try:
        if not frameworks:
            raise ImportError
        jax = import_jax()
        lines.append(
            f"- jax: devices {[str(d) for d in jax.devices()]}, x64 enabled, "
            f"XLA_FLAGS={os.environ.get('XLA_FLAGS', 'unset')} (XLA sizes its pool to the cores)"
        )
    except ImportError:
        pass
    lines.append(f"- interpreter: `{sys.executable}`")
    return "\n".join(lines)
