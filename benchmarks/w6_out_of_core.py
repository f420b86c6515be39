"""W6: logistic regression, full-batch GD, on data bigger than memory (a Zarr store on disk).

m = 20,000,000 × n = 32 float64 (5.1 GB of x), written once by this module in row chunks of
262,144 (64 MiB), uncompressed, so that an epoch costs reading the store plus the kernel.
Every configuration runs in a process of its own, so each peak RSS is its own:

- symdl on Dask's local (threaded) scheduler, `train.fit` on `chunked.load(store)`;
- symdl on a 2-worker `distributed.LocalCluster` (one thread and one Numba thread per worker);
- dask-ml's `LogisticRegression`, solvers `gradient_descent` and `lbfgs`, on the same store
  and scheduler, timed per iteration as (t(1 + k iterations) − t(1 iteration)) / k;
- symdl in memory (`train.fit` on NumPy arrays) at m = 2,000,000, loaded from the store;
- symdl on the local scheduler at m = 2M, 5M and 20M (the first rows of the store), for
  linearity.

Correctness gate: at m = 2M, symdl's chunked losses equal its in-memory losses (rtol 1e-9).
The problem is W1's (mean cross-entropy, lr 0.5, θ₀ = 0): symdl's kernel sums, so its step is
0.5/m. Not a test: run with ``python -m benchmarks w6`` (``--quick``: 400,000 rows), or
``python -m benchmarks.w6_out_of_core --dask-ml-m 2000000`` to give dask-ml fewer rows.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import environment, harness

FULL = dict(m=20_000_000, linear=(2_000_000, 5_000_000, 20_000_000), in_memory=2_000_000,
            epochs=5)
QUICK = dict(m=400_000, linear=(100_000, 200_000, 400_000), in_memory=100_000, epochs=3)
N = 32
CHUNK_ROWS = 262_144
LR = 0.5
GATE_RTOL = 1e-9
CONFIGS = ("symdl local", "symdl LocalCluster (2 workers)", "dask-ml gradient_descent",
           "dask-ml lbfgs", "symdl in memory")
REPO = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------------------ the store


def _block(zeros, block_info=None):
    """Rows of the W6 problem, block by block: standard normal, column 0 the bias, then y."""
    import numpy as np

    (start, stop), _ = block_info[0]["array-location"]
    rng = np.random.default_rng([0, start])
    x = rng.standard_normal((stop - start, N + 1))
    x[:, 0] = 1.0
    theta = np.random.default_rng(0).standard_normal(N) / np.sqrt(N)
    p = 1.0 / (1.0 + np.exp(-(x[:, :N] @ theta)))
    x[:, N] = (rng.random(stop - start) < p)
    return x


def make_store(path: Path, m: int) -> float:
    """Write x (m, 32) and y (m,) to a Zarr store chunk by chunk; return the seconds it took."""
    import dask
    import dask.array as da
    import zarr

    if (path / "complete").exists():
        return 0.0
    started = time.perf_counter()
    rows = da.zeros((m, N + 1), chunks=(CHUNK_ROWS, N + 1)).map_blocks(_block, dtype=float)
    plain = {"compressors": None} if zarr.__version__ >= "3" else {"compressor": None}
    dask.compute(da.to_zarr(rows[:, :N], str(path), component="x", overwrite=True,
                            compute=False, **plain),
                 da.to_zarr(rows[:, N], str(path), component="y", overwrite=True,
                            compute=False, **plain))
    (path / "complete").write_text(f"{m} rows\n")
    return time.perf_counter() - started


# ------------------------------------------------------------------------------ one configuration


def _status_bytes(field: str = "VmHWM") -> int:
    from benchmarks.memory import _status_kib

    return _status_kib(field) * 1024


def _reset_peak() -> bool:
    from benchmarks.memory import _reset_peak as reset

    return reset()


def _epoch_ends(epochs):
    """A `log` for train.fit that timestamps the end of every epoch."""
    ends = [time.perf_counter()]
    return ends, lambda line: ends.append(time.perf_counter())


def _symdl(x, y, m, epochs, scheduler=None):
    from symdl import train

    ends, log = _epoch_ends(epochs)
    result = train.fit("logistic_regression", x, y, learning_rate=LR / m, epochs=epochs,
                       log=log, log_every=1, scheduler=scheduler)
    steps = [b - a for a, b in zip(ends[1:], ends[2:])]  # epoch 1 also validates: left out
    return steps, [j / m for _, j in result.history]


def _dask_ml(x, y, solver, epochs):
    from dask_ml.linear_model import LogisticRegression

    def fit(iterations):
        model = LogisticRegression(solver=solver, fit_intercept=False, max_iter=iterations,
                                   tol=0.0, solver_kwargs={"normalize": False})
        started = time.perf_counter()
        model.fit(x, y)
        return time.perf_counter() - started

    one, more = fit(1), fit(1 + epochs)
    return [(more - one) / epochs], []


def child(config: str, store: str, m: int, epochs: int) -> dict:
    """In a fresh process: warm up on a few rows, reset the peak-RSS mark, train, report."""
    import numpy as np

    from symdl import chunked, train

    x, y = chunked.load(store)
    x, y = x[:m], y[:m]
    train.fit("logistic_regression", x[:1000].compute(), y[:1000].compute(), epochs=1)
    result = {"config": config, "m": m, "resettable": _reset_peak()}
    before = _status_bytes("VmRSS")
    with environment.OtherProcesses() as others:
        if config == "symdl local":
            result["seconds"], result["losses"] = _symdl(x, y, m, epochs)
        elif config == "symdl in memory":
            xm, ym = np.ascontiguousarray(x.compute()), np.ascontiguousarray(y.compute())
            before, _ = _status_bytes("VmRSS"), _reset_peak()
            result["seconds"], result["losses"] = _symdl(xm, ym, m, epochs)
            result["x_bytes"] = xm.nbytes
        elif config.startswith("symdl LocalCluster"):
            from distributed import Client, LocalCluster

            with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                              dashboard_address=None, env={"NUMBA_NUM_THREADS": "1"}) as cluster, \
                    Client(cluster, set_as_default=False) as client:
                _symdl(x[:1000], y[:1000], 1000, 1, scheduler=client)  # workers warm
                client.run(_reset_peak)
                result["seconds"], result["losses"] = _symdl(x, y, m, epochs, scheduler=client)
                result["worker_peaks"] = list(client.run(_status_bytes).values())
        else:
            solver = config.split()[-1]
            result["seconds"], result["losses"] = _dask_ml(x, y, solver, epochs)
    result.update(before=before, peak=_status_bytes(), others=others.note(),
                  load=environment.load_note())
    return result


def measure(config: str, store: Path, m: int, epochs: int) -> dict:
    command = [sys.executable, "-m", "benchmarks.w6_out_of_core", "--child", config,
               "--store", str(store), "--m", str(m), "--epochs", str(epochs)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, env=os.environ.copy())
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"config": config, "m": m, "error": f"FAILED: {last}"}
    return json.loads(lines[-1])


# ------------------------------------------------------------------------------ the report


def _row(r: dict, per: str, base: float) -> list:
    if "error" in r:
        return [r["config"], f"{r['m']:,}", r["error"]] + [""] * 5
    median = statistics.median(r["seconds"])
    workers = (" + workers " + ", ".join(harness.fmt_bytes(p) for p in r["worker_peaks"])
               if r.get("worker_peaks") else "")
    return [r["config"], f"{r['m']:,}", f"{harness.fmt_seconds(median)} {per}",
            f"{median / base:.2f}×", f"{median / r['m'] * 1e9:.1f} ns",
            harness.fmt_bytes(r["peak"]) + workers, harness.fmt_bytes(r["peak"] - r["before"]),
            r["others"].strip("_").split(" — ")[0]]


HEADER = ["configuration", "rows", "median time", "÷ symdl local", "per row",
          "peak RSS", "peak − before", "machine"]


def run(quick: bool, repeats=None, only=None, store=None, dask_ml_m=None, epochs=None) -> bool:
    """Print W6's table, one row as each configuration finishes; then the gate and linearity.

    `dask_ml_m` runs dask-ml on the first rows of the store only (default: all of them).
    Returns False if a configuration failed or the gate did not pass.
    """
    import numpy as np

    size = QUICK if quick else FULL
    m, small = size["m"], size["in_memory"]
    epochs = epochs or size["epochs"]
    store = Path(store or Path(tempfile.gettempdir()) / f"symdl-w6-{m}x{N}.zarr")
    print(f"\n## W6 out of core: logistic regression GD on a Zarr store, m = {m:,} × n = {N} "
          f"float64 ({harness.fmt_bytes(m * (N + 1) * 8)} on disk), {epochs} epochs, "
          f"lr {LR} on the mean loss\n", flush=True)
    seconds = make_store(store, m)
    print(f"Store: `{store}`" + (f", written in {seconds:.0f} s" if seconds else ", reused")
          + f"; {environment.load_note()}.\n", flush=True)
    plan = [("symdl local", m), ("symdl LocalCluster (2 workers)", m),
            ("dask-ml gradient_descent", dask_ml_m or m), ("dask-ml lbfgs", dask_ml_m or m),
            ("symdl local", small), ("symdl in memory", small)]
    plan += [("symdl local", k) for k in size["linear"] if k not in (m, small)]
    plan = [(c, k) for c, k in plan if not only or c in only or c.split()[0] in only]
    print("Time per epoch (symdl: median of epochs 2.. ; dask-ml: per iteration), peak RSS "
          "of the process (and of each worker), each configuration in its own process; "
          "\"÷ symdl local\" is against symdl on the local scheduler at the same m.\n")
    print(harness.markdown_table(HEADER, []), flush=True)
    done = []
    for config, rows in plan:
        result = measure(config, store, rows, epochs)
        done.append(result)
        local = next((r for r in done if r["config"] == "symdl local" and r["m"] == rows
                      and "error" not in r), None)
        base = statistics.median(local["seconds"]) if local else float("nan")
        print(harness.markdown_table(HEADER, [_row(result, "/epoch", base)]).split("\n")[-1],
              flush=True)

    ok = all("error" not in r for r in done)
    pair = {r["config"]: r for r in done if r["m"] == small and "error" not in r}
    if "symdl local" in pair and "symdl in memory" in pair:
        gate = harness.compare(np.array(pair["symdl in memory"]["losses"]),
                               {"symdl local": pair["symdl local"]["losses"]}, GATE_RTOL)
        print(f"\nGate: chunked vs in memory at m = {small:,}, the {epochs} mean losses.\n")
        print(harness.agreement_table(gate, "symdl in memory", "epochs"))
        ok &= gate[0].ok
    linear = sorted((r["m"], statistics.median(r["seconds"])) for r in done
                    if r["config"] == "symdl local" and "error" not in r)
    print("\nLinearity, symdl local: " + ", ".join(
        f"m = {k:,}: {harness.fmt_seconds(t)} ({t / k * 1e9:.1f} ns/row)" for k, t in linear),
        flush=True)
    return ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help="run one configuration and print JSON (internal)")
    parser.add_argument("--store", help="the Zarr store (default: in the temp folder)")
    parser.add_argument("--m", type=int, default=FULL["m"])
    parser.add_argument("--epochs", type=int, help=f"epochs per run (default {FULL['epochs']})")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--dask-ml-m", type=int, help="run dask-ml on the first M rows only")
    parser.add_argument("--only", help="comma-separated configurations (or 'symdl', 'dask-ml')")
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.store, args.m, args.epochs or FULL["epochs"])))
        return 0
    only = {name.strip() for name in args.only.split(",")} if args.only else None
    return 0 if run(args.quick, only=only, store=args.store, dask_ml_m=args.dask_ml_m,
                    epochs=args.epochs) else 1


if __name__ == "__main__":
    environment.configure()  # before NumPy is imported
    sys.exit(main())
