"""Emits Numba kernels from a derivation into `generated/NAME.py`.

One module per part, read in this order:

* `printer.py`  — `NumbaPrinter`, one SymPy expression as Numba code (a method per node);
* `emitter.py`  — what every layout shares: statements, names, dimensions;
* `rows.py`     — the rows layout: one fused, parallel pass over the samples;
* `block.py`    — the block layout: each step over blocks of samples, loops that vectorise;
* `blas.py`     — the blas layout: matrix products over a batch, for wide layers;
* `templates.py` and `helpers.py.txt` — kernel skeletons, the file header, the stable helpers
  every generated file carries;
* `files.py`    — one model's whole file, written only when its text changed.

Output is deterministic, so regenerating is byte-identical and Numba's cache stays valid.
"""

from symdl.generate.blas import BlasEmitter
from symdl.generate.block import BlockEmitter
from symdl.generate.files import (EMITTERS, expected_files, generator_hash, layout_of, render_module,
                                  source_hash, spec, stale, write, write_atomically)
from symdl.generate.printer import NumbaPrinter
from symdl.generate.rows import RowsEmitter
from symdl.sources import builtin_names as derivation_names
from symdl.sources import generated_dir, resolve


def load_derivation(ref):
    """(derivation, path of its file) for a built-in name or a path to a derivation file."""
    from symdl.sources import load_derivation as load
    derivation = load(ref)
    return derivation, derivation.origin.path


__all__ = ["BlasEmitter", "BlockEmitter", "EMITTERS", "NumbaPrinter", "RowsEmitter", "derivation_names",
           "expected_files", "generated_dir", "generator_hash", "layout_of", "load_derivation",
           "render_module", "resolve", "source_hash", "spec", "stale", "write",
           "write_atomically"]
