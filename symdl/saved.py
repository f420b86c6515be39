"""Saved models: a trained `Result` in one file, loaded back only onto the kernels it fits.

    >>> from symdl import saved, train
    >>> result = train.train("logistic_regression")
    >>> saved.save(result, "logistic.npz")
    >>> again = saved.load("logistic.npz")          # refuses kernels that changed since
    >>> train.predict(again, x)

On the command line `symdl train MODEL --save FILE` writes one and `symdl predict MODEL
--params FILE --data DATA` predicts with it.

A saved model is a compressed NumPy ``.npz`` archive that ``np.load(..., allow_pickle=False)``
opens: one array per parameter (``param_NAME``) and ``metadata``, a JSON text holding the
model's name, its training settings, history (J and every other metric per epoch), final
metrics, and the hashes of the kernels it was trained with: of their derivation file, of the
generator and of the generated code itself. Nothing in it is pickled, so loading a file runs
no code from it. Parameters only mean something to the kernels they were trained with, so
`load` refuses a file whose kernels differ from those installed now; a derivation or generator
edit that leaves the generated code as it was (comments, a new symdl release) keeps it loading.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from symdl import kernels, sources
from symdl.version import __version__
from symdl.training.result import STOP_REASONS, History, Result, require_result
from symdl.training.scores import softmax
from symdl.errors import SavedModelError, SymdlError

FORMAT = "symdl saved model"
FORMAT_VERSION = 1
PARAM_PREFIX = "param_"


HASHES = ("derivation_sha256", "generator_sha256")


def is_saved_model(path: str | os.PathLike) -> bool:
    """Whether `path` is an .npz archive with the entries of a saved model (without reading
    it): so that a saved model given where data is expected gets an error saying so."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return False
    return "metadata.npy" in names and any(n.startswith(PARAM_PREFIX) for n in names)


def save(result, path: str | os.PathLike) -> Path:
    """Write `result` (as `train.fit` or `train.train` returns it) to `path`, an .npz file.

    The file is written beside its final name and then moved there, so a failed write leaves
    any earlier file of that name intact.
    """
    require_result(result, "saved.save")
    module = kernels.load(result.model or result.name)
    metadata = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "symdl_version": __version__,
        "model": result.name, "ref": result.model or result.name,
        "source": module.SPEC["source"],
        "kernels": kernels.stamps_of(module),
        "settings": result.settings, "history": result.history,
        "epoch_metrics": getattr(result.history, "metrics", {}),
        "metrics": result.metrics, "seconds": result.seconds,
        "stop_reason": result.stop_reason,
    }
    arrays: dict[str, Any] = {PARAM_PREFIX + n: np.asarray(v) for n, v in result.params.items()}
    arrays["metadata"] = np.array(to_json(metadata, indent=None))
    # compressed: NumPy stores text as UTF-32, and a long run's history is long (≈200 bytes
    # an epoch uncompressed, ≈4 compressed)
    return write_whole(path, lambda file: np.savez_compressed(file, **arrays))


def load(path: str | os.PathLike, model: str | None = None):
    """The `Result` saved in `path`, checked against the kernels installed now.

    `model`, when given, is the model the caller expects the file to hold (a built-in name or
    a derivation file's path); otherwise the model is found where it was when it was saved.
    Raises `SavedModelError` when the file is missing, is not a saved model, holds another
    model, or was trained with kernels that have changed since.
    """
    path = Path(path)
    metadata, arrays = _read(path)
    name = metadata["model"]
    ref = str(model) if model else metadata.get("ref", name)
    if not model and sources.looks_like_path(ref) and not Path(ref).expanduser().is_file():
        raise SavedModelError(f"{path} holds {name}, trained from the derivation file {ref}, "
                              f"which is not there now; name the file where it is: "
                              f"saved.load({str(path)!r}, model=PATH), or "
                              f"`symdl predict PATH --params {path} ...`")
    module = kernels.load(ref)
    spec = module.SPEC
    if spec["name"] != name:
        raise SavedModelError(f"{path} holds a trained {name!r}, not {spec['name']!r}; "
                              f"pass the model it was trained as, or retrain with "
                              f"`symdl train {spec['name']} --save {path}`")
    now, then = kernels.stamps_of(module), metadata["kernels"]
    same_stamps = all(now[key] == then[key] for key in HASHES)
    if not same_stamps and now["code_sha256"] != then.get("code_sha256"):
        changed = " and ".join(key.split("_")[0] for key in HASHES if now[key] != then[key])
        raise SavedModelError(
            f"{path} was trained with other kernels for {name}: the {changed} changed since "
            f"(saved {_hashes(then)}; installed {_hashes(now)}), so its parameters may not fit "
            f"them. Retrain it: `symdl train {ref} --save {path}`")
    missing = [n for n, _ in spec["params"] if PARAM_PREFIX + n not in arrays]
    if missing:
        raise SavedModelError(f"{path} lacks the parameters {', '.join(missing)} of {name}")
    params = {n: _restored(arrays[PARAM_PREFIX + n]) for n, _ in spec["params"]}
    history = _history(metadata, path)
    try:
        metrics = {str(k): _number(v) for k, v in metadata.get("metrics", {}).items()}
        settings, seconds = dict(metadata.get("settings", {})), _number(metadata.get("seconds", 0))
    except (TypeError, ValueError, AttributeError):
        raise SavedModelError(f"{path} is damaged: its metrics, settings or seconds are not what "
                              f"symdl wrote; `symdl train MODEL --save {path}` writes a new "
                              f"one") from None
    reason = metadata.get("stop_reason", "")
    return Result(name, params, history, metrics, seconds, settings=settings,
                  model=sources.resolve(ref).ref,
                  stop_reason=reason if reason in STOP_REASONS else "")


def to_json(value, indent: int | None = 2) -> str:
    """Strict JSON (what `--json` prints and a saved model's metadata holds): NumPy numbers and
    arrays become plain ones, and a NaN or infinite number becomes null."""
    return json.dumps(_plain(value), indent=indent, allow_nan=False)


def prediction_columns(spec: dict, output: np.ndarray, classes=None) -> dict[str, np.ndarray]:
    """The columns `symdl predict` writes: for a classifier the label, then the probabilities
    (a binary model's h, named as its derivation names it; a class model's softmax of its
    logits, p_0 … p_{C−1}); otherwise the model's output, named as its derivation names it.
    `classes` (what a saved estimator's settings hold) names the labels: the label column
    holds them, and a class model's probabilities are over those classes only."""
    name = spec["output"] or "output"
    columns: dict[str, np.ndarray] = {}
    kind = spec["target"][1] if spec["target"] else None
    labels = None if classes is None else np.asarray(classes)
    if kind == "binary":
        codes = (output >= 0.5).astype(np.int64)
        columns["label"] = codes if labels is None else labels[codes]
    elif kind == "class":
        output = output if labels is None else output[:, :len(labels)]
        codes = np.argmax(output, axis=1)
        columns["label"] = codes if labels is None else labels[codes]
        probabilities = softmax(output)
        columns.update({f"p_{k}": probabilities[:, k] for k in range(output.shape[1])})
        return columns
    if output.ndim == 1:
        columns[name] = output
    else:
        columns.update({f"{name}_{k}": output[:, k] for k in range(output.shape[1])})
    return columns


def predictions_csv(columns: dict[str, np.ndarray]) -> str:
    """The columns as CSV text with a header line; numbers in full precision."""
    lines = [",".join(columns)]
    for row in zip(*columns.values()):
        lines.append(",".join(repr(float(v)) if isinstance(v, np.floating) else str(v)
                              for v in row))
    return "\n".join(lines) + "\n"


def write_predictions(columns: dict[str, Any], path: str | os.PathLike) -> Path:
    """The columns to a .npz (one array each) or a .csv file."""
    if str(path).lower().endswith(".npz"):
        return write_whole(path, lambda file: np.savez(file, **columns))
    text = predictions_csv(columns).encode()
    return write_whole(path, lambda file: file.write(text))


def _read(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    if not path.is_file():
        raise SavedModelError(f"saved model {path} does not exist; "
                              f"`symdl train MODEL --save {path}` writes one")
    try:
        with _open_npz(path) as archive:
            arrays = {key: archive[key] for key in archive.files}
        if "metadata" not in arrays:
            raise ValueError("it has no metadata entry")
        metadata = json.loads(str(arrays.pop("metadata")))
    except (zlib.error, EOFError) as error:  # an entry damaged inside an intact zip archive
        raise SavedModelError(f"{path} is damaged: an entry of the archive cannot be "
                              f"decompressed ({error}); save the model again with `symdl "
                              f"train MODEL --save {path}`") from None
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise SavedModelError(f"{path} is not a model saved by symdl ({error}); "
                              f"`symdl train MODEL --save {path}` writes one") from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise SavedModelError(f"{path} is an .npz file but not a model saved by symdl")
    version = metadata.get("format_version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise SavedModelError(f"{path} is damaged: its format_version is {version!r}, not a "
                              f"number; `symdl train MODEL --save {path}` writes a new one")
    if version > FORMAT_VERSION:
        raise SavedModelError(f"{path} was saved by a newer symdl "
                              f"({metadata.get('symdl_version')}); upgrade symdl to load it")
    kernels = metadata.get("kernels")
    if (not isinstance(metadata.get("model"), str) or not isinstance(metadata.get("ref", ""), str)
            or not isinstance(kernels, dict) or not set(HASHES) <= set(kernels)
            or not all(isinstance(v, str) for v in kernels.values())):
        raise SavedModelError(f"{path} is damaged: its metadata lacks the model's name or "
                              f"its kernels' hashes; `symdl train MODEL --save {path}` "
                              f"writes a new one")
    return metadata, arrays


def _open_npz(path: Path):
    """np.load of an .npz archive, never unpickling; a ValueError for any other file (np.load
    would take a text file for a pickle and suggest allow_pickle)."""
    if not zipfile.is_zipfile(path):
        raise ValueError("it is not an .npz archive")
    return np.load(path, allow_pickle=False)


def _history(metadata: dict, path: Path) -> History:
    """The saved history: its (epoch, J) pairs and its per-epoch metrics, with the NaN or
    infinite numbers that JSON holds as null read back as NaN."""
    pairs, metrics = metadata.get("history", []), metadata.get("epoch_metrics", {})
    try:
        history = History((int(epoch), _number(loss)) for epoch, loss in pairs)
        history.metrics = {str(key): [_number(v) for v in values]
                           for key, values in metrics.items()}
    except (TypeError, ValueError, AttributeError):
        raise SavedModelError(f"{path} is damaged: its history is not a list of (epoch, J) "
                              f"pairs with per-epoch metrics; `symdl train MODEL --save {path}` "
                              f"writes a new one") from None
    return history


def _number(value) -> float | int:
    """A number as saved: null (a NaN or an infinity, which JSON cannot hold) reads as NaN."""
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{value!r} is not a number")
    return value


def _hashes(hashes: dict) -> str:
    return ", ".join(f"{key.split('_')[0]} {hashes[key]}" for key in HASHES)


def _restored(array: np.ndarray):
    """A parameter as training holds it: a float for a scalar, a contiguous array otherwise."""
    return float(array) if array.ndim == 0 else np.ascontiguousarray(array)


def _plain(value):
    """`value` with NumPy values made plain Python, tuples made lists, non-finite numbers None."""
    if isinstance(value, (np.ndarray, np.generic)):
        value = value.tolist()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def writable(path: str | os.PathLike) -> None:
    """A SymdlError when `path` cannot be a file written here: its folder is missing, or it is
    a folder itself."""
    folder = Path(path).parent
    if not folder.is_dir():
        raise SymdlError(f"cannot write {path}: the folder {folder} does not exist")
    if Path(path).is_dir():
        raise SymdlError(f"cannot write {path}: it is a folder; give a file name")


def write_whole(path: str | os.PathLike, write) -> Path:
    """`write(file)` into a file beside `path` (opened "wb"), then moved to `path`: the file
    is there whole or not at all, whatever stops the writing (an error, Ctrl-C), and a failed
    write leaves any earlier file of that name intact."""
    writable(path)
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes it private
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
