"""Where a model lives: the one place that turns what a user typed into files.

A model is named either by a built-in name (`logistic_regression`: a file in symdl's own
`derivations/`) or by a path to a derivation file anywhere (`./models/my_model.py`). Either
way it resolves to a `Source`: the derivation file, and the file its kernels are generated
into — symdl's own `generated/` for the built-in models, a `generated/` folder beside the
user's file otherwise (or a folder the user names with `--out`).

Every command and function that takes a model name takes a path too, because they all go
through `resolve`.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import pkgutil
import re
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from symdl.errors import DerivationError, SymdlError

USER_DERIVATIONS = "symdl_user_derivations"
USER_KERNELS = "symdl_user_kernels"


@dataclass(frozen=True)
class Source:
    """A derivation file and the generated file its kernels live in."""

    name: str  # the derivation's name: the file name without .py
    path: Path  # the derivation file
    kernel_path: Path  # generated/NAME.py
    builtin: bool  # one of symdl's own models (derivations/ inside the package)

    @property
    def ref(self) -> str:
        """How a user names this model on the command line."""
        return self.name if self.builtin else str(self.path)

    @property
    def shown_path(self) -> str:
        """The derivation file as a generated file's header names it (no machine paths)."""
        return f"derivations/{self.name}.py" if self.builtin else self.path.name

    def module_name(self, package: str) -> str:
        """A module name unique to this file, so two folders may hold models of one name."""
        if self.builtin:
            return f"symdl.{'derivations' if package == USER_DERIVATIONS else 'generated'}.{self.name}"
        where = self.path if package == USER_DERIVATIONS else self.kernel_path
        digest = hashlib.sha256(str(where.resolve()).encode()).hexdigest()[:12]
        return f"{package}.{self.name}_{digest}"


def derivations_dir() -> Path:
    import symdl.derivations as package
    return Path(package.__path__[0])


def generated_dir() -> Path:
    import symdl.generated as package
    return Path(package.__path__[0])


def builtin_names() -> list[str]:
    """Every model file among symdl's own derivations, sorted."""
    return sorted(info.name for info in pkgutil.iter_modules([str(derivations_dir())])
                  if not info.name.startswith("_"))


def looks_like_path(ref: str) -> bool:
    return ref.endswith(".py") or "/" in ref or "\\" in ref or Path(ref).is_dir()


def resolve(ref, out: str | Path | None = None) -> Source:
    """The Source a user means by `ref`: a built-in model name, or a path to a .py file.

    `out` overrides where a user model's kernels go (default: generated/ beside the file).
    """
    if isinstance(ref, Source):
        return ref
    ref = str(ref)
    if looks_like_path(ref):
        path = Path(ref).expanduser()
        if path.is_dir():
            raise DerivationError(f"{ref} is a folder; name one derivation file in it, "
                                  f"or use a command that takes folders (generate, check)")
        if not path.exists():
            raise DerivationError(f"no derivation file {ref}: the file does not exist")
        if path.suffix != ".py":
            raise DerivationError(f"{ref} is not a Python file; a derivation is a .py file "
                                  f"that defines `derivation = Model(...)`")
        if not path.stem.isidentifier():
            raise DerivationError(f"{path.name}: a derivation file's name must be a Python "
                                  f"identifier (letters, digits, _), e.g. my_model.py")
        path = path.resolve()
        kernels = Path(out).expanduser().resolve() if out else path.parent / "generated"
        return Source(path.stem, path, kernels / f"{path.stem}.py", builtin=False)
    if ref not in builtin_names():
        raise DerivationError(
            f"no derivation named {ref!r}; built-in models: {', '.join(builtin_names())}. "
            f"For a model of your own, give the path to its file (e.g. ./{ref}.py)")
    return Source(ref, derivations_dir() / f"{ref}.py", generated_dir() / f"{ref}.py",
                  builtin=True)


def resolve_many(refs=None, out=None) -> list[Source]:
    """Sources for names, files and folders (every *.py in a folder); none means the built-ins."""
    if not refs:
        return [resolve(name) for name in builtin_names()]
    found = []
    for ref in refs:
        path = Path(str(ref)).expanduser()
        if not isinstance(ref, Source) and path.is_dir():
            files = sorted(p for p in path.glob("*.py") if not p.name.startswith("_"))
            if not files:
                raise DerivationError(f"the folder {ref} holds no derivation files (*.py)")
            found += [resolve(p, out) for p in files]
        else:
            found.append(resolve(ref, out))
    return found


def load_derivation(ref):
    """Import the derivation file and return its `derivation` (a Derivation or a Model).

    A file that does not import (a syntax error, an exception while it runs) is a
    `DerivationError` saying where, so one broken file stops only the commands that need it.
    """
    from symdl.model import Derivation
    source = resolve(ref)
    try:
        if source.builtin:
            module = importlib.import_module(source.module_name(USER_DERIVATIONS))
        else:
            module = _import_file(source.module_name(USER_DERIVATIONS), source.path)
    except SymdlError:
        raise
    except Exception as error:
        raise DerivationError(f"{source.shown_path} is broken: {_describe(error, source.path)}"
                              f"; fix the file, then run the command again") from None
    derivation = getattr(module, "derivation", None)
    if not isinstance(derivation, Derivation):
        raise DerivationError(f"{source.shown_path} must define `derivation = Model(...)` "
                              f"or `derivation = Derivation(...)`")
    if derivation.name != source.name:
        raise DerivationError(f"{source.shown_path} names its derivation {derivation.name!r}; "
                              f"the name must match the file name ({source.name!r})")
    derivation.origin = source
    return derivation


def load_kernels(ref) -> ModuleType:
    """The generated module of a model, imported from its file (Numba's cache works for both).

    Only a file that is what the generator wrote is loaded (`trusted_kernels`).
    """
    source = resolve(ref)
    trusted_kernels(source)
    if source.builtin:
        return importlib.import_module(source.module_name(USER_KERNELS))
    return _import_file(source.module_name(USER_KERNELS), source.kernel_path)


def _import_file(module_name: str, path: Path) -> ModuleType:
    """Import a file as `module_name` (once per file content: an edited file is re-imported)."""
    stamp = path.stat().st_mtime_ns, path.stat().st_size
    cached = sys.modules.get(module_name)
    if cached is not None and getattr(cached, "__symdl_stamp__", None) == stamp:
        return cached
    package = module_name.split(".")[0]
    if package not in sys.modules:
        sys.modules[package] = ModuleType(package)
        sys.modules[package].__path__ = []
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    module.__symdl_stamp__ = stamp  # type: ignore[attr-defined]
    return module


# ---- trusting generated files ---------------------------------------------------------------

BODY_LINE = re.compile(r'^BODY_SHA256 = "([0-9a-f]*)"$', re.MULTILINE)
DERIVATION_LINE = re.compile(r'^DERIVATION_SHA256 = "([0-9a-f]*)"$', re.MULTILINE)
_trusted: dict = {}  # kernel file -> (mtime, size) when last verified


def file_hash(path: Path) -> str:
    """The hash of a file's bytes that generated files record (16 hex digits of SHA-256)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def body_hash(text: str) -> str:
    """The hash of a generated file's text with its own BODY_SHA256 value left blank."""
    blank = BODY_LINE.sub('BODY_SHA256 = ""', text, count=1)
    return hashlib.sha256(blank.encode("utf-8")).hexdigest()[:16]


def with_body_hash(text: str) -> str:
    """A generated file's text with BODY_SHA256 filled in (the generator's last step)."""
    return BODY_LINE.sub(f'BODY_SHA256 = "{body_hash(text)}"', text, count=1)


def regenerate_hint(source: Source) -> str:
    return "symdl generate" if source.builtin else f"symdl generate {source.path}"


def trusted_kernels(source: Source) -> None:
    """Refuse a generated file that is not what the generator wrote from the derivation now.

    Missing: a user's model gets its kernels generated now, beside it (a built-in model's
    are part of the package: say how to generate them; a derivation without a loss has
    nothing to train). Edited by
    hand (its BODY_SHA256 does not match its text): an error saying how to regenerate. Older
    than its derivation (DERIVATION_SHA256 differs from the derivation file's hash): an error
    naming both files. Regenerating silently instead would hide a stale file from
    `symdl generate --check` and from symdl.testing's `fresh` test.
    """
    path = source.kernel_path
    if not path.exists():
        _missing_kernels(source)
    stamp = path.stat().st_mtime_ns, path.stat().st_size
    if _trusted.get(path) == stamp:
        return
    shown = f"generated/{path.name}" if source.builtin else str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        text = ""
    recorded = BODY_LINE.search(text)
    if recorded is None or recorded.group(1) != body_hash(text):
        what = ("has no BODY_SHA256 line" if recorded is None
                else "does not match the hash symdl wrote into it")
        raise DerivationError(f"{shown} is not what symdl generated (its text {what}): "
                              f"generated files must not be edited by hand; regenerate it with "
                              f"`{regenerate_hint(source)}`")
    derivation = DERIVATION_LINE.search(text)
    if derivation is None or derivation.group(1) != file_hash(source.path):
        made_from = derivation.group(1) if derivation else "an unknown version"
        raise DerivationError(
            f"{source.shown_path if source.builtin else source.path} has changed since {shown} "
            f"was generated from it (the file's hash is {file_hash(source.path)}, the kernels "
            f"were made from {made_from}); run `{regenerate_hint(source)}` to regenerate them")
    _trusted[path] = stamp


def _missing_kernels(source: Source):
    from symdl.model import Model
    derivation = load_derivation(source)
    if not isinstance(derivation, Model):
        raise DerivationError(f"{source.name} is a derivation to read, not a model to train: it "
                              f"has no loss, so it has no kernels; `symdl derive {source.ref}` "
                              f"prints it")
    if source.builtin:
        raise DerivationError(f"no generated kernels for {source.name!r}: run "
                              f"`{regenerate_hint(source)}` first")
    from symdl import generate
    try:
        generate.write([source])
    except OSError as error:
        raise DerivationError(
            f"no generated kernels for {source.name!r}, and they cannot be written to "
            f"{source.kernel_path.parent} ({error.strerror}); run `symdl generate "
            f"{source.path} --out DIR` with a folder you can write, then pass that folder's "
            f"file") from None
    print(f"symdl: generated {source.kernel_path} from {source.path.name} (first use; "
          f"`symdl generate` regenerates it)", file=sys.stderr)


def _describe(error: BaseException, path: Path) -> str:
    """An exception from importing `path`, in one line: its type, message and line there."""
    if isinstance(error, SyntaxError):
        return f"{type(error).__name__} at line {error.lineno}: {error.msg}"
    lines = [frame.lineno for frame in traceback.extract_tb(error.__traceback__)
             if Path(frame.filename).resolve() == Path(path).resolve()]
    where = f" at line {lines[-1]}" if lines else ""
    return f"{type(error).__name__}{where}: {error}"
