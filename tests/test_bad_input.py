"""Bad input, faults and interruptions: each ends in a clear error or a correct result.

Every row of issue 8's table is here, and more: a case either raises a `SymdlError` whose
message names the problem (on the command line: exit code 1, the message, no traceback),
or gives the result the well-formed input gives.
"""

import atexit
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from symdl import (chunked, cli, datafiles, datasets, kernels, one_vs_rest, saved, sources,
                   stamps, stores, train)
from symdl.errors import (DataError, DerivationError, DivergenceError, IllConditionedWarning,
                          SavedModelError, SettingsError, SingularError, SymdlError)
from symdl.generate import files
from symdl.training.result import Result

RNG = np.random.default_rng(0)
X2 = RNG.standard_normal((20, 2))
Y2 = X2 @ np.array([1.0, -2.0]) + 0.5
DOTS = datasets.two_classes_with_bias()


def theta(n):
    return {"theta": np.ones(n)}


def predict(name, params, x):
    """train.predict with parameters given as a plain dictionary (or list, or a wrong type)."""
    return train.predict(Result(name, params), x)


# ---- Python: each call raises the SymdlError named, with a message matching ------------------

BAD_CALLS = {
    # parameters, data and sizes against the spec (no kernel reads past an array)
    "metrics: θ of 3 for x of 2 features": (
        lambda: train.metrics("multivariate_least_squares", theta(3), X2, Y2),
        DataError, r"x has 2 features per sample.*expects 3 features \(parameter theta"),
    "metrics: huge θ of the wrong length": (
        lambda: train.metrics("multivariate_least_squares", {"theta": np.full(3, 1e300)}, X2, Y2),
        DataError, "expects 3 features"),
    "predict: a parameter missing": (
        lambda: predict("mnist_mlp", {"W1": np.zeros((4, 2))}, X2),
        DataError, "parameter b1 is missing"),
    "predict: an unknown parameter": (
        lambda: predict("multivariate_least_squares", {"theta": np.ones(2), "w": 1}, X2),
        DataError, "no parameter 'w'.*theta"),
    "predict: params of the wrong length": (
        lambda: predict("mnist_mlp", [np.zeros((4, 2))], X2),
        DataError, "4 parameters.*1 were given"),
    "predict: params a string": (
        lambda: predict("multivariate_least_squares", "theta", X2),
        DataError, "dictionary"),
    "predict: a parameter with NaN": (
        lambda: predict("multivariate_least_squares", {"theta": np.array([1, np.nan])}, X2),
        DataError, "theta contains NaN"),
    "predict: a matrix parameter transposed": (
        lambda: predict("mnist_mlp", {"W1": np.zeros((2, 4)), "b1": np.zeros(4),
                                            "W2": np.zeros((3, 4)), "b2": np.zeros(3)}, X2),
        DataError, r"x has 2 features per sample.*expects 4 features \(parameter W1"),
    "mnist with sizes C=5: labels checked against 5, not 10": (
        lambda: train.fit("mnist_mlp", RNG.standard_normal((30, 4)), np.arange(30) % 10,
                          sizes={"H": 3, "C": 5}, epochs=1),
        DataError, r"labels in 0\.\.4"),
    "sizes disagree with the parameters": (
        lambda: train.fit("mnist_mlp", RNG.standard_normal((30, 4)), np.arange(30) % 3,
                          sizes={"H": 3, "C": 5},
                          params={"W1": np.zeros((3, 4)), "b1": np.zeros(3),
                                  "W2": np.zeros((3, 3)), "b2": np.zeros(3)}),
        DataError, "'C'.*sizes=\\{'C': 5\\}"),
    "sizes name a dimension the model lacks": (
        lambda: train.fit("mnist_mlp", RNG.standard_normal((30, 4)), np.arange(30) % 3,
                          sizes={"Q": 3}),
        DataError, "no dimension 'Q'.*C, H, n"),
    "sizes not positive": (
        lambda: train.fit("mnist_mlp", RNG.standard_normal((30, 4)), np.arange(30) % 3,
                          sizes={"H": 0, "C": 3}),
        DataError, "H=0 must be a positive integer"),
    "a hidden size unknown": (
        lambda: train.fit("mnist_mlp", RNG.standard_normal((30, 4)), np.arange(30) % 3),
        DataError, "size of dimension 'H' is not known"),
    "1-D x for a two-feature model": (
        lambda: train.fit("logistic_regression", np.ones(20), np.ones(20)),
        DataError, r"shape \(20,\).*2-D array.*reshape"),
    "3-D x": (
        lambda: train.fit("logistic_regression", np.ones((20, 2, 2)), np.ones(20)),
        DataError, r"shape \(20, 2, 2\)"),
    "2-D x for a one-number model": (
        lambda: train.fit("affine_mse", np.ones((20, 3)), np.ones(20)),
        DataError, "3 features per sample.*a single number"),
    "x of strings": (
        lambda: train.fit("affine_mse", ["a"] * 5, np.ones(5)), DataError, "real numbers"),
    "ragged x": (
        lambda: train.fit("logistic_regression", [[1, 2], [3]], [0, 1]),
        DataError, "cannot be read"),
    "targets missing": (
        lambda: train.fit("logistic_regression", DOTS.x, None), DataError, "needs targets"),
    "data for a model that takes none": (
        lambda: train.fit("paraboloid_gradient", X2, Y2), DataError, "takes no data"),
    "binary labels 0/2": (
        lambda: train.loss_and_gradient("logistic_regression", theta(3), DOTS.x, DOTS.y * 2),
        DataError, "targets 0 or 1"),
    "class labels 1.5": (
        lambda: train.fit("mnist_mlp", RNG.standard_normal((4, 3)), [0, 1.5, 1, 0],
                          sizes={"H": 2, "C": 2}),
        DataError, "integer labels"),
    "class labels negative": (
        lambda: train.fit("mnist_mlp", RNG.standard_normal((4, 3)), [0, -1, 1, 0],
                          sizes={"H": 2, "C": 2}),
        DataError, r"labels in 0, 1, 2, \.\.\., but y has 1 labels outside"),
    # settings: each error names what is accepted
    "epochs 0": (lambda: train.train("line_through_origin", epochs=0),
                 SettingsError, "epochs must be a whole number >= 1"),
    "epochs -5": (lambda: train.train("line_through_origin", epochs=-5),
                  SettingsError, "got -5"),
    "epochs 2.5": (lambda: train.train("line_through_origin", epochs=2.5),
                   SettingsError, "got 2.5"),
    "batch size 0": (lambda: train.train("logistic_regression", optimizer="sgd", batch_size=0),
                     SettingsError, "batch size must be a whole number >= 1"),
    "batch size -5": (lambda: train.train("logistic_regression", optimizer="sgd", batch_size=-5),
                      SettingsError, "got -5"),
    "step size 0": (lambda: train.train("line_through_origin", learning_rate=0),
                    SettingsError, "finite number > 0"),
    "step size NaN": (lambda: train.train("line_through_origin", learning_rate=float("nan")),
                      SettingsError, "finite number > 0"),
    "step size a string": (lambda: train.train("line_through_origin", learning_rate="0.1"),
                           SettingsError, "finite number > 0"),
    "optimizer adagrad": (lambda: train.train("logistic_regression", optimizer="adagrad"),
                          SymdlError, "choose one of gd, sgd, .*adam.*lbfgs, newton"),
    "optimizer a list": (lambda: train.fit("logistic_regression", DOTS.x, DOTS.y,
                                           optimizer=["gd"]),
                         SettingsError, "must be a name"),
    "init 'glorot' (a typo)": (lambda: train.train("logistic_regression", init="glorot"),
                               SettingsError, "normal, glorot_uniform"),
    "an unknown key in initial": (lambda: train.train("logistic_regression", initial={"w": 1}),
                                  SettingsError, "no parameter 'w'.*theta"),
    "init_scale negative": (lambda: train.train("logistic_regression", init_scale=-1),
                            SettingsError, "init_scale"),
    "an unknown setting": (lambda: train.train("logistic_regression", epoch=3),
                           SettingsError, "'epoch'.*epochs"),
    # divergence, caught long before inf
    "line_through_origin at step 0.001": (
        lambda: train.train("line_through_origin", learning_rate=0.001),
        DivergenceError, r"grown.*2/λ_max = 0\.000182"),
    "a network (no Hessian) at step 1e4": (
        lambda: train.fit("two_layer_network", DOTS.x, DOTS.y, sizes={"H": 4}, init_scale=1.0,
                          learning_rate=1e4, epochs=200),
        DivergenceError, r"grown.*step size 10000 is probably too large: try 1000"),
    "RMSprop at step 50, ending far above where it started": (
        lambda: train.fit("two_layer_network", DOTS.x, DOTS.y, sizes={"H": 4}, init_scale=1.0,
                          optimizer="rmsprop", learning_rate=50.0, epochs=200),
        DivergenceError, r"more than twice its starting value.*try 5 "),
    "divergence neither 'stop' nor 'warn'": (
        lambda: train.fit("two_layer_network", DOTS.x, DOTS.y, sizes={"H": 4}, divergence="off"),
        SettingsError, "'stop'.*'warn'"),
    # closed forms
    "closed form with every x equal": (
        lambda: train.closed_form("univariate_least_squares", np.full(10, 3.0), np.arange(10.0)),
        SingularError, "singular relative to its scale"),
    "closed form of a model without one": (
        lambda: train.closed_form("logistic_regression", DOTS.x, DOTS.y),
        DerivationError, "no closed form"),
    # one-vs-rest
    "one-vs-rest scores with the wrong feature count": (
        lambda: one_vs_rest.scores("logistic_regression", [theta(3), theta(3)], X2),
        DataError, "expects 3 features"),
    "one-vs-rest classifiers not a list": (
        lambda: one_vs_rest.scores("logistic_regression", theta(3), DOTS.x),
        DataError, "list of classifiers"),
    "one-vs-rest with classes=True": (
        lambda: one_vs_rest.fit("logistic_regression", DOTS.x, DOTS.y, True),
        DataError, "L >= 2"),
    # models that cannot be trained
    "train affine_collapse (a derivation, not a model)": (
        lambda: train.train("affine_collapse"), DerivationError, "not a model to train"),
    "train __init__": (lambda: train.train("__init__"), DerivationError, "no derivation named"),
}


# ---- files: every file error caught where it is read (issue 17) ----------------------------

_FOLDER: list = []


def folder() -> Path:
    """One temporary folder for the file cases, made on first use and removed at exit."""
    if not _FOLDER:
        _FOLDER.append(Path(tempfile.mkdtemp(prefix="symdl-bad-files-")))
        atexit.register(shutil.rmtree, _FOLDER[0], True)
    return _FOLDER[0]


def made(name, write) -> str:
    """The path of `name` in the folder, written by `write(path)` the first time."""
    path = folder() / name
    if not path.exists():
        write(path)
    return str(path)


def text(content, encoding="utf-8"):
    return lambda path: path.write_bytes(content.encode(encoding) if isinstance(content, str)
                                         else content)


def npz(**arrays):
    return lambda path: np.savez_compressed(path, **arrays)


def damaged(write):
    """What `write` writes, with bytes of its first entry's compressed data flipped: the zip
    directory and its sizes are intact, so only decompressing the entry finds it."""
    def damage(path):
        write(path)
        data = bytearray(path.read_bytes())
        with zipfile.ZipFile(path) as archive:
            entry = archive.infolist()[0]
        start = entry.header_offset + 30 + len(entry.filename) + len(entry.extra)
        for i in range(start + 2, start + min(entry.compress_size, 40)):
            data[i] ^= 0x5A
        path.write_bytes(bytes(data))
    return damage


def truncated(write, keep=0.5):
    def cut(path):
        write(path)
        data = path.read_bytes()
        path.write_bytes(data[:int(len(data) * keep)])
    return cut


def a_saved_model(path):
    result = train.fit("logistic_regression", DOTS.x, DOTS.y, epochs=2)
    saved.save(result, path)


def edited_saved_model(change):
    """A saved model whose metadata JSON is changed by `change(metadata)`."""
    def write(path):
        a_saved_model(path)
        with np.load(path) as archive:
            arrays = {k: archive[k] for k in archive.files}
        metadata = json.loads(str(arrays["metadata"]))
        change(metadata)
        arrays["metadata"] = np.array(json.dumps(metadata))
        np.savez_compressed(path, **arrays)
    return write


def without_parameters(path):
    a_saved_model(path)
    with np.load(path) as archive:
        arrays = {k: archive[k] for k in archive.files if not k.startswith("param_")}
    np.savez_compressed(path, **arrays)


def npy_folder(x, y=None, y_bytes=None):
    def write(path):
        path.mkdir()
        np.save(path / "x.npy", x)
        if y is not None:
            np.save(path / "y.npy", y)
        if y_bytes is not None:
            (path / "y.npy").write_bytes(y_bytes)
    return write


def cut_npy(path):
    npy_folder(DOTS.x, DOTS.y)(path)
    (path / "x.npy").write_bytes((path / "x.npy").read_bytes()[:-40])


def mnist_folder(kind):
    def write(path):
        path.mkdir()
        for name in (datasets.MNIST_IMAGES_FILE, datasets.MNIST_LABELS_FILE):
            if kind == "folders":
                (path / name).mkdir()
            elif kind == "not gzip":
                (path / name).write_bytes(b"not the MNIST file")
    return write


def spec_of(name):
    return kernels.load(name).SPEC


def data(name, model="logistic_regression", target=None):
    return datafiles.load(name, spec_of(model), target)


def chunked_fit(**settings):
    da = pytest.importorskip("dask.array")
    return chunked.fit("logistic_regression", da.from_array(DOTS.x, chunks=(50, 3)),
                       da.from_array(DOTS.y, chunks=50), **settings)


def mnist_in(name, kind):
    return datasets.mnist(directory=made(name, mnist_folder(kind)))


def store(name, write, names=("x", "y")):
    pytest.importorskip("dask.array")
    return stores.load(made(name, write), names)


LR = "logistic_regression"
X3, Y3 = DOTS.x[:6], DOTS.y[:6]

FILE_CALLS = {
    # a saved model
    "saved: no such file": (lambda: saved.load(str(folder() / "absent.npz")), SavedModelError,
                            "does not exist.*--save"),
    "saved: a text file": (lambda: saved.load(made("m.txt.npz", text("hello"))),
                           SavedModelError, "not a model saved by symdl"),
    "saved: an empty file": (lambda: saved.load(made("empty.npz", text(""))),
                             SavedModelError, "not a model saved by symdl"),
    "saved: a folder": (lambda: saved.load(str(folder())), SavedModelError, "does not exist"),
    "saved: a truncated archive": (
        lambda: saved.load(made("cut.npz", truncated(a_saved_model))),
        SavedModelError, "not a model saved by symdl"),
    "saved: an entry damaged inside an intact zip": (
        lambda: saved.load(made("damaged.npz", damaged(a_saved_model))),
        SavedModelError, "is damaged: an entry of the archive cannot be decompressed"),
    "saved: data, not a model": (
        lambda: saved.load(made("data_not_model.npz", npz(x=X3, y=Y3))),
        SavedModelError, "no metadata"),
    "saved: metadata not JSON": (
        lambda: saved.load(made("nojson.npz", npz(metadata=np.array("{oops"), param_theta=np.ones(3)))),
        SavedModelError, "not a model saved by symdl"),
    "saved: another format": (
        lambda: saved.load(made("other.npz", edited_saved_model(lambda m: m.update(format="x")))),
        SavedModelError, "not a model saved by symdl"),
    "saved: a newer format version": (
        lambda: saved.load(made("newer.npz", edited_saved_model(
            lambda m: m.update(format_version=99)))),
        SavedModelError, "newer symdl.*upgrade"),
    "saved: format version a string": (
        lambda: saved.load(made("version_text.npz", edited_saved_model(
            lambda m: m.update(format_version="1")))),
        SavedModelError, "damaged: its format_version"),
    "saved: no kernel hashes": (
        lambda: saved.load(made("nohashes.npz", edited_saved_model(lambda m: m.pop("kernels")))),
        SavedModelError, "lacks the model's name or its kernels' hashes"),
    "saved: kernels changed since": (
        lambda: saved.load(made("changed.npz", edited_saved_model(
            lambda m: m["kernels"].update(code_sha256="0" * 64, generator_sha256="1" * 64)))),
        SavedModelError, "trained with other kernels.*the generator changed since.*Retrain it"),
    "saved: a parameter missing": (
        lambda: saved.load(made("noparam.npz", without_parameters)), SavedModelError,
        "lacks the parameters theta"),
    "saved: loaded for another model": (
        lambda: saved.load(made("model.npz", a_saved_model), model="affine_mse"),
        SavedModelError, "holds a trained 'logistic_regression', not 'affine_mse'"),
    "saved: save to a missing folder": (
        lambda: saved.save(train.fit(LR, X3, Y3, epochs=1), folder() / "no" / "m.npz"),
        SymdlError, "folder .* does not exist"),
    "saved: save something not a Result": (
        lambda: saved.save({"theta": np.ones(3)}, folder() / "dict.npz"),
        DataError, "takes the Result"),
    # a .npz of data
    "npz: no such file": (lambda: data(str(folder() / "absent.npz")), DataError,
                          "does not exist"),
    "npz: a text file": (lambda: data(made("d.txt.npz", text("x,y\n1,2\n"))), DataError,
                         "not a zip archive"),
    "npz: truncated": (lambda: data(made("dcut.npz", truncated(npz(x=DOTS.x, y=DOTS.y)))),
                       DataError, "not a readable .npz"),
    "npz: an array damaged inside an intact zip": (
        lambda: data(made("ddamaged.npz", damaged(npz(x=DOTS.x, y=DOTS.y)))),
        DataError, "damaged .npz file: an array in it cannot be decompressed"),
    "npz: the target array missing": (lambda: data(made("only_x.npz", npz(x=X3))), DataError,
                                      r"missing: y"),
    "npz: an extra array": (lambda: data(made("extra.npz", npz(x=X3, y=Y3, w=Y3))), DataError,
                            "not used: w"),
    "npz: arrays misnamed": (lambda: data(made("misnamed.npz", npz(X=X3, Y=Y3))), DataError,
                             "reads arrays named x, y"),
    "npz: empty archive": (lambda: data(made("none.npz", npz())), DataError, "no arrays"),
    "npz: an object array": (
        lambda: data(made("objects.npz", lambda p: np.savez(p, x=np.array([{}, 1], dtype=object),
                                                            y=Y3[:2]))),
        DataError, "not a readable .npz"),
    "npz: --target given": (lambda: data(made("d.npz", npz(x=X3, y=Y3)), target="y"),
                            DataError, "--target names a CSV column"),
    "data: an unknown suffix": (lambda: data(made("d.json", text("{}"))), DataError,
                                "unknown data format '.json'"),
    "data: no suffix": (lambda: data(made("dnosuffix", text("1,2"))), DataError,
                        r"unknown data format '\(no suffix\)'"),
    # a .csv
    "csv: empty": (lambda: data(made("empty.csv", text(""))), DataError, "holds no rows"),
    "csv: blank lines only": (lambda: data(made("blank.csv", text("\n \n,\n"))), DataError,
                              "holds no rows"),
    "csv: a header and no samples": (lambda: data(made("head.csv", text("a,b,y\n"))),
                                     DataError, "header but no samples"),
    "csv: a short row, its real line number": (
        lambda: data(made("short.csv", text("a,b,y\n\n1,2,0\n\n3,4\n"))),
        DataError, r"line 5: 2 columns, the first line \(the header\) has 3"),
    "csv: a long row": (lambda: data(made("long.csv", text("1,2,0\n3,4,1,9\n"))), DataError,
                        "line 2: 4 columns"),
    "csv: a word among numbers": (lambda: data(made("word.csv", text("1,2,0\n3,x,1\n"))),
                                  DataError, "line 2: 'x' is not a number"),
    "csv: an empty cell": (lambda: data(made("hole.csv", text("a,b,y\n1,,0\n"))), DataError,
                           "line 2: '' is not a number"),
    "csv: Latin-1 bytes": (lambda: data(made("latin.csv", text("a,b,y\né,1,0\n", "latin-1"))),
                           DataError, "not a text CSV file.*UTF-8"),
    "csv: UTF-16": (lambda: data(made("utf16.csv", text("1,2,0\n", "utf-16"))), DataError,
                    "not a text CSV file"),
    "csv: a NUL byte": (lambda: data(made("nul.csv", text("1,2,0\n1,\x00,1\n"))), DataError,
                        r"line 2: '\\x00' is not a number"),
    "csv: --target an unknown name": (
        lambda: data(made("named.csv", text("a,b,y\n1,2,0\n3,4,1\n")), target="label"),
        DataError, "no column 'label' for --target; the columns are a, b, y"),
    "csv: --target a number too large": (
        lambda: data(made("plain.csv", text("1,2,0\n3,4,1\n")), target="7"),
        DataError, r"no column '7'.*0\.\.2"),
    "csv: --target for a model without a target": (
        lambda: data(made("plain.csv", text("1,2,0\n3,4,1\n")), model="paraboloid_gradient",
                     target="0"),
        DataError, "has no target; drop --target"),
    "csv: only the target column": (lambda: data(made("one.csv", text("y\n1\n0\n"))),
                                    DataError, "no feature columns are left"),
    "csv: no such file": (lambda: data(str(folder() / "absent.csv")), DataError,
                          "does not exist"),
    "csv: a folder named .csv": (lambda: data(made("dir.csv", lambda p: p.mkdir())),
                                 DataError, "is a folder, not a data file"),
    "predict: features of a .npz without x": (
        lambda: datafiles.load_features(made("only_y.npz", npz(y=Y3)), spec_of(LR)),
        DataError, "missing: x"),
    # stores of .npy files
    "store: no such folder": (lambda: stores.load(str(folder() / "absent")), DataError,
                              "no such file or folder"),
    "store: a single .npy file": (lambda: store("one.npy", lambda p: np.save(p, X3)),
                                  DataError, "holds one array"),
    "store: y.npy missing": (lambda: store("xonly", npy_folder(X3)), DataError,
                             r"missing y\.npy"),
    "store: x and y lengths differ": (
        lambda: store("lengths", npy_folder(DOTS.x, DOTS.y[:150])), DataError,
        r"x\.npy has 200 rows.*y\.npy has 150"),
    "store: a truncated .npy": (lambda: store("cutnpy", cut_npy), DataError,
                                "truncated: its header says"),
    "store: a .npy that is text": (
        lambda: store("textnpy", npy_folder(X3, y_bytes=b"1,0,1\n")), DataError,
        "not a .npy file NumPy can read"),
    "store: a 0-d .npy": (lambda: store("scalar", npy_folder(X3, np.float64(1.0))),
                          DataError, "a single number"),
    "store: a Fortran-ordered .npy": (
        lambda: store("fortran", npy_folder(np.asfortranarray(DOTS.x), DOTS.y)), DataError,
        "Fortran order"),
    "store: a .npy of objects": (
        lambda: store("objnpy", lambda p: (p.mkdir(), np.save(p / "x.npy", X3),
                                            np.save(p / "y.npy", np.array([{}] * 6),
                                                    allow_pickle=True))),
        DataError, "Python objects"),
    "store: x.npy a folder": (
        lambda: store("dirnpy", lambda p: ((p / "x.npy").mkdir(parents=True),
                                           np.save(p / "y.npy", Y3))),
        DataError, r"x\.npy: not a file \(a folder\?\)"),
    "store: a file of another kind": (lambda: store("d.txt", text("1")), DataError,
                                      "expected a Zarr store"),
    "store: a Zarr store without y": (
        lambda: store("noy.zarr", lambda p: (pytest.importorskip("zarr").open_group(
            str(p), mode="w").create_array("x", data=X3))),
        DataError, "no array 'y'"),
    "store: a .zarr that is no group": (lambda: store("bad.zarr", text("")), DataError,
                                        "not a Zarr group"),
    # the built-in MNIST read from a folder of yours
    "mnist: the folder is a file": (lambda: datasets.mnist(directory=made("mn_file", text("x"))),
                                    DataError, "is a file, not a folder"),
    "mnist: the folder is missing": (
        lambda: datasets.mnist(directory=str(folder() / "absent")), DataError,
        "does not exist; give the folder that holds"),
    "mnist: its entries are folders": (lambda: mnist_in("mn_dirs", "folders"), DataError,
                                       "is a folder, not the MNIST file"),
    "mnist: its files are missing": (lambda: mnist_in("mn_empty", "none"), DataError,
                                     "MNIST file not found"),
    "mnist: its files are not MNIST": (lambda: mnist_in("mn_junk", "not gzip"), DataError,
                                       "has md5 .*expected"),
    "mnist: n_train 0": (lambda: datasets.mnist(n_train=0), DataError, "n_train >= 1"),
    "mnist: more images than there are": (lambda: datasets.mnist(n_train=9000, n_test=2000),
                                          DataError, "n_train \\+ n_test <= 10000"),
    "mnist: integer pixels": (lambda: datasets.mnist(dtype=np.int32), DataError,
                              "floating dtype"),
    # where a user's kernels go
    "kernels: generated/ is a file, so they cannot be written": (
        lambda: kernels.load(made("own_dir/own_line.py", lambda p: (
            p.parent.mkdir(), p.write_text(A_MODEL), (p.parent / "generated").write_text("")))),
        DerivationError, "cannot be written.*--kernels DIR.*SYMDL_KERNELS=DIR"),
    "kernels: a generated file given as the derivation": (
        lambda: sources.load_derivation(str(sources.resolve(LR).kernel_path)),
        DerivationError, "is a generated kernel file, not a derivation"),
    "kernels: the generated file a folder": (
        lambda: kernels.load(made("dir_kernels/own_line.py", lambda p: (
            (p.parent / "generated" / "own_line.py").mkdir(parents=True),
            p.write_text(A_MODEL)))),
        DerivationError, r"own_line\.py cannot be read.*symdl generate"),
    "kernels: a folder as the model": (lambda: kernels.load(str(folder())), DerivationError,
                                       "is a folder"),
    "kernels: not a .py file": (lambda: kernels.load(made("model.txt", text("x"))),
                                DerivationError, "not a Python file"),
    "kernels: a file name that is no identifier": (
        lambda: kernels.load(made("my-model.py", text(A_MODEL))), DerivationError,
        "must be a Python identifier"),
    "kernels: a file without a derivation": (
        lambda: sources.load_derivation(made("nothing.py", text("x = 1\n"))), DerivationError,
        r"must define `derivation = Model"),
    "kernels: a derivation named unlike its file": (
        lambda: sources.load_derivation(made("other_name.py", text(A_MODEL))), DerivationError,
        "must match the file name"),
    # settings refused, tol among them, in memory and in chunks
    "tol -1 (L-BFGS)": (lambda: train.fit(LR, DOTS.x, DOTS.y, optimizer="lbfgs", tol=-1.0),
                        SettingsError, "tol must be a finite number >= 0.*got -1.0"),
    "tol NaN": (lambda: train.fit(LR, DOTS.x, DOTS.y, optimizer="newton", tol=float("nan")),
                SettingsError, "tol must be a finite number"),
    "tol inf": (lambda: train.fit(LR, DOTS.x, DOTS.y, tol=float("inf")), SettingsError,
                "tol must be a finite number"),
    "tol a string": (lambda: train.fit(LR, DOTS.x, DOTS.y, tol="1e-6"), SettingsError,
                     "tol must be"),
    "tol True": (lambda: train.fit(LR, DOTS.x, DOTS.y, tol=True), SettingsError, "tol must be"),
    "chunked: tol -1": (lambda: chunked_fit(optimizer="lbfgs", tol=-1.0), SettingsError,
                        "tol must be a finite number >= 0"),
    "chunked: epochs 0": (lambda: chunked_fit(epochs=0), SettingsError, "epochs must be"),
    "chunked: step size NaN": (lambda: chunked_fit(learning_rate=float("nan")), SettingsError,
                               "finite number > 0"),
    "chunked: optimizer adagrad": (lambda: chunked_fit(optimizer="adagrad"), SymdlError,
                                   "choose one of"),
    "chunked: batch size 0": (lambda: chunked_fit(optimizer="sgd", batch_size=0),
                              SettingsError, "batch size must be"),
    "chunked: x and y of different lengths": (
        lambda: chunked.fit(LR, pytest.importorskip("dask.array").from_array(DOTS.x, chunks=(50, 3)),
                            DOTS.y[:100]),
        DataError, "x has 200 samples but y has 100"),
    "log_every 0": (lambda: train.fit(LR, DOTS.x, DOTS.y, log_every=0), SettingsError,
                    "log_every must be"),
    "seed -1": (lambda: train.fit(LR, DOTS.x, DOTS.y, seed=-1), SettingsError,
                "seed must be an integer >= 0"),
    "seed 1.5": (lambda: train.fit(LR, DOTS.x, DOTS.y, seed=1.5), SettingsError, "seed"),
    "init_scale NaN": (lambda: train.fit(LR, DOTS.x, DOTS.y, init_scale=float("nan")),
                       SettingsError, "init_scale"),
    "epochs True": (lambda: train.fit(LR, DOTS.x, DOTS.y, epochs=True), SettingsError,
                    "epochs must be"),
    "epochs '10'": (lambda: train.fit(LR, DOTS.x, DOTS.y, epochs="10"), SettingsError,
                    "got '10'"),
    "step size inf": (lambda: train.fit(LR, DOTS.x, DOTS.y, learning_rate=float("inf")),
                      SettingsError, "finite number > 0"),
    "step size True": (lambda: train.fit(LR, DOTS.x, DOTS.y, learning_rate=True),
                       SettingsError, "finite number > 0"),
    "batch size 2.5": (lambda: train.fit(LR, DOTS.x, DOTS.y, optimizer="sgd", batch_size=2.5),
                       SettingsError, "got 2.5"),
    "initial not a dictionary": (lambda: train.fit(LR, DOTS.x, DOTS.y, initial=[1, 2, 3]),
                                 SettingsError, "initial must be a dictionary"),
    "divergence None": (lambda: train.fit(LR, DOTS.x, DOTS.y, divergence=None), SettingsError,
                        "'stop'.*'warn'"),
}
BAD_CALLS.update(FILE_CALLS)


@pytest.mark.parametrize("case", list(BAD_CALLS))
def test_bad_call_is_a_clear_error(case):
    call, error, message = BAD_CALLS[case]
    with pytest.raises(error, match=message):
        call()


def test_divergence_warn_goes_on_and_warns_once():
    """The RMSprop run above, asked to warn: it completes all its epochs with one warning,
    and a NaN still stops it."""
    from symdl.errors import DivergenceWarning
    with pytest.warns(DivergenceWarning, match="more than twice.*divergence='warn'") as caught:
        result = train.fit("two_layer_network", DOTS.x, DOTS.y, sizes={"H": 4}, init_scale=1.0,
                           optimizer="rmsprop", learning_rate=50.0, epochs=200,
                           divergence="warn")
    assert len(result.history) == 200
    assert sum(issubclass(w.category, DivergenceWarning) for w in caught) == 1


# ---- Python: what can be converted gives the result the well-formed input gives -------------

def test_one_d_x_for_a_one_feature_model_is_a_column():
    column = X2[:, :1]
    as_column = predict("multivariate_least_squares", {"theta": np.array([2.0])}, column)
    as_vector = predict("multivariate_least_squares", {"theta": np.array([2.0])}, X2[:, 0])
    np.testing.assert_array_equal(as_vector, as_column)
    np.testing.assert_allclose(as_column, 2.0 * X2[:, 0])


def test_float32_data_with_float64_parameters_is_computed_in_float64():
    wide = train.metrics("multivariate_least_squares", {"theta": np.array([1.0, -2.0])},
                         X2.astype(np.float32).astype(np.float64), Y2)
    mixed = train.metrics("multivariate_least_squares", {"theta": np.array([1.0, -2.0])},
                          X2.astype(np.float32), Y2)
    assert mixed == wide


def test_integer_parameters_and_data_are_converted():
    loss, grads = train.loss_and_gradient("multivariate_least_squares",
                                          {"theta": np.array([1, 0])}, np.array([[1, 2], [3, 4]]),
                                          np.array([1, 2]))
    expected = train.loss_and_gradient("multivariate_least_squares",
                                       {"theta": np.array([1.0, 0.0])},
                                       np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 2.0]))
    assert loss == expected[0]
    np.testing.assert_array_equal(grads["theta"], expected[1]["theta"])


def test_labels_are_checked_against_the_classes_in_use():
    x = RNG.standard_normal((30, 4))
    result = train.fit("mnist_mlp", x, np.arange(30) % 5, sizes={"H": 3, "C": 5}, epochs=2,
                       init="glorot_uniform", optimizer="rmsprop", learning_rate=1e-3)
    assert result.params["b2"].shape == (5,)
    assert predict("mnist_mlp", result.params, x).shape == (30, 5)


def test_badly_scaled_least_squares_is_solved():
    """003 §3.1: x in units of 1e5 is the same problem; its Hessian's eigenvalues are ≥ 13.8."""
    data = datasets.floor_areas()
    exact = train.closed_form("univariate_least_squares", data.x, data.y)
    scaled = train.closed_form("univariate_least_squares", data.x * 1e5, data.y)
    assert scaled["a"] == pytest.approx(exact["a"] / 1e5, rel=1e-9)
    assert scaled["b"] == pytest.approx(exact["b"], rel=1e-9)


def test_nearly_dependent_columns_warn_with_the_condition_number():
    x = np.linspace(0.0, 1.0, 50)
    houses = np.column_stack([x, x + 1e-6 * np.sin(7 * x), np.ones(50)])
    with pytest.warns(IllConditionedWarning, match="condition number"):
        solution = train.closed_form("multivariate_least_squares", houses, x)
    assert np.all(np.isfinite(solution["theta"]))


def test_verbose_output_says_when_the_step_is_near_the_bound():
    lines = []
    train.train("line_through_origin", learning_rate=0.00017, epochs=3, log=lines.append)
    assert any(re.search(r"near the bound 2/λ_max = 0\.000182", line) for line in lines)


def test_ctrl_c_in_fit_returns_what_was_learnt():
    """The first SIGINT stops training at the next step; the parameters so far come back."""
    def press_ctrl_c(line):
        if "epoch     1 " in line:
            os.kill(os.getpid(), signal.SIGINT)

    result = train.fit("logistic_regression", DOTS.x, DOTS.y, learning_rate=0.01, epochs=100000,
                       log=press_ctrl_c)
    assert result.interrupted and result.stopped_epoch == 1
    assert len(result.history) == 1
    assert np.any(result.params["theta"] != 0)
    start, _ = train.loss_and_gradient("logistic_regression", theta(3) | {"theta": np.zeros(3)},
                                       DOTS.x, DOTS.y)
    assert result.history[0][1] < start


# ---- the command line: exit code 1, one line naming the problem, no traceback ---------------

BAD_COMMANDS = {  # argv, what the message says, the exit code (2: argparse's usage errors)
    "train --epochs 0": (["train", "line_through_origin", "--epochs", "0"], "--epochs", 2),
    "train --epochs -5": (["train", "line_through_origin", "--epochs", "-5"], "--epochs", 2),
    "train --batch-size 0": (["train", "mnist_mlp", "--batch-size", "0"], "--batch-size", 2),
    "train --batch-size -5": (["train", "logistic_regression", "--optimizer", "sgd",
                               "--batch-size", "-5"], "--batch-size", 2),
    "train --lr -1": (["train", "line_through_origin", "--lr", "-1"], "--learning-rate", 2),
    "train --lr 0.001 diverges": (["train", "line_through_origin", "--lr", "0.001"],
                                  "2/λ_max", 1),
    "train affine_collapse": (["train", "affine_collapse"], "not a model to train", 1),
    "train __init__": (["train", "__init__"], "no derivation named", 1),
    "train a missing file": (["train", "no_such_model.py"], "does not exist", 1),
}


def a_file(name, write):
    """An argument that is the path of a file made when the case runs (see `made`)."""
    return lambda: made(name, write)


def missing(name):
    return lambda: str(folder() / "absent" / name)


DOTS_NPZ = npz(x=DOTS.x, y=DOTS.y)
FILE_COMMANDS = {  # as BAD_COMMANDS; a callable argument is a path made when the case runs
    "train --data a .npz damaged inside": (
        ["train", LR, "--data", a_file("ddamaged.npz", damaged(DOTS_NPZ))],
        "damaged .npz file: an array in it cannot be decompressed", 1),
    "train --data a missing file": (["train", LR, "--data", missing("d.csv")],
                                    "does not exist", 1),
    "train --data a CSV with a short row": (
        ["train", LR, "--data", a_file("short.csv", text("a,b,y\n\n1,2,0\n\n3,4\n"))],
        "line 5: 2 columns", 1),
    "train --data a CSV that is not UTF-8": (
        ["train", LR, "--data", a_file("latin.csv", text("a,b,y\né,1,0\n", "latin-1"))],
        "not a text CSV file", 1),
    "train --data a saved model": (["train", LR, "--data", a_file("model.npz", a_saved_model)],
                                   "is a saved model, not data", 1),
    "train --data a .npy store whose x and y differ in length": (
        ["train", LR, "--data", a_file("lengths", npy_folder(DOTS.x, DOTS.y[:150]))],
        "x.npy has 200 rows (samples) but y.npy has 150", 1),
    "train --data a single .npy": (["train", LR, "--data", a_file("one.npy", lambda p: np.save(p, X3))],
                                   "holds one array", 1),
    "train --target with a .npz": (
        ["train", LR, "--data", a_file("d.npz", npz(x=X3, y=Y3)), "--target", "y"],
        "--target names a CSV column", 1),
    "train --test-data without --data": (["train", LR, "--test-data", "t.csv"],
                                         "--test-data needs --data", 1),
    "train --scheduler without --data": (["train", LR, "--scheduler", "tcp://x:1"],
                                         "--scheduler runs on data in a store", 1),
    "train --save into a missing folder": (["train", LR, "--save", missing("m.npz")],
                                           "does not exist", 1),
    "train --save a folder": (["train", LR, "--save", lambda: str(folder())], "is a folder", 1),
    "train an unknown model --json": (["train", "no_such_model", "--json"],
                                      "no derivation named", 1),
    "train --epochs 0 --json": (["train", LR, "--epochs", "0", "--json"], "--epochs", 2),
    "train --data missing --json": (["train", LR, "--json", "--data", missing("d.npz")],
                                    "does not exist", 1),
    "train a model whose kernels cannot be written": (
        ["train", lambda: made("own_dir/own_line.py", lambda p: (
            p.parent.mkdir(), p.write_text(A_MODEL), (p.parent / "generated").write_text("")))],
        "--kernels DIR", 1),
    "train a generated file": (["train", lambda: str(sources.resolve(LR).kernel_path)],
                               "is a generated kernel file, not a derivation", 1),
    "predict --params missing": (["predict", LR, "--params", missing("m.npz"), "--data", "d.csv"],
                                 "does not exist", 1),
    "predict --params damaged inside": (
        ["predict", LR, "--params", a_file("damaged.npz", damaged(a_saved_model)),
         "--data", "d.csv"], "is damaged: an entry of the archive", 1),
    "predict --params a data file": (
        ["predict", LR, "--params", a_file("d.npz", npz(x=X3, y=Y3)), "--data", "d.csv"],
        "is not a model saved by symdl", 1),
    "predict --params of another model": (
        ["predict", "affine_mse", "--params", a_file("model.npz", a_saved_model), "--data", "d.csv"],
        "holds a trained 'logistic_regression', not 'affine_mse'", 1),
    "predict --data missing": (
        ["predict", LR, "--params", a_file("model.npz", a_saved_model), "--data", missing("d.csv")],
        "does not exist", 1),
    "predict --data a .npz damaged inside": (
        ["predict", LR, "--params", a_file("model.npz", a_saved_model),
         "--data", a_file("ddamaged.npz", damaged(DOTS_NPZ))], "damaged .npz file", 1),
    "predict --out into a missing folder": (
        ["predict", LR, "--params", "m.npz", "--data", "d.csv", "--out", missing("p.csv")],
        "does not exist", 1),
    "check --out into a missing folder": (["check", LR, "--out", missing("table.md")],
                                          "does not exist", 1),
    "check an unknown model --json": (["check", "no_such_model", "--json"],
                                      "no derivation named", 1),
    "plot --out into a missing folder": (["plot", LR, "--out", missing("f.png")],
                                         "does not exist", 1),
    "derive a missing file": (["derive", missing("model.py")], "does not exist", 1),
    "derive a generated file": (["derive", lambda: str(sources.resolve(LR).kernel_path)],
                                "is a generated kernel file", 1),
}
BAD_COMMANDS.update(FILE_COMMANDS)


@pytest.mark.parametrize("case", list(BAD_COMMANDS))
def test_bad_command_exits_with_the_problem_and_no_traceback(case, capsys):
    """Exit code and message on stderr; with --json also one JSON document on stdout."""
    argv, message, code = BAD_COMMANDS[case]
    argv = [argument() if callable(argument) else argument for argument in argv]
    try:
        status = cli.main(argv)
    except SystemExit as stop:  # argparse refuses a malformed option itself
        status = stop.code
    out, err = capsys.readouterr()
    assert status == code
    assert message in err and "Traceback" not in err
    if "--json" in argv:  # the progress lines (or argparse's usage) go to stderr first
        assert "\nsymdl: " in "\n" + err or code == 2
        document = json.loads(out)
        assert message in document["error"] and document["exit_status"] == code
    elif code == 1:
        assert err.startswith("symdl: ")


# ---- generated files are trusted only when they are what the generator wrote ----------------

A_MODEL = '''"""A model of this test's own."""
from symdl.model import Model, Training

derivation = Model("own_line", title="A line", source="none", reduction="mean",
                   training=Training(dataset="floor_areas", learning_rate=1e-3, epochs=3))
x = derivation.data("x")
y = derivation.target("y")
w = derivation.param("w")
y_hat = derivation.let("y_hat", w * x)
derivation.loss((y - y_hat) ** 2)
derivation.output(y_hat)
'''


@pytest.fixture
def own_model(tmp_path):
    path = tmp_path / "own_line.py"
    path.write_text(A_MODEL)
    files.write([str(path)])
    return path


def builtin_copy(tmp_path, name="affine_mse"):
    """A built-in model's derivation and kernels copied, as a Source that is built in."""
    source = sources.resolve(name)
    shutil.copy(source.path, tmp_path / f"{name}.py")
    (tmp_path / "generated").mkdir(exist_ok=True)
    shutil.copy(source.kernel_path, tmp_path / "generated" / f"{name}.py")
    return sources.Source(name, tmp_path / f"{name}.py", tmp_path / "generated" / f"{name}.py",
                          builtin=True)


def test_a_hand_edited_builtin_kernel_is_refused(tmp_path):
    source = builtin_copy(tmp_path)
    text = source.kernel_path.read_text()
    source.kernel_path.write_text(text.replace("scale = 1.0 / m", "scale = 1e20 / m", 1))
    with pytest.raises(DerivationError, match="must not be edited by hand; regenerate it with `symdl generate`"):
        kernels.verify(source)


def test_a_derivation_changed_since_its_builtin_kernels_is_named(tmp_path):
    source = builtin_copy(tmp_path)
    source.path.write_text(source.path.read_text() + "\n# edited\n")
    with pytest.raises(DerivationError, match="derivations/affine_mse.py has changed since "
                                              "generated/affine_mse.py.*symdl generate"):
        kernels.verify(source)


def test_a_hand_edited_kernel_of_your_own_is_refused(own_model):
    kernel = own_model.parent / "generated" / "own_line.py"
    kernel.write_text(kernel.read_text().replace("BLOCK = 64", "BLOCK = 65"))
    with pytest.raises(DerivationError, match=f"symdl generate {own_model}"):
        kernels.load(str(own_model))


def test_kernels_of_your_own_written_by_another_generator_are_written_again(own_model, capsys):
    """After an upgrade of symdl, a model's kernels carry the old generator's hash: they are
    regenerated on use (they are derived code, and the old generator may lack a fix)."""
    kernel = own_model.parent / "generated" / "own_line.py"
    old = stamps.with_body_hash(re.sub(r'GENERATOR_SHA256 = "[0-9a-f]*"',
                                       'GENERATOR_SHA256 = "0000000000000000"', kernel.read_text()))
    kernel.write_text(old)
    module = kernels.load(str(own_model))
    assert module.GENERATOR_SHA256 == stamps.generator_hash()
    assert "written by another version of symdl's generator" in capsys.readouterr().err


def test_your_own_derivation_edited_but_not_regenerated_is_named(own_model):
    own_model.write_text(A_MODEL.replace("w * x", "2 * w * x"))
    with pytest.raises(DerivationError, match=f"{own_model} has changed since .*own_line.py was "
                                              f"generated.*symdl generate {own_model}"):
        kernels.load(str(own_model))
    files.write([str(own_model)])
    assert kernels.load(str(own_model)).DERIVATION_SHA256 == stamps.file_hash(own_model)


def test_the_readme_model_trains_instead_of_saturating(tmp_path):
    """The README's tanh unit at its old step 0.05 saturated at the first step (J 11.8 → 47)."""
    from test_extending import NEW_MODEL
    path = tmp_path / "tanh_unit_for_test.py"
    path.write_text(NEW_MODEL)
    files.write([str(path)])
    data = datasets.floor_areas()
    with pytest.raises(DivergenceError, match="more than twice its starting value"):
        train.fit(str(path), data.x, data.y, learning_rate=0.05, epochs=200)
    result = train.train(str(path))  # J from 11.8 at w = b = 0 down to about 0.063
    assert result.metrics["final J"] < 0.1


def test_regeneration_is_byte_identical_and_verifies(own_model):
    kernel = own_model.parent / "generated" / "own_line.py"
    before = kernel.read_bytes()
    assert files.write([str(own_model)]) == []
    assert kernel.read_bytes() == before
    kernels.verify(sources.resolve(str(own_model)))


def test_a_failed_write_leaves_the_old_file_whole(own_model, monkeypatch):
    kernel = own_model.parent / "generated" / "own_line.py"
    before = kernel.read_text()
    own_model.write_text(A_MODEL.replace("w * x", "3 * w * x"))

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError):
        files.write([str(own_model)])
    assert kernel.read_text() == before
    assert sorted(p.name for p in kernel.parent.iterdir() if p.suffix != "") == ["own_line.py"]


def test_an_output_that_needs_the_target_is_refused_when_the_model_is_written(tmp_path):
    path = tmp_path / "cheat.py"
    path.write_text(A_MODEL.replace('"own_line"', '"cheat"').replace(
        "derivation.output(y_hat)", "residual = derivation.let('residual', y - y_hat)\n"
                                    "derivation.output(residual)"))
    with pytest.raises(DerivationError, match="output residual depends on the target y"):
        sources.load_derivation(str(path))


# ---- a broken derivation file stops only itself ---------------------------------------------

@pytest.fixture
def folder_with_a_broken_file(tmp_path):
    (tmp_path / "own_line.py").write_text(A_MODEL)
    (tmp_path / "broken_syntax.py").write_text("from symdl.model import Model\nderivation = (\n")
    (tmp_path / "broken_import.py").write_text("import numpy\nderivation = 1 / 0\n")
    return tmp_path


def test_list_shows_broken_files_and_the_others(folder_with_a_broken_file, capsys):
    assert cli.main(["list", str(folder_with_a_broken_file)]) == 1
    out = capsys.readouterr().out
    assert re.search(r"broken_syntax +BROKEN .*SyntaxError at line 2", out)
    assert re.search(r"broken_import +BROKEN .*ZeroDivisionError at line 2", out)
    assert re.search(r"own_line +model", out)


def test_generate_writes_the_others_and_exits_1(folder_with_a_broken_file, capsys):
    assert cli.main(["generate", str(folder_with_a_broken_file)]) == 1
    captured = capsys.readouterr()
    assert (folder_with_a_broken_file / "generated" / "own_line.py").exists()
    assert "skipped broken_syntax" in captured.err and "Traceback" not in captured.err
    assert cli.main(["generate", "--check", str(folder_with_a_broken_file)]) == 1
    assert "up to date (except the broken derivations)" in capsys.readouterr().out


def test_check_reports_the_broken_file_as_an_error_row(folder_with_a_broken_file):
    from symdl import check
    rows = check.run([str(folder_with_a_broken_file / "broken_syntax.py")])
    assert [(r.verdict, "SyntaxError" in r.evidence) for r in rows] == [("ERROR", True)]


# ---- Ctrl-C: exit 130, where it stopped, the parameters so far, no traceback -----------------

def symdl_train_until_ctrl_c(*arguments) -> tuple[int, str, str, float]:
    """`symdl train ...` in a process of its own, Ctrl-C pressed once its first epoch is
    printed: (exit status, stdout, stderr, seconds from the key press to the exit)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "symdl", "train", *arguments, "--epochs", "10000000"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        for line in process.stdout:
            if "epoch     1 " in line:
                break
        pressed = time.monotonic()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    return process.returncode, out, err, time.monotonic() - pressed


def test_ctrl_c_during_symdl_train_exits_130_without_a_traceback():
    status, out, err, seconds = symdl_train_until_ctrl_c("logistic_regression")
    assert seconds < 30  # a second at most on an idle machine
    assert status == 130, err
    assert "Traceback" not in err and "SystemError" not in err
    assert re.search(r"interrupted after epoch \d+", out)
    assert re.search(r"theta = \[[-0-9.e ]+\]", out)


def test_ctrl_c_during_generate_exits_130_and_writes_nothing_half(tmp_path, monkeypatch, capsys):
    path = tmp_path / "own_line.py"
    path.write_text(A_MODEL)

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(files, "render_module", interrupted)
    assert cli.main(["generate", str(path)]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert not (tmp_path / "generated" / "own_line.py").exists()


def test_every_case_is_counted():
    """The bad-input suite has at least 150 cases (issue 8: 40; issue 17: 150)."""
    assert len(BAD_CALLS) + len(BAD_COMMANDS) >= 150


def test_a_loss_without_a_parameter_is_named_not_a_sympy_error(tmp_path):
    path = tmp_path / "no_parameter.py"
    path.write_text("from symdl.model import Model\n"
                    "derivation = Model('no_parameter', title='t', source='s')\n"
                    "x = derivation.data('x')\n"
                    "y = derivation.target('y')\n"
                    "derivation.loss((y - x) ** 2)\n")
    with pytest.raises(DerivationError, match="depends on no parameter.*derivation.param"):
        files.write([str(path)])


# ---- Ctrl-C in chunked training, in check and in plot (issue 17) ---------------------------

def press_ctrl_c_at_epoch_1(line):
    if "epoch     1 " in line:
        os.kill(os.getpid(), signal.SIGINT)


@pytest.fixture
def training_pressed_ctrl_c(monkeypatch):
    """Every training run (train.fit, as check and plot call it) gets Ctrl-C after epoch 1."""
    fit = train.fit

    def fit_with_ctrl_c(*args, **settings):
        settings["log"] = press_ctrl_c_at_epoch_1
        return fit(*args, **settings)

    monkeypatch.setattr(train, "fit", fit_with_ctrl_c)


def test_ctrl_c_in_chunked_fit_returns_what_was_learnt():
    da = pytest.importorskip("dask.array")
    result = chunked.fit(LR, da.from_array(DOTS.x, chunks=(50, 3)), da.from_array(DOTS.y, chunks=50),
                         learning_rate=0.01, epochs=100000, log=press_ctrl_c_at_epoch_1)
    assert result.interrupted and result.stopped_epoch == 1 and len(result.history) == 1
    assert np.any(result.params["theta"] != 0)


def test_ctrl_c_during_chunked_symdl_train_exits_130_and_saves_whole(tmp_path):
    pytest.importorskip("dask.array")
    npy_folder(DOTS.x, DOTS.y)(tmp_path / "store")
    model = tmp_path / "model.npz"
    status, out, err, _ = symdl_train_until_ctrl_c(LR, "--data", str(tmp_path / "store"),
                                                   "--save", str(model))
    assert status == 130, err
    assert "Traceback" not in err and "SystemError" not in err
    assert re.search(r"interrupted after epoch \d+", out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz", "store"]  # no temp file
    assert saved.load(model).params["theta"].shape == (3,)  # whole: it loads


def test_ctrl_c_during_symdl_check_exits_130_and_writes_no_table(
        tmp_path, training_pressed_ctrl_c, capsys):
    table = tmp_path / "table.md"
    assert cli.main(["check", "univariate_least_squares", "--out", str(table)]) == 130
    err = capsys.readouterr().err
    assert "symdl: interrupted" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_during_symdl_check_json_is_a_json_document(training_pressed_ctrl_c, capsys):
    assert cli.main(["check", "univariate_least_squares", "--json"]) == 130
    out = capsys.readouterr().out
    assert json.loads(out) == {"error": "interrupted", "exit_status": 130, "interrupted": True}


def test_ctrl_c_in_a_kernel_during_a_claim_is_no_error_row():
    """Numba turns a KeyboardInterrupt inside a kernel into a chained SystemError."""
    from types import SimpleNamespace

    from symdl import check

    def interrupted_kernel():
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise SystemError("CPUDispatcher(<function loss>) returned a result with an "
                              "exception set") from None

    claim = SimpleNamespace(derived=interrupted_kernel, source="s", statement="t")
    with pytest.raises(KeyboardInterrupt):
        check.evaluate_claim("m", claim)


def test_ctrl_c_during_symdl_plot_exits_130_and_draws_nothing(
        tmp_path, training_pressed_ctrl_c, capsys):
    pytest.importorskip("matplotlib")
    assert cli.main(["plot", LR, "--out", str(tmp_path / "figure.png")]) == 130
    err = capsys.readouterr().err
    assert "symdl: interrupted" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_while_plot_writes_its_image_leaves_no_half_file(tmp_path, monkeypatch, capsys):
    from symdl import plot

    class HalfWritten:
        def savefig(self, file, **options):
            file.write(b"\x89PNG half")
            raise KeyboardInterrupt

    monkeypatch.setattr(plot, "figure", lambda name: HalfWritten())
    assert cli.main(["plot", LR, "--out", str(tmp_path / "figure.png")]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


# ---- results and advice that lead somewhere (issue 17) --------------------------------------

def test_lbfgs_at_the_optimum_records_the_starting_j_as_epoch_0():
    """A start where L-BFGS takes no step (here ∇J = 0 exactly) gave Result(epochs=0, final
    J=none) and an IndexError from `symdl train`."""
    x = np.array([1.0, 2.0, 3.0])
    result = train.fit("line_through_origin", x, np.zeros(3), optimizer="lbfgs")
    assert list(result.history) == [(0, 0.0)]
    assert "final J=0" in repr(result) and not result.interrupted
    result = train.fit(LR, DOTS.x, DOTS.y, optimizer="lbfgs", tol=1e6)
    assert [epoch for epoch, _ in result.history] == [0] and result.history[0][1] > 0


def test_symdl_train_with_lbfgs_at_the_optimum_reports_epoch_0(tmp_path, capsys):
    (tmp_path / "zeros.csv").write_text("x,y\n1,0\n2,0\n3,0\n")
    status = cli.main(["train", "line_through_origin", "--optimizer", "lbfgs",
                       "--data", str(tmp_path / "zeros.csv")])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "took no step" in out and "final J: 0" in out


def test_kernels_of_a_read_only_folder_go_where_kernels_says_and_import_plainly(tmp_path):
    """The advice for a folder where generated/ cannot be written leads somewhere: --kernels
    DIR; and the kernels symdl compiled there import in a fresh process by their plain name
    (Numba's cache records the module's name: docs/engineering.md)."""
    (tmp_path / "own_line.py").write_text(A_MODEL)
    (tmp_path / "d.csv").write_text("x,y\n1,2\n2,4\n3,6\n")
    (tmp_path / "generated").write_text("")  # generated/ cannot be made here
    command = [sys.executable, "-m", "symdl", "train", "own_line.py", "--data", "d.csv", "-q"]
    refused = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "own_line.py --kernels DIR" in refused.stderr
    trained = subprocess.run(command + ["--kernels", "kern"], cwd=tmp_path, capture_output=True,
                             text=True)
    assert trained.returncode == 0, trained.stderr
    assert (tmp_path / "kern" / "own_line.py").exists()
    plain = subprocess.run([sys.executable, "-c", "import numpy as np, kern.own_line as k; "
                            "print(k.loss_and_gradient(1.0, np.ones(3), np.ones(3)))"],
                           cwd=tmp_path, capture_output=True, text=True)
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.strip() == "(0.0, 0.0)"


def test_a_zarr_store_whose_y_is_chunked_unlike_x_trains_as_in_memory(tmp_path):
    """A store written by another tool may chunk y otherwise than x: y is read in x's chunks
    (the error said `y.rechunk(...)`, which a user of `symdl train --data` cannot do)."""
    zarr = pytest.importorskip("zarr")
    group = zarr.open_group(str(tmp_path / "d.zarr"), mode="w")
    group.create_array("x", data=DOTS.x, chunks=(64, 3))
    group.create_array("y", data=DOTS.y, chunks=(50,))
    x, y = stores.load(tmp_path / "d.zarr")
    assert y.chunks[0] == x.chunks[0] == (64, 64, 64, 8)
    chunked_result = train.fit(LR, x, y, learning_rate=0.005, epochs=5)
    in_memory = train.fit(LR, DOTS.x, DOTS.y, learning_rate=0.005, epochs=5)
    np.testing.assert_allclose(chunked_result.params["theta"], in_memory.params["theta"],
                               rtol=1e-10)
