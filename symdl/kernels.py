"""A model's generated kernels: the one place that finds, verifies and imports them.

`load(ref)` takes what a user names a model by (a built-in name or a derivation file's path,
resolved by `symdl.sources`) and returns the generated module: its kernels (`loss`,
`loss_and_gradient`, `gradient`, `predict`, `hessian`, ...) and its SPEC dictionary. Before
importing a file it checks the file's stamps (`symdl.stamps`): a file edited by hand, or older
than its derivation, is refused with the command that regenerates it. A user's model whose
kernels were never generated gets them generated here, on first use, beside the derivation.

Loading kernels imports NumPy and Numba only; SymPy is imported only when kernels must be
generated.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

from symdl import sources, stamps
from symdl.errors import DerivationError
from symdl.sources import Source

_trusted: dict = {}  # kernel file -> its and its derivation's (mtime, size) when last verified
_loaded: dict = {}  # kernel file -> (those stamps, the module): a chunked pass loads per chunk


def load(ref) -> ModuleType:
    """The generated module of a model, imported from its file (Numba's cache works for both).

    Only a file that is what the generator wrote is loaded (`verify`).
    """
    source = sources.resolve(ref)
    known = _loaded.get(source.kernel_path)
    if known is not None and _trusted.get(source.kernel_path) == known[0]:
        try:
            if known[0] == _stamps(source):  # verified, imported, and unchanged since
                return known[1]
        except OSError:
            pass  # gone: verify says what to do
    verify(source)
    stamp = _stamps(source)
    if known is not None and known[0] == stamp:
        return known[1]
    if source.builtin:
        module = importlib.import_module(source.module_name(sources.USER_KERNELS))
    else:
        module = sources.import_file(sources.kernel_module_name(source), source.kernel_path)
        sources.also_known_as(source, module)  # a cache compiled under symdl 0.1.0's names loads
    _loaded[source.kernel_path] = stamp, module
    return module


def _stamps(source: Source) -> tuple:
    """(mtime, size) of the kernel file and of its derivation: either changing means check again."""
    kernel, derivation = source.kernel_path.stat(), source.path.stat()
    return (kernel.st_mtime_ns, kernel.st_size, derivation.st_mtime_ns, derivation.st_size)


def verify(source: Source) -> None:
    """Refuse a generated file that is not what the generator wrote from the derivation now.

    Missing: a user's model gets its kernels generated now, beside it (a built-in model's
    are part of the package: say how to generate them; a derivation without a loss has
    nothing to train). Edited by hand (its BODY_SHA256 does not match its text): an error
    saying how to regenerate. Older than its derivation (DERIVATION_SHA256 differs from the
    derivation file's hash): an error naming both files. Regenerating silently instead would
    hide a stale file from `symdl generate --check` and from symdl.testing's `fresh` test.
    """
    path = source.kernel_path
    if not path.exists():
        generate_on_first_use(source)
    stamp = _stamps(source)
    if _trusted.get(path) == stamp:
        return
    shown = f"generated/{path.name}" if source.builtin else str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        text = ""
    except OSError as error:  # a folder of that name, a file without read permission
        raise DerivationError(f"{shown} cannot be read ({error.strerror or error}); remove it "
                              f"and run `{regenerate_hint(source)}` to write it again") from None
    recorded = stamps.recorded_body_hash(text)
    if recorded is None or recorded != stamps.body_hash(text):
        what = ("has no BODY_SHA256 line" if recorded is None
                else "does not match the hash symdl wrote into it")
        raise DerivationError(f"{shown} is not what symdl generated (its text {what}): "
                              f"generated files must not be edited by hand; regenerate it with "
                              f"`{regenerate_hint(source)}`")
    if (not source.builtin and stamps.recorded_generator_hash(text) != stamps.generator_hash()
            and regenerated_for_this_generator(source)):
        return verify(source)
    made_from = stamps.recorded_derivation_hash(text)
    if made_from != stamps.file_hash(source.path):
        raise DerivationError(
            f"{source.shown_path if source.builtin else source.path} has changed since {shown} "
            f"was generated from it (the file's hash is {stamps.file_hash(source.path)}, the "
            f"kernels were made from {made_from or 'an unknown version'}); run "
            f"`{regenerate_hint(source)}` to regenerate them")
    _trusted[path] = stamp


def regenerated_for_this_generator(source: Source) -> bool:
    """A user's kernels written by another version of symdl's generator (an upgrade, or an
    older file copied in) are written again by this one, saying so: they are derived from the
    model file, and an older generator's may lack a fix. A model file changed since its
    kernels is not regenerated silently: that stays an error (`verify`). False when nothing
    was written."""
    text = source.kernel_path.read_text(encoding="utf-8")
    if stamps.recorded_derivation_hash(text) != stamps.file_hash(source.path):
        return False  # verify names the stale derivation
    from symdl.generate import files
    try:
        files.write([source])
    except (OSError, DerivationError):
        return False  # a read-only folder: its kernels still match their derivation
    if stamps.recorded_generator_hash(source.kernel_path.read_text(encoding="utf-8")) \
            != stamps.generator_hash():
        return False
    print(f"symdl: regenerated {source.kernel_path}: it was written by another version of "
          f"symdl's generator", file=sys.stderr)
    return True


def regenerate_hint(source: Source) -> str:
    return "symdl generate" if source.builtin else f"symdl generate {source.path}"


def generate_on_first_use(source: Source) -> None:
    """Write a user's model's kernels beside its derivation, saying so on stderr."""
    from symdl.model import Model
    derivation = sources.load_derivation(source)
    if not isinstance(derivation, Model):
        raise DerivationError(f"{source.name} is a derivation to read, not a model to train: it "
                              f"has no loss, so it has no kernels; `symdl derive {source.ref}` "
                              f"prints it")
    if source.builtin:
        raise DerivationError(f"no generated kernels for {source.name!r}: run "
                              f"`{regenerate_hint(source)}` first")
    from symdl.generate import files
    try:
        files.write([source])
    except OSError as error:
        raise DerivationError(
            f"no generated kernels for {source.name!r}, and they cannot be written to "
            f"{source.kernel_path.parent} ({error.strerror or error}); name a folder you can "
            f"write for them with --kernels DIR, e.g. `symdl train {source.path} --kernels "
            f"DIR` (likewise check and predict; in Python set the environment variable "
            f"{sources.KERNELS_ENV}=DIR)") from None
    print(f"symdl: generated {source.kernel_path} from {source.path.name} (first use; "
          f"`symdl generate` regenerates it)", file=sys.stderr)


def stamps_of(module: ModuleType) -> dict[str, str]:
    """The hashes a generated module is stamped with (its derivation file and its generator),
    and `code_sha256`, the hash of the code itself: what a saved model records."""
    return {"derivation_sha256": module.DERIVATION_SHA256,
            "generator_sha256": module.GENERATOR_SHA256,
            "code_sha256": stamps.code_hash(Path(module.__file__).read_text(encoding="utf-8"))}
