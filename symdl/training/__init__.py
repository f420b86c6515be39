"""The training engine under `symdl.train`: what a run is made of, with no SymPy in it.

Read in this order:

* `result.py`     — `Result` (what training returns), its `History` and the `Run` callbacks see;
* `inputs.py`     — the kernels' calling convention, once: parameters in SPEC order, every
  data tensor checked and shaped, dimension sizes bound, starting parameters;
* `divergence.py` — the checks on J while training runs, and the 2/λ_max step-size bound;
* `batches.py`    — shuffled mini-batches gathered into buffers made once (dense or CSR);
* `scores.py`     — accuracy or mean squared error beside J, and the softmax of a class model;
* `engine.py`     — `run_epochs`: the epoch loops of every optimizer, L-BFGS and Newton's method.

`symdl.train` (the public functions), `symdl.chunked` (data in chunks), `symdl.saved` and
`symdl.callbacks` build on these modules; nothing here imports them. See docs/architecture.md.
"""
