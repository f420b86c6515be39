"""W6: logistic regression, full-batch GD, on data bigger than memory (a Zarr store on disk).

m = 20,000,000 × n = 32 float64 (5.1 GB of x), written once by this module in row chunks of
262,144 (64 MiB), uncompressed: these normal draws compress by 5–9% at best (Blosc lz4/zstd
with shuffle) and decoding doubles the read time, so compression would cost, not save.
`stores.load` reads such a store one chunk file per task (`RawZarrChunks`).

Every row runs in ONE process, one after another, so the machine's load hits all of them
alike; symdl on the local scheduler runs before and after the dask-ml rows at the same m
and the ratios use the mean of the two. Peak RSS is this process's high-water mark reset
before each row (`/proc/self/clear_refs`), and each worker's for the cluster:

- symdl on Dask's local (threaded) scheduler, `train.fit` on `stores.load(store)`;
- symdl on a 2-worker `distributed.LocalCluster` (one thread and one Numba thread per worker);
- dask-ml's `LogisticRegression`, solvers `gradient_descent` and `lbfgs`, on the same Dask
  arrays and scheduler, timed per iteration as (t(1 + k iterations) − t(1 iteration)) / k
  with k = `--dask-ml-iterations` (default 2: a whole dask-ml fit at 20M takes hours);
- symdl in memory (`train.fit` on NumPy arrays) at m = 2,000,000, loaded from the store;
- symdl on the local scheduler at m = 2M, 5M and 20M (the first rows of the store), for
  linearity.

Correctness gate: at m = 2M, symdl's chunked losses equal its in-memory losses (rtol 1e-9).
The problem is W1's (mean cross-entropy, lr 0.5, θ₀ = 0): symdl's kernel sums, so its step is
0.5/m. Not a test: run with ``python -m benchmarks w6`` (``--quick``: 400,000 rows).
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

from benchmarks import environment, harness

FULL = dict(m=20_000_000, linear=(2_000_000, 5_000_000, 20_000_000), in_memory=2_000_000,
            epochs=5)
QUICK = dict(m=400_000, linear=(100_000, 200_000, 400_000), in_memory=100_000, epochs=3)
N = 32
CHUNK_ROWS = 262_144
LR = 0.5
GATE_RTOL = 1e-9


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


def _epoch_ends():
    """A `log` for train.fit that timestamps the end of every epoch."""
    ends = [time.perf_counter()]
    return ends, lambda line: ends.append(time.perf_counter())


def _symdl(x, y, m, epochs, scheduler=None):
    from symdl import train

    ends, log = _epoch_ends()
    result = train.fit("logistic_regression", x, y, learning_rate=LR / m, epochs=epochs,
                       log=log, log_every=1, scheduler=scheduler)
    steps = [b - a for a, b in zip(ends[1:], ends[2:])]  # epoch 1 also validates: left out
    return steps, [j / m for _, j in result.history]


def _dask_ml(x, y, solver, iterations, scheduler=None):
    import dask
    from dask_ml.linear_model import LogisticRegression

    def fit(count):
        model = LogisticRegression(solver=solver, fit_intercept=False, max_iter=count,
                                   tol=0.0, solver_kwargs={"normalize": False})
        started = time.perf_counter()
        with dask.config.set(scheduler=scheduler or "threads"):
            model.fit(x, y)
        return time.perf_counter() - started

    one, more = fit(1), fit(1 + iterations)
    return [(more - one) / iterations], []


def _cluster_row(x, y, m, epochs, result):
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None, env={"NUMBA_NUM_THREADS": "1"}) as cluster, \
            Client(cluster, set_as_default=False) as client:
        _symdl(x[:1000], y[:1000], 1000, 1, scheduler=client)  # workers warm
        client.run(_reset_peak)
        result["seconds"], result["losses"] = _symdl(x, y, m, epochs, scheduler=client)
        result["worker_peaks"] = list(client.run(_status_bytes).values())


def measure(config: str, x, y, m: int, epochs: int, iterations: int) -> dict:
    """One row, in this process: reset the peak-RSS mark, run, report time, memory, load."""
    import numpy as np

    x, y = x[:m], y[:m]
    result = {"config": config, "m": m, "resettable": _reset_peak(),
              "load": [os.getloadavg()[0]]}
    before = _status_bytes("VmRSS")
    try:
        with environment.OtherProcesses() as others:
            if config == "symdl local":
                result["seconds"], result["losses"] = _symdl(x, y, m, epochs)
            elif config == "symdl in memory":
                xm, ym = np.ascontiguousarray(x.compute()), np.ascontiguousarray(y.compute())
                before, _ = _status_bytes("VmRSS"), _reset_peak()
                result["seconds"], result["losses"] = _symdl(xm, ym, m, epochs)
                del xm, ym
            elif config.startswith("symdl LocalCluster"):
                _cluster_row(x, y, m, epochs, result)
            else:
                result["seconds"], result["losses"] = _dask_ml(x, y, config.split()[-1],
                                                               iterations)
    except Exception as error:  # a row that fails is reported, the others still run
        return {"config": config, "m": m, "error": f"FAILED: {type(error).__name__}: {error}"}
    result.update(before=before, peak=_status_bytes(), others=others.note())
    result["load"].append(os.getloadavg()[0])
    return result


# ------------------------------------------------------------------------------ the report


def _median(r: dict) -> float:
    return statistics.median(r["seconds"])


def _row(r: dict, base: float | None) -> list:
    if "error" in r:
        return [r["config"], f"{r['m']:,}", r["error"]] + [""] * 6
    median = _median(r)
    workers = (" + workers " + ", ".join(harness.fmt_bytes(p) for p in r["worker_peaks"])
               if r.get("worker_peaks") else "")
    return [r["config"], f"{r['m']:,}", harness.fmt_seconds(median),
            f"{median / base:.2f}×" if base else "", f"{median / r['m'] * 1e9:.1f} ns",
            harness.fmt_bytes(r["peak"]) + workers, harness.fmt_bytes(r["peak"] - r["before"]),
            " → ".join(f"{v:.1f}" for v in r["load"]),
            r["others"].strip("_").split(" — ")[0]]


HEADER = ["configuration", "rows", "per epoch (dask-ml: per iteration)", "÷ symdl local",
          "per row", "peak RSS", "peak − before", "load before → after", "machine"]


def plan(size: dict) -> list:
    """The rows in the order they run: dask-ml bracketed by symdl local at the same m, then
    two rounds of symdl local at every linearity size, interleaved (2M, 5M, 20M, 2M, ...)."""
    m, small = size["m"], size["in_memory"]
    rows = []
    for k in (m, small):
        rows += [("symdl local", k), ("dask-ml gradient_descent", k), ("dask-ml lbfgs", k),
                 ("symdl local", k)]
    rows += [("symdl LocalCluster (2 workers)", m), ("symdl in memory", small)]
    return rows + [("symdl local", k) for _ in range(2) for k in size["linear"]]


def run(quick: bool, repeats=None, only=None, store=None, epochs=None, iterations=2) -> bool:
    """Print W6's table, one row as each configuration finishes; then the gate and linearity.

    `repeats` is unused (the epochs are the repeats); returns False if a configuration failed or the gate did not pass.
    """
    import numpy as np

    from symdl import stores, train

    size = QUICK if quick else FULL
    m, small = size["m"], size["in_memory"]
    epochs = epochs or size["epochs"]
    store = Path(store or Path(tempfile.gettempdir()) / f"symdl-w6-{m}x{N}.zarr")
    print(f"\n## W6 out of core: logistic regression GD on a Zarr store, m = {m:,} × n = {N} "
          f"float64 ({harness.fmt_bytes(m * (N + 1) * 8)} on disk), {epochs} epochs, "
          f"lr {LR} on the mean loss\n", flush=True)
    seconds = make_store(store, m)
    print("Versions: " + ", ".join(f"{name} {_version(name)}" for name in
                                   ("dask", "distributed", "zarr", "dask-ml", "dask-glm")) + ".")
    print(f"Store: `{store}`" + (f", written in {seconds:.0f} s" if seconds else ", reused")
          + f"; {environment.load_note()}.\n", flush=True)
    x, y = stores.load(store)
    train.fit("logistic_regression", x[:1000].compute(), y[:1000].compute(), epochs=1,
              learning_rate=LR / 1000)  # kernels compiled before any row is timed
    rows = [(c, k) for c, k in plan(size) if not only or c in only or c.split()[0] in only]
    print("All rows in this one process, in this order (symdl: median of epochs 2.., epoch 1 "
          f"also checks every chunk; dask-ml: per iteration over {iterations} iterations); "
          "\"÷ symdl local\" is against the mean of symdl local's rows at the same m.\n")
    print(harness.markdown_table(HEADER, []), flush=True)
    done = [measure(config, x, y, k, epochs, iterations) for config, k in rows[:1]]
    print(harness.markdown_table(HEADER, [_row(done[0], None)]).split("\n")[-1], flush=True)
    for config, k in rows[1:]:
        done.append(measure(config, x, y, k, epochs, iterations))
        print(harness.markdown_table(HEADER, [_row(done[-1], _local(done, k))]).split("\n")[-1],
              flush=True)

    print("\nRatios, each against the mean of symdl local at the same m:")
    for r in done:
        base = _local(done, r["m"])
        if "error" not in r and r["config"] != "symdl local" and base:
            print(f"- {r['config']} at m = {r['m']:,}: {_median(r) / base:.2f}× symdl local's "
                  f"epoch")
    ok = all("error" not in r for r in done)
    pair = {r["config"]: r for r in done if r["m"] == small and "error" not in r}
    if "symdl local" in pair and "symdl in memory" in pair:
        gate = harness.compare(np.array(pair["symdl in memory"]["losses"]),
                               {"symdl local": pair["symdl local"]["losses"]}, GATE_RTOL)
        print(f"\nGate: chunked vs in memory at m = {small:,}, the {epochs} mean losses.\n")
        print(harness.agreement_table(gate, "symdl in memory", "epochs"))
        ok &= gate[0].ok
    linear = sorted({r["m"] for r in done if r["config"] == "symdl local" and "error" not in r})
    print("\nLinearity, symdl local (the median of its rows at each m, then each row's): " + "; ".join(
        f"m = {k:,}: {statistics.median(_locals(done, k)) / k * 1e9:.1f} ns/row ("
        + ", ".join(f"{t / k * 1e9:.0f}" for t in _locals(done, k)) + ")" for k in linear),
        flush=True)
    return ok


def _version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def _locals(done: list, m: int) -> list:
    """symdl local's median epoch at m, one per row so far."""
    return [_median(r) for r in done
            if r["config"] == "symdl local" and r["m"] == m and "error" not in r]


def _local(done: list, m: int) -> float | None:
    """The mean of symdl local's median epochs at m, over its rows so far."""
    times = _locals(done, m)
    return sum(times) / len(times) if times else None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="the Zarr store (default: in the temp folder)")
    parser.add_argument("--epochs", type=int, help=f"epochs per run (default {FULL['epochs']})")
    parser.add_argument("--dask-ml-iterations", type=int, default=2,
                        help="dask-ml iterations timed beyond the first (default 2)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", help="comma-separated configurations (or 'symdl', 'dask-ml')")
    args = parser.parse_args(argv)
    only = {name.strip() for name in args.only.split(",")} if args.only else None
    print(environment.header("python -m benchmarks.w6_out_of_core " + " ".join(
        sys.argv[1:] if argv is None else argv), frameworks=False), flush=True)
    return 0 if run(args.quick, only=only, store=args.store, epochs=args.epochs,
                    iterations=args.dask_ml_iterations) else 1


if __name__ == "__main__":
    environment.configure()  # before NumPy is imported
    import symdl  # noqa: F401,E402  its OpenMP wait policy (symdl/threads.py), before the header's first parallel call
    warnings.filterwarnings("ignore", "overflow encountered in exp")  # dask-glm's line search
    warnings.filterwarnings("ignore", category=FutureWarning)  # dask-glm's old config keys
    sys.exit(main())
