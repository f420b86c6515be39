"""Data bigger than memory, read lazily: Zarr stores and folders of .npy files as Dask arrays.

`load` opens a store as Dask arrays of whole-row chunks (x and y chunked alike), reading an
uncompressed local Zarr array or a .npy file one plain file read per chunk; `symdl.chunked`
trains on what it returns, or on any Dask array (`is_chunked`). Dask and Zarr are an optional
extra: ``pip install symdl[dask]``.

    >>> from symdl import stores, train
    >>> x, y = stores.load("big.zarr")                       # arrays "x" and "y", read lazily
    >>> result = train.fit("logistic_regression", x, y, optimizer="lbfgs", epochs=50)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from symdl.errors import DataError

CHUNK_BYTES = 64 * 2**20  # rows per chunk when symdl chooses: about 64 MiB of x


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


def holds_chunks(x) -> bool:
    """Whether x is a Dask array, or a dictionary or sequence of data tensors holding one."""
    if isinstance(x, dict):
        return any(is_chunked(a) for a in x.values())
    if isinstance(x, (tuple, list)):
        return any(is_chunked(a) for a in x)
    return is_chunked(x)


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
        if len(names) == 1:
            return x, None
        rows = NpyRows(path / f"{names[1]}.npy").shape[0]
        if rows != x.shape[0]:
            raise DataError(f"{path}: {names[0]}.npy has {x.shape[0]} rows (samples) but "
                            f"{names[1]}.npy has {rows}; they need one target per sample: "
                            f"save both from the same samples")
        return x, open_npy(path / f"{names[1]}.npy", x.chunks[0])
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
        arrays.append(array.rechunk({0: rows_per_chunk(array, chunk_rows)})
                      if chunk_rows else array)
    if (len(arrays) > 1 and arrays[0].shape[0] == arrays[1].shape[0]
            and arrays[0].chunks[0] != arrays[1].chunks[0]):
        # stored in other chunks than x (a store written by another tool): read y in x's
        # chunks, so that each chunk of x meets its own targets
        arrays[1] = arrays[1].rechunk({0: arrays[0].chunks[0]})
    return aligned_rows(arrays[0], arrays[1] if len(arrays) > 1 else None)


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
    chunks = chunk_rows if isinstance(chunk_rows, tuple) else rows_per_chunk(rows, chunk_rows)
    return da.from_array(rows, chunks=(chunks,) + rows.shape[1:], asarray=False,
                         name=f"npy-{Path(path).resolve()}-{rows.stamp}", lock=False)


class NpyRows:
    """The rows of a C-ordered .npy file, read on demand: `rows[a:b]` reads only those rows."""

    def __init__(self, path):
        self.path = str(path)
        if not Path(path).is_file():
            raise DataError(f"{path}: not a file (a folder?); a store of .npy files holds one "
                            f"file NAME.npy per tensor, written by np.save")
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
        if not self.shape:
            raise DataError(f"{path}: holds a single number; a tensor's file needs one row "
                            f"per sample")
        self.ndim = len(self.shape)
        stat = Path(path).stat()
        needed = self.offset + int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize
        if stat.st_size < needed:
            raise DataError(f"{path}: truncated: its header says {self.shape} of {self.dtype} "
                            f"({needed} bytes with the header) but the file has {stat.st_size} "
                            f"bytes; write it again with np.save")
        self.stamp = f"{stat.st_size}-{stat.st_mtime_ns}"

    def __getitem__(self, key):
        key = key if isinstance(key, tuple) else (key,)
        start, stop, _ = key[0].indices(self.shape[0])
        row = int(np.prod(self.shape[1:], dtype=np.int64))
        block = np.fromfile(self.path, dtype=self.dtype, count=(stop - start) * row,
                            offset=self.offset + start * row * self.dtype.itemsize)
        return block.reshape((stop - start,) + self.shape[1:])[(slice(None),) + key[1:]]


def rows_per_chunk(array, chunk_rows=None) -> int:
    if chunk_rows:
        return int(chunk_rows)
    row_bytes = max(1, int(np.prod(array.shape[1:], dtype=np.int64)) * array.dtype.itemsize)
    return max(1, min(array.shape[0], CHUNK_BYTES // row_bytes))


def aligned_rows(x, y):
    """x with whole rows per chunk and y (if any) chunked like x, or a DataError naming the chunk."""
    da = require_dask()
    if not is_chunked(x):
        x = da.from_array(np.asarray(x), chunks=(rows_per_chunk(np.asarray(x)),) + np.shape(x)[1:])
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
