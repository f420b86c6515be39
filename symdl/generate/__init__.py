"""The code generator: a derivation in, its Numba kernels out, as `generated/NAME.py`.

One module per part; read them in this order:

* `printer.py`   `NumbaPrinter`, one SymPy expression as Numba code (a method per node);
* `emitter.py`   what every layout shares: statements, names, dimensions;
* `rows.py`      the rows layout: one fused, parallel pass over the samples;
* `block.py`     the block layout: each step over blocks of samples, in loops that vectorise;
* `blas.py`      the blas layout: matrix products over a batch, for wide layers;
* `templates.py` and `helpers.py.txt`: kernel skeletons, the file header, and the stable
  helpers every generated file carries;
* `files.py`     one model's whole file (`render_module`), the layout it gets (`layout_of`),
  and the files on disk: `write` (only when the text changed), `stale`, `expected_files`.

The package re-exports nothing: import each name from the module it lives in
(`from symdl.generate.files import write`). Which model a name or a path means, and where
its kernels go, is `symdl.sources`; loading generated kernels is `symdl.kernels`.

Output is deterministic, so regenerating is byte-identical and Numba's cache stays valid.
"""
