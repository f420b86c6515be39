"""Training on data that does not fit in memory: Dask arrays, Zarr stores, folders of .npy files.

Every generated kernel computes a sum over the samples (or that sum divided by m), so J and
∂J/∂p over all m rows are sums of the same quantities over blocks of rows. Each epoch, every
row chunk runs the model's fused `loss_and_gradient` kernel where the chunk lives and returns
1 + P numbers (its loss and its P gradient entries, as sums); Dask adds them in a tree; the
update then happens once, here. Only those numbers travel, never the rows.

    >>> import dask.array as da
    >>> x, y = stores.load("big.zarr")                       # arrays "x" and "y", read lazily
    >>> result = train.fit("logistic_regression", x, y, learning_rate=0.5, epochs=50)
    >>> result = train.fit("logistic_regression", x, y, optimizer="lbfgs", scheduler=client)

`train.fit` comes here whenever x is a Dask array, and the epochs are those of
`symdl.training.engine.run_epochs`, as in memory (divergence watch, callbacks, Ctrl-C). Full-batch gradient descent, L-BFGS
(SciPy's, on the distributed loss and gradient) and Newton's method (each chunk's Hessian
summed, one solve here) give the in-memory path's parameters up to the reordering of the
sums; "sgd", "rmsprop", … take mini-batches from one chunk at a time, the chunks in a
shuffled order. The scheduler is Dask's: its local threads by default, or a
`distributed.Client` (the one passed, or the one already active) for a cluster, where a
worker that dies costs a recomputation of its chunks (the tasks are pure) and nothing else.

Data is checked inside the first pass, chunk by chunk, with the same errors as in memory
(`training.inputs.checked_data`) prefixed by the chunk and its rows, so no second pass is
needed.

Dask is an optional extra: ``pip install symdl[dask]``.

Long because training over chunks is one piece: each chunk checked as it is read (every data
tensor and the target), the pass that sums the kernels' results, the engine's kernels over
those passes, mini-batches chunk by chunk, and training from a store.
"""

from __future__ import annotations

import threading

import numpy as np

from symdl import callbacks as callbacks_module, kernels, sources, stores, validate
from symdl.errors import DataError
from symdl.training import inputs
from symdl.training.batches import batches
from symdl.training.divergence import finite_loss
from symdl.training.engine import run_epochs
from symdl.training.inputs import flat, kernel_data, unflat
from symdl.training.result import Result
from symdl.training.scores import score_names, scores, validation_scores

# Threads: one kernel at a time per process, on all of Numba's threads (NUMBA_NUM_THREADS,
# by default the cores), while Dask's other threads read the next chunks (file reads release
# the GIL). So the cores never carry more than one kernel's Numba threads plus reads; two
# kernels at once would each start a full Numba pool (twice the cores), and Numba's
# 'workqueue' layer aborts the process when two threads launch parallel kernels together.
# On a cluster the rule holds per worker process: processes per machine × NUMBA_NUM_THREADS
# ≤ the machine's cores (benchmarks/README.md, W6, measures why the kernels need no nogil).
_KERNEL_LOCK = threading.Lock()


def _checked_chunk(spec, arrays, y, rows, index, dtype, declared):
    """One chunk through training.inputs.checked_data, its errors naming the chunk and its rows.

    `arrays` are the chunk's data tensors in declaration order, `declared` the shape each Dask
    array says this chunk has; a chunk that differs (a ragged file, a wrong `from_delayed`
    shape) would otherwise be a Numba indexing error.
    """
    where = f"chunk {index} (rows {rows[0]}..{rows[1] - 1})"
    names = [name for name, _ in inputs.input_specs(spec)]
    labels = names if len(names) > 1 else ["x"]  # one data tensor is "x", as the user gave it
    for label, x, shape in zip(labels, arrays, declared):
        if x.shape[1:] != tuple(shape[1:]):
            raise DataError(f"{where}: {label} has {x.shape[1] if x.ndim > 1 else 1} columns "
                            f"here but the array declares {shape[1] if len(shape) > 1 else 1}; "
                            f"every chunk needs the same width")
        if len(x) != rows[1] - rows[0] or (y is not None and len(y) != len(x)):
            raise DataError(f"{where}: {label} has {len(x)} rows and y "
                            f"{len(y) if y is not None else 0} where {rows[1] - rows[0]} were "
                            f"declared; the arrays' chunks do not match their shapes")
    for name, array in list(zip(labels, arrays)) + [("y", y)]:
        if array is not None and array.dtype.kind == "f" and not np.all(np.isfinite(array)):
            bad = ~np.isfinite(array)
            first = rows[0] + int(np.argwhere(bad)[0][0])
            raise DataError(f"{where}: {name} contains {int(np.count_nonzero(np.isnan(array)))} "
                            f"NaN and {int(np.count_nonzero(np.isinf(array)))} inf entries "
                            f"(the first in row {first}); remove or fill them before training")
    try:
        return inputs.checked_data(spec, tuple(arrays) if len(arrays) > 1 else arrays[0], y, dtype)
    except DataError as error:
        raise DataError(f"{where}: {error}") from None


def _kernel_data(spec, arrays, y, data_dtype):
    """A chunk as the kernel takes it, unchecked (the first pass has checked it): x one array,
    or a tuple of the data tensors in declaration order, and y (rows of k for a vector target)."""
    shaped = tuple(np.ascontiguousarray(x.reshape(len(x)) if shape == () else x, dtype=data_dtype)
                   for (_, shape), x in zip(inputs.input_specs(spec), arrays))
    if y is not None:
        y = y.reshape(len(y)) if not spec.get("target_shape") else y
        y = np.ascontiguousarray(y, dtype=np.int64 if spec["target"][1] == "class" else np.float64)
    return (shaped if len(shaped) > 1 else shaped[0]), y


def _chunk_sums(*blocks, ref, params, want, check, data_dtype, count, hyper=None,
                weighted=False, block_info=None):
    """What `want` names, for one chunk, as sums packed in one row.

    `blocks` are the chunk of each of the `count` data tensors, then of the target if any,
    then (`weighted`) of the samples' weights, for the weighted kernels (a mean J's chunk
    sums then scale by the chunk's Σ w, not its rows).
    The row is [J, ∂J/∂p₁..., H₁₁..., rows·score]: J always, then the gradient, the Hessian
    (the generated `hessian` kernel, P × P over the flat parameters) and the training scores
    (training.scores: accuracy or mse, times the chunk's rows) when `want` names them. The
    kernels run at the hyperparameters `hyper` (checked values, by name).
    """
    module = kernels.load(ref)
    spec = module.SPEC
    module = inputs.with_hyper(module, spec, hyper)
    weights = np.ascontiguousarray(blocks[-1][:, 0], dtype=data_dtype) if weighted else None
    blocks = blocks[:-1] if weighted else blocks
    arrays, y = blocks[:count], (blocks[count] if len(blocks) > count else None)
    if check:
        info = block_info[0]
        if y is not None and not spec.get("target_shape"):
            y = y.reshape(len(y))
        x, y = _checked_chunk(spec, arrays, y, info["array-location"][0],
                              info["chunk-location"][0], data_dtype,
                              [tuple(stop - start for start, stop in block_info[k]["array-location"])
                               for k in range(count)])
    else:
        x, y = _kernel_data(spec, arrays, y, data_dtype)
    data = kernel_data(x, y)
    if weighted:
        module, data = inputs.Weighted(module), data + (weights,)
    with _KERNEL_LOCK:
        if "gradient" in want:
            loss, *grads = module.loss_and_gradient(*params, *data)
        else:
            loss, grads = module.loss(*params, *data), []
        hessian = [module.hessian(*params, *data)] if "hessian" in want else []
        found_scores = scores(module, params, x, y) if "scores" in want else {}
    sums = np.concatenate([[loss]] + [np.ravel(g) for g in grads + hessian]).astype(np.float64)
    rows = inputs.sample_count(x)
    scale = (float(np.sum(weights)) if weighted else rows) if spec["reduction"] == "mean" else 1
    found = np.concatenate([sums * scale, [rows * v for v in found_scores.values()]])
    return found[None, :]


class ChunkedData:
    """Aligned row chunks of x and y, and one pass over them: the summed loss and gradient."""

    def __init__(self, ref, spec, x, y, dtype, scheduler=None, hyper=None, sample_weight=None):
        self.ref, self.spec, self.dtype, self.scheduler = ref, spec, dtype, scheduler
        self.hyper = inputs.hyper_values(spec, hyper)
        tensors = inputs.input_specs(spec)
        given = inputs.given_inputs(spec, x)
        labels = [name for name, _ in tensors] if len(tensors) > 1 else ["x"]
        first, self.y = stores.aligned_rows(given[0], y)
        self.inputs = [first] + [_aligned_like(first, array, label, labels[0])
                                 for array, label in zip(given[1:], labels[1:])]
        for k, ((_, shape), label) in enumerate(zip(tensors, labels)):
            array = self.inputs[k]
            if shape == () and array.ndim == 2:
                if array.shape[1] != 1:
                    raise DataError(f"{label} has {array.shape[1]} features per sample (shape "
                                    f"{array.shape}) but the model expects a single number")
                self.inputs[k] = array[:, 0]
        if self.y is not None and self.y.ndim == 2 and len(self.y.chunks[1]) > 1:
            self.y = self.y.rechunk({1: -1})  # a vector target: whole rows of k per chunk
        self.x = self.inputs[0] if len(self.inputs) == 1 else tuple(self.inputs)
        self.rows = int(self.inputs[0].shape[0])
        if self.rows == 0:
            raise DataError("no samples: x has 0 rows")
        self.passes = 0
        # what a mean J's chunk sums are divided by: the rows, or Σ w over weighted rows
        self.weights, self.total_weight = None, float(self.rows)
        if sample_weight is not None:
            self.weights, self.total_weight = _checked_weights(spec, sample_weight, first)

    @property
    def chunks(self) -> int:
        return len(self.inputs[0].chunks[0])

    def evaluate(self, params, want, check=False) -> dict:
        """One pass: J and whichever of "gradient", "hessian", "scores" `want` names.

        Reduced as the kernel reduces (sums, or means for a mean loss); the scores are
        always means over the rows.
        """
        import dask
        size = int(sum(np.size(p) for p in params))
        names = score_names(kernels.load(self.ref)) if "scores" in want else []
        width = (1 + size * ("gradient" in want) + size * size * ("hessian" in want)
                 + len(names))
        total = self._sum(_chunk_sums, width, params=dask.delayed(list(params), pure=True),
                          want=tuple(want), check=check)
        self.passes += 1
        sums = total[:width - len(names)] / (self.total_weight if self.spec["reduction"] == "mean" else 1)
        found = {"loss": float(sums[0]),
                 "scores": {n: float(v) / self.rows for n, v in zip(names, total[-len(names):])}
                 if names else {}}
        at = 1
        if "gradient" in want:
            found["gradient"], at = unflat(sums[at:at + size], params), at + size
        if "hessian" in want:
            found["hessian"] = sums[at:at + size * size].reshape(size, size)
        return found

    def _sum(self, per_chunk, size, **options):
        """Σ over the chunks of per_chunk(x, y, ...) (one row of `size` each), in a tree."""
        import dask
        da = stores.require_dask()
        arrays = [x if x.ndim == 2 else x[:, None] for x in self.inputs]
        if self.y is not None:
            arrays.append(self.y if self.y.ndim == 2 else self.y.reshape(self.y.shape[0], 1))
        if self.weights is not None:
            arrays.append(self.weights[:, None])
        parts = da.map_blocks(per_chunk, *arrays, ref=self.ref, data_dtype=self.dtype,
                              dtype=np.float64, chunks=((1,) * self.chunks, (size,)),
                              meta=np.empty((0, size)), count=len(self.inputs),
                              hyper=self.hyper, weighted=self.weights is not None, **options)
        (total,) = dask.compute(parts.sum(axis=0, split_every=8), scheduler=self.scheduler)
        return total

    def block(self, index):
        """Chunk `index` of x and y in memory, as the kernels take them, and its rows'
        weights (None when the rows are not weighted)."""
        import dask
        y = None if self.y is None else self.y.blocks[index]
        w = None if self.weights is None else self.weights.blocks[index]
        blocks, yb, wb = dask.compute([x.blocks[index] for x in self.inputs], y, w,
                                      scheduler=self.scheduler)
        wb = None if wb is None else np.ascontiguousarray(wb, dtype=self.dtype)
        return (*_kernel_data(self.spec, blocks, yb, self.dtype), wb)


def _checked_weights(spec, sample_weight, first):
    """The samples' weights as a Dask array in the rows of x's chunks, and their sum, checked
    in one pass over the weights alone (finite, ≥ 0, not all 0: `inputs.sample_weights`)."""
    import dask
    weights = _aligned_like(first, sample_weight, "sample_weight", "x")
    if weights.ndim != 1:
        raise DataError(f"sample_weight has shape {weights.shape}: give one weight per sample, "
                        f"a 1-D array of {first.shape[0]}")
    finite, smallest, total = dask.compute(weights.map_blocks(np.isfinite).all(), weights.min(),
                                           weights.sum())
    if not finite:
        raise DataError("sample_weight contains NaN or inf; weights must be finite numbers")
    inputs.sample_weights(spec, np.array([smallest, total]), 2)  # negative, or all 0
    return weights, float(total)


def _aligned_like(first, array, label, first_label):
    """A further data tensor with whole rows per chunk, in the rows of the first's chunks."""
    da = stores.require_dask()
    if not stores.is_chunked(array):
        array = np.asarray(array)
        array = da.from_array(array, chunks=((first.chunks[0],) if len(array) == first.shape[0]
                                             else (len(array),)) + array.shape[1:])
    if array.shape[0] != first.shape[0]:
        raise DataError(f"{label} has {array.shape[0]} samples but {first_label} has "
                        f"{first.shape[0]}; every data tensor needs one row per sample")
    if array.chunks[0] != first.chunks[0]:
        raise DataError(f"{label} and {first_label} are chunked differently in rows; rechunk "
                        f"{label} like {first_label} with {label}.rechunk({first_label}.chunks[0])")
    return array.rechunk({i: -1 for i in range(1, array.ndim)}) if array.ndim > 1 else array


class Kernels:
    """The model's kernels over every chunk, called as the generated ones are, data implied.

    The training engine (run_epochs, lbfgs, newton) calls `loss`, `loss_and_gradient` and
    `hessian` with the parameters alone. Each call at new parameters is one pass over the
    chunks computing `base` and `also` there (e.g. the Hessian for Newton's method, the
    epoch's scores with epoch_metrics), and the pass is kept: J, ∇J, H and the scores at one
    point cost one read of the data. The first pass checks every chunk.
    """

    def __init__(self, data, base=("gradient",), also=()):
        self.data, self.SPEC, self.want = data, data.spec, tuple(base) + tuple(also)
        self.point, self.found = None, {}

    def at(self, params, want=()) -> dict:
        key = flat(params).tobytes()
        if key != self.point or not all(w in self.found for w in want):
            wanted = tuple(dict.fromkeys(self.want + tuple(want)))
            self.found = self.data.evaluate(list(params), wanted, check=self.data.passes == 0)
            self.point = key
        return self.found

    def loss(self, *params):
        return self.at(params)["loss"]

    def loss_and_gradient(self, *params):
        found = self.at(params, ("gradient",))
        return (found["loss"], *found["gradient"])

    def hessian(self, *params):
        return self.at(params, ("hessian",))["hessian"]

    def kink_weight(self):
        """The weight of the penalty's kinks at the run's hyperparameters (SPEC["kinks"])."""
        return kernels.load(self.data.ref).kink_weight(**self.data.hyper)

    def scores(self, params) -> dict:
        return self.at(params, ("scores",))["scores"]


# ------------------------------------------------------------------------- training


def fit(ref, x, y=None, *, optimizer="gd", learning_rate=0.1, epochs=100, batch_size=None,
        params=None, sizes=None, init_scale=0.0, init="normal", initial=None, seed=0, log=None,
        log_every=None, scheduler=None, tol=None, validation_data=None, epoch_metrics=False,
        callbacks=(), progress=False, divergence="stop", hyper=None,
        sample_weight=None) -> Result:
    """Train model `ref` on Dask arrays x, y (what `train.fit` does for a Dask x).

    `sample_weight` (a Dask or NumPy array, one weight per row, read in the rows of x's
    chunks) trains every rule on the weighted kernels, as in memory: each chunk's sums are
    Σ w ℓ and its gradient, the mini-batches carry their rows' weights.

    The epochs are the engine's `run_epochs`, as in memory, with the same divergence watch,
    callbacks, progress bar and Ctrl-C handling; only the kernels are the chunked ones.
    optimizer: "lbfgs", "newton" (the summed Hessian, one solve here), "newton-cg" (each
    Hessian-vector product a difference of two gradient passes), or any first-order
    rule of symdl.optimizers: full batch, one pass per epoch, when it is "gd" or batch_size
    is None; otherwise mini-batches of `batch_size` from one chunk at a time.
    `validation_data` may be NumPy or Dask arrays; `epoch_metrics` and validation are
    computed in the epoch's own pass over the training chunks.

    `scheduler`: None for Dask's default (the active `distributed.Client` if there is one,
    else local threads), a `distributed.Client`, or a Dask scheduler name ("threads",
    "synchronous", "processes"). `hyper` sets hyperparameters by name, as in `train.fit`.
    """
    # checked here, not in train.fit: train_from_store comes straight here
    validate.settings(optimizer=optimizer, learning_rate=learning_rate, epochs=epochs,
                      batch_size=batch_size, init=init, init_scale=init_scale, seed=seed,
                      log_every=log_every, divergence=divergence, tol=tol)
    ref = sources.resolve(ref)  # a Source travels to the workers: no relative path to re-read
    module = kernels.load(ref)
    spec = module.SPEC
    hyper = inputs.hyper_values(spec, hyper)
    module = inputs.with_hyper(module, spec, hyper)
    validate.initial_values(spec, initial)
    if spec["features"] is None:
        raise DataError(f"{spec['name']} takes no data, so there is nothing to chunk")
    if spec.get("penalty"):
        raise DataError(f"{spec['name']} has a penalty on its parameters, which each chunk's "
                        f"kernel would add again; train it in memory (train.fit with NumPy arrays)")
    dtype = _dtype(inputs.given_inputs(spec, x)[0])
    data = ChunkedData(ref, spec, x, y, dtype, scheduler, hyper, sample_weight)
    bound = inputs.dimension_sizes(spec, data.x, sizes, data.y)
    if params is None:
        params = inputs.initial_params(spec, bound, dtype=dtype, init_scale=init_scale,
                                       init=init, initial=initial, seed=seed)
    else:
        params = [np.array(p) if isinstance(p, np.ndarray) else p
                  for p in inputs.checked_params(spec, params, bound, dtype)]
    scored = epoch_metrics or validation_data is not None
    hessian = optimizer == "newton" and spec["hessian"]  # else Newton differences gradients
    over_chunks = Kernels(data, also=("hessian",) * hessian + ("scores",) * scored)
    validation = _validation(module, data, validation_data, params, sizes)

    def epoch_scores(params):
        found = over_chunks.scores(params) if scored else {}
        if validation is not None:
            found = {**found, **validation(params)}
        return found

    def minibatches(update, params, record):
        return _minibatches(module, data, params, update, epochs, batch_size, seed, record)

    result = run_epochs(
        over_chunks, params, (), model=ref.ref, optimizer=optimizer,
        learning_rate=learning_rate, epochs=epochs, batch_size=batch_size, seed=seed, tol=tol,
        log=log, scores=epoch_scores, divergence=divergence,
        callbacks=callbacks_module.progress_callbacks(progress, log, log_every) + list(callbacks),
        minibatches=None if optimizer == "gd" or batch_size is None else minibatches,
        rows=data.rows)
    result.metrics.update({"rows": data.rows, "chunks": data.chunks,
                           "passes over the data": data.passes})
    if hyper:
        result.settings["hyper"] = hyper
    if sample_weight is not None:
        result.settings["sample_weight"] = True
    return result


def _validation(module, data, validation_data, params, sizes):
    """params → {"val J": …, "val accuracy" or "val mse": …} on NumPy or Dask validation data."""
    if validation_data is None:
        return None
    if len(validation_data) != 2:
        raise DataError("validation_data must be a pair (x_val, y_val)")
    if stores.holds_chunks(validation_data[0]):
        held_out = Kernels(ChunkedData(data.ref, data.spec, *validation_data, data.dtype,
                                       data.scheduler, data.hyper), base=("scores",))

        def chunked_scores(params):
            found = held_out.at(params)
            return {"val J": found["loss"], **{f"val {k}": v for k, v in found["scores"].items()}}
        return chunked_scores
    checked = inputs.model_inputs(data.spec, params, validation_data[0], validation_data[1],
                                  sizes)
    return lambda params: validation_scores(module, params, checked.x, checked.y)


def _dtype(x):
    """float32 data trains in float32 (as in memory); everything else in float64."""
    return np.float32 if getattr(x, "dtype", None) == np.float32 else np.float64


def _minibatches(module, data, params, update, epochs, batch_size, seed, record):
    """Mini-batches from one chunk at a time, the chunks and the rows within each shuffled.

    Each chunk is read once per epoch; the epoch's J adds up the batch losses (÷ m for a
    mean loss), as in memory, so no second pass is needed.
    """
    rng = np.random.default_rng(seed)
    mean = data.spec["reduction"] == "mean"
    runs = module if data.weights is None else inputs.Weighted(module)
    for epoch in range(1, epochs + 1):
        total = 0.0
        for index in rng.permutation(data.chunks):
            xb, yb, wb = data.block(int(index))
            for batch in batches(xb, yb, batch_size, rng, wb):
                loss, *grads = runs.loss_and_gradient(*params, *kernel_data(*batch[:2]),
                                                      *batch[2:])
                finite_loss(loss, epoch)
                params = update.step(params, grads)
                size = inputs.sample_count(batch[0]) if wb is None else np.sum(batch[2])
                total += loss * size if mean else loss
        if record(epoch, total / data.total_weight if mean else total, params):
            break
    return params


def train_from_store(ref, path, *, scheduler=None, log=None, weights=None,
                     **overrides) -> Result:
    """Train `ref` on a Zarr store or a folder of .npy files: `symdl train MODEL --data PATH`.

    The settings are the derivation's Training ones with `overrides` on top, as in
    `train.train`; `scheduler` may also be the address of a Dask scheduler ("tcp://host:8786").
    `weights` names the store's array (the folder's NAME.npy) of sample weights, one a row:
    `symdl train MODEL --data PATH --weights NAME`.
    """
    spec = kernels.load(ref).SPEC
    settings = {k: v for k, v in (spec["training"] or {}).items() if k != "dataset"}
    if overrides.get("hyper") is not None:
        overrides = {**overrides, "hyper": {**(settings.get("hyper") or {}), **overrides["hyper"]}}
    settings.update(overrides)
    names = [name for name, _ in inputs.input_specs(spec)]
    x, y = stores.load(path, names[:1] + ([spec["target"][0]] if spec["target"] else []))
    added = inputs.bias_column_missing(spec, x)  # features only: the ones go in front
    if added:
        x = inputs.with_bias_column(x)
    if len(names) > 1:  # every further data tensor read in the rows of the first's chunks
        further = [stores.load(path, [name])[0] for name in names[1:]]
        x = (x,) + tuple(a if a.chunks[0] == x.chunks[0] or a.shape[0] != x.shape[0]
                         else a.rechunk({0: x.chunks[0]}) for a in further)
    if weights is not None:
        found = stores.load(path, [weights])[0]
        settings["sample_weight"] = (found.rechunk({0: x.chunks[0]})
                                     if found.shape[0] == x.shape[0] else found)
    client = None
    if isinstance(scheduler, str) and ":" in scheduler:
        from distributed import Client
        scheduler = client = Client(scheduler, set_as_default=False)
    try:
        result = fit(ref, x, y, log=log, scheduler=scheduler, **settings)
        if spec.get("bias_column"):
            result.settings["bias_column"] = "added" if added else "in the data"
        data = ChunkedData(sources.resolve(ref), spec, x, y,
                           _dtype(inputs.given_inputs(spec, x)[0]), scheduler,
                           settings.get("hyper"))
        found = Kernels(data, base=("scores",)).scores(
            inputs.params_in_order(spec, result.params))
        result.metrics.update({f"train {k}": v for k, v in found.items()})
    finally:
        if client is not None:
            client.close()
    result.metrics["final J"] = result.history[-1][1]
    return result
