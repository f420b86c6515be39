"""The symbolic side: how long `symdl generate` takes, and how big the derived gradient is.

    python -m benchmarks.symbolic

Two numbers from the issue:
* `symdl generate` for every derivation, cold (a fresh process, nothing imported yet);
* the operation count after CSE of the two-layer network's gradient (001) for H = 2, 16, 64.
  symdl derives through named intermediates, so its per-sample gradient is a fixed set of
  element formulas applied H times: the count is (per-unit count)·H + (count outside the
  loops), linear in H by construction. The fully substituted loss, differentiated for every
  parameter and then CSE'd, is shown beside it for contrast.
"""

import subprocess
import sys
import time

import sympy as sp

from symdl.derive import Derived, explicit_instance
from symdl.functions import explicit
from symdl.sources import load_derivation

GENERATE_COLD = (
    "import time; t = time.perf_counter()\n"
    "from symdl.generate import files\n"
    "expected = files.expected_files()\n"
    "print(len(expected), time.perf_counter() - t)\n"
)


def generate_cold_seconds() -> tuple[int, float, float]:
    """(models, seconds inside the process, seconds including interpreter start)."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", GENERATE_COLD], capture_output=True, text=True,
                          check=True)
    count, inside = done.stdout.split()
    return int(count), float(inside), time.perf_counter() - started


def structured_operation_count(hidden: int, inputs: int = 2) -> int:
    """Operations per sample in symdl's backward pass for H hidden units.

    The element formulas (δz⁽²⁾, δz⁽¹⁾_k, ...) are counted after CSE; the affine maps add
    what their loops do: δW_kj += δz_k·x_j is 2 operations per weight, δb_k += δz_k one,
    and δa_k = θ⁽²⁾_k·δz⁽²⁾ one per unit.
    """
    derived = Derived(load_derivation("two_layer_network"))
    per_unit = [a.local for a in derived.adjoints if not a.tensor.is_scalar]
    per_unit += [g.local for g in derived.gradients if not g.param.is_scalar and g.local != 0]
    once = [a.local for a in derived.adjoints if a.tensor.is_scalar]
    once += [g.local for g in derived.gradients if g.param.is_scalar and g.local != 0]
    unit_ops = sp.count_ops(sp.cse(per_unit)) if per_unit else 0
    once_ops = sp.count_ops(sp.cse(once)) if once else 0
    for gradient in derived.gradients:
        for step in gradient.as_weight:
            unit_ops += 2 * (inputs if not step.out.is_scalar else 1)
        for step in gradient.as_bias:
            if step.out.is_scalar:
                once_ops += 1
            else:
                unit_ops += 1
    unit_ops += sum(len(a.through) for a in derived.adjoints if not a.tensor.is_scalar)
    return unit_ops * hidden + once_ops


def substituted_operation_count(hidden: int) -> int:
    """Operations after CSE of ∂ℓ/∂p for every p, differentiating the fully substituted loss."""
    model = load_derivation("two_layer_network")
    instance = explicit_instance(model, {d: (2 if d != "H" else hidden)
                                         for t in model.tensors.values() for d in t.shape})
    loss = explicit(instance.loss)
    symbols = []
    for value in instance.params.values():
        symbols += list(sp.flatten(value.tolist())) if isinstance(value, sp.Array) else [value]
    gradient = [sp.diff(loss, s) for s in symbols]
    replacements, reduced = sp.cse(gradient)
    return sp.count_ops([v for _, v in replacements]) + sp.count_ops(reduced)


def main():
    count, inside, total = generate_cold_seconds()
    print(f"`symdl generate`, cold, {count} models: {inside:.1f} s in the process "
          f"({total:.1f} s with interpreter start)\n")
    print("| H | symdl: ops per sample after CSE | ops per hidden unit | fully substituted, diff + CSE | seconds for that |")
    print("|---|---|---|---|---|")
    previous = None
    for hidden in (2, 16, 64):
        structured = structured_operation_count(hidden)
        per_unit = f"{(structured - previous[1]) / (hidden - previous[0]):.0f}" if previous else "—"
        started = time.perf_counter()
        substituted = substituted_operation_count(hidden) if hidden <= 16 else None
        seconds = time.perf_counter() - started
        shown = f"{substituted}" if substituted is not None else "not attempted"
        print(f"| {hidden} | {structured} | {per_unit} | {shown} | {seconds:.1f} |", flush=True)
        previous = (hidden, structured)


if __name__ == "__main__":
    main()
