"""The user's own data from a file: `symdl train MODEL --data FILE [--test-data FILE]`.

Two formats are read into memory:

* `.npz` — arrays named after the model's data and target tensors (for logistic regression
  `x` and `y`; for a model of two data tensors x and t, `x`, `t` and `y`; `symdl derive
  MODEL` lists a model's tensors). Extra arrays are an error, so a misnamed array is never
  silently ignored.
* `.csv` — one sample per row, with or without a header line. The target is the column named
  by `--target` (a header name or a 0-based number); without `--target` it is the column
  named after the model's target tensor, else the last column. For a model of one data
  tensor every other column is a feature, in file order. A model of several data tensors
  needs the header: a scalar tensor t is the column `t`, a vector tensor x the columns
  `x[0]`, `x[1]`, … (numbered from 0, in any order); a column no tensor reads is an error.

Sample weights (`--weights NAME`, `load_with_weights`) are the .npz's array NAME, or the .csv's
column NAME (a header name or a 0-based number, as `--target`), which is then no feature;
one finite number ≥ 0 per sample, not all 0 (`inputs.sample_weights`).

Data larger than memory (a Zarr store, a folder of .npy files) is read chunk by chunk by
`symdl.chunked` instead; `is_out_of_core` tells which path a file takes.
"""

from __future__ import annotations

import csv
import zipfile
import zlib
from pathlib import Path

import numpy as np

from symdl.errors import DataError
from symdl.training.inputs import input_specs, sample_count, sample_weights

IN_MEMORY = (".npz", ".csv")


def is_out_of_core(path) -> bool:
    """A Zarr store, a folder of .npy files or a single .npy file: trained chunk by chunk."""
    path = Path(path)
    return path.suffix in (".zarr", ".npy") or path.is_dir()


def tensor_names(spec) -> tuple[str | None, str | None]:
    """(data tensor name, target tensor name) of a model, from its generated SPEC."""
    features = spec["features"][0] if spec["features"] else None
    target = spec["target"][0] if spec["target"] else None
    return features, target


def input_names(spec) -> list[str]:
    """Every data tensor's name, in the order the model's kernels take them."""
    return [name for name, _ in input_specs(spec)]


def load(path, spec, target_column=None):
    """(x, y) for the model whose SPEC is given, read from a .npz or .csv file."""
    return _load(path, spec, target_column)[:2]


def load_with_weights(path, spec, target_column, weights, required=True):
    """(x, y, sample weights) from a .npz or .csv file: the weights are the array or column
    named `weights`, checked (one finite number ≥ 0 per sample, not all 0). With `required`
    False a file without them (held-out data) gives None for the weights."""
    x, y, found = _load(path, spec, target_column, weights, required)
    if found is None:
        return x, y, None
    where = "array" if Path(path).suffix == ".npz" else "column"
    try:
        checked = sample_weights(spec, found, 0 if x is None else sample_count(_first_input(x)))
    except DataError as error:
        raise DataError(f"{Path(path).expanduser()}: the --weights {where} {weights!r}: "
                        f"{error}") from None
    return x, y, checked


def _first_input(x):
    """The first data tensor's array of x as a file gives it (a dict for several)."""
    return next(iter(x.values())) if isinstance(x, dict) else x


def _load(path, spec, target_column=None, weights=None, required=True):
    """(x, y, weights or None) from a .npz or .csv file."""
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(f"no data file {path}: the file does not exist")
    if path.is_dir():
        raise DataError(f"{path} is a folder, not a data file; a folder of .npy files (one per "
                        f"tensor) is read chunk by chunk: give it to `symdl train --data`, or "
                        f"load it with symdl.stores.load")
    if path.suffix == ".npz":
        if target_column is not None:
            raise DataError("--target names a CSV column; a .npz file names its arrays itself")
        return _from_npz(path, spec, weights=weights, weights_required=required)
    if path.suffix == ".csv":
        return _from_csv(path, spec, target_column, weights, required)
    raise DataError(f"{path}: unknown data format {path.suffix or '(no suffix)'!r}; use .npz "
                    f"(arrays named after the model's tensors) or .csv, or a .zarr store or "
                    f"folder of .npy files for data larger than memory")


def load_features(path, spec):
    """x alone, to predict on (`symdl predict`): a .npz's array named after the data tensor
    (the target array beside it, as in the file the model was trained on, is left out), or
    every column of a .csv."""
    path = Path(path).expanduser()
    if path.suffix == ".npz" and path.exists():
        return _from_npz(path, spec, target_optional=True)[0]
    return load(path, {**spec, "target": None})[0]


def _from_npz(path: Path, spec, target_optional=False, weights=None, weights_required=True):
    """(x, y, the weights array or None) from the arrays named after the tensors (and the
    array named `weights`); x is {name: array} for several."""
    _, target = tensor_names(spec)
    inputs = input_names(spec)
    if not zipfile.is_zipfile(path):  # np.load would take it for a pickle and suggest allowing it
        raise DataError(f"{path}: not a readable .npz file (it is not a zip archive; "
                        f"np.savez writes one)")
    try:
        with np.load(path, allow_pickle=False) as arrays:
            found = {name: arrays[name] for name in arrays.files}
    except (zlib.error, EOFError) as error:  # an array damaged inside an intact zip archive
        raise DataError(f"{path}: damaged .npz file: an array in it cannot be decompressed "
                        f"({error}); write the file again with np.savez") from None
    except (OSError, ValueError, TypeError, zipfile.BadZipFile) as error:  # a truncated archive
        raise DataError(f"{path}: not a readable .npz file ({error})") from None
    if target_optional and target not in found:
        target = None
    if weights is not None and weights in inputs + [target]:
        raise DataError(f"{path}: --weights {weights} names the model's tensor {weights}; "
                        f"give the weights an array of their own")
    if weights is not None and not weights_required and weights not in found:
        weights = None
    expected = inputs + ([target] if target else []) + ([weights] if weights else [])
    missing = [n for n in expected if n not in found]
    extra = [n for n in found if n not in expected]
    if missing or extra:
        raise DataError(
            f"{path}: model {spec['name']} reads arrays named "
            f"{', '.join(n for n in expected if n != weights)}"
            + (f", and --weights the array {weights}" if weights else "")
            + f"; the file holds {', '.join(sorted(found)) or 'no arrays'}"
            + (f" (missing: {', '.join(missing)})" if missing else "")
            + (f" (not used: {', '.join(extra)}; rename or remove them)" if extra else ""))
    x = {n: found[n] for n in inputs} if len(inputs) > 1 else found.get(inputs[0]) if inputs else None
    return x, found.get(target) if target else None, found.get(weights) if weights else None


def _from_csv(path: Path, spec, target_column, weights=None, weights_required=True):
    """(x, y, the weights column or None): see the module docstring."""
    if spec["target"] and spec.get("target_shape"):
        raise DataError(f"{path}: model {spec['name']} has a vector target "
                        f"{spec['target'][0]} (several columns per sample); give a .npz file "
                        f"with arrays {' and '.join(n for n in tensor_names(spec) if n)}")
    try:
        # utf-8-sig: a byte-order mark (Excel writes one) would glue itself to the first
        # cell, which then reads as text, and the first sample would be taken for a header
        with path.open(newline="", encoding="utf-8-sig") as file:
            reader = csv.reader(file)
            lines, rows = [], []  # each kept row and the line of the file it starts on
            line = 1
            for row in reader:
                if row and any(cell.strip() for cell in row):
                    lines.append(line)
                    rows.append(row)
                line = reader.line_num + 1
    except (UnicodeDecodeError, csv.Error) as error:
        raise DataError(f"{path}: not a text CSV file ({error}); save it as UTF-8 text, one "
                        f"sample per line") from None
    except OSError as error:
        raise DataError(f"{path} cannot be read ({error.strerror or error})") from None
    if not rows:
        raise DataError(f"{path}: the file holds no rows")
    header = None if all(_is_number(cell) for cell in rows[0]) else [c.strip() for c in rows[0]]
    body, lines = (rows[1:], lines[1:]) if header else (rows, lines)
    if not body:
        raise DataError(f"{path}: the file has a header but no samples")
    width = len(rows[0])
    for number, row in zip(lines, body):
        if len(row) != width:
            raise DataError(f"{path}, line {number}: {len(row)} columns, the first "
                            f"{'line' if header is None else 'line (the header)'} has {width}; "
                            f"give every sample the same columns")
    for number, row in zip(lines, body):
        bad = next((cell for cell in row if not _is_number(cell)), None)
        if bad is not None:
            raise DataError(f"{path}, line {number}: {bad!r} is not a number; every value "
                            f"below the header must be a number")
    try:
        table = np.array([[float(cell) for cell in row] for row in body])
    except ValueError as error:
        raise DataError(f"{path}: every value must be a number ({error})") from None
    _, target = tensor_names(spec)
    if target is None and target_column is not None:
        raise DataError(f"model {spec['name']} has no target; drop --target")
    weighed = None
    if weights is not None and (weights_required or (header and weights in header)):
        weighed = _column_index(path, header, width, weights, "--weights")
    column = None if target is None else _target_index(path, header, width, target_column,
                                                       target, weighed)
    if column is not None and column == weighed:
        raise DataError(f"{path}: --weights {weights} is the target column too; name the "
                        f"target with --target")
    y = None if column is None else table[:, column]
    w = None if weighed is None else table[:, weighed]
    taken = [c for c in (column, weighed) if c is not None]
    if len(input_names(spec)) > 1:
        return _inputs_from_columns(path, spec, header, table, taken), y, w
    x = np.delete(table, taken, axis=1)
    if x.shape[1] == 0:
        raise DataError(f"{path}: after taking the target and weights columns no feature "
                        f"columns are left")
    return x, y, w


def _inputs_from_columns(path, spec, header, table, taken):
    """{tensor: array} of a model of several data tensors, its columns found by header name
    (the `taken` ones, the target's and the weights', read by none)."""
    inputs = input_specs(spec)
    wanted = ", ".join(name if not shape else f"{name}[0], {name}[1], …" for name, shape in inputs)
    if header is None:
        raise DataError(f"{path}: model {spec['name']} reads several data tensors "
                        f"({', '.join(n for n, _ in inputs)}); the file needs a header line "
                        f"naming its columns {wanted}")
    used, x = set(taken), {}
    for name, shape in inputs:
        if not shape:
            if name not in header:
                raise DataError(f"{path}: no column {name!r} for the data tensor {name}; the "
                                f"columns are {', '.join(header)}")
            columns = [header.index(name)]
        else:
            numbered = {}
            for position, cell in enumerate(header):
                inside = cell[len(name) + 1:-1] if cell.startswith(name + "[") and cell.endswith("]") else ""
                if inside.isdigit():
                    numbered[int(inside)] = position
            if not numbered or sorted(numbered) != list(range(len(numbered))):
                raise DataError(f"{path}: the vector data tensor {name} is the columns "
                                f"{name}[0], {name}[1], … numbered from 0 without gaps; the "
                                f"columns are {', '.join(header)}")
            columns = [numbered[k] for k in sorted(numbered)]
        used.update(columns)
        x[name] = table[:, columns[0]] if not shape else table[:, columns]
    unused = [cell for position, cell in enumerate(header) if position not in used]
    if unused:
        raise DataError(f"{path}: no tensor of model {spec['name']} reads the column(s) "
                        f"{', '.join(unused)}; the model reads {wanted}"
                        + (f" and the target {spec['target'][0]}" if spec["target"] else ""))
    return x


def _target_index(path, header, width, target_column, target_name, weights=None) -> int:
    """The target's column: --target's, else the one named after the target tensor, else the
    last one that is not the weights'."""
    if target_column is None:
        if header and target_name in header:
            return header.index(target_name)
        return width - 2 if weights == width - 1 else width - 1
    return _column_index(path, header, width, target_column, "--target")


def _column_index(path, header, width, column, option) -> int:
    """The column `option` names, by header name or 0-based number."""
    if header and column in header:
        return header.index(column)
    if str(column).isdigit() and int(column) < width:
        return int(column)
    choices = ", ".join(header) if header else f"0..{width - 1} (the file has no header line)"
    raise DataError(f"{path}: no column {column!r} for {option}; the columns are {choices}")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
