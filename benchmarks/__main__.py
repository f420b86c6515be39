"""Command line: python -m benchmarks [w1|w2|w3|w4|w5|w6|w9|all] [--quick] [--repeats N] [--threads N] [--only NAMES].

`all` is W1-W5; W6 writes a 5 GB Zarr store first, so it runs only when named, and W9 (the
estimators' defaults against scikit-learn's) too.

Prints a markdown report on standard output; exits 1 if any implementation failed to build,
crashed, or disagreed with the NumPy reference.
"""

# Thread pools are sized when NumPy / PyTorch / JAX load, so this comes before anything else:
# --threads is read here, ahead of the full command line.
import argparse
import shlex
import sys

from benchmarks import environment

_early = argparse.ArgumentParser(add_help=False)
_early.add_argument("--threads", type=int, default=0)
environment.configure(_early.parse_known_args()[0].threads)
environment.preload_torch()  # before any Numba parallel region: see its docstring
# symdl's own thread setting (symdl/threads.py: OpenMP threads that stop spinning soon), as a user
# gets it, before Numba's OpenMP loads; PyTorch, loaded above, keeps its runtime's default.
import symdl  # noqa: E402,F401

from benchmarks import w1_logistic, w2_two_layer, w3_mnist, w4_first_gradient, w5_time_to_solution, w6_out_of_core, w9_sklearn_defaults  # noqa: E402

WORKLOADS = {
    "w1": w1_logistic.run,
    "w2": w2_two_layer.run,
    "w3": w3_mnist.run,
    "w4": w4_first_gradient.run,
    "w5": w5_time_to_solution.run,
    "w6": w6_out_of_core.run,
    "w9": w9_sklearn_defaults.run,
}
ALL = ("w1", "w2", "w3", "w4", "w5")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("workload", nargs="?", default="all", choices=[*WORKLOADS, "all"])
    parser.add_argument("--quick", action="store_true", help="smaller data and fewer repeats (< 2 minutes)")
    parser.add_argument("--repeats", type=int, help="timed repeats per implementation (default: per workload)")
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="size of every thread pool except XLA's (default: the usable cores, or the *_NUM_THREADS variables)",
    )
    parser.add_argument(
        "--only",
        help="comma-separated implementation names to run, e.g. 'numpy,symdl' (numpy, the reference, always runs)",
    )
    args = parser.parse_args(argv)
    only = None
    if args.only:
        only = {name.strip() for name in args.only.split(",")} | {"numpy"}

    command = "python -m benchmarks " + " ".join(shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    print("# symdl benchmarks\n")
    print(environment.header(command.strip()), flush=True)

    ok = True
    for name in ALL if args.workload == "all" else [args.workload]:
        ok &= WORKLOADS[name](args.quick, args.repeats, only)
    if not ok:
        print("\n**Some implementation failed or disagreed with the NumPy reference: see FAIL above.**")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
