"""W8: kernel speed on a zoo of models nobody tuned symdl for, against JAX.

Each model of benchmarks/zoo/ is a derivation file written as a user would; here beside it
is the same J in JAX, a function of the same parameters (a dict by name), the same data
tensors and the same target: the mean loss over the rows plus the penalty, as the model's
kernels compute it. For every model:

1. symdl's kernels are generated from the file into a fresh folder (so they are always the
   current generator's: `--kernels DIR` keeps them) and loaded with `symdl.kernels.load`;
2. the correctness gate: at random parameters and on the timed data, float64, symdl's fused
   `loss_and_gradient` against `jax.value_and_grad` of the JAX J (x64 enabled). For J and
   for each parameter, max |symdl − JAX| / max |JAX| must be ≤ 1e-9. A model that fails
   the gate (or that the language refuses) is reported, not timed, and the exit status is 1;
3. timing: symdl's `loss_and_gradient` against `jax.jit(jax.value_and_grad(J))`, both on
   the data already in place (NumPy arrays; JAX arrays put on the device beforehand), each
   timed run the same number of calls of each back to back (as many as fill about 50 ms,
   1 to 20; JAX blocks on each result), interleaved by the harness after warm-up, so
   compiling is not timed; median per call.

The ratio is JAX time ÷ symdl time: symdl's speed relative to JAX (above 1: symdl faster),
and the geometric mean over the timed models. The time to generate and compile, and JAX's
to trace and compile, are shown too (once, not repeated).

    python -m benchmarks.w8_zoo [--quick] [--repeats N] [--only NAMES] [--kernels DIR]
"""

from benchmarks import environment

environment.configure()  # thread settings before NumPy, Numba and JAX load
import argparse
import math
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks import harness

jax = environment.import_jax()  # float64 enabled
jnp = jax.numpy

FULL = dict(m=100_000, repeats=15)
QUICK = dict(m=10_000, repeats=5)
RUN_SECONDS = 0.05  # each timed run makes as many calls as fill about this long (1 to 20)
RTOL = 1e-9
ZOO = Path(__file__).resolve().parent / "zoo"
N, D = 8, 4  # features of x; of the gated model's second input u


# ------------------------------------------------------------------------------ the zoo


@dataclass(frozen=True)
class Entry:
    """One model: its file in zoo/, the sizes of its dimensions, its data, its J in JAX.

    `data(rng, m)` returns (the data tensors in the model's order, the target);
    `J(p, xs, y)` is the model's cost in jax.numpy, p the parameters by name.
    """

    name: str
    sizes: dict
    data: Callable
    J: Callable


def features(rng, m):
    return rng.standard_normal((m, N))


def linear_target(noise):
    """y = x·w₀ + noise: the data of the linear models."""
    def data(rng, m):
        x = features(rng, m)
        return (x,), x @ rng.standard_normal(N) * 0.5 + noise(rng, m)
    return data


def gaussian_noise(rng, m):
    return rng.standard_normal(m)


def heavy_tails(rng, m):
    return rng.standard_t(3, m)


def binary_data(rng, m):
    x = features(rng, m)
    return (x,), (rng.random(m) < 1 / (1 + np.exp(-x @ rng.standard_normal(N)))).astype(np.float64)


def class_data(rng, m):
    x = features(rng, m)
    scores = x @ rng.standard_normal((N, 5)) + rng.gumbel(size=(m, 5))
    return (x,), np.argmax(scores, axis=1).astype(np.int64)


def vector_data(rng, m):
    x = features(rng, m)
    return (x,), np.tanh(x @ rng.standard_normal((N, 3))) + 0.1 * rng.standard_normal((m, 3))


def direction_data(rng, m):
    x = features(rng, m)
    v = x @ rng.standard_normal((N, 3)) + 0.3 * rng.standard_normal((m, 3))
    return (x,), v / np.linalg.norm(v, axis=1, keepdims=True)


def gated_data(rng, m):
    x, u = features(rng, m), rng.standard_normal((m, D))
    gate = 1 / (1 + np.exp(-u @ rng.standard_normal(D)))
    return (x, u), gate * (x @ rng.standard_normal(N)) + 0.1 * rng.standard_normal(m)


def count_data(rng, m):
    x = features(rng, m)
    return (x,), rng.poisson(np.exp(0.3 * x @ rng.standard_normal(N))).astype(np.float64)


def gamma_data(rng, m):
    x = features(rng, m)
    return (x,), rng.gamma(2.0, np.exp(0.3 * x @ rng.standard_normal(N)) / 2.0)


# The same J in JAX: p the parameters by name, xs the data tensors, y the target.


def affine(h, W, b):
    return h @ W.T + b


def linear(p, x):
    return x @ p["w"] + p["b"]


def pinball_quantile(p, xs, y):
    r = y - linear(p, xs[0])
    return jnp.mean(jnp.where(r >= 0, 0.9 * r, -0.1 * r))


def relu3_vector_target(p, xs, y):
    h1 = jax.nn.relu(affine(xs[0], p["W1"], p["b1"]))
    h2 = jax.nn.relu(affine(h1, p["W2"], p["b2"]))
    return jnp.mean(jnp.sum((y - affine(h2, p["W3"], p["b3"])) ** 2, axis=1))


def softmax_weight_decay(p, xs, y):
    z = affine(xs[0], p["W"], p["b"])
    z_label = jnp.take_along_axis(z, y[:, None], axis=1)[:, 0]
    return jnp.mean(jax.nn.logsumexp(z, axis=1) - z_label) + 1e-3 * jnp.sum(p["W"] ** 2)


def gated_two_inputs(p, xs, y):
    x, u = xs
    gate = jax.nn.sigmoid(u @ p["v"] + p["c"])
    return jnp.mean((y - gate * linear(p, x)) ** 2)


def heteroscedastic_gaussian(p, xs, y):
    s = xs[0] @ p["v"] + p["c"]
    return jnp.mean(s / 2 + (y - linear(p, xs[0])) ** 2 * jnp.exp(-s) / 2)


def student_t(p, xs, y):  # ν = 3: (ν + 1)/2 = 2
    r = (y - linear(p, xs[0])) * jnp.exp(-p["log_s"])
    return jnp.mean(p["log_s"] + 2.0 * jnp.log1p(r ** 2 / 3))


def normalised_output(p, xs, y):
    z = affine(xs[0], p["W"], p["b"])
    u = z / jnp.linalg.norm(z, axis=1, keepdims=True)
    return jnp.mean(jnp.sum((y - u) ** 2, axis=1))


def attention_pooling(p, xs, y):
    x = xs[0]
    a = jax.nn.softmax(p["q"] * x, axis=1)
    return jnp.mean((y - jnp.sum(a * p["v"] * x, axis=1) - p["b"]) ** 2)


def poisson_elastic_net(p, xs, y):
    z = xs[0] @ p["theta"] + p["b"]
    penalty = 0.01 * jnp.sum(jnp.abs(p["theta"])) + 0.02 * jnp.sum(p["theta"] ** 2)
    return jnp.mean(jnp.exp(z) - y * z) + penalty


def tanh_mlp(p, xs, y):
    h = jnp.tanh(affine(xs[0], p["W"], p["b"]))
    return jnp.mean((y - h @ p["w"] - p["c"]) ** 2)


def huber_linear(p, xs, y):
    a = jnp.abs(y - linear(p, xs[0]))
    return jnp.mean(jnp.where(a <= 1, a ** 2 / 2, a - 0.5))


def gamma_glm(p, xs, y):
    z = xs[0] @ p["theta"] + p["b"]
    return jnp.mean(y * jnp.exp(-z) + z)


def deep_loop(p, xs, c):
    h = xs[0]
    for i in range(1, 7):
        h = jax.nn.softplus(affine(h, p[f"W{i}"], p[f"b{i}"]))
    z = h @ p["w_out"] + p["b_out"]
    return jnp.mean(jax.nn.softplus(z) - c * z)  # −c log σ(z) − (1 − c) log(1 − σ(z))


def scaled_noise(rng, m):
    return rng.standard_normal(m) * np.exp(0.3 * rng.standard_normal(m))


ZOO_MODELS = (
    Entry("pinball_quantile", {"n": N}, linear_target(heavy_tails), pinball_quantile),
    Entry("relu3_vector_target", {"n": N, "H1": 32, "H2": 32, "k": 3}, vector_data,
          relu3_vector_target),
    Entry("softmax_weight_decay", {"n": N, "C": 5}, class_data, softmax_weight_decay),
    Entry("gated_two_inputs", {"n": N, "d": D}, gated_data, gated_two_inputs),
    Entry("heteroscedastic_gaussian", {"n": N}, linear_target(scaled_noise),
          heteroscedastic_gaussian),
    Entry("student_t", {"n": N}, linear_target(heavy_tails), student_t),
    Entry("normalised_output", {"n": N, "k": 3}, direction_data, normalised_output),
    Entry("attention_pooling", {"n": N}, linear_target(gaussian_noise), attention_pooling),
    Entry("poisson_elastic_net", {"n": N}, count_data, poisson_elastic_net),
    Entry("tanh_mlp", {"n": N, "H": 32}, linear_target(gaussian_noise), tanh_mlp),
    Entry("huber_linear", {"n": N}, linear_target(heavy_tails), huber_linear),
    Entry("gamma_glm", {"n": N}, gamma_data, gamma_glm),
    Entry("deep_loop", {"n": N, "H": 16}, binary_data, deep_loop),
)


# ------------------------------------------------------------------------------ one model


def random_params(spec, sizes, rng) -> dict:
    """Parameters by name in SPEC order: N(0, 1/fan-in)·0.8 for arrays, N(0, 0.3²) for scalars."""
    params = {}
    for name, shape in spec["params"]:
        dims = tuple(sizes[d] for d in shape)
        if dims:
            params[name] = rng.standard_normal(dims) * 0.8 / math.sqrt(dims[-1])
        else:
            params[name] = float(rng.standard_normal() * 0.3)
    return params


@dataclass
class Outcome:
    """What happened to one model: generated, gated, timed (or why not)."""

    entry: Entry
    layout: str = ""
    generate_s: float = float("nan")  # derive + write the kernels
    compile_s: float = float("nan")  # symdl's first call
    jax_compile_s: float = float("nan")  # JAX's first call: trace + compile
    worst: tuple = ("", float("nan"))  # (J or a parameter, max relative error)
    timings: dict = None
    calls: int = 0  # calls per timed run
    failure: str = ""


def prepare(entry: Entry, m: int, rng) -> tuple:
    """Generate and load the model's kernels; its data and random parameters, both ways."""
    from symdl import kernels

    outcome = Outcome(entry)
    start = time.perf_counter()
    module = kernels.load(str(ZOO / f"{entry.name}.py"))
    outcome.generate_s = time.perf_counter() - start
    outcome.layout = module.SPEC["layout"]
    inputs, y = entry.data(rng, m)
    params = random_params(module.SPEC, entry.sizes, rng)
    args = (*params.values(), *(np.ascontiguousarray(x) for x in inputs), y)
    on_device = (jax.device_put({k: jnp.asarray(v) for k, v in params.items()}),
                 tuple(jax.device_put(x) for x in inputs), jax.device_put(y))
    return outcome, module, args, params, on_device


def gate(outcome: Outcome, module, args, params, on_device, jax_fn) -> bool:
    """symdl's loss and gradient against JAX's at the same point; the first calls compile."""
    start = time.perf_counter()
    loss, *grads = module.loss_and_gradient(*args)
    outcome.compile_s = time.perf_counter() - start
    start = time.perf_counter()
    jax_loss, jax_grads = jax.block_until_ready(jax_fn(*on_device))
    outcome.jax_compile_s = time.perf_counter() - start
    errors = {"J": relative_error(loss, jax_loss)}
    for name, grad in zip(params, grads):
        errors[f"∂J/∂{name}"] = relative_error(grad, jax_grads[name])
    outcome.worst = max(errors.items(), key=lambda item: item[1])
    if not outcome.worst[1] <= RTOL:
        outcome.failure = (f"**FAILED the gate**: {outcome.worst[0]} off by {outcome.worst[1]:.1e} "
                           f"(rtol {RTOL:g})")
        return False
    return True


def relative_error(ours, theirs) -> float:
    """max |ours − theirs| / max |theirs| over the array (nan, so failing, on a shape mismatch)."""
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    if ours.shape != theirs.shape:
        return float("nan")
    scale = np.max(np.abs(theirs)) if theirs.size else 0.0
    return float(np.max(np.abs(ours - theirs)) / scale) if scale > 0 else float(np.max(np.abs(ours)))


def time_both(module, args, on_device, jax_fn, repeats: int) -> tuple:
    """(the harness's interleaved timings, calls per timed run); both compiled already.

    Each timed run makes the same number of calls of each, back to back: as many as fill
    about RUN_SECONDS for the slower of the two (one untimed call of each measures that).
    """
    def symdl_call():
        return module.loss_and_gradient(*args)

    def jax_call():
        return jax.block_until_ready(jax_fn(*on_device))

    slowest = max(seconds_of(symdl_call), seconds_of(jax_call))
    calls = int(min(20, max(1, round(RUN_SECONDS / slowest))))

    def repeated(call):
        def run():
            for _ in range(calls):
                result = call()
            return result
        return run

    timings = harness.time_interleaved({"symdl": repeated(symdl_call), "jax": repeated(jax_call)},
                                       repeats, warmup=1, pause=0.05)
    return timings, calls


def seconds_of(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def measure(entry: Entry, m: int, repeats: int, seed: int) -> Outcome:
    rng = np.random.default_rng(seed)
    try:
        outcome, module, args, params, on_device = prepare(entry, m, rng)
    except Exception as error:  # the language refused it, or generating failed: say so
        traceback.print_exc()
        return Outcome(entry, failure=f"**FAILED to generate**: {type(error).__name__}: {error}")
    jax_fn = jax.jit(jax.value_and_grad(entry.J))
    if gate(outcome, module, args, params, on_device, jax_fn):
        outcome.timings, outcome.calls = time_both(module, args, on_device, jax_fn, repeats)
    return outcome


# ------------------------------------------------------------------------------ the report


def table(outcomes: list) -> str:
    header = ["model", "layout", "gate: max rel. error (where)", "symdl per call", "JAX per call",
              "JAX ÷ symdl", "calls per run", "symdl generate + compile", "JAX trace + compile"]
    rows = []
    for o in outcomes:
        where = f"{o.worst[1]:.1e} ({o.worst[0]})" if o.worst[0] else "—"
        if o.timings is None:
            rows.append([o.entry.name, o.layout or "—", where, o.failure] + [""] * 5)
            continue
        symdl, jax_ = o.timings["symdl"].median / o.calls, o.timings["jax"].median / o.calls
        rows.append([o.entry.name, o.layout, where, harness.fmt_seconds(symdl),
                     harness.fmt_seconds(jax_), f"**{jax_ / symdl:.2f}×**", o.calls,
                     f"{o.generate_s:.1f} s + {o.compile_s:.1f} s", f"{o.jax_compile_s:.2f} s"])
    return harness.markdown_table(header, rows)


def geometric_mean_ratio(outcomes: list) -> float:
    ratios = [o.timings["jax"].median / o.timings["symdl"].median for o in outcomes if o.timings]
    return math.exp(sum(map(math.log, ratios)) / len(ratios)) if ratios else float("nan")


def run(quick: bool, repeats=None, only=None, kernels=None) -> bool:
    size = QUICK if quick else FULL
    repeats = repeats or size["repeats"]
    entries = [e for e in ZOO_MODELS if not only or e.name in only]
    print(f"\n## W8 zoo: symdl's fused loss_and_gradient vs jax.jit(jax.value_and_grad(J)), "
          f"float64, m = {size['m']:,} rows, {repeats} timed runs of each (median per call)\n",
          flush=True)
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="symdl-w8-") as tmp:
        os.environ["SYMDL_KERNELS"] = kernels or tmp  # generated fresh, by the current generator
        others = environment.OtherProcesses()
        with others:
            for number, entry in enumerate(entries):
                print(f"  {entry.name} ...", file=sys.stderr, flush=True)
                outcomes.append(measure(entry, size["m"], repeats, seed=number))
    print(table(outcomes))
    timed = sum(o.timings is not None for o in outcomes)
    print(f"\nGeometric mean of JAX ÷ symdl over the {timed} timed models: "
          f"**{geometric_mean_ratio(outcomes):.2f}×** (above 1: symdl faster)")
    print(f"\n{others.note()}\n\n_{environment.load_note()} at the end_", flush=True)
    return all(o.timings is not None for o in outcomes)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"m = {QUICK['m']:,}, fewer repeats")
    parser.add_argument("--repeats", type=int, help="timed runs per model and implementation")
    parser.add_argument("--only", help="comma-separated model names")
    parser.add_argument("--kernels", help="generate the kernels into DIR and keep them "
                                          "(default: a temporary folder)")
    args = parser.parse_args(argv)
    only = {name.strip() for name in args.only.split(",")} if args.only else None
    unknown = sorted((only or set()) - {entry.name for entry in ZOO_MODELS})
    if unknown:
        parser.error(f"no zoo model named {', '.join(unknown)}; the models are "
                     f"{', '.join(entry.name for entry in ZOO_MODELS)}")
    command = "python -m benchmarks.w8_zoo " + " ".join(sys.argv[1:] if argv is None else argv)
    print("# symdl benchmarks: W8\n")
    print(environment.header(command.strip()), flush=True)
    return 0 if run(args.quick, args.repeats, only, args.kernels) else 1


if __name__ == "__main__":
    import symdl  # noqa: F401  its OpenMP wait policy (symdl/threads.py), before the first parallel call

    sys.exit(main())
