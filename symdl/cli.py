"""The `symdl` command: derive, generate, train, check — and `all`, the whole pipeline.

    symdl list                       the derivations and their documents
    symdl derive NAME [--latex]      the derivation step by step (text, or a LaTeX document)
    symdl generate [NAME ...]        write generated/NAME.py; --check fails when stale
    symdl train NAME [options]       train on the built-in data with the generated kernels
    symdl predict NAME --params FILE --data FILE    outputs of a saved model
    symdl check [NAME ...]           symbolic vs numeric vs generated, and vs the documents
    symdl plot NAME [--out FILE]     the document's figure for NAME (needs symdl[plot])
    symdl report [--out FILE]        the handout: the documents' derivations, figures, errata (PDF)
    symdl all                        derive, generate and train every model; a summary table

Exit status: 0 success, 1 symdl's own error (a bad model name, data or file, a failed check,
stale kernels), 2 a usage error (argparse). `--json` makes check, train and all print one JSON
document on stdout, and everything meant for people on stderr; an error is then the document
{"error": MESSAGE, "exit_status": N, "interrupted": ...}. `--kernels DIR` (train, check,
predict) names the folder a user's model's kernels go to, for a model in a read-only folder.

Long because it holds one handler per command and the argparse parser that documents every
option of each; they share the exit-code and JSON conventions above, so they stay together.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import math
import os
import re
import sys
import textwrap
import time
from pathlib import Path

from symdl.version import __version__
from symdl.errors import DataError, SymdlError
from symdl import kernels
from symdl.prose import plain


def command_list(args):
    from symdl import sources
    from symdl.model import Model
    broken = 0
    for source in sources.resolve_many(args.refs):
        try:
            derivation = sources.load_derivation(source)
        except SymdlError as error:
            broken += 1
            print(f"{source.name:<28} {'BROKEN':<10} {error}")
            continue
        kind = "model" if isinstance(derivation, Model) else "derivation"
        print(f"{source.name:<28} {kind:<10} {plain(derivation.source)}")
    return 1 if broken else 0


def report_broken(broken) -> int:
    """Print each derivation that could not be used; 1 if there was one (the exit code)."""
    for source, error in broken:
        print(f"symdl: skipped {source.name}: {error}", file=sys.stderr)
    return 1 if broken else 0


def command_derive(args):
    from symdl.render import render
    from symdl.sources import load_derivation
    derivation = load_derivation(args.name)
    print(render(derivation, latex=args.latex, standalone=not args.body), end="")
    return 0


def command_generate(args):
    from symdl.generate import files
    names = args.names or None
    broken = []
    if args.check:
        problems = files.stale(names, args.out, broken)
        for problem in problems:
            print(f"stale: {problem}")
        if problems:
            print("generated/ is stale: run `symdl generate`", file=sys.stderr)
            return 1
        print("generated/ is up to date" + (" (except the broken derivations)" if broken else ""))
        return report_broken(broken)
    started = time.perf_counter()
    changed = files.write(names, args.out, broken)
    for path in changed:
        print(f"wrote {path}")
    print(f"{len(changed)} file(s) changed in {time.perf_counter() - started:.1f} s")
    return report_broken(broken)


def command_train(args):
    from symdl import datafiles, saved, train
    say = reporter(args)
    if args.save:
        writable(args.save)
    refuse_saved_model_as_data(args.data, args.test_data)
    overrides = {k: v for k, v in {
        "epochs": args.epochs, "learning_rate": args.learning_rate,
        "optimizer": args.optimizer, "batch_size": args.batch_size,
        "tier": args.tier, "tol": args.tol,
        "hyper": dict(args.hyper) if args.hyper else None}.items() if v is not None}
    from symdl.callbacks import is_terminal
    bar = not (args.quiet or args.verbose) and is_terminal(sys.stderr)
    lines = args.verbose or not (args.quiet or bar)  # in a pipe or a log: lines, not a bar
    reporting = {"log": say if lines else None, "epoch_metrics": args.verbose,
                 "progress": bar, **overrides}
    spec = kernels.load(args.name).SPEC
    if (not args.data and spec["features"]
            and not (args.dataset or (spec["training"] or {}).get("dataset"))):
        raise DataError(train.no_builtin_data(spec))
    say(f"Training {args.name} ({spec['source']})")
    if args.data and args.learning_rate is None and automatic_step(args, spec):
        overrides["learning_rate"] = reporting["learning_rate"] = "auto"
    if args.scheduler and not args.data:
        raise DataError("--scheduler runs on data in a store: give --data STORE.zarr too")
    if args.data and datafiles.is_out_of_core(args.data):
        if overrides.pop("tier", "numba") == "numpy":
            raise DataError("training from a store runs the Numba kernels (the data is large "
                            "by design): leave out --tier numpy")
        reporting.pop("tier", None)
        from symdl import chunked
        result = chunked.train_from_store(args.name, args.data, scheduler=args.scheduler,
                                          weights=args.weights, **reporting)
    elif args.weights and not args.data:
        raise DataError("--weights names the sample weights in your data: give --data FILE "
                        "(.csv, .npz or a store) holding them; in Python, "
                        "train.fit(..., sample_weight=w)")
    elif args.data:
        if args.scheduler:
            raise DataError("--scheduler trains on data in a store: give --data STORE.zarr")
        x, y, weights = datafiles.load_with_weights(args.data, spec, args.target, args.weights)
        test = (datafiles.load_with_weights(args.test_data, spec, args.target, args.weights,
                                            required=False)[:2] if args.test_data else None)
        if weights is not None:
            reporting["sample_weight"] = weights
        result = train.train(args.name, data=(x, y), test_data=test, **reporting)
    else:
        if args.test_data:
            raise DataError("--test-data needs --data: the built-in data sets bring their own "
                            "test split")
        result = train.train(args.name, dataset=args.dataset, **reporting)
    if args.save:
        saved.save(result, args.save)
    if args.json:
        print(saved.to_json({
            "model": result.name, "source": spec["source"], "settings": result.settings,
            "seconds": result.seconds, "metrics": result.metrics, "params": result.params,
            "history": result.history, "epoch_metrics": result.history.metrics,
            "saved": args.save,
            "interrupted": result.interrupted}))
        return INTERRUPTED if result.interrupted else 0
    if result.interrupted:
        print(f"interrupted after epoch {result.stopped_epoch} ({result.seconds:.2f} s); "
              f"the parameters reached so far:")
    else:
        ran = {"numpy": " (NumPy kernels)", "numba": " (Numba kernels)"}
        print(f"done in {result.seconds:.2f} s{ran.get(result.settings.get('tier'), '')}")
        if result.stop_reason and (result.stop_reason != "epochs" or args.tol is not None):
            from symdl.training.result import STOP_REASONS
            print(f"  stopped after {result.n_iter} epochs: {STOP_REASONS[result.stop_reason]}")
        if overrides.get("learning_rate") == "auto":
            print(f"  step from the curvature of J at the start: "
                  f"{result.settings['learning_rate']:.6g} (1/λ_max; --lr sets one)")
    for key, value in result.metrics.items():
        print(f"  {key}: {value:.6g}")
    for name, value in result.params.items():
        if getattr(value, "size", 1) <= 8:
            print(f"  {name} = {value}")
    if args.save:
        kernels_given = f" --kernels {args.kernels}" if args.kernels else ""
        print(f"saved to {args.save}; `symdl predict {args.name}{kernels_given} --params "
              f"{args.save} --data FILE` predicts with it")
    return INTERRUPTED if result.interrupted else 0


def automatic_step(args, spec) -> bool:
    """Whether `symdl train MODEL --data FILE` without --lr takes the step from the curvature
    of J on that data (learning_rate "auto"), as the estimators do: for the rules that take a
    plain step (optimizers.STEPPED). The derivation's step suits only its own data; on
    another scale it can diverge (issue 18)."""
    from symdl.optimizers import STEPPED
    return (args.optimizer or (spec["training"] or {}).get("optimizer", "gd")) in STEPPED


def refuse_saved_model_as_data(*paths):
    from symdl.saved import is_saved_model
    for path in paths:
        if path and is_saved_model(path):
            raise DataError(f"{path} is a saved model, not data: a saved model goes after "
                            f"`symdl predict MODEL --params`, the samples after --data")


def command_predict(args):
    from symdl import datafiles, saved, train
    if args.out:
        writable(args.out)
    result = saved.load(args.params, model=args.name)
    spec = kernels.load(args.name).SPEC
    refuse_saved_model_as_data(args.data)
    output = train.predict(result, datafiles.load_features(args.data, spec))
    classes = (result.settings.get("estimator") or {}).get("classes")
    columns = saved.prediction_columns(spec, output, classes)
    if args.out:
        saved.write_predictions(columns, args.out)
        print(f"wrote {len(output)} predictions to {args.out}")
    else:
        print(saved.predictions_csv(columns), end="")
    return 0


def command_check(args):
    from symdl import check
    if args.out:
        writable(args.out)
    rows = check.run(args.names or None)
    report = check.table(rows)
    if args.json:
        from symdl.saved import to_json
        print(to_json({"rows": [{f.name: getattr(r, f.name) for f in dataclasses.fields(r)
                                 if f.name != "value"} for r in rows],  # value: SymPy, arrays
                       "failures": sum(r.is_failure for r in rows),
                       "discrepancies": sum(r.is_discrepancy for r in rows)}))
    else:
        print(report, end="")
    if args.out:
        from symdl.saved import write_whole
        text = report.encode()
        write_whole(args.out, lambda file: file.write(text))
    return 1 if any(r.is_failure for r in rows) else 0




def command_plot(args):
    from symdl import plot
    from symdl.saved import write_whole
    out = Path(args.out or f"{Path(args.name).stem}.png")
    writable(str(out))  # before the figure's training, not after
    figure = plot.figure(args.name)
    try:  # whole or not at all: Ctrl-C while the image is written leaves no half file
        write_whole(out, lambda file: figure.savefig(file, dpi=args.dpi,
                                                     format=out.suffix[1:].lower() or None))
    except ValueError as error:  # matplotlib: an unknown file format
        raise plot.PlotError(f"cannot save {out}: {error}; use .png, .pdf or .svg") from None
    print(f"wrote {out}")
    return 0


def command_report(args):
    from symdl import report
    out = report.build(Path(args.out), names=args.names or None, figures=not args.no_figures,
                       log=print, document=args.document, builtins=args.builtins)
    print(f"wrote {out}")
    return 0


def command_all(args):
    """The main job: every derivation derived, generated, and every model trained."""
    from symdl import render, train
    from symdl.generate import files
    from symdl.model import Model
    from symdl.sources import builtin_names, load_derivation
    say = reporter(args)
    started = time.perf_counter()
    names = builtin_names()
    say(f"1. derive: {len(names)} derivations")
    out = Path(args.latex_dir) if args.latex_dir else None
    if out:
        out.mkdir(parents=True, exist_ok=True)
    models, broken = [], []
    for name in names:
        try:
            derivation = load_derivation(name)
        except SymdlError as error:
            print(f"   {name:<28} BROKEN: {error}")
            broken.append(name)
            continue
        text = render.render(derivation)
        if out:
            (out / f"{name}.tex").write_text(render.render(derivation, latex=True))
        say(f"   {name:<28} {text.count(chr(10)):>4} lines  [{plain(derivation.source)}]")
        if isinstance(derivation, Model) and derivation.training is not None:
            if derivation.inputs and derivation.training.dataset is None:
                say(f"   {name:<28} not trained here: it has no built-in data "
                    f"(`symdl train {name} --data FILE`)")
            else:
                models.append(name)
    say("2. generate")
    changed = files.write([n for n in names if n not in broken])
    say(f"   {len(changed)} kernel file(s) changed, {len(models)} models")
    say("3. train")
    summary = []
    for name in models:
        say(f"-- {name}")
        try:
            result = train.train(name, log=say if args.verbose else None,
                                 progress=not args.verbose)
        except SymdlError as error:
            print(f"   {name} FAILED: {error}", file=sys.stderr)
            broken.append(name)
            continue
        if result.interrupted:
            return fail(f"interrupted after epoch {result.stopped_epoch} of {name}",
                        INTERRUPTED, args.json)
        summary.append((name, result))
        metrics = ", ".join(f"{k} {v:.4g}" for k, v in result.metrics.items())
        say(f"   {result.seconds:.2f} s: {metrics}")
    seconds = time.perf_counter() - started
    if args.json:
        from symdl.saved import to_json
        print(to_json({"derivations": names, "kernels_changed": [str(p) for p in changed],
                       "models": [summary_entry(name, result) for name, result in summary],
                       "seconds": seconds}))
        return 0
    print()
    print(markdown_row(["model", "document", "data", "optimizer", "epochs", "final J",
                        "metrics", "seconds"]))
    print(markdown_row(["---"] * 8))
    for name, result in summary:
        entry = summary_entry(name, result)
        metrics = "; ".join(f"{k} {v:.4g}" for k, v in entry["metrics"].items())
        print(markdown_row([name, short_source(entry["document"]), entry["dataset"] or "—",
                            entry["optimizer"], str(entry["epochs"]),
                            f"{entry['final J']:.6g}", metrics, f"{result.seconds:.2f}"]))
    print(f"\nmain job finished in {seconds:.1f} s")
    if broken:
        print(f"symdl: {len(broken)} derivation(s) failed: {', '.join(broken)}", file=sys.stderr)
        return 1
    return 0


def summary_entry(name, result) -> dict:
    """One model's line of the `all` summary, as data (the table and --json both use it)."""
    spec = kernels.load(name).SPEC
    return {"model": name, "document": spec["source"],
            "dataset": spec["training"]["dataset"] if spec["features"] else None,
            "optimizer": spec["training"]["optimizer"], "epochs": len(result.history),
            "final J": result.metrics["final J"],
            "metrics": {k: v for k, v in result.metrics.items() if k != "final J"},
            "seconds": result.seconds}


def markdown_row(cells: list[str]) -> str:
    """A Markdown table row; a `|` inside a cell (as in "max |p − closed form|") is escaped."""
    return "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"


def reporter(args):
    """print, or print to stderr when --json keeps stdout for the JSON document."""
    stream = sys.stderr if getattr(args, "json", False) else sys.stdout
    return lambda text: print(text, file=stream)


def writable(path: str) -> None:
    """Fail before the work starts, not after, when an output file cannot be written."""
    from symdl.saved import writable as check  # numpy is imported only by commands that work
    check(path)


def short_source(source: str) -> str:
    """'003_ff0b9f77f02ec2c2.txt §3.3 Logistic ...' -> '003 §3.3 Logistic ...', at most 48 characters."""
    text = re.sub(r"_[0-9a-f]{16}\.txt", "", source)
    return text if len(text) <= 48 else text[:47] + "…"


def epilog() -> str:
    """The bottom of `symdl --help`: what there is to run it on, examples, exit status."""
    from symdl import sources
    from symdl.datasets import BUILTIN
    names = sources.builtin_names()
    models = [n for n in names if (sources.generated_dir() / f"{n}.py").exists()]
    others = [n for n in names if n not in models]
    return "\n".join([
        "built-in models (derive, train, predict, check):", wrapped(models),
        "derivations without a trainer (derive, check):", wrapped(others),
        "built-in datasets (train --dataset):", wrapped(list(BUILTIN)),
        "A model of your own is the path to its derivation file, e.g. ./my_model.py.",
        "",
        "examples:",
        "  symdl derive two_layer_network --latex > net.tex",
        "  symdl train ./my_model.py --data houses.csv --target price",
        "  symdl train mnist_mlp --save mnist.npz",
        "  symdl predict mnist_mlp --params mnist.npz --data digits.csv --out labels.csv",
        "  symdl check --json > check.json",
        "  symdl all --latex-dir latex-out",
        "",
        "exit status: 0 success; 1 symdl's own error (a bad name, data or file, a failed check,",
        "stale kernels); 2 a usage error. `symdl COMMAND --help` describes each command.",
    ])


def wrapped(names: list[str]) -> str:
    return textwrap.fill(", ".join(names) or "(none)", width=88, initial_indent="  ",
                         subsequent_indent="  ")


def positive(kind):
    """An argparse type: a number of `kind` greater than zero (and finite)."""
    return bounded(kind, lambda value: value > 0, "greater than 0")


def non_negative(kind):
    """An argparse type: a finite number of `kind` that is 0 or more."""
    return bounded(kind, lambda value: value >= 0, "0 or more")


def bounded(kind, holds, wording):
    """An argparse type: a finite number of `kind` for which `holds` is true."""
    def convert(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not holds(value) or not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be {wording}, not {text}")
        return value
    convert.__name__ = kind.__name__  # argparse names the type in its messages
    return convert


def hyper_setting(text: str) -> tuple[str, float]:
    """An argparse type: NAME=VALUE for --hyper, VALUE a finite number."""
    name, equals, value = text.partition("=")
    if not equals or not name.strip().isidentifier():
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE (e.g. lam=0.1)")
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{name}={value!r}: {value!r} is not a number") from None
    if not math.isfinite(number):
        raise argparse.ArgumentTypeError(f"{name}={value}: must be finite")
    return name.strip(), number


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default, unless its help already says it or it has none (None, off)."""

    def _get_help_string(self, action):
        help = action.help or ""
        if action.default is None or action.default is False or "default" in help:
            return help
        return super()._get_help_string(action)


class Parser(argparse.ArgumentParser):
    """argparse's parser, keeping its last usage error for the --json document."""

    last_error: str | None = None

    def error(self, message):
        Parser.last_error = f"{self.prog}: {message}"
        super().error(message)


KERNELS_HELP = ("for a model of your own: the folder its kernels are generated into and loaded "
                "from (default: generated/ beside its file); the folder `symdl generate FILE "
                "--out DIR` wrote")


def parser() -> argparse.ArgumentParser:
    formatter = argparse.RawDescriptionHelpFormatter
    p = Parser(prog="symdl", description=__doc__.split("\n")[0],
                                epilog=epilog(), formatter_class=formatter)
    p.add_argument("--version", action="version", version=f"symdl {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, run, help, description=None):
        c = sub.add_parser(name, help=help, description=description or help,
                           formatter_class=HelpFormatter)
        c.set_defaults(run=run)
        return c

    model = "a built-in model's name (see `symdl list`) or the path to a derivation file"
    ls = command("list", command_list, "list the derivations, their kind and their documents")
    ls.add_argument("refs", nargs="*", metavar="PATH",
                    help="derivation files or folders to list (default: the built-ins)")
    d = command("derive", command_derive, "print a derivation step by step")
    d.add_argument("name", metavar="NAME", help=model)
    d.add_argument("--latex", action="store_true", help="a LaTeX document (align* environments)")
    d.add_argument("--body", action="store_true", help="with --latex: no preamble, just the body")
    g = command("generate", command_generate, "write generated/NAME.py for every model")
    g.add_argument("names", nargs="*", metavar="MODEL",
                   help="built-in names, derivation files or folders of them (default: every "
                        "built-in model)")
    g.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 when generated/ is stale")
    g.add_argument("--out", metavar="DIR",
                   help="for your own models: write kernels here instead of generated/ beside "
                        "each file")
    t = command("train", command_train, "train a model on its built-in data or on yours",
                "Train a model with its generated kernels. Each setting left out comes from "
                "the model's derivation file (its Training(...)).")
    t.add_argument("name", metavar="NAME", help=model)
    t.add_argument("--dataset", help="a built-in dataset (listed by `symdl --help`; "
                                     "default: the derivation's)")
    t.add_argument("--epochs", type=positive(int), metavar="N",
                   help="passes over the data (default: the derivation's)")
    t.add_argument("--learning-rate", "--lr", type=positive(float), dest="learning_rate",
                   metavar="RATE", help="step size (default: the derivation's; with --data, "
                                        "for gd, sgd, momentum and nesterov, 1/λ_max of the "
                                        "Hessian of J on that data at the start, halved "
                                        "whenever an epoch would raise J)")
    t.add_argument("--optimizer", choices=["gd", "sgd", "momentum", "nesterov", "rmsprop", "adam",
                                          "lbfgs", "newton", "newton-cg"],
                   help="update rule (default: the derivation's); newton-cg solves Newton's "
                        "system by conjugate gradients on Hessian-vector products, for many "
                        "parameters")
    t.add_argument("--tol", type=non_negative(float), metavar="TOL",
                   help="stop once max |∂J/∂p| ≤ TOL (full-batch rules, lbfgs, newton, newton-cg), "
                        "or once J has "
                        "improved by less than TOL×|J| in 10 epochs (mini-batch rules); a "
                        "warning when the epochs run out first (default: run every epoch)")
    t.add_argument("--batch-size", type=positive(int), metavar="N",
                   help="samples per step for the mini-batch rules (default: the derivation's)")
    t.add_argument("--hyper", type=hyper_setting, action="append", metavar="NAME=VALUE",
                   help="a hyperparameter of the model (`symdl derive` lists them), e.g. "
                        "--hyper lam=0.1; repeat for several (default: the derivation's)")
    t.add_argument("--tier", choices=["auto", "numba", "numpy"],
                   help="which kernels run: numba (compiled on first use, then cached), numpy "
                        "(the NumPy tier, nothing to compile: every model the block layout "
                        "can express has one) or auto "
                        "(default): NumPy for a job of at most 3,000,000 rows passed over")
    t.add_argument("--data", metavar="FILE",
                   help="your own data: .npz (arrays named after the model's tensors) or .csv, "
                        "read into memory; or a Zarr store (NAME.zarr) or a folder of .npy "
                        "files, one per tensor, read chunk by chunk (needs symdl[dask])")
    t.add_argument("--target", metavar="COLUMN",
                   help="with a .csv: the target column, by header name or 0-based number "
                        "(default: the column named after the model's target, else the last)")
    t.add_argument("--weights", metavar="NAME",
                   help="sample weights, one per row, from --data: a .csv's column NAME "
                        "(header name or 0-based number; not a feature), a .npz's array NAME, "
                        "a store's array NAME (the folder's NAME.npy): J = Σ w ℓ (÷ Σ w for a "
                        "mean); --test-data may hold them too, left out of its metrics")
    t.add_argument("--test-data", metavar="FILE",
                   help="held-out data (.npz or .csv, as --data) for test metrics")
    t.add_argument("--scheduler", help="with --data: the address of a Dask scheduler, "
                                       "e.g. tcp://10.0.0.1:8786 (default: local threads)")
    t.add_argument("--save", metavar="FILE",
                   help="save the trained model to FILE (.npz) for `symdl predict`")
    t.add_argument("--json", action="store_true",
                   help="print the result as JSON (settings, metrics, parameters, history)")
    t.add_argument("--kernels", metavar="DIR", help=KERNELS_HELP)
    shown = t.add_mutually_exclusive_group()
    shown.add_argument("--quiet", "-q", action="store_true",
                       help="no progress bar (drawn on a terminal) or epoch lines "
                            "(printed otherwise), only the result")
    shown.add_argument("--verbose", "-v", action="store_true",
                       help="a line of metrics every tenth of the epochs instead of the bar")
    r = command("predict", command_predict, "predict with a model saved by `train --save`",
                "Print (or write) the model's output for every sample of a data file: "
                "a label and the probabilities for a classifier, the fitted value otherwise.")
    r.add_argument("name", metavar="NAME", help=model + ", as it was trained")
    r.add_argument("--params", required=True, metavar="FILE",
                   help="the model file `symdl train NAME --save FILE` wrote")
    r.add_argument("--data", required=True, metavar="FILE",
                   help="the samples: .npz (the model's data array; its target array may be "
                        "there too) or .csv (one sample per row, features only)")
    r.add_argument("--out", metavar="FILE",
                   help="write the predictions to FILE (.csv or .npz) instead of stdout")
    r.add_argument("--kernels", metavar="DIR", help=KERNELS_HELP)
    c = command("check", command_check, "symbolic vs numeric vs generated; and vs the documents")
    c.add_argument("names", nargs="*", metavar="MODEL",
                   help="built-in names, derivation files or folders (default: every built-in)")
    c.add_argument("--out", metavar="FILE", help="also write the Markdown table to FILE")
    c.add_argument("--json", action="store_true",
                   help="print every row as JSON instead of the table")
    c.add_argument("--kernels", metavar="DIR", help=KERNELS_HELP)
    f = command("plot", command_plot, "draw the document's figure for a derivation (symdl[plot])",
                "Draw the figure of a document from symdl's own results; a model the documents "
                "draw no figure for gets its loss curve.")
    f.add_argument("name", metavar="NAME", help=model)
    f.add_argument("--out", metavar="FILE", help="the image (default NAME.png; .pdf, .svg work too)")
    f.add_argument("--dpi", type=positive(int), default=120, help="resolution of a .png")
    rp = command("report", command_report, "one PDF handout: derivations, figures, errata (pdflatex)",
                 "One PDF a teacher can hand out: the five documents' derivations in the "
                 "documents' order, step by step with their figures, each claim of a document "
                 "with symdl's verdict, and the errata. symdl's models beyond the documents "
                 "(written for practitioners) are left out unless --builtins is given.")
    rp.add_argument("names", nargs="*", metavar="MODEL",
                    help="derivations to include (default: the documents' own, in their order)")
    rp.add_argument("--out", default="report.pdf", metavar="FILE", help="the PDF (default report.pdf)")
    rp.add_argument("--no-figures", action="store_true", help="leave the figures out (no training)")
    rp.add_argument("--document", metavar="NNN", choices=["000", "001", "002", "003", "004"],
                    help="the handout of one document (000 to 004): its derivations and errata")
    rp.add_argument("--builtins", action="store_true",
                    help="also print symdl's models beyond the documents (ridge_regression, "
                         "elastic_net_*, multinomial_logistic, poisson_glm, huber_regressor, "
                         "mlp_classifier, mlp_regressor), in a last section")
    a = command("all", command_all, "derive, generate and train every model (the main job)")
    a.add_argument("--latex-dir", metavar="DIR",
                   help="also write each derivation as LaTeX into DIR")
    a.add_argument("--verbose", action="store_true", help="print the loss as training goes")
    a.add_argument("--json", action="store_true",
                   help="print the summary as JSON; the progress goes to stderr")
    return p


INTERRUPTED = 130  # the shell's code for a command stopped by Ctrl-C (128 + SIGINT)


def main(argv=None) -> int:
    """Run one command; returns the exit status (argparse exits 2 itself on usage errors).

    With --json every outcome is one JSON document on stdout, an error too:
    {"error": MESSAGE, "exit_status": N}, the message also on stderr as without --json.
    """
    args = None
    argv = sys.argv[1:] if argv is None else list(argv)
    json_wanted = "--json" in argv
    try:
        try:
            Parser.last_error = None
            args = parser().parse_args(argv)
        except SystemExit as stop:
            if json_wanted and stop.code == 2:
                print_error_json(f"usage error: {Parser.last_error or 'see symdl --help'}", 2)
            raise
        finally:
            sys.stdout.flush()  # --help and --version have printed when argparse exits
        with kernels_folder(getattr(args, "kernels", None)):
            status = args.run(args)
        sys.stdout.flush()  # a reader that went away shows here, inside the try
        return status
    except BrokenPipeError:
        # `symdl list | head -1`: the reader closed the pipe. Python's docs (signal, "Note on
        # SIGPIPE") advise pointing stdout at devnull so that the exit flush stays quiet.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except SymdlError as error:
        return fail(str(error), 1, json_wanted)
    except OSError as error:  # a path the user gave: unwritable, missing, a folder, ...
        where = f"{error.filename}: " if error.filename else ""
        return fail(f"{where}{error.strerror or error}", 1, json_wanted)
    except BaseException as error:
        from symdl.interrupts import caused_by_interrupt
        if not caused_by_interrupt(error):
            raise
        written = ("; every file already written is complete (each is written whole or not "
                   "at all)" if args is not None and args.command in ("generate", "all") else "")
        return fail(f"interrupted{written}", INTERRUPTED, json_wanted)


def fail(message: str, status: int, json_wanted: bool) -> int:
    """An error as the exit code, `symdl: MESSAGE` on stderr, and with --json the document."""
    print(f"symdl: {message}", file=sys.stderr)
    if json_wanted:
        print_error_json(message, status)
    return status


def print_error_json(message: str, status: int) -> None:
    import json
    try:
        print(json.dumps({"error": message, "exit_status": status,
                          "interrupted": status == INTERRUPTED}, ensure_ascii=False))
        sys.stdout.flush()
    except BrokenPipeError:
        pass


@contextlib.contextmanager
def kernels_folder(folder: str | None):
    """`--kernels DIR`: where the kernels of a user's model go, for one command (as the
    environment variable SYMDL_KERNELS, which symdl.sources reads, set while it runs)."""
    from symdl.sources import KERNELS_ENV
    before = os.environ.get(KERNELS_ENV)
    if folder:
        os.environ[KERNELS_ENV] = folder
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(KERNELS_ENV, None)
        else:
            os.environ[KERNELS_ENV] = before


if __name__ == "__main__":
    sys.exit(main())
