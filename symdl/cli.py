"""The `symdl` command: derive, generate, train, check — and `all`, the whole pipeline.

    symdl list                       the derivations and their documents
    symdl derive NAME [--latex]      the derivation step by step (text, or a LaTeX document)
    symdl generate [NAME ...]        write generated/NAME.py; --check fails when stale
    symdl train NAME [options]       train on the built-in data with the generated kernels
    symdl check [NAME ...]           symbolic vs numeric vs generated, and vs the documents
    symdl all                        derive, generate and train every model; a summary table
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from symdl import __version__
from symdl.errors import DataError, SymdlError


def command_list(args):
    from symdl import sources
    from symdl.model import Model
    for source in sources.resolve_many(args.refs):
        derivation = sources.load_derivation(source)
        kind = "model" if isinstance(derivation, Model) else "derivation"
        print(f"{source.name:<28} {kind:<10} {derivation.source}")
    return 0


def command_derive(args):
    from symdl.render import render
    from symdl.sources import load_derivation
    derivation = load_derivation(args.name)
    print(render(derivation, latex=args.latex, standalone=not args.body), end="")
    return 0


def command_generate(args):
    from symdl import generate
    names = args.names or None
    if args.check:
        problems = generate.stale(names, args.out)
        for problem in problems:
            print(f"stale: {problem}")
        if problems:
            print("generated/ is stale: run `symdl generate`", file=sys.stderr)
            return 1
        print("generated/ is up to date")
        return 0
    started = time.perf_counter()
    changed = generate.write(names, args.out)
    for path in changed:
        print(f"wrote {path}")
    print(f"{len(changed)} file(s) changed in {time.perf_counter() - started:.1f} s")
    return 0


def command_train(args):
    from symdl import datafiles, train
    overrides = {k: v for k, v in {
        "epochs": args.epochs, "learning_rate": args.learning_rate,
        "optimizer": args.optimizer, "batch_size": args.batch_size}.items() if v is not None}
    spec = train.kernels(args.name).SPEC
    print(f"Training {args.name} ({spec['source']})")
    if args.scheduler and not args.data:
        raise DataError("--scheduler runs on data in a store: give --data STORE.zarr too")
    if args.data and datafiles.is_out_of_core(args.data):
        from symdl import chunked
        result = chunked.train_from_store(args.name, args.data, scheduler=args.scheduler,
                                          log=print, **overrides)
    elif args.data:
        if args.scheduler:
            raise DataError("--scheduler trains on data in a store: give --data STORE.zarr")
        data = datafiles.load(args.data, spec, args.target)
        test = datafiles.load(args.test_data, spec, args.target) if args.test_data else None
        result = train.train(args.name, data=data, test_data=test, log=print, **overrides)
    else:
        if args.test_data:
            raise DataError("--test-data needs --data: the built-in data sets bring their own "
                            "test split")
        result = train.train(args.name, dataset=args.dataset, log=print, **overrides)
    print(f"done in {result.seconds:.2f} s")
    for key, value in result.metrics.items():
        print(f"  {key}: {value:.6g}")
    for name, value in result.params.items():
        if getattr(value, "size", 1) <= 8:
            print(f"  {name} = {value}")
    return 0


def command_check(args):
    from symdl import check
    rows = check.run(args.names or None)
    report = check.table(rows)
    print(report, end="")
    if args.out:
        Path(args.out).write_text(report)
    return 1 if any(r.is_failure for r in rows) else 0


def command_all(args):
    """The main job: every derivation derived, generated, and every model trained."""
    from symdl import generate, render, train
    from symdl.generate import derivation_names, load_derivation
    from symdl.model import Model
    started = time.perf_counter()
    names = derivation_names()
    print(f"1. derive: {len(names)} derivations")
    out = Path(args.latex_dir) if args.latex_dir else None
    if out:
        out.mkdir(parents=True, exist_ok=True)
    models = []
    for name in names:
        derivation, _ = load_derivation(name)
        text = render.render(derivation)
        if out:
            (out / f"{name}.tex").write_text(render.render(derivation, latex=True))
        print(f"   {name:<28} {text.count(chr(10)):>4} lines  [{derivation.source}]")
        if isinstance(derivation, Model) and derivation.training is not None:
            models.append(name)
    print("2. generate")
    changed = generate.write(names)
    print(f"   {len(changed)} kernel file(s) changed, {len(models)} models")
    print("3. train")
    summary = []
    for name in models:
        print(f"-- {name}")
        result = train.train(name, log=print if args.verbose else None)
        summary.append((name, result))
        metrics = ", ".join(f"{k} {v:.4g}" for k, v in result.metrics.items())
        print(f"   {result.seconds:.2f} s: {metrics}")
    print()
    print("| model | document | data | optimizer | epochs | final J | metrics | seconds |")
    print("|---|---|---|---|---|---|---|---|")
    for name, result in summary:
        spec = train.kernels(name).SPEC
        t = spec["training"]
        metrics = "; ".join(f"{k} {v:.4g}" for k, v in result.metrics.items() if k != "final J")
        print(f"| {name} | {short_source(spec['source'])} "
              f"| {t['dataset'] if spec['features'] else '—'} | {t['optimizer']} | {len(result.history)} "
              f"| {result.metrics['final J']:.6g} | {metrics} | {result.seconds:.2f} |")
    print(f"\nmain job finished in {time.perf_counter() - started:.1f} s")
    return 0


def short_source(source: str) -> str:
    """'003_ff0b9f77f02ec2c2.txt §3.3 Logistic ...' -> '003 §3.3 Logistic ...', at most 48 characters."""
    text = re.sub(r"_[0-9a-f]{16}\.txt", "", source)
    return text if len(text) <= 48 else text[:47] + "…"


def parser():
    p = argparse.ArgumentParser(prog="symdl", description=__doc__.split("\n")[0])
    p.add_argument("--version", action="version", version=f"symdl {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    ls = sub.add_parser("list", help="list the derivations")
    ls.add_argument("refs", nargs="*", metavar="PATH",
                    help="derivation files or folders to list (default: the built-ins)")
    ls.set_defaults(run=command_list)
    d = sub.add_parser("derive", help="print a derivation step by step")
    d.add_argument("name", help="a built-in model name or the path to a derivation file")
    d.add_argument("--latex", action="store_true", help="a LaTeX document (align* environments)")
    d.add_argument("--body", action="store_true", help="with --latex: no preamble, just the body")
    d.set_defaults(run=command_derive)
    g = sub.add_parser("generate", help="write generated/NAME.py for every model")
    g.add_argument("names", nargs="*", metavar="MODEL",
                   help="built-in names, derivation files or folders of them (default: every "
                        "built-in model)")
    g.add_argument("--check", action="store_true", help="fail (exit 1) when generated/ is stale")
    g.add_argument("--out", metavar="DIR",
                   help="for your own models: write kernels here instead of generated/ beside "
                        "each file")
    g.set_defaults(run=command_generate)
    t = sub.add_parser("train", help="train a model on its built-in data")
    t.add_argument("name", help="a built-in model name or the path to a derivation file")
    t.add_argument("--dataset")
    t.add_argument("--epochs", type=int)
    t.add_argument("--learning-rate", "--lr", type=float, dest="learning_rate")
    t.add_argument("--optimizer", choices=["gd", "sgd", "momentum", "nesterov", "rmsprop", "adam",
                                          "lbfgs", "newton"])
    t.add_argument("--batch-size", type=int)
    t.add_argument("--data", metavar="FILE",
                   help="your own data: .npz (arrays named after the model's tensors) or .csv, "
                        "read into memory; or a Zarr store (NAME.zarr) or a folder of .npy "
                        "files, one per tensor, read chunk by chunk (needs symdl[dask])")
    t.add_argument("--target", metavar="COLUMN",
                   help="with a .csv: the target column, by header name or 0-based number "
                        "(default: the column named after the model's target, else the last)")
    t.add_argument("--test-data", metavar="FILE",
                   help="held-out data (.npz or .csv, as --data) for test metrics")
    t.add_argument("--scheduler", help="with --data: the address of a Dask scheduler, "
                                       "e.g. tcp://10.0.0.1:8786 (default: local threads)")
    t.set_defaults(run=command_train)
    c = sub.add_parser("check", help="symbolic vs numeric vs generated; and vs the documents")
    c.add_argument("names", nargs="*", metavar="MODEL",
                   help="built-in names, derivation files or folders (default: every built-in)")
    c.add_argument("--out", help="also write the table to this file")
    c.set_defaults(run=command_check)
    a = sub.add_parser("all", help="derive, generate and train every model (the main job)")
    a.add_argument("--latex-dir", help="also write each derivation as LaTeX into this folder")
    a.add_argument("--verbose", action="store_true", help="print the loss as training goes")
    a.set_defaults(run=command_all)
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except SymdlError as error:
        print(f"symdl: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
