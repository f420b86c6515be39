"""Which way Numba's threads wait between parallel regions, measured side by side.

    python -m benchmarks.threading [--rounds N]

Numba's default threading layer on Linux is OpenMP ('omp', libgomp), whose idle threads spin
for a while after each parallel region before they sleep (GOMP_SPINCOUNT, 300,000 by default);
that is fastest on an idle machine and slowest when other processes want the cores. symdl
sets GOMP_SPINCOUNT=10000 unless the user chose (symdl/threads.py). This runs the same
three kernels in fresh processes under each configuration, round-robin (so load drifts hit
them all alike):

- W1's fused loss+gradient (logistic regression, 200k × 32): one large parallel region;
- W2's (two-layer network, H = 16, 100k): a compute-bound one;
- 1,000 calls of W1's kernel on 128 rows: many tiny calls, where waking sleeping threads
  costs the most.

Reports the median over rounds of each process's median time, and the machine load.
"""

import argparse
import json
import os
import subprocess
import sys

CONFIGURATIONS = {
    "omp, libgomp's default spin (GOMP_SPINCOUNT=300000)": {"GOMP_SPINCOUNT": "300000"},
    "omp, OMP_WAIT_POLICY=passive": {"OMP_WAIT_POLICY": "passive"},
    "omp, GOMP_SPINCOUNT=10000 (symdl's default)": {},
    "omp, GOMP_SPINCOUNT=30000": {"GOMP_SPINCOUNT": "30000"},
    "workqueue": {"NUMBA_THREADING_LAYER": "workqueue"},
}
CHOICES = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "NUMBA_THREADING_LAYER")

PROBE = r'''
import json, time, numpy as np, numba
from symdl import kernels, train
from benchmarks import problems
def median_ms(call, repeats):
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter(); call(); times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1e3
w1 = problems.logistic(200_000)
k1 = kernels.load("logistic_regression")
theta = np.zeros(w1.X.shape[1])
k2 = kernels.load("two_layer_network")
w2 = problems.two_layer(16, 100_000)
p2 = [np.array(p) if np.ndim(p) else float(p) for p in w2.init_params()]
small_x, small_y = w1.X[:128].copy(), w1.y[:128].copy()
def small_calls():
    for _ in range(1000):
        k1.loss_and_gradient(theta, small_x, small_y)
found = {"W1 200k": median_ms(lambda: k1.loss_and_gradient(theta, w1.X, w1.y), 30),
         "W2 H=16": median_ms(lambda: k2.loss_and_gradient(*p2, w2.x, w2.c), 15),
         "1000 × 128 rows": median_ms(small_calls, 5)}
print(json.dumps({"layer": numba.threading_layer(), **found}))
'''


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.threading")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    results = {name: [] for name in CONFIGURATIONS}
    loads = []
    for _ in range(args.rounds):
        for name, variables in CONFIGURATIONS.items():
            loads.append(os.getloadavg()[0])
            done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                                  env={**{k: v for k, v in os.environ.items()
                                          if k not in CHOICES}, **variables})
            if done.returncode:
                sys.exit(f"{name}: the probe failed:\n{done.stderr}")
            results[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
    columns = ["W1 200k", "W2 H=16", "1000 × 128 rows"]
    print(f"{args.rounds} rounds; 1-minute load {min(loads):.1f}–{max(loads):.1f} on "
          f"{os.cpu_count()} cores\n")
    print("| configuration | layer | " + " | ".join(f"{c} (ms)" for c in columns) + " |")
    print("|---|---|" + "---|" * len(columns))
    for name, runs in results.items():
        medians = [sorted(r[c] for r in runs)[len(runs) // 2] for c in columns]
        print(f"| {name} | {runs[0]['layer']} | " + " | ".join(f"{v:.2f}" for v in medians) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
