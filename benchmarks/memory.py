"""Peak resident memory (RSS) of training W1, measured in a separate process per implementation.

Why a separate process: peak RSS is a process-wide high-water mark, and frameworks keep what
they allocate, so measurements in one shared process would contaminate each other.

What is measured: the child first trains on tiny data (imports, JIT compilation and thread
pools are then in place), then makes the W1 data, resets the kernel's high-water mark
(writing 5 to /proc/self/clear_refs, Linux), builds the implementation on that data and trains.
"peak − before" is then the memory that training on X needed beyond X itself, including any
copy of X the framework makes. Where the mark cannot be reset, the process-lifetime peak
from getrusage is reported instead and the row says so.

Run one measurement by hand:  python -m benchmarks.memory "numpy" --m 200000 --epochs 10
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

# Nothing here imports NumPy at module level: main() must set the thread variables first.
REPO = Path(__file__).resolve().parent.parent


def _status_kib(field: str) -> int:
    """A field of /proc/self/status, e.g. VmRSS (current) or VmHWM (peak), in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_bytes(resettable: bool) -> int:
    if resettable:
        return _status_kib("VmHWM") * 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def _child(name: str, m: int, epochs: int) -> dict:
    """In the child process: train W1 with implementation `name`; return the numbers."""
    import gc

    from benchmarks import problems, registry
    from benchmarks.interfaces import train_full_batch

    factory = registry.W1[name]
    train_full_batch(factory(problems.logistic(m=1_000)), 2)  # warm-up: imports, JIT, pools
    problem = problems.logistic(m)
    gc.collect()
    before = _status_kib("VmRSS") * 1024
    resettable = _reset_peak()
    train_full_batch(factory(problem), epochs)
    return {"x_bytes": problem.X.nbytes, "before": before, "peak": _peak_bytes(resettable), "resettable": resettable}


def measure_w1(name: str, m: int, epochs: int) -> dict:
    """Run the child for one implementation; returns its numbers, or {"error": ...}."""
    command = [sys.executable, "-m", "benchmarks.memory", name, "--m", str(m), "--epochs", str(epochs)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, env=os.environ.copy())
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        last_error = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"FAILED: {last_error}"}
    return json.loads(lines[-1])


def w1_table(names: list, m: int, epochs: int) -> str:
    """Markdown table: for each implementation, its peak memory while training against X's size."""
    from benchmarks import harness

    header = ["implementation", "X", "RSS before training", "peak RSS while training", "peak − before", "(peak − before) ÷ X"]
    rows = []
    for name in names:
        r = measure_w1(name, m, epochs)
        if "error" in r:
            rows.append([name, r["error"]] + [""] * 4)
            continue
        extra = r["peak"] - r["before"]
        mark = "" if r["resettable"] else " (lifetime peak: mark not resettable)"
        rows.append(
            [
                name,
                harness.fmt_bytes(r["x_bytes"]),
                harness.fmt_bytes(r["before"]),
                harness.fmt_bytes(r["peak"]) + mark,
                harness.fmt_bytes(extra),
                f"{extra / r['x_bytes']:.2f}",
            ]
        )
    return harness.markdown_table(header, rows)


def main(argv=None) -> int:
    from benchmarks import environment

    environment.configure()  # before NumPy is imported
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("implementation", help="a key of registry.W1, e.g. numpy")
    parser.add_argument("--m", type=int, default=200_000)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args(argv)
    try:
        result = _child(args.implementation, args.m, args.epochs)
    except ImportError as error:
        result = {"error": f"not installed: {error}"}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
