"""W4: time from a fresh process start to the first W1 gradient in hand.

Each snippet of registry.W4 runs in a new interpreter (``python -c``) after a prelude that
loads the W1 data (X, y, θ = 0) from .npy files. The clock starts just before the parent
spawns the process and stops when the child, after the snippet, reports the time; the time
the prelude spent in np.load is subtracted (it is the same for all and not part of the
gradient). Interpreter start-up and ``import numpy`` are counted: every implementation pays
them. The "python + numpy, no gradient" row shows how much that is.

Snippets that use Numba's on-disk cache run twice per repeat: first with an empty
NUMBA_CACHE_DIR (cold: compile and write the cache), then again with the same directory
(warm: load the compiled code).
"""

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks import environment, harness, problems, registry

FULL = dict(m=200_000, repeats=3)
QUICK = dict(m=20_000, repeats=1)
REPO = Path(__file__).resolve().parent.parent

PRELUDE = """\
import time as _time
import numpy as np
_start = _time.perf_counter()
X, y, theta = np.load({X!r}), np.load({y!r}), np.load({theta!r})
_load = _time.perf_counter() - _start
"""
EPILOGUE = """
import json as _json
print(_json.dumps({"end": _time.time(), "load": _load}))
"""


def importable(module: str) -> bool:
    """Whether `module` can be imported, without importing it (its parent packages are)."""
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def first_gradient_seconds(code: str, data: dict, env: dict) -> tuple:
    """Spawn one interpreter running prelude + code; return (seconds to gradient, seconds loading)."""
    program = PRELUDE.format(**data) + code + "\n" + EPILOGUE
    spawned = time.time()
    done = subprocess.run([sys.executable, "-c", program], cwd=REPO, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError((done.stderr.strip().splitlines() or ["no output"])[-1])
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return report["end"] - spawned - report["load"], report["load"]


def run(quick: bool, repeats=None, only=None, snippets=None) -> bool:
    """Print W4's table; return False if a snippet failed."""
    size = QUICK if quick else FULL
    repeats = repeats or size["repeats"]
    snippets = snippets or registry.W4
    problem = problems.logistic(size["m"])
    print(
        f"\n## W4 time to first gradient: fresh `python -c` process → first W1 gradient "
        f"(m = {problem.m:,}, {repeats} repeat(s))\n",
        flush=True,
    )
    notes, available = {}, {}
    for name, snippet in snippets.items():
        if only and name not in only and name != registry.BASELINE:
            continue
        if snippet.needs and not importable(snippet.needs):
            notes[name] = f"not installed: {snippet.needs} cannot be imported"
        else:
            available[name] = snippet

    timings, loads = {}, []
    others = environment.OtherProcesses()
    with tempfile.TemporaryDirectory(prefix="symdl-w4-") as tmp, others:
        data = {}
        for key, array in (("X", problem.X), ("y", problem.y), ("theta", np.zeros(problem.X.shape[1]))):
            data[key] = os.path.join(tmp, f"{key}.npy")
            np.save(data[key], array)
        for _ in range(repeats):  # round-robin: each repeat runs every snippet once
            for name, snippet in available.items():
                if name in notes:  # failed in an earlier repeat
                    continue
                try:
                    if snippet.numba_cache:
                        env = dict(os.environ, NUMBA_CACHE_DIR=tempfile.mkdtemp(dir=tmp))
                        runs = [(f"{name} (cold cache)", env), (f"{name} (warm cache)", env)]
                    else:
                        runs = [(name, dict(os.environ))]
                    for label, env in runs:
                        seconds, load = first_gradient_seconds(snippet.code, data, env)
                        timings.setdefault(label, harness.Timing(label)).seconds.append(seconds)
                        loads.append(load)
                except RuntimeError as error:
                    notes[name] = f"FAILED: {error}"
    print(
        harness.timing_table(timings, registry.BASELINE, unit="start → gradient", notes=notes),
        flush=True,
    )
    if loads:
        print(f"\n(np.load of the data, excluded above: median {harness.fmt_seconds(float(np.median(loads)))})")
    print(f"\n{others.note()}", flush=True)
    return not any(note.startswith("FAILED") for note in notes.values())
