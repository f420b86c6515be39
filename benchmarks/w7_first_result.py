"""W7: time to first result, as a user meets it: from typing the command to its exit.

Every case is one fresh process, timed from spawning it to its exit, in a fresh temporary
folder. symdl's cases run with a NUMBA_CACHE_DIR of their own: empty for a cold case, the
one the cold case filled for a warm case. A model of examples/models/ is copied into the
folder and trained with `symdl train MODEL.py --quiet --json`, so its kernels are generated
beside it on first use, as a user would meet them; a built-in (`symdl train
logistic_regression --quiet --json`) has its kernels in the package, but with the cache
empty Numba compiles them cold too.

Beside each model, the same job written as a small JAX script and a small PyTorch script
(same data, same starting parameters, same loss, optimizer, learning rate and epochs; full
batch unless the model names a batch size), run as cold processes: JAX with its persistent
compilation cache off, PyTorch has none. Their data and starting parameters are saved to an
.npz beforehand (symdl's own data set and its initial parameters), so what they time is
import, tracing/compiling and training; symdl's command builds its data set itself (the
report lists how long that takes). Each script prints its final loss, which the table shows
beside symdl's: they did the same job when they agree to a few percent (not exactly: float
sums in another order; the scripts shuffle mini-batches with NumPy's generator of the same
seed, as symdl does). RMSprop is Keras' form (ε inside the square root) everywhere, written
out by hand in the scripts.

Then what a user pays on the way: the first use of every other optimizer (`--optimizer
NAME` after a warm run with the model's default), the first float32 data
(`train.train(..., data=(x32, y32))` against the same call with float64 data), a changed hyperparameter (λ of
logistic_weight_decay.py: by `--hyper lam=0.1`; in a copy of the file with a new default,
generated on first use; and edited in place, `symdl generate FILE` then `symdl train FILE`), and the first fit after install of a
built-in through scikit-learn's estimator, with a cold and a warm cache. Each optimizer
starts from its own copy of the built-in's warm cache, so one does not warm the next; the
float32 and λ cases run one after the other in the model's own folder and cache (Numba keys
its cache by the source file's full path, so a copied folder would start cold): float64,
float32, the copy of the file, the edit in place last.

    python -m benchmarks.w7_first_result [--quick] [--repeats N] [--only MODELS]
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks import environment

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples" / "models"
OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "lbfgs", "newton")
CHILD_ENV: dict = {}  # the environment every timed process starts from (set in main)


# ------------------------------------------------------------------------------ the jobs


@dataclass(frozen=True)
class Job:
    """One model: how symdl names it, and the same loss in JAX and PyTorch.

    `jax_loss` and `torch_loss` define J(p, x, y), p a dict of the parameters by name; the
    training loop around them comes from the model's Training settings (`loop_source`).
    """

    model: str  # a built-in name, or a file of examples/models/
    jax_loss: str
    torch_loss: str

    @property
    def is_file(self) -> bool:
        return self.model.endswith(".py")

    @property
    def label(self) -> str:
        return self.model if self.is_file else f"{self.model} (built-in)"


JOBS = (
    Job("deep_tanh_classifier.py",
        jax_loss="""
def J(p, x, y):
    h = x
    for i in (1, 2):
        h = jnp.tanh(h @ p[f"W{i}"].T + p[f"b{i}"])
    z = h @ p["w_out"] + p["b_out"]
    return jnp.mean(jax.nn.softplus(z) - y * z)
""",
        torch_loss="""
def J(p, x, y):
    h = x
    for i in (1, 2):
        h = torch.tanh(h @ p[f"W{i}"].T + p[f"b{i}"])
    z = h @ p["w_out"] + p["b_out"]
    return torch.mean(torch.nn.functional.softplus(z) - y * z)
"""),
    Job("logistic_weight_decay.py",
        jax_loss="""
def J(p, x, y):
    z = x @ p["theta"]
    return jnp.mean(jax.nn.softplus(z) - y * z) + 0.01 * jnp.sum(p["theta"] ** 2)
""",
        torch_loss="""
def J(p, x, y):
    z = x @ p["theta"]
    return torch.mean(torch.nn.functional.softplus(z) - y * z) + 0.01 * torch.sum(p["theta"] ** 2)
"""),
    Job("softmax_regression.py",
        jax_loss="""
def J(p, x, y):
    z = x @ p["W"].T + p["b"]
    return jnp.mean(jax.nn.logsumexp(z, axis=1) - jnp.take_along_axis(z, y[:, None], axis=1)[:, 0])
""",
        torch_loss="""
def J(p, x, y):
    return torch.nn.functional.cross_entropy(x @ p["W"].T + p["b"], y)
"""),
    Job("huber_regression.py",
        jax_loss="""
def J(p, x, y):
    r = jnp.abs(y - (p["a"] * x + p["b"]))
    return jnp.mean(jnp.where(r <= 1.0, r ** 2 / 2, r - 0.5))
""",
        torch_loss="""
def J(p, x, y):
    return torch.nn.functional.huber_loss(p["a"] * x + p["b"], y, delta=1.0)
"""),
    Job("logistic_regression",
        jax_loss="""
def J(p, x, y):
    z = x @ p["theta"]
    return jnp.sum(jax.nn.softplus(z) - y * z)
""",
        torch_loss="""
def J(p, x, y):
    z = x @ p["theta"]
    return torch.sum(torch.nn.functional.softplus(z) - y * z)
"""),
    Job("two_layer_network",
        jax_loss="""
def J(p, x, y):
    a = jax.nn.sigmoid(x @ p["theta1"].T + p["b1"])
    z = a @ p["theta2"] + p["b2"]
    return jnp.mean(jax.nn.softplus(z) - y * z)
""",
        torch_loss="""
def J(p, x, y):
    a = torch.sigmoid(x @ p["theta1"].T + p["b1"])
    z = a @ p["theta2"] + p["b2"]
    return torch.mean(torch.nn.functional.softplus(z) - y * z)
"""),
)
QUICK_JOBS = ("logistic_weight_decay.py", "logistic_regression")
OPTIMIZER_MODEL = "logistic_regression"  # has a Hessian, so every optimizer runs, Newton too
CHANGED_MODEL = "logistic_weight_decay.py"  # float32, λ changed
LAMBDA_BEFORE, LAMBDA_AFTER = "default=0.01", "default=0.1"  # λ, a hyperparameter


# ------------------------------------------------------------------------------ the scripts

JAX_PRELUDE = """\
import json
import numpy as np
import jax
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp

data = np.load("job.npz")
x, y = jnp.asarray(data["x"]), jnp.asarray(data["y"])
params = {k[2:]: jnp.asarray(data[k]) for k in data.files if k.startswith("p_")}
"""
TORCH_PRELUDE = """\
import json
import numpy as np
import torch

data = np.load("job.npz")
x, y = torch.from_numpy(data["x"]), torch.from_numpy(data["y"])
params = {k[2:]: torch.tensor(data[k], requires_grad=True) for k in data.files if k.startswith("p_")}
"""

# The loops, by framework and optimizer. Full-batch: J at the final parameters, as symdl's
# history records it; mini-batch: the last epoch's batch losses, weighted by batch size
# (Keras' epoch loss, which is symdl's history for mini-batches).
JAX_LOOPS = {
    "gd": """
@jax.jit
def step(p, x, y):
    g = jax.grad(J)(p, x, y)
    return jax.tree.map(lambda p, g: p - LR * g, p, g)

for _ in range(EPOCHS):
    params = step(params, x, y)
final = float(J(params, x, y))
""",
    "rmsprop": """
@jax.jit
def step(p, v, x, y):
    loss, g = jax.value_and_grad(J)(p, x, y)
    v = jax.tree.map(lambda v, g: 0.9 * v + 0.1 * g * g, v, g)
    p = jax.tree.map(lambda p, g, v: p - LR * g / jnp.sqrt(v + 1e-7), p, g, v)
    return p, v, loss

v = jax.tree.map(jnp.zeros_like, params)
if BATCH is None:
    for _ in range(EPOCHS):
        params, v, _ = step(params, v, x, y)
    final = float(J(params, x, y))
else:
    rng, m = np.random.default_rng(0), len(y)
    for _ in range(EPOCHS):
        order, final = rng.permutation(m), 0.0
        for start in range(0, m, BATCH):
            rows = order[start:start + BATCH]
            params, v, loss = step(params, v, x[rows], y[rows])
            final += float(loss) * len(rows) / m
""",
}
TORCH_LOOPS = {
    "gd": """
optimizer = torch.optim.SGD(params.values(), lr=LR)
for _ in range(EPOCHS):
    optimizer.zero_grad()
    J(params, x, y).backward()
    optimizer.step()
with torch.no_grad():
    final = float(J(params, x, y))
""",
    # Keras' RMSprop, ε inside the square root as symdl and the JAX script have it, by hand:
    # torch.optim.RMSprop puts ε outside, which made deep_tanh_classifier end at J = 0.090
    # against 0.0041 (its steps stay large where the gradients are tiny).
    "rmsprop": """
v = {k: torch.zeros_like(p) for k, p in params.items()}

def step(x, y):
    loss = J(params, x, y)
    grads = torch.autograd.grad(loss, list(params.values()))
    with torch.no_grad():
        for (k, p), g in zip(params.items(), grads):
            v[k].mul_(0.9).addcmul_(g, g, value=0.1)
            p.sub_(LR * g / torch.sqrt(v[k] + 1e-7))
    return loss

if BATCH is None:
    for _ in range(EPOCHS):
        step(x, y)
    with torch.no_grad():
        final = float(J(params, x, y))
else:
    rng, m = np.random.default_rng(0), len(y)
    for _ in range(EPOCHS):
        order, final = torch.from_numpy(rng.permutation(m)), 0.0
        for start in range(0, m, BATCH):
            rows = order[start:start + BATCH]
            final += float(step(x[rows], y[rows])) * len(rows) / m
""",
}
EPILOGUE = 'print(json.dumps({"final J": final}))\n'


def framework_script(framework: str, job: Job, settings: dict) -> str:
    """The whole script: load job.npz, define J, train as the model's settings say, print J."""
    prelude, loss, loops = ((JAX_PRELUDE, job.jax_loss, JAX_LOOPS) if framework == "jax"
                            else (TORCH_PRELUDE, job.torch_loss, TORCH_LOOPS))
    constants = (f"LR, EPOCHS, BATCH = {settings['learning_rate']!r}, {settings['epochs']!r}, "
                 f"{settings['batch_size']!r}\n")
    return prelude + constants + loss + loops[settings["optimizer"]] + EPILOGUE


def save_job_data(job: Job, ref: str, folder: Path) -> dict:
    """symdl's data set and starting parameters of the model, as job.npz; its settings.

    Run after symdl's cold case, so a user model's kernels (and SPEC) exist by then.
    """
    import numpy as np

    from symdl import datasets, kernels
    from symdl.training import inputs

    spec = kernels.load(ref).SPEC
    settings = spec["training"]
    data = datasets.load(settings["dataset"])
    dtype = np.result_type(data.x.dtype, np.float32)
    checked = inputs.model_inputs(spec, None, data.x, data.y, settings["sizes"], dtype=dtype)
    start = inputs.initial_params(spec, checked.sizes, dtype=dtype, init_scale=settings["init_scale"],
                                  init=settings["init"], initial=settings["initial"],
                                  seed=settings["seed"])
    y = data.y if data.y.dtype.kind == "i" else data.y.astype(dtype)
    arrays = {f"p_{name}": np.asarray(value, dtype=dtype) for (name, _), value in zip(spec["params"], start)}
    np.savez(folder / "job.npz", x=data.x.astype(dtype), y=y, **arrays)
    return settings


# ------------------------------------------------------------------------------ running one case


@dataclass
class Run:
    seconds: float
    final: float | None  # the final loss the process reported, if it reports one


def timed(command: list, folder: Path, cache: Path | None = None, extra_env=None) -> Run:
    """Spawn `command` in `folder` and wait for its exit; the wall time and its final J.

    `cache` is the NUMBA_CACHE_DIR (None for JAX and PyTorch). A process that fails stops
    the benchmark with its last line of stderr.
    """
    env = dict(CHILD_ENV, **(extra_env or {}))
    if cache is not None:
        env["NUMBA_CACHE_DIR"] = str(cache)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"`{' '.join(map(str, command))}` exited {done.returncode}: {last}")
    return Run(seconds, final_loss(done.stdout))


def final_loss(stdout: str):
    """The final J a process printed: symdl --json's metrics, or a script's last JSON line."""
    try:
        report = json.loads(stdout)
        return report.get("metrics", report).get("final J")
    except (json.JSONDecodeError, AttributeError):
        pass
    try:
        return json.loads(stdout.strip().splitlines()[-1]).get("final J")
    except (json.JSONDecodeError, IndexError, AttributeError):
        return None


def symdl_command(*arguments) -> list:
    """`symdl ...` as the user types it: the console script beside this interpreter."""
    script = Path(sys.executable).with_name("symdl")
    return [str(script), *arguments] if script.exists() else [sys.executable, "-m", "symdl", *arguments]


def python_snippet(code: str) -> list:
    return [sys.executable, "-c", code + "\nprint(__import__('json').dumps({'final J': final}))"]


FLOAT_FIT = """\
import numpy as np
from symdl import datasets, train
data = datasets.load("two_classes_with_bias")
x, y = data.x.astype(np.{dtype}), data.y.astype(np.{dtype})
final = train.train("{model}", data=(x, y)).history[-1][1]"""

SKLEARN_FIT = """\
from symdl import datasets
from symdl.sklearn import SymdlClassifier
data = datasets.load("two_classes_with_bias")
clf = SymdlClassifier("logistic_regression").fit(data.x[:, 1:], data.y)
final = clf.history_[-1][1]"""


# ------------------------------------------------------------------------------ one round


class Round:
    """One repeat of every case, in a temporary folder; `runs[case][column]` is a Run."""

    def __init__(self, workspace: Path, jobs: list, optimizers: tuple):
        self.workspace, self.jobs, self.optimizers = workspace, jobs, optimizers
        self.runs: dict = {}
        self.prepared: dict = {}  # model -> (folder, warm cache)
        self.failures: list = []  # what went wrong, one line each: the other cases still run

    def record(self, case: str, column: str, run: Run) -> None:
        self.runs.setdefault(case, {})[column] = run
        print(f"  {case} [{column}]: {run.seconds:.2f} s", file=sys.stderr, flush=True)

    def fresh(self, name: str) -> Path:
        return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.workspace))

    def warm_copy(self, model: str, name: str) -> tuple:
        """A fresh folder with a copy of a built-in model's warm cache, for one case of its own.

        Only for a built-in: Numba's cache is kept per source file, by its full path, so a
        copy of a user model's folder would find nothing in a copied cache.
        """
        copy = self.fresh(name)
        shutil.copytree(self.prepared[model][1], copy / "numba-cache")
        return copy, copy / "numba-cache"

    def run(self) -> None:
        steps = [(job.label, lambda job=job: self.model_cases(job)) for job in self.jobs]
        steps += [("optimizers", self.optimizer_cases), ("float32", self.float32_cases),
                  ("λ changed", self.hyperparameter_cases), ("scikit-learn", self.sklearn_cases)]
        for name, step in steps:
            try:
                step()
            except Exception as error:  # a process that failed, or kernels that did not load
                self.failures.append(f"{name}: {type(error).__name__}: {error}")
                print(f"  FAILED {self.failures[-1]}", file=sys.stderr, flush=True)

    def model_cases(self, job: Job) -> None:
        """symdl cold, then warm; the JAX and PyTorch scripts of the same job, cold."""
        folder = self.fresh(job.model.removesuffix(".py"))
        cache = folder / "numba-cache"
        if job.is_file:
            shutil.copy(EXAMPLES / job.model, folder / job.model)
        command = symdl_command("train", job.model, "--quiet", "--json")
        self.record(f"{job.label}, cold cache", "symdl", timed(command, folder, cache))
        self.record(f"{job.label}, warm cache", "symdl", timed(command, folder, cache))
        self.prepared[job.model] = folder, cache
        scripts = self.fresh(f"{job.model.removesuffix('.py')}-frameworks")
        ref = str(folder / job.model) if job.is_file else job.model
        settings = save_job_data(job, ref, scripts)
        no_cache = {"JAX_ENABLE_COMPILATION_CACHE": "false"}
        for framework in ("jax", "torch"):
            path = scripts / f"{framework}_job.py"
            path.write_text(framework_script(framework, job, settings))
            self.record(f"{job.label}, cold cache", framework,
                        timed([sys.executable, path.name], scripts, extra_env=no_cache))

    def optimizer_cases(self) -> None:
        if OPTIMIZER_MODEL not in self.prepared:
            return
        for name in self.optimizers:
            folder, cache = self.warm_copy(OPTIMIZER_MODEL, f"optimizer-{name}")
            command = symdl_command("train", OPTIMIZER_MODEL, "--optimizer", name, "--quiet", "--json")
            try:
                self.record(f"{OPTIMIZER_MODEL}: first `--optimizer {name}` (warm after its default gd)",
                            "symdl", timed(command, folder, cache))
            except RuntimeError as error:  # one rule failing leaves the others to run
                self.failures.append(f"optimizer {name}: {error}")

    def float32_cases(self) -> None:
        if CHANGED_MODEL not in self.prepared:
            return
        folder, cache = self.prepared[CHANGED_MODEL]
        for dtype, what in (("float64", "float64 data (warm)"), ("float32", "first float32 data")):
            code = FLOAT_FIT.format(dtype=dtype, model=CHANGED_MODEL)
            self.record(f"{CHANGED_MODEL}: `train.train(..., data=…)`, {what}", "symdl",
                        timed(python_snippet(code), folder, cache))

    def hyperparameter_cases(self) -> None:
        """λ from 0.01 to 0.1: by `--hyper` (a kernel argument: nothing to compile), in a copy
        of the file with the new default (generated on first use), and edited in place."""
        if CHANGED_MODEL not in self.prepared:
            return
        folder, cache = self.prepared[CHANGED_MODEL]
        text = (folder / CHANGED_MODEL).read_text()
        assert LAMBDA_BEFORE in text, f"{CHANGED_MODEL} no longer says {LAMBDA_BEFORE}"
        self.record(f"{CHANGED_MODEL}: λ 0.01 → 0.1 by `--hyper lam=0.1` (warm cache)", "symdl",
                    timed(symdl_command("train", CHANGED_MODEL, "--hyper", "lam=0.1", "--quiet",
                                        "--json"), folder, cache))
        name = CHANGED_MODEL.removesuffix(".py")
        copy = f"{name}_lambda_0_1.py"  # a derivation is named after its file
        (folder / copy).write_text(text.replace(LAMBDA_BEFORE, LAMBDA_AFTER)
                                   .replace(f'"{name}",', f'"{name}_lambda_0_1",', 1))
        self.record(f"{CHANGED_MODEL}: λ 0.01 → 0.1 in a copy of the file (warm cache)", "symdl",
                    timed(symdl_command("train", copy, "--quiet", "--json"), folder, cache))

        (folder / CHANGED_MODEL).write_text(text.replace(LAMBDA_BEFORE, LAMBDA_AFTER))
        generate = timed(symdl_command("generate", CHANGED_MODEL), folder, cache)
        train = timed(symdl_command("train", CHANGED_MODEL, "--quiet", "--json"), folder, cache)
        self.record(f"{CHANGED_MODEL}: λ 0.01 → 0.1 edited in place, `symdl generate` + `symdl train`"
                    " (warm cache)", "symdl", Run(generate.seconds + train.seconds, train.final))

    def sklearn_cases(self) -> None:
        folder = self.fresh("sklearn")
        cache = folder / "numba-cache"
        for what in ("cold cache: first fit after install", "warm cache"):
            self.record(f"`SymdlClassifier(\"logistic_regression\").fit`, {what}", "symdl",
                        timed(python_snippet(SKLEARN_FIT), folder, cache))


# ------------------------------------------------------------------------------ the report

COLUMNS = ("symdl", "jax", "torch")


def report(rounds: list) -> str:
    """The table: median seconds per case and column, the ratio to JAX, the final losses."""
    from benchmarks.harness import markdown_table

    rows = []
    cases = list(dict.fromkeys(case for r in rounds for case in r.runs))
    for case in cases:
        runs = {column: [r.runs[case][column] for r in rounds if column in r.runs.get(case, {})]
                for column in COLUMNS}
        if not runs["symdl"]:
            continue
        seconds = {column: statistics.median(run.seconds for run in found)
                   for column, found in runs.items() if found}
        if "jax" not in seconds and ", warm cache" in case:  # a JAX process is always cold
            cold = case.replace(", warm cache", ", cold cache")
            for column in ("jax", "torch"):
                found = [r.runs[cold][column].seconds for r in rounds if column in r.runs.get(cold, {})]
                if found:
                    seconds[column] = statistics.median(found)
        spread = [run.seconds for run in runs["symdl"]]
        finals = [fmt_loss(found[-1].final) if found else "—" for found in runs.values()]
        rows.append([
            case,
            f"{seconds['symdl']:.2f}" + (f" ({min(spread):.2f}–{max(spread):.2f})" if len(spread) > 1 else ""),
            f"{seconds['jax']:.2f}" if "jax" in seconds else "—",
            f"{seconds['torch']:.2f}" if "torch" in seconds else "—",
            f"{seconds['symdl'] / seconds['jax']:.2f}×" if "jax" in seconds else "—",
            " / ".join(finals) if any(f != "—" for f in finals[1:]) else finals[0],
        ])
    header = ["case", "symdl s (min–max)", "JAX s", "PyTorch s", "ratio symdl/JAX",
              "final J: symdl / JAX / PyTorch"]
    return markdown_table(header, rows)


def fmt_loss(value) -> str:
    return "—" if value is None else f"{value:.6g}"


def dataset_seconds(jobs: list) -> str:
    """How long building each job's data set takes symdl (inside its timed command)."""
    from benchmarks.harness import fmt_seconds
    from symdl import datasets, sources

    names = {}
    for job in jobs:
        path = EXAMPLES / job.model if job.is_file else job.model
        names[sources.load_derivation(sources.resolve(path)).training.dataset] = None
    parts = []
    for name in names:
        start = time.perf_counter()
        datasets.load(name)
        parts.append(f"{name} {fmt_seconds(time.perf_counter() - start)}")
    return ", ".join(parts)


def run(quick: bool, repeats=None, only=None) -> bool:
    jobs = [job for job in JOBS if (job.model in only if only else not quick or job.model in QUICK_JOBS)]
    optimizers = ("adam",) if quick else OPTIMIZERS
    repeats = repeats or (1 if quick else 2)
    print(f"\n## W7 time to first result: spawn → exit of a fresh process, {repeats} round(s)\n",
          flush=True)
    rounds = []
    others = environment.OtherProcesses()
    with tempfile.TemporaryDirectory(prefix="symdl-w7-") as tmp, others:
        for number in range(repeats):
            print(f"round {number + 1} of {repeats}", file=sys.stderr, flush=True)
            one = Round(Path(tmp) / f"round{number}", jobs, optimizers)
            one.workspace.mkdir()
            one.run()
            rounds.append(one)
    failures = sorted({line for one in rounds for line in one.failures})
    print(report(rounds))
    for line in failures:
        print(f"\n**FAILED** {line}")
    print("\nsymdl's seconds include building its data set (in the JAX and PyTorch rows it is "
          f"loaded from an .npz): {dataset_seconds(jobs)}. JAX and PyTorch keep nothing between "
          "processes here, so a warm row shows the same cold script's time.")
    print(f"\n{others.note()}\n\n_{environment.load_note()} at the end_", flush=True)
    return not failures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two models, one optimizer, one round")
    parser.add_argument("--repeats", type=int, help="rounds of every case (default 2, quick 1)")
    parser.add_argument("--only", help="comma-separated models, e.g. 'huber_regression.py,"
                                       "two_layer_network' (the optimizer, float32 and λ cases "
                                       "run when their model is among them)")
    args = parser.parse_args(argv)
    only = {name.strip() for name in args.only.split(",")} if args.only else None
    unknown = sorted((only or set()) - {job.model for job in JOBS})
    if unknown:
        parser.error(f"no W7 model named {', '.join(unknown)}; the models are "
                     f"{', '.join(job.model for job in JOBS)}")
    command = "python -m benchmarks.w7_first_result " + " ".join(sys.argv[1:] if argv is None else argv)
    print("# symdl benchmarks: W7\n")
    print(environment.header(command.strip()), flush=True)
    return 0 if run(args.quick, args.repeats, only) else 1


if __name__ == "__main__":
    environment.configure()  # thread settings every child inherits, before NumPy is imported
    CHILD_ENV.update(os.environ)  # before `import symdl` adds its OpenMP setting: each child decides
    CHILD_ENV.pop("JAX_COMPILATION_CACHE_DIR", None)
    sys.exit(main())
