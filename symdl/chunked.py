"""Training on data that does not fit in memory: Dask arrays, Zarr stores, folders of .npy files.

Every generated kernel computes a sum over the samples (or that sum divided by m), so J and
∂J/∂p over all m rows are sums of the same quantities over blocks of rows. Each epoch, every
row chunk runs the model's fused `loss_and_gradient` kernel where the chunk lives and returns
1 + P numbers (its loss and its P gradient entries, as sums); Dask adds them in a tree; the
update then happens once, here. Only those numbers travel, never the rows.

    >>> import dask.array as da
    >>> x, y = chunked.load("big.zarr")                      # arrays "x" and "y", read lazily
    >>> result = train.fit("logistic_regression", x, y, learning_rate=0.5, epochs=50)
    >>> result = train.fit("logistic_regression", x, y, optimizer="lbfgs", scheduler=client)

`train.fit` comes here whenever x is a Dask array, and the epochs are train.run_epochs', as
in memory (divergence watch, callbacks, Ctrl-C). Full-batch gradient descent, L-BFGS
(SciPy's, on the distributed loss and gradient) and Newton's method (each chunk's Hessian
summed, one solve here) give the in-memory path's parameters up to the reordering of the
sums; "sgd", "rmsprop", … take mini-batches from one chunk at a time, the chunks in a
shuffled order. The scheduler is Dask's: its local threads by default, or a
`distributed.Client` (the one passed, or the one already active) for a cluster, where a
worker that dies costs a recomputation of its chunks (the tasks are pure) and nothing else.

Data is checked inside the first pass, chunk by chunk, with the same errors as in memory
(`validate.training_data`) prefixed by the chunk and its rows, so no second pass is needed.

Dask is an optional extra: ``pip install symdl[dask]``.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np

from symdl import kernels, sources, train, validate
from symdl.errors import DataError

CHUNK_BYTES = 64 * 2**20  # rows per chunk when symdl chooses: about 64 MiB of x

# Threads: one kernel at a time per process, on all of Numba's threads (NUMBA_NUM_THREADS,
# by default the cores), while Dask's other threads read the next chunks (file reads release
# the GIL). So the cores never carry more than one kernel's Numba threads plus reads; two
# kernels at once would each start a full Numba pool (twice the cores), and Numba's
# 'workqueue' layer aborts the process when two threads launch parallel kernels together.
# On a cluster the rule holds per worker process: processes per machine × NUMBA_NUM_THREADS
# ≤ the machine's cores (benchmarks/README.md, W6, measures why the kernels need no nogil).
_KERNEL_LOCK = threading.Lock()


def require_dask():
    """Import dask.array, or say how to install it."""
    try:
        import dask.array as da
    except ImportError:
        raise DataError("training on chunked data needs Dask: pip install 'symdl[dask]'") from None
    return da


def is_chunked(x) -> bool:
    """Whether x is a Dask array (checked without importing Dask)."""
    return type(x).__module__.split(".")[0] == "dask" and hasattr(x, "chunks")


# ------------------------------------------------------------------------- reading data


def load(path, names=("x", "y"), chunk_rows=None):
    """(x, y) as Dask arrays read lazily from a Zarr store or a folder of .npy files.

    `names` are the model's data and target tensors (the arrays of the store, or the files
    NAME.npy of the folder); y is None when only the data tensor is named. A store may be a
    URL (s3://..., gs://..., with fsspec installed), which every worker of a cluster reads by
    itself. A .npy file is read block by block with ordinary file reads, not mapped into
    memory, so resident memory stays a few chunks whatever the file's size.
    """
    da = require_dask()
    remote = "://" in str(path)
    path = Path(path) if not remote else path
    if not remote and not path.exists():
        raise DataError(f"{path}: no such file or folder")
    if not remote and path.suffix == ".npy":
        raise DataError(f"{path}: a .npy file holds one array; put "
                        f"{' and '.join(n + '.npy' for n in names)} in one folder and pass it")
    if remote or path.suffix == ".zarr" or (path / "zarr.json").exists() \
            or (path / ".zgroup").exists():
        return _load_zarr(da, str(path), names, chunk_rows)
    if path.is_dir():
        missing = [f"{n}.npy" for n in names if not (path / f"{n}.npy").exists()]
        if missing:
            raise DataError(f"{path}: missing {', '.join(missing)} (one .npy per tensor)")
        x = open_npy(path / f"{names[0]}.npy", chunk_rows)
        return x, open_npy(path / f"{names[1]}.npy", x.chunks[0]) if len(names) > 1 else None
    raise DataError(f"{path}: expected a Zarr store (NAME.zarr) or a folder of .npy files")


def _load_zarr(da, store, names, chunk_rows):
    try:
        import zarr
    except ImportError:
        raise DataError("reading a Zarr store needs zarr: pip install 'symdl[dask]'") from None
    try:
        group = zarr.open_group(store, mode="r")
    except (FileNotFoundError, ValueError, KeyError) as error:
        raise DataError(f"{store}: not a Zarr group ({error})") from None
    arrays = []
    for name in names:
        if name not in group:
            raise DataError(f"{store}: the store has no array {name!r} "
                            f"(it has {', '.join(sorted(group.array_keys())) or 'none'})")
        stored = group[name]
        array = (da.from_array(RawZarrChunks(stored), chunks=stored.chunks, asarray=False,
                               lock=False, name=f"raw-zarr-{RawZarrChunks(stored).stamp}")
                 if RawZarrChunks.readable(stored) else da.from_zarr(stored))
        arrays.append(array.rechunk({0: _rows_per_chunk(array, chunk_rows)})
                      if chunk_rows else array)
    return _aligned_rows(arrays[0], arrays[1] if len(arrays) > 1 else None)


class RawZarrChunks:
    """An uncompressed Zarr array in a local folder, each chunk read by one plain file read.

    Zarr decodes a chunk through its codec pipeline into fresh buffers, copying its bytes
    several times: 110–120 ms for a 64 MiB chunk that one file read brings in 25 ms
    (benchmarks/README.md, W6), most of a chunked epoch. An array with no compressor, no
    filters and no sharding stores each chunk as its raw C-ordered bytes, in the byte order
    its metadata names, so here `chunks[block]` reads exactly that file (a missing chunk is
    the fill value). Anything else is read through Zarr (`readable` says which).
    """

    def __init__(self, array):
        self.array, self.shape, self.dtype, self.ndim = array, array.shape, array.dtype, array.ndim
        self.chunks = array.chunks
        self.folder = Path(array.store_path.store.root) / array.store_path.path
        metadata = self.folder / ("zarr.json" if array.metadata.zarr_format == 3 else ".zarray")
        self.stamp = f"{self.folder}-{metadata.stat().st_mtime_ns}"
        endian = (array.metadata.dtype.endianness if array.metadata.zarr_format == 2
                  else getattr(array.serializer.endian, "value", None))
        self.stored = array.dtype.newbyteorder(">" if endian == "big" else "<")

    @staticmethod
    def readable(array) -> bool:
        from zarr.storage import LocalStore
        metadata = array.metadata
        plain = (array.serializer is None if metadata.zarr_format == 2
                 else type(array.serializer).__name__ == "BytesCodec")
        return (isinstance(array.store_path.store, LocalStore) and array.shards is None
                and not array.filters and not array.compressors and plain
                and getattr(metadata, "order", "C") == "C" and array.dtype.kind in "biuf")

    def __getitem__(self, key):
        key = key if isinstance(key, tuple) else (key,)
        spans = [k.indices(n)[:2] for k, n in zip(key, self.shape)]
        coords = tuple(start // c for (start, _), c in zip(spans, self.chunks))
        if any(start != i * c or stop > (i + 1) * c
               for (start, stop), i, c in zip(spans, coords, self.chunks)):
            return self.array[key]  # not one whole chunk: Zarr assembles it
        path = self.folder / self.array.metadata.encode_chunk_key(coords)
        if not path.exists():
            return np.full([b - a for a, b in spans], self.array.fill_value, self.dtype)
        block = np.fromfile(path, dtype=self.stored).reshape(self.chunks)
        block = block[tuple(slice(0, b - a) for a, b in spans)]
        return block if self.stored == self.dtype else block.astype(self.dtype)


def open_npy(path, chunk_rows=None):
    """A .npy file as a Dask array with row chunks, each read by a plain file read."""
    da = require_dask()
    rows = NpyRows(path)
    chunks = chunk_rows if isinstance(chunk_rows, tuple) else _rows_per_chunk(rows, chunk_rows)
    return da.from_array(rows, chunks=(chunks,) + rows.shape[1:], asarray=False,
                         name=f"npy-{Path(path).resolve()}-{rows.stamp}", lock=False)


class NpyRows:
    """The rows of a C-ordered .npy file, read on demand: `rows[a:b]` reads only those rows."""

    def __init__(self, path):
        self.path = str(path)
        with open(self.path, "rb") as f:
            try:
                version = np.lib.format.read_magic(f)
                read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                               (2, 0): np.lib.format.read_array_header_2_0}[version]
                self.shape, fortran, self.dtype = read_header(f)
            except (ValueError, KeyError) as error:
                raise DataError(f"{path}: not a .npy file NumPy can read ({error})") from None
            self.offset = f.tell()
        if fortran and len(self.shape) > 1:
            raise DataError(f"{path}: stored in Fortran order; save it with "
                            f"np.save(path, np.ascontiguousarray(a)) to read it by rows")
        if self.dtype.hasobject:
            raise DataError(f"{path}: holds Python objects, not numbers")
        self.ndim = len(self.shape)
        stat = Path(path).stat()
        self.stamp = f"{stat.st_size}-{stat.st_mtime_ns}"

    def __getitem__(self, key):
        key = key if isinstance(key, tuple) else (key,)
        start, stop, _ = key[0].indices(self.shape[0])
        row = int(np.prod(self.shape[1:], dtype=np.int64))
        block = np.fromfile(self.path, dtype=self.dtype, count=(stop - start) * row,
                            offset=self.offset + start * row * self.dtype.itemsize)
        return block.reshape((stop - start,) + self.shape[1:])[(slice(None),) + key[1:]]


def _rows_per_chunk(array, chunk_rows=None) -> int:
    if chunk_rows:
        return int(chunk_rows)
    row_bytes = max(1, int(np.prod(array.shape[1:], dtype=np.int64)) * array.dtype.itemsize)
    return max(1, min(array.shape[0], CHUNK_BYTES // row_bytes))


# ------------------------------------------------------------------------- the data as chunks


def _aligned_rows(x, y):
    """x with whole rows per chunk and y (if any) chunked like x, or a DataError naming the chunk."""
    da = require_dask()
    if not is_chunked(x):
        x = da.from_array(np.asarray(x), chunks=(_rows_per_chunk(np.asarray(x)),) + np.shape(x)[1:])
    if any(np.isnan(c) for c in x.chunks[0]):
        raise DataError("x has chunks of unknown size; call x.compute_chunk_sizes() first")
    if x.ndim > 1 and len(x.chunks[1]) > 1:
        x = x.rechunk({i: -1 for i in range(1, x.ndim)})
    if y is None:
        return x, None
    if not is_chunked(y):
        y = np.asarray(y)
        if len(y) == x.shape[0]:
            y = da.from_array(y, chunks=(x.chunks[0],) + y.shape[1:])
        else:
            y = da.from_array(y)
    if x.shape[0] != y.shape[0]:
        raise DataError(f"x has {x.shape[0]} samples but y has {y.shape[0]}; "
                        f"they need one target per sample")
    if x.chunks[0] != y.chunks[0]:
        edges_x, edges_y = np.cumsum(x.chunks[0]), np.cumsum(y.chunks[0])
        k = next(i for i, (a, b) in enumerate(zip(edges_x, edges_y)) if a != b)
        start = int(edges_x[k] - x.chunks[0][k])
        raise DataError(
            f"x and y are chunked differently: x's chunk {k} is rows {start}..{edges_x[k] - 1} "
            f"but y's is rows {int(edges_y[k] - y.chunks[0][k])}..{edges_y[k] - 1}; "
            f"rechunk y like x with y.rechunk(x.chunks[0])")
    return x, y


def _checked_chunk(spec, x, y, rows, index, dtype, declared):
    """One chunk through validate.training_data, its errors naming the chunk and its rows.

    `declared` is the shape the Dask array says this chunk of x has; a chunk that differs
    (a ragged file, a wrong `from_delayed` shape) would otherwise be a Numba indexing error.
    """
    where = f"chunk {index} (rows {rows[0]}..{rows[1] - 1})"
    if x.shape[1:] != tuple(declared[1:]):
        raise DataError(f"{where}: x has {x.shape[1] if x.ndim > 1 else 1} columns here but "
                        f"the array declares {declared[1] if len(declared) > 1 else 1}; "
                        f"every chunk needs the same width")
    if len(x) != rows[1] - rows[0] or (y is not None and len(y) != len(x)):
        raise DataError(f"{where}: x has {len(x)} rows and y {len(y) if y is not None else 0} "
                        f"where {rows[1] - rows[0]} were declared; the arrays' chunks do not "
                        f"match their shapes")
    for name, array in (("x", x), ("y", y)):
        if array is not None and array.dtype.kind == "f" and not np.all(np.isfinite(array)):
            bad = ~np.isfinite(array)
            first = rows[0] + int(np.argwhere(bad)[0][0])
            raise DataError(f"{where}: {name} contains {int(np.count_nonzero(np.isnan(array)))} "
                            f"NaN and {int(np.count_nonzero(np.isinf(array)))} inf entries "
                            f"(the first in row {first}); remove or fill them before training")
    try:
        return train.prepare_data(spec, x, y, dtype)
    except DataError as error:
        raise DataError(f"{where}: {error}") from None


def _kernel_data(spec, x, y, data_dtype):
    """A chunk as the kernel takes it, unchecked (the first pass has checked it)."""
    x = np.ascontiguousarray(x.reshape(len(x)) if spec["features"][1] == () else x,
                             dtype=data_dtype)
    y = None if y is None else np.ascontiguousarray(
        y.reshape(len(y)), dtype=np.int64 if spec["target"][1] == "class" else np.float64)
    return x, y


def _chunk_sums(x, y=None, *, ref, params, want, check, data_dtype, block_info=None):
    """What `want` names, for one chunk, as sums packed in one row.

    The row is [J, ∂J/∂p₁..., H₁₁..., rows·score]: J always, then the gradient, the Hessian
    (the generated `hessian` kernel, P × P over the flat parameters) and the training scores
    (train.scores: accuracy or mse, times the chunk's rows) when `want` names them.
    """
    module = kernels.load(ref)
    spec = module.SPEC
    info = block_info[0]
    if check:
        x, y = _checked_chunk(spec, x, None if y is None else y.reshape(len(y)),
                              info["array-location"][0], info["chunk-location"][0], data_dtype,
                              tuple(stop - start for start, stop in info["array-location"]))
    else:
        x, y = _kernel_data(spec, x, y, data_dtype)
    data = train.data_args(x, y)
    with _KERNEL_LOCK:
        if "gradient" in want:
            loss, *grads = module.loss_and_gradient(*params, *data)
        else:
            loss, grads = module.loss(*params, *data), []
        hessian = [module.hessian(*params, *data)] if "hessian" in want else []
        scores = train.scores(module, params, x, y) if "scores" in want else {}
    sums = np.concatenate([[loss]] + [np.ravel(g) for g in grads + hessian]).astype(np.float64)
    scale = len(x) if spec["reduction"] == "mean" else 1
    found = np.concatenate([sums * scale, [len(x) * v for v in scores.values()]])
    return found[None, :]


class ChunkedData:
    """Aligned row chunks of x and y, and one pass over them: the summed loss and gradient."""

    def __init__(self, ref, spec, x, y, dtype, scheduler=None):
        self.ref, self.spec, self.dtype, self.scheduler = ref, spec, dtype, scheduler
        self.x, self.y = _aligned_rows(x, y)
        if self.spec["features"] and self.spec["features"][1] == () and self.x.ndim == 2:
            if self.x.shape[1] != 1:
                raise DataError(f"x has {self.x.shape[1]} features per sample (shape "
                                f"{self.x.shape}) but the model expects a single number")
            self.x = self.x[:, 0]
        self.rows = int(self.x.shape[0])
        if self.rows == 0:
            raise DataError("no samples: x has 0 rows")
        self.passes = 0

    @property
    def chunks(self) -> int:
        return len(self.x.chunks[0])

    def evaluate(self, params, want, check=False) -> dict:
        """One pass: J and whichever of "gradient", "hessian", "scores" `want` names.

        Reduced as the kernel reduces (sums, or means for a mean loss); the scores are
        always means over the rows.
        """
        import dask
        size = int(sum(np.size(p) for p in params))
        names = train.score_names(kernels.load(self.ref)) if "scores" in want else []
        width = (1 + size * ("gradient" in want) + size * size * ("hessian" in want)
                 + len(names))
        total = self._sum(_chunk_sums, width, params=dask.delayed(list(params), pure=True),
                          want=tuple(want), check=check)
        self.passes += 1
        sums = total[:width - len(names)] / (self.rows if self.spec["reduction"] == "mean" else 1)
        found = {"loss": float(sums[0]),
                 "scores": {n: float(v) / self.rows for n, v in zip(names, total[-len(names):])}
                 if names else {}}
        at = 1
        if "gradient" in want:
            found["gradient"], at = _unpack(sums[at:at + size], params), at + size
        if "hessian" in want:
            found["hessian"] = sums[at:at + size * size].reshape(size, size)
        return found

    def _sum(self, per_chunk, size, **options):
        """Σ over the chunks of per_chunk(x, y, ...) (one row of `size` each), in a tree."""
        import dask
        da = require_dask()
        x = self.x if self.x.ndim == 2 else self.x[:, None]
        arrays = [x] if self.y is None else [x, self.y.reshape(self.y.shape[0], 1)]
        parts = da.map_blocks(per_chunk, *arrays, ref=self.ref, data_dtype=self.dtype,
                              dtype=np.float64, chunks=((1,) * self.chunks, (size,)),
                              meta=np.empty((0, size)), **options)
        (total,) = dask.compute(parts.sum(axis=0, split_every=8), scheduler=self.scheduler)
        return total

    def block(self, index):
        """Chunk `index` of x and y in memory, as the kernels take them."""
        import dask
        y = None if self.y is None else self.y.blocks[index]
        xb, yb = dask.compute(self.x.blocks[index], y, scheduler=self.scheduler)
        return _kernel_data(self.spec, xb, yb, self.dtype)


class Kernels:
    """The model's kernels over every chunk, called as the generated ones are, data implied.

    train.run_epochs, train.lbfgs and train.newton call `loss`, `loss_and_gradient` and
    `hessian` with the parameters alone. Each call at new parameters is one pass over the
    chunks computing `base` and `also` there (e.g. the Hessian for Newton's method, the
    epoch's scores with epoch_metrics), and the pass is kept: J, ∇J, H and the scores at one
    point cost one read of the data. The first pass checks every chunk.
    """

    def __init__(self, data, base=("gradient",), also=()):
        self.data, self.SPEC, self.want = data, data.spec, tuple(base) + tuple(also)
        self.point, self.found = None, {}

    def at(self, params, want=()) -> dict:
        key = train.flat(params).tobytes()
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

    def scores(self, params) -> dict:
        return self.at(params, ("scores",))["scores"]


def _unpack(flat, like):
    """The flat vector `flat` cut into arrays shaped like the parameters `like`."""
    out, at = [], 0
    for p in like:
        size = int(np.size(p))
        piece = flat[at:at + size]
        out.append(piece.reshape(np.shape(p)).astype(np.asarray(p).dtype)
                   if isinstance(p, np.ndarray) else float(piece[0]))
        at += size
    return out


# ------------------------------------------------------------------------- training


def fit(ref, x, y=None, *, optimizer="gd", learning_rate=0.1, epochs=100, batch_size=None,
        params=None, sizes=None, init_scale=0.0, init="normal", initial=None, seed=0, log=None,
        log_every=None, scheduler=None, tol=None, validation_data=None, epoch_metrics=False,
        callbacks=(), progress=False, divergence="stop") -> train.Result:
    """Train model `ref` on Dask arrays x, y (what `train.fit` does for a Dask x).

    The epochs are train.run_epochs', as in memory, with the same divergence watch,
    callbacks, progress bar and Ctrl-C handling; only the kernels are the chunked ones.
    optimizer: "lbfgs", "newton" (the summed Hessian, one solve here), or any first-order
    rule of symdl.optimizers: full batch, one pass per epoch, when it is "gd" or batch_size
    is None; otherwise mini-batches of `batch_size` from one chunk at a time.
    `validation_data` may be NumPy or Dask arrays; `epoch_metrics` and validation are
    computed in the epoch's own pass over the training chunks.

    `scheduler`: None for Dask's default (the active `distributed.Client` if there is one,
    else local threads), a `distributed.Client`, or a Dask scheduler name ("threads",
    "synchronous", "processes").
    """
    ref = sources.resolve(ref)  # a Source travels to the workers: no relative path to re-read
    module = kernels.load(ref)
    spec = module.SPEC
    if spec["features"] is None:
        raise DataError(f"{spec['name']} takes no data, so there is nothing to chunk")
    if spec.get("penalty"):
        raise DataError(f"{spec['name']} has a penalty on its parameters, which each chunk's "
                        f"kernel would add again; train it in memory (train.fit with NumPy arrays)")
    dtype = _dtype(x)
    data = ChunkedData(ref, spec, x, y, dtype, scheduler)
    bound = train.dimension_sizes(spec, data.x, sizes)
    if params is None:
        params = train.initial_params(spec, bound, dtype=dtype, init_scale=init_scale, init=init,
                                      initial=initial, seed=seed)
    train.check_params(spec, params, bound)
    scored = epoch_metrics or validation_data is not None
    kernels = Kernels(data, also=("hessian",) * (optimizer == "newton") + ("scores",) * scored)
    validation = _validation(module, data, validation_data, params, sizes)

    def scores(params):
        found = kernels.scores(params) if scored else {}
        if validation is not None:
            found = {**found, **validation(params)}
        return found

    def minibatches(update, params, record):
        return _minibatches(module, data, params, update, epochs, batch_size, seed, record)

    result = train.run_epochs(
        kernels, params, (), model=ref, optimizer=optimizer, learning_rate=learning_rate,
        epochs=epochs, batch_size=batch_size, seed=seed, tol=tol, log=log, scores=scores,
        divergence=divergence,
        hooks=train.reporters(progress, log, log_every) + list(callbacks),
        minibatches=None if optimizer == "gd" or batch_size is None else minibatches)
    result.metrics.update({"rows": data.rows, "chunks": data.chunks,
                           "passes over the data": data.passes})
    return result


def _validation(module, data, validation_data, params, sizes):
    """params → {"val J": …, "val accuracy" or "val mse": …} on NumPy or Dask validation data."""
    if validation_data is None:
        return None
    if len(validation_data) != 2:
        raise DataError("validation_data must be a pair (x_val, y_val)")
    if is_chunked(validation_data[0]):
        held_out = Kernels(ChunkedData(data.ref, data.spec, *validation_data, data.dtype,
                                       data.scheduler), base=("scores",))

        def chunked_scores(params):
            found = held_out.at(params)
            return {"val J": found["loss"], **{f"val {k}": v for k, v in found["scores"].items()}}
        return chunked_scores
    checked = validate.model_inputs(data.spec, params, validation_data[0], validation_data[1],
                                    sizes)
    return lambda params: train.validation_scores(module, params, checked.x, checked.y)


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
    for epoch in range(1, epochs + 1):
        total = 0.0
        for index in rng.permutation(data.chunks):
            xb, yb = data.block(int(index))
            for batch_x, batch_y in train.batches(xb, yb, batch_size, rng):
                loss, *grads = module.loss_and_gradient(*params, *train.data_args(batch_x, batch_y))
                validate.finite_loss(loss, epoch)
                params = update.step(params, grads)
                total += loss * len(batch_x) if mean else loss
        if record(epoch, total / data.rows if mean else total, params):
            break
    return params


def train_from_store(ref, path, *, scheduler=None, log=None, **overrides) -> train.Result:
    """Train `ref` on a Zarr store or a folder of .npy files: `symdl train MODEL --data PATH`.

    The settings are the derivation's Training ones with `overrides` on top, as in
    `train.train`; `scheduler` may also be the address of a Dask scheduler ("tcp://host:8786").
    """
    spec = kernels.load(ref).SPEC
    settings = {k: v for k, v in (spec["training"] or {}).items() if k != "dataset"}
    settings.update(overrides)
    x, y = load(path, [spec["features"][0]] + ([spec["target"][0]] if spec["target"] else []))
    client = None
    if isinstance(scheduler, str) and ":" in scheduler:
        from distributed import Client
        scheduler = client = Client(scheduler, set_as_default=False)
    try:
        result = fit(ref, x, y, log=log, scheduler=scheduler, **settings)
        data = ChunkedData(sources.resolve(ref), spec, x, y, _dtype(x), scheduler)
        found = Kernels(data, base=("scores",)).scores(
            train.ordered_params(spec, result.params, _dtype(x)))
        result.metrics.update({f"train {k}": v for k, v in found.items()})
    finally:
        if client is not None:
            client.close()
    result.metrics["final J"] = result.history[-1][1]
    return result
