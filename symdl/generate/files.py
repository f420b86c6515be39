"""From a model to the text of its generated file, and that file on disk.

`render_module` assembles one generated file: a header naming the derivation and its
document, the hashes of the derivation file and of the generator, the SPEC dictionary the
trainer reads, the stable helpers, and the kernels of the model's layout. `write` puts the
files on disk only when their text changed (so Numba's cache stays valid), atomically;
`stale` says which files no longer match what their derivations generate.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from symdl import prose, sources, stamps
from symdl.derive import Derived
from symdl.errors import DerivationError, SymdlError
from symdl.generate.blas import BlasEmitter
from symdl.generate.block import BlockEmitter
from symdl.generate.numpy_tier import NumPyTierEmitter
from symdl.generate.block import unsupported as block_unsupported
from symdl.generate.csr import csr_kernels, unsupported as csr_unsupported
from symdl.generate.directional import directional
from symdl.generate.rows import RowsEmitter
from symdl.generate.templates import MODULE
from symdl.model import Affine, Model
from symdl.sources import Source

PACKAGE = Path(__file__).parent
HELPERS = PACKAGE / "helpers.py.txt"
EMITTERS: dict[str, type[RowsEmitter | BlockEmitter | BlasEmitter]] = {
    "rows": RowsEmitter, "block": BlockEmitter, "blas": BlasEmitter}
WIDE = 128


def layout_of(model: Model) -> str:
    """The layout a model's kernels are generated in: the rule, in one place.

    The layout the model names (`Model(layout="rows" | "block" | "blas")`) wins. Otherwise
    ("auto", the default) it is chosen from the shapes:

    * blas when a layer is wide, i.e. `Training(sizes=...)` gives one of its dimensions at
      least WIDE units, and the blas layout can express it (softmax cross-entropy over vector
      intermediates): the matrix products are then large enough for BLAS;
    * block when the block layout can express the model (`block.unsupported`): the sample
      axis is the long one, and blocks of samples vectorise; a penalty R(θ) does not stand
      in the way, since every layout adds it once per evaluation, outside the sample loop;
    * rows otherwise (a model without data, or a softmax over narrow layers). A softmax
      cross-entropy stays in rows unless the model names block: block's affine map runs
      SIMD over the units, and over ten classes it took 264 ms where rows' dot products over
      784 inputs took 159 ms (100,000 rows, 2 cores); `layout="block"` takes it anyway,
      with the block layout's NumPy tier.
    """
    if model.layout != "auto":
        return model.layout
    sizes = model.training.sizes if model.training else {}
    affine = [s for s in model.steps_of_model if isinstance(s, Affine)]
    wide = any(sizes.get(dim, 0) >= WIDE for s in affine for dim in s.weight.shape)
    blas_fits = (model.loss_kind == "softmax_cross_entropy"
                 and all(not s.out.is_scalar for s in model.steps_of_model))
    if wide and blas_fits:
        return "blas"
    if model.loss_kind == "softmax_cross_entropy":
        return "rows"
    return "rows" if block_unsupported(model) else "block"


def has_numpy_tier(model: Model) -> bool:
    """Whether the file carries the NumPy tier: whenever the block layout can express the
    model, whatever layout its Numba kernels are in. A rows- or blas-layout model (a softmax
    over narrow or wide layers) then starts a small job with nothing to compile too, and
    keeps its own Numba kernels for the large jobs (symdl.training.tiers)."""
    return not block_unsupported(model)


def spec(model: Model, derived: Derived) -> dict:
    """What a trainer needs to know without SymPy: shapes, roles, kernels, training defaults."""
    training = model.training
    curvature = derived.curvature
    sparse = BlasEmitter(derived).sparse_step() if layout_of(model) == "blas" else None
    return {
        "name": model.name,
        "title": prose.plain(model.title),
        "source": prose.plain(model.source),
        "layout": layout_of(model),
        "reduction": model.reduction,
        "params": [(p.name, p.shape) for p in model.params],
        "features": (model.features.name, model.features.shape) if model.features else None,
        # every data tensor, in the order the kernels take them (features is the first)
        "inputs": [(t.name, t.shape) for t in model.inputs],
        "bias_column": model.bias_column,
        "target": (model.label.name, model.label.kind) if model.label else None,
        "target_shape": model.label.shape if model.label else (),
        "classes": getattr(model, "classes", None),
        "classes_dim": (model.loss_input.shape[0]
                        if model.loss_kind == "softmax_cross_entropy" else None),
        "output": model.output_tensor.name if model.output_tensor else None,
        "hessian": curvature is not None and layout_of(model) != "blas",  # blas writes none
        # hessian_vector(params, _v, data): H·v without forming H (Newton-CG)
        # (the curvature kinds' own, or the R-pass of generate.directional for a network)
        "hessian_vector": ((curvature is not None or directional(derived) is not None)
                           and layout_of(model) != "blas" and model.features is not None),
        # no second derivative depends on a parameter: one Newton step reaches the minimiser
        "quadratic": bool(curvature is not None and curvature.quadratic),
        # the penalty has kinks (|w_j|): `kink_weight(hyper)` says whether they are switched on
        "kinks": bool(curvature is not None and curvature.kink != 0),
        "penalty": model.penalty_expr != 0,
        # the hyperparameters and their defaults: every entry point takes them last, by keyword
        "hypers": [(h.name, model.hyper_defaults[h.name]) for h in model.hypers],
        # loss_weighted, loss_and_gradient_weighted, gradient_weighted (files.weighted_kernels)
        "sample_weight": model.features is not None,
        "closed_form": derived.has_closed_form,
        # the kernels also written in NumPy (`loss_numpy`, ...: symdl.training.tiers)
        "numpy_tier": has_numpy_tier(model),
        # the weight that loss_and_gradient_sparse takes transposed, when there is that kernel
        "sparse_input": sparse.weight.name if sparse is not None else None,
        # loss_csr, loss_and_gradient_csr, gradient_csr, predict_csr (and _weighted_csr):
        # x by its non-zero entries, for a model that reads x only through affine maps (csr.py)
        "csr_input": not csr_unsupported(model, derived, layout_of(model)),
        "training": None if training is None else {
            "dataset": training.dataset, "optimizer": training.optimizer,
            "learning_rate": training.learning_rate, "epochs": training.epochs,
            "batch_size": training.batch_size, "initial": dict(training.initial),
            "init_scale": training.init_scale, "init": training.init,
            "sizes": dict(training.sizes), "seed": training.seed,
            "hyper": dict(training.hyper), "tol": training.tol,
        },
    }


def without_blank_lines(kernel: str) -> str:
    """A kernel's text with the lines that empty template slots left behind removed."""
    return "\n".join(line for line in kernel.strip("\n").splitlines() if line.strip()) + "\n"


def pretty_literal(value, indent=0) -> str:
    """A deterministic, readable Python literal for the SPEC dictionary."""
    if isinstance(value, dict) and value:
        pad = " " * (indent + 4)
        items = [f"{pad}{k!r}: {pretty_literal(v, indent + 4)}," for k, v in value.items()]
        return "{\n" + "\n".join(items) + "\n" + " " * indent + "}"
    return repr(value)


def weighted_kernels(model: Model) -> list[str]:
    """loss_weighted, loss_and_gradient_weighted and gradient_weighted (and their NumPy tier
    where the model has one): the kernels over samples with weights, J = Σ_i w_i ℓ⁽ⁱ⁾. Kept
    apart from the plain ones, so an unweighted run's code is what it was (and Numba compiles
    the weighted ones only when weights are given). None for a model without data."""
    if model.features is None:
        return []
    derived = Derived(model, weighted=True)
    found = EMITTERS[layout_of(model)](derived).weighted_kernels()
    if has_numpy_tier(model):
        found += NumPyTierEmitter(derived).weighted_kernels()
    return found + csr_kernels(model, derived, layout_of(model), has_numpy_tier(model))


def render_module(model: Model, source: Source) -> str:
    """The whole text of generated/NAME.py for one model."""
    derived = Derived(model)
    emitter = EMITTERS[layout_of(model)](derived)
    kernels = [without_blank_lines(k) for k in emitter.kernels() if k]
    if has_numpy_tier(model):
        kernels += [without_blank_lines(k) for k in NumPyTierEmitter(derived).kernels() if k]
    kernels += [without_blank_lines(k) for k in
                csr_kernels(model, derived, layout_of(model), has_numpy_tier(model)) if k]
    kernels += [without_blank_lines(k) for k in weighted_kernels(model) if k]
    regenerate = "symdl generate" if source.builtin else f"symdl generate {source.path.name}"
    text = MODULE.substitute(
        title=prose.plain(model.title), derivation_file=source.shown_path, regenerate=regenerate,
        source=prose.plain(model.source), source_hash=stamps.file_hash(source.path),
        generator_hash=stamps.generator_hash(), body_hash="", spec=pretty_literal(spec(model, derived)),
        helpers=HELPERS.read_text().rstrip(), kernels="\n\n".join(kernels))
    return stamps.with_body_hash(text)


# ---- writing files --------------------------------------------------------------------------

def expected_files(refs=None, out=None, broken=None) -> dict[Path, str]:
    """generated/NAME.py text for every model among the derivations named (default: built-ins).

    With a list `broken`, a derivation that fails to load or generate is appended to it as
    (source, error) and skipped, so one broken file does not stop the others.
    """
    files = {}
    for source in sources.resolve_many(refs, out):
        try:
            derivation = sources.load_derivation(source)
            if isinstance(derivation, Model):
                files[source.kernel_path] = render_module(derivation, source)
        except SymdlError as error:
            if broken is None:
                raise
            broken.append((source, error))
    return files


def write_atomically(path: Path, text: str):
    """Write a temporary file beside `path`, then rename it: a failed write leaves no half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def compiles(path: Path, text: str) -> None:
    """Refuse to write a generated file that is not valid Python: it would be left on disk,
    and every later command would import it and fail there instead of here."""
    try:
        compile(text, str(path), "exec")
    except SyntaxError as error:
        raise DerivationError(
            f"the kernels generated for {path.name} do not compile ({error.msg}, line "
            f"{error.lineno}: {(error.text or '').strip()}); nothing was written. This is a bug "
            f"in symdl's generator: please report it with the derivation file") from None


def write(refs=None, out=None, broken=None) -> list[Path]:
    """Write generated files whose text changed; an untouched file keeps Numba's cache valid."""
    changed = []
    for path, text in expected_files(refs, out, broken).items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            compiles(path, text)
            write_atomically(path, text)
            changed.append(path)
    return changed


def stale(refs=None, out=None, broken=None) -> list[str]:
    """Why the generated files do not match what the derivations generate now; [] when fresh."""
    problems = []
    expected = expected_files(refs, out, broken)
    skipped = {source.kernel_path for source, _ in broken or []}
    for path, text in expected.items():
        if not path.exists():
            problems.append(f"{path.name} is missing")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"{path.name} differs from what its derivation generates now")
    if not refs:
        for path in sorted(sources.generated_dir().glob("*.py")):
            if path.name != "__init__.py" and path not in expected and path not in skipped:
                problems.append(f"{path.name} has no derivation")
    return problems
