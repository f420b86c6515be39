"""The stamps a generated file carries: where it came from, and proof it was not edited.

Every file in `generated/` records three hashes (16 hex digits of SHA-256 each):

* ``DERIVATION_SHA256`` — of the derivation file it was generated from, so a derivation
  edited since is noticed;
* ``GENERATOR_SHA256`` — of the generator's own files, so a symdl upgrade is noticed;
* ``BODY_SHA256`` — of the file's own text with this value left blank, so a hand edit is
  noticed.

The generator writes them (`symdl.generate.files`), `symdl.kernels` checks them before it
imports a file, and `symdl.saved` keeps them with a trained model. Nothing here imports
SymPy or Numba.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

BODY_LINE = re.compile(r'^BODY_SHA256 = "([0-9a-f]*)"$', re.MULTILINE)
DERIVATION_LINE = re.compile(r'^DERIVATION_SHA256 = "([0-9a-f]*)"$', re.MULTILINE)
GENERATOR_LINE = re.compile(r'^GENERATOR_SHA256 = "([0-9a-f]*)"$', re.MULTILINE)
SYMDL = Path(__file__).parent
STAMP_LINE = re.compile(r'^(DERIVATION|GENERATOR|BODY)_SHA256 = "[0-9a-f]*"\n', re.MULTILINE)


def short_hash(data: bytes) -> str:
    """16 hex digits of SHA-256: the form of every stamp."""
    return hashlib.sha256(data).hexdigest()[:16]


def file_hash(path: Path) -> str:
    """The hash of a file's bytes, as DERIVATION_SHA256 records it."""
    return short_hash(Path(path).read_bytes())


def body_hash(text: str) -> str:
    """The hash of a generated file's text with its own BODY_SHA256 value left blank."""
    return short_hash(BODY_LINE.sub('BODY_SHA256 = ""', text, count=1).encode("utf-8"))


def with_body_hash(text: str) -> str:
    """A generated file's text with BODY_SHA256 filled in (the generator's last step)."""
    return BODY_LINE.sub(f'BODY_SHA256 = "{body_hash(text)}"', text, count=1)


def recorded_body_hash(text: str) -> str | None:
    """The BODY_SHA256 a generated file's text records, or None when it has none."""
    found = BODY_LINE.search(text)
    return found.group(1) if found else None


def recorded_derivation_hash(text: str) -> str | None:
    """The DERIVATION_SHA256 a generated file's text records, or None when it has none."""
    found = DERIVATION_LINE.search(text)
    return found.group(1) if found else None


def recorded_generator_hash(text: str) -> str | None:
    """The GENERATOR_SHA256 a generated file was stamped with, None if it has none."""
    match = GENERATOR_LINE.search(text)
    return match.group(1) if match else None


def generator_files() -> list[Path]:
    """Everything that decides what a generated file says: the language, SymPy's side, the
    generator (read as files, so that checking a stamp imports none of them)."""
    generate = SYMDL / "generate"
    return ([SYMDL / name for name in ("model.py", "functions.py", "derive.py")]
            + sorted(generate.glob("*.py")) + [generate / "helpers.py.txt"])


def generator_hash() -> str:
    """A hash of the generator itself: a change to it makes every generated file stale."""
    digest = hashlib.sha256()
    for path in generator_files():
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def code_hash(text: str) -> str:
    """The hash of what a generated file computes: its text without the docstring and the
    stamps. An edit to a derivation's comments, or a generator change that leaves every kernel
    as it was (a new symdl release, say), leaves this hash alone."""
    return short_hash(STAMP_LINE.sub("", text.split('"""', 2)[-1]).encode())
