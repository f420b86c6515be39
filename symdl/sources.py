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

import functools
import hashlib
import importlib
import importlib.abc
import importlib.util
import keyword
import os
import pkgutil
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from symdl.errors import DerivationError, SymdlError

KERNELS_ENV = "SYMDL_KERNELS"  # a folder for the kernels of every user model (--kernels DIR)
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


@functools.cache
def derivations_dir() -> Path:
    import symdl.derivations as package
    return Path(package.__path__[0])


@functools.cache
def generated_dir() -> Path:
    import symdl.generated as package
    return Path(package.__path__[0])


_builtin_listing: dict = {}  # the derivations folder's mtime -> {name: its Source}


def builtin_names() -> list[str]:
    """Every model file among symdl's own derivations, sorted."""
    return list(_builtins())


def _builtins() -> dict:
    """{name: Source} of symdl's own derivations, in name order.

    Listed again only when the folder's modification time changes (a file added or removed):
    every `resolve` of a name asks, and a listing and its paths cost about a millisecond, a
    tenth of a small estimator fit."""
    folder = derivations_dir()
    stamp = folder.stat().st_mtime_ns
    found = _builtin_listing.get(stamp)
    if found is None:
        names = sorted(info.name for info in pkgutil.iter_modules([str(folder)])
                       if not info.name.startswith("_"))
        found = {name: Source(name, folder / f"{name}.py", generated_dir() / f"{name}.py",
                              builtin=True) for name in names}
        _builtin_listing.clear()
        _builtin_listing[stamp] = found
    return found


def looks_like_path(ref: str) -> bool:
    return ref.endswith(".py") or "/" in ref or "\\" in ref or Path(ref).is_dir()


def resolve(ref, out: str | Path | None = None) -> Source:
    """The Source a user means by `ref`: a built-in model name, or a path to a .py file.

    `out` overrides where a user model's kernels go; without it they go to the folder the
    environment variable SYMDL_KERNELS names (what `--kernels DIR` sets), else to generated/
    beside the file.
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
        out = out or os.environ.get(KERNELS_ENV) or None
        kernels = Path(out).expanduser().resolve() if out else path.parent / "generated"
        return Source(path.stem, path, kernels / f"{path.stem}.py", builtin=False)
    builtins = _builtins()
    if ref not in builtins:
        raise DerivationError(
            f"no derivation named {ref!r}; built-in models: {', '.join(builtins)}. "
            f"For a model of your own, give the path to its file (e.g. ./{ref}.py)")
    return builtins[ref]


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
            module = import_file(source.module_name(USER_DERIVATIONS), source.path)
    except SymdlError:
        raise
    except Exception as error:
        from symdl.interrupts import caused_by_interrupt
        if caused_by_interrupt(error):  # Ctrl-C while it ran: not the file's fault
            raise KeyboardInterrupt from None
        raise DerivationError(f"{source.shown_path} is broken: {_describe(error, source.path)}"
                              f"; fix the file, then run the command again") from None
    derivation = getattr(module, "derivation", None)
    if not isinstance(derivation, Derivation) and hasattr(module, "DERIVATION_SHA256"):
        raise DerivationError(f"{source.shown_path} is a generated kernel file, not a "
                              f"derivation: name the derivation file it was generated from "
                              f"(and, when its kernels are in a folder of their own, that "
                              f"folder with --kernels DIR)")
    if not isinstance(derivation, Derivation):
        raise DerivationError(f"{source.shown_path} must define `derivation = Model(...)` "
                              f"or `derivation = Derivation(...)`")
    if derivation.name != source.name:
        raise DerivationError(f"{source.shown_path} names its derivation {derivation.name!r}; "
                              f"the name must match the file name ({source.name!r})")
    derivation.origin = source
    return derivation


def kernel_module_name(source: Source) -> str:
    """The name a user's generated kernels are imported under: the one a plain import gives.

    Numba's on-disk cache (the __pycache__ beside the generated file) records the name of the
    module a kernel was compiled in, and a later process that loads the cached kernel imports
    that name (docs/engineering.md, "Numba's cache records the module's name"). So symdl
    imports `DIR/generated/NAME.py` as `generated.NAME`, what `import generated.NAME` run in
    DIR gives: the cache symdl leaves then works for the user's own import, and theirs for
    symdl. Where that name is taken in this process — by another folder's file of the same
    name, or by a package `generated` (or the --kernels folder's name) that is not this
    folder, or the folder's name is not an identifier — the kernels get a name of their own
    (`symdl_user_kernels.NAME_<hash of the path>`), which only symdl's processes resolve.
    """
    if source.builtin:
        return source.module_name(USER_KERNELS)
    folder = source.kernel_path.parent
    package = folder.name
    private = source.module_name(USER_KERNELS)
    if not package.isidentifier() or keyword.iskeyword(package):
        return private
    loaded = sys.modules.get(package)
    if loaded is None:
        try:
            found = importlib.util.find_spec(package)
        except (ImportError, ValueError):
            return private
        if found is not None and str(folder) not in _resolved(found.submodule_search_locations):
            return private  # an installed or current-folder package of that name: not ours
    elif str(folder) not in _resolved(getattr(loaded, "__path__", None)) \
            and not getattr(loaded, "__symdl_kernels__", False):
        return private
    name = f"{package}.{source.name}"
    existing = sys.modules.get(name)
    if existing is not None and Path(getattr(existing, "__file__", "") or "").resolve() \
            != source.kernel_path.resolve():
        return private  # another folder's kernels of the same name, imported first
    return name


def also_known_as(source: Source, module: ModuleType) -> None:
    """Make the other names of user kernels resolve to `module` in this process, so that a
    Numba cache compiled under such a name still loads: the private names
    (`symdl_user_kernels.NAME_<hash>`, what symdl 0.1.0 imported every user model as, and what
    a process where `generated` was taken gave them), of this folder and of a folder copied
    or moved here (its hash is of the old path); and the public name `generated.NAME`, in a
    process where `generated` is another package (symdl's own, in its repository) and these
    kernels got the private one. Normal imports come first: only a name nothing else finds
    falls back to these kernels. The cache index already matched this file's text; only the
    name of the module its globals come from differs."""
    _private_kernels[source.name] = module
    folder = source.kernel_path.parent.name
    if folder.isidentifier() and not keyword.iskeyword(folder):
        _public_kernels[f"{folder}.{source.name}"] = module
    if not any(isinstance(finder, _PrivateKernelNames) for finder in sys.meta_path):
        sys.meta_path.append(_PrivateKernelNames())
    if USER_KERNELS not in sys.modules:
        sys.modules[USER_KERNELS] = ModuleType(USER_KERNELS)
        sys.modules[USER_KERNELS].__path__ = []
    sys.modules[source.module_name(USER_KERNELS)] = module


_private_kernels: dict[str, ModuleType] = {}  # a user model's name -> its kernels, last loaded
_public_kernels: dict[str, ModuleType] = {}  # "generated.NAME" -> the kernels loaded last


class _PrivateKernelNames(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds `symdl_user_kernels.NAME_<12 hex digits>` as the kernels of NAME loaded last, and
    `FOLDER.NAME` where nothing else does (`also_known_as`); it is last on sys.meta_path."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname in _public_kernels:
            return importlib.util.spec_from_loader(fullname, self)
        package, _, rest = fullname.partition(".")
        name, _, digest = rest.rpartition("_")
        if (package != USER_KERNELS or name not in _private_kernels or len(digest) != 12
                or any(c not in "0123456789abcdef" for c in digest)):
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        if spec.name in _public_kernels:
            return _public_kernels[spec.name]
        return _private_kernels[spec.name.partition(".")[2].rpartition("_")[0]]

    def exec_module(self, module):
        pass  # already imported


def _resolved(paths) -> list[str]:
    return [str(Path(p).resolve()) for p in (paths or [])]


def import_file(module_name: str, path: Path) -> ModuleType:
    """Import a file as `module_name` (once per file content: an edited file is re-imported)."""
    stamp = path.stat().st_mtime_ns, path.stat().st_size
    cached = sys.modules.get(module_name)
    if cached is not None and getattr(cached, "__symdl_stamp__", None) == stamp:
        return cached
    package = module_name.split(".")[0]
    if package not in sys.modules and package not in (USER_KERNELS, USER_DERIVATIONS):
        try:  # a real package of that name here (a folder on sys.path): import it as such
            importlib.import_module(package)
        except Exception:  # none, or one that does not import: symdl's own stands in
            pass
    if package not in sys.modules:
        sys.modules[package] = ModuleType(package)
        sys.modules[package].__path__ = []
        sys.modules[package].__symdl_kernels__ = True  # type: ignore[attr-defined]
    folders = getattr(sys.modules[package], "__path__", None)
    if getattr(sys.modules[package], "__symdl_kernels__", False) and isinstance(folders, list) \
            and package not in (USER_KERNELS, USER_DERIVATIONS) \
            and str(path.parent) not in folders:
        folders.append(str(path.parent))  # so that `import generated.NAME` finds it here too
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


def _describe(error: BaseException, path: Path) -> str:
    """An exception from importing `path`, in one line: its type, message and line there."""
    if isinstance(error, SyntaxError):
        return f"{type(error).__name__} at line {error.lineno}: {error.msg}"
    lines = [frame.lineno for frame in traceback.extract_tb(error.__traceback__)
             if Path(frame.filename).resolve() == Path(path).resolve()]
    where = f" at line {lines[-1]}" if lines else ""
    return f"{type(error).__name__}{where}: {error}"
