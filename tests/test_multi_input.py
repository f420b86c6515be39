"""Several data tensors per sample, and models trained on their user's data only (issue 7).

The models here read a vector x and a scalar t (or two scalars x1, x2): every kernel takes
every data tensor, in declaration order, in each layout; the kernels are held against SymPy
and finite differences (check.check_model), and the data reaches them from train.fit (a
dictionary or a tuple), .npz and .csv files, the CLI and the scikit-learn estimators.
"""

import inspect
import subprocess
import sys

import numpy as np
import pytest

from symdl import check, datafiles, kernels, sources, train
from symdl.errors import DataError, DerivationError
from symdl.generate import files
from symdl.model import Model, Training

INTERACTION = '''from symdl.model import Model, Training
derivation = Model("{name}", title="x and t", source="a test", layout="{layout}",
                   reduction="mean", training=Training(optimizer="lbfgs", epochs=100))
x = derivation.data("x", ("n",))
t = derivation.data("t")
y = derivation.target("y")
w = derivation.param("w", ("n",))
b = derivation.param("b")
c = derivation.param("c")
z = derivation.affine("z", w, x, b)
y_hat = derivation.let("y_hat", z * (1 + c * t))
derivation.loss((y - y_hat) ** 2)
derivation.output(y_hat)
'''

TWO_SCALARS = '''from symdl.model import Model, Training
derivation = Model("two_scalars", title="x1 and x2", source="a test", training=Training())
x1 = derivation.data("x1")
x2 = derivation.data("x2")
y = derivation.target("y")
w1 = derivation.param("w1")
w2 = derivation.param("w2")
b = derivation.param("b")
y_hat = derivation.let("y_hat", w1 * x1 + w2 * x2 + b)
derivation.loss((y - y_hat) ** 2)
derivation.output(y_hat)
'''

OFFSET = '''from symdl.model import Model, Training
derivation = Model("offset", title="θᵀx plus a known offset t", source="a test",
                   training=Training())
x = derivation.data("x", ("n",))
t = derivation.data("t")
y = derivation.target("y")
theta = derivation.param("theta", ("n",))
z = derivation.affine("z", theta, x)
y_hat = derivation.let("y_hat", z + t)
derivation.loss((y - y_hat) ** 2)
derivation.output(y_hat)
'''

TWO_VECTORS = '''from symdl.model import Model, Training
derivation = Model("two_vectors", title="x and u of one length n", source="a test",
                   reduction="mean", training=Training(optimizer="lbfgs", epochs=50))
x = derivation.data("x", ("n",))
u = derivation.data("u", ("n",))
y = derivation.target("y")
w = derivation.param("w", ("n",))
v = derivation.param("v", ("n",))
z = derivation.affine("z", w, x)
s = derivation.affine("s", v, u)
y_hat = derivation.let("y_hat", z + s)
derivation.loss((y - y_hat) ** 2)
derivation.output(y_hat)
'''

GATED = '''import sympy as sp
from symdl.functions import sigmoid
from symdl.model import Model, Training
derivation = Model("gated", title="logistic on x, scaled by t", source="a test",
                   training=Training())
x = derivation.data("x", ("n",))
t = derivation.data("t")
y = derivation.target("y", kind="binary")
w = derivation.param("w", ("n",))
b = derivation.param("b")
z = derivation.affine("z", w, x, b)
h = derivation.let("h", sigmoid(z * t))
derivation.loss(-y * sp.log(h) - (1 - y) * sp.log(1 - h))
derivation.output(h)
'''

SCALED_SOFTMAX = '''import sympy as sp
from symdl.model import Model, Training
derivation = Model("scaled_softmax", title="x and t, blas", source="a test", layout="blas",
                   training=Training(sizes={"H": 4}))
x = derivation.data("x", ("n",))
t = derivation.data("t")
y = derivation.target("y", kind="class", classes=3)
W = derivation.param("W", ("H", "n"))
b = derivation.param("b", ("H",))
V = derivation.param("V", ("C", "H"))
c = derivation.param("c", ("C",))
z = derivation.affine("z", W, x, b)
h = derivation.let("h", sp.tanh(z) * t)
u = derivation.affine("u", V, h, c)
derivation.softmax_cross_entropy(u, y)
derivation.output(u)
'''


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """The models above, outside the repository, with their kernels generated beside them."""
    where = tmp_path_factory.mktemp("multi")
    for layout in ("rows", "block"):
        (where / f"interaction_{layout}.py").write_text(
            INTERACTION.format(name=f"interaction_{layout}", layout=layout))
    (where / "two_scalars.py").write_text(TWO_SCALARS)
    (where / "offset.py").write_text(OFFSET)
    (where / "two_vectors.py").write_text(TWO_VECTORS)
    (where / "gated.py").write_text(GATED)
    (where / "scaled_softmax.py").write_text(SCALED_SOFTMAX)
    files.write([where])
    return where


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    x, t = rng.standard_normal((120, 3)), rng.uniform(0, 2, 120)
    y = (x @ [1.5, -2.0, 0.5] + 0.3) * (1 + 0.8 * t)
    return x, t, y


@pytest.mark.parametrize("name", ["interaction_rows", "interaction_block", "scaled_softmax",
                                  "two_scalars", "offset", "two_vectors", "gated"])
def test_kernel_sympy_and_finite_differences_agree(folder, name):
    rows = check.check_model(sources.load_derivation(folder / f"{name}.py"))
    assert rows and all(r.verdict == "passes" for r in rows), [(r.claim, r.evidence) for r in rows]


@pytest.mark.parametrize("name", ["two_scalars", "offset"])
def test_a_closed_form_without_builtin_data_is_checked_on_random_data(folder, name):
    rows = check.check_model(sources.load_derivation(folder / f"{name}.py"))
    assert [r.verdict for r in rows if r.claim == check.STATIONARY] == ["passes"]


def test_the_normal_equation_reads_every_data_tensor(folder, data):
    x, t, _ = data
    y = x @ [0.5, -1.0, 2.0] + t
    solution = train.closed_form(folder / "offset.py", {"x": x, "t": t}, y)
    np.testing.assert_allclose(solution["theta"], [0.5, -1.0, 2.0], atol=1e-10)


@pytest.mark.parametrize("name", ["interaction_rows", "interaction_block", "scaled_softmax"])
def test_every_kernel_takes_every_data_tensor_in_declaration_order(folder, name):
    module = kernels.load(folder / f"{name}.py")
    params = [p for p, _ in module.SPEC["params"]]
    assert module.SPEC["inputs"] == [("x", ("n",)), ("t", ())]
    def arguments(kernel):
        function = getattr(module, kernel)
        return list(inspect.signature(getattr(function, "py_func", function)).parameters)
    for kernel in ("loss", "loss_and_gradient", "gradient"):
        assert arguments(kernel) == params + ["x", "t", "y"]
    assert arguments("predict") == params + ["x", "t"]


def test_rows_and_block_kernels_agree_and_read_t(folder, data):
    x, t, y = data
    rows = kernels.load(folder / "interaction_rows.py")
    block = kernels.load(folder / "interaction_block.py")
    w, b, c = np.array([0.2, -0.1, 0.4]), 0.3, -0.5
    got, expected = block.loss_and_gradient(w, b, c, x, t, y), rows.loss_and_gradient(w, b, c, x, t, y)
    for a, e in zip(got, expected):
        np.testing.assert_allclose(a, e, rtol=1e-12)
    y_hat = (x @ w + b) * (1 + c * t)
    np.testing.assert_allclose(rows.predict(w, b, c, x, t), y_hat, rtol=1e-12)
    np.testing.assert_allclose(block.predict(w, b, c, x, t), y_hat, rtol=1e-12)
    assert abs(rows.loss(w, b, c, x, t, y) - np.mean((y - y_hat) ** 2)) < 1e-12


def test_fit_takes_a_dictionary_or_a_tuple_and_recovers_the_parameters(folder, data):
    x, t, y = data
    model = folder / "interaction_rows.py"
    by_name = train.fit(model, {"t": t, "x": x}, y, optimizer="lbfgs", epochs=100)
    in_order = train.fit(model, (x, t), y, optimizer="lbfgs", epochs=100)
    np.testing.assert_allclose(by_name.params["w"], [1.5, -2.0, 0.5], atol=1e-5)
    assert abs(by_name.params["c"] - 0.8) < 1e-5
    np.testing.assert_array_equal(by_name.params["w"], in_order.params["w"])
    batches = train.fit(model, (x, t), y, optimizer="adam", learning_rate=0.05, batch_size=16,
                        epochs=5)
    assert batches.history[-1][1] < batches.history[0][1]
    np.testing.assert_allclose(train.predict(by_name, {"x": x[:4], "t": t[:4]}), y[:4], atol=1e-4)


@pytest.mark.parametrize("x_of, message", [
    (lambda x, t: {"x": x}, "data tensor t is missing from x"),
    (lambda x, t: {"x": x, "t": t, "u": t}, "has no data tensor 'u'"),
    (lambda x, t: (x,), "reads 2 data tensors per sample (x, t)"),
    (lambda x, t: x, "give x as a dictionary"),
    (lambda x, t: (x, t[:10]), "t has 10 samples but x has 120"),
    (lambda x, t: (x, x), "t has 3 features per sample (shape (120, 3)) but interaction_rows expects a single number"),
    (lambda x, t: (t, t), "x has shape (120,), but interaction_rows reads it as a 2-D array"),
    (lambda x, t: (x, np.where(t > 1, np.nan, t)), "t contains"),
])
def test_bad_inputs_are_refused_naming_the_tensor(folder, data, x_of, message):
    x, t, y = data
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        train.fit(folder / "interaction_rows.py", x_of(x, t), y, epochs=1)


def test_two_tensors_of_one_dimension_must_agree_on_its_size(folder, data):
    x, _, y = data
    with pytest.raises(DataError, match="u \\(shape \\(120, 4\\), 4 features\\) gives dimension 'n' the size 4, "
                                        "but x \\(shape \\(120, 3\\), 3 features\\) gives it 3"):
        train.fit(folder / "two_vectors.py", {"x": x, "u": np.ones((120, 4))}, y, epochs=1)


def test_the_pytest_plugin_checks_models_of_several_tensors(folder):
    from symdl import testing
    collected = testing.cases(folder / "two_scalars.py", folder / "interaction_block.py")
    assert {c.id for c in collected} == {
        "two_scalars-loads", "two_scalars-fresh", "two_scalars-three-way", "two_scalars-stable",
        "two_scalars-closed-form", "two_scalars-scale", "interaction_block-loads",
        "interaction_block-fresh", "interaction_block-three-way", "interaction_block-stable",
        "interaction_block-scale"}
    for case in collected:
        case.run()


def test_one_vs_rest_takes_several_tensors(folder):
    from symdl import one_vs_rest
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((300, 2)), rng.uniform(0.5, 2, 300)
    y = np.argmax(np.column_stack([x[:, 0], x[:, 1], -x[:, 0] - x[:, 1]]), axis=1)
    classifiers = one_vs_rest.fit(folder / "gated.py", {"x": x, "t": t}, y, 3,
                                  optimizer="lbfgs", epochs=50)
    assert np.mean(one_vs_rest.predict(folder / "gated.py", classifiers, (x, t)) == y) > 0.95


def test_targets_must_match_the_data_tensors(folder, data):
    x, t, y = data
    with pytest.raises(DataError, match="y has 119 samples but x has 120"):
        train.fit(folder / "interaction_rows.py", (x, t), y[:-1], epochs=1)


def test_training_needs_no_builtin_data_set(folder):
    assert Training().dataset is None
    with pytest.raises(DataError, match=r"has no built-in data: pass --data FILE "
                                        r"\(\.npz with arrays x, t, y\)"):
        train.train(folder / "interaction_rows.py")


def test_bias_column_marks_the_first_data_tensor_only():
    model = Model("m", title="m", source="a test")
    model.data("t")
    with pytest.raises(DerivationError, match="bias_column marks the first data tensor only"):
        model.data("x", ("n",), bias_column=True)


# ---- files and the command line -------------------------------------------------------------

def test_npz_and_csv_files_by_tensor_name(folder, data, tmp_path):
    x, t, y = data
    spec = kernels.load(folder / "interaction_rows.py").SPEC
    np.savez(tmp_path / "d.npz", x=x, t=t, y=y)
    got_x, got_y = datafiles.load(tmp_path / "d.npz", spec)
    assert sorted(got_x) == ["t", "x"] and np.array_equal(got_x["t"], t)
    header = "t,y,x[2],x[0],x[1]"
    rows = np.column_stack([t, y, x[:, 2], x[:, 0], x[:, 1]])
    np.savetxt(tmp_path / "d.csv", rows, delimiter=",", header=header, comments="")
    got_x, got_y = datafiles.load(tmp_path / "d.csv", spec)
    np.testing.assert_allclose(got_x["x"], x)
    np.testing.assert_allclose(got_x["t"], t)
    np.testing.assert_allclose(got_y, y)
    features = np.delete(rows, 1, axis=1)
    np.savetxt(tmp_path / "features.csv", features, delimiter=",", header="t,x[2],x[0],x[1]",
               comments="")
    got_x = datafiles.load_features(tmp_path / "features.csv", spec)
    np.testing.assert_allclose(got_x["x"], x)
    np.testing.assert_allclose(got_x["t"], t)


@pytest.mark.parametrize("header, message", [
    (None, "the file needs a header line naming its columns x\\[0\\], x\\[1\\], …, t"),
    ("t,y,x[0],x[1],x[3]", "numbered from 0 without gaps"),
    ("u,y,x[0],x[1],x[2]", "no column 't' for the data tensor t"),
])
def test_csv_files_of_several_tensors_are_refused_clearly(folder, data, tmp_path, header, message):
    x, t, y = data
    spec = kernels.load(folder / "interaction_rows.py").SPEC
    path = tmp_path / "bad.csv"
    np.savetxt(path, np.column_stack([t, y, x]), delimiter=",", header=header or "", comments="")
    with pytest.raises(DataError, match=message):
        datafiles.load(path, spec)


def test_a_csv_column_no_tensor_reads_is_an_error(folder, data, tmp_path):
    x, t, y = data
    spec = kernels.load(folder / "interaction_rows.py").SPEC
    path = tmp_path / "extra.csv"
    np.savetxt(path, np.column_stack([t, y, x, t]), delimiter=",",
               header="t,y,x[0],x[1],x[2],weight", comments="")
    with pytest.raises(DataError, match="reads the column\\(s\\) weight"):
        datafiles.load(path, spec)


def symdl(*args, cwd):
    return subprocess.run([sys.executable, "-m", "symdl", *args], capture_output=True,
                          text=True, timeout=300, cwd=cwd)


def test_cli_trains_and_predicts_on_the_users_files_only(folder, data):
    x, t, y = data
    np.savez(folder / "train.npz", x=x[:100], t=t[:100], y=y[:100])
    np.savez(folder / "test.npz", x=x[100:], t=t[100:], y=y[100:])
    missing = symdl("train", "interaction_rows.py", cwd=folder)
    assert missing.returncode == 1
    assert ("interaction_rows has no built-in data: pass --data FILE (.npz with arrays x, t, y)"
            in missing.stderr)
    trained = symdl("train", "interaction_rows.py", "--data", "train.npz", "--test-data",
                    "test.npz", "--save", "fitted.npz", cwd=folder)
    assert trained.returncode == 0, trained.stderr
    test_mse = [line for line in trained.stdout.splitlines() if "test mse" in line]
    assert test_mse and float(test_mse[0].split(":")[1]) < 1e-8
    predicted = symdl("predict", "interaction_rows.py", "--params", "fitted.npz", "--data",
                      "test.npz", cwd=folder)
    assert predicted.returncode == 0, predicted.stderr
    values = np.array([float(v) for v in predicted.stdout.split()[1:]])
    np.testing.assert_allclose(values, y[100:], atol=1e-4)


# ---- scikit-learn and chunked training ----------------------------------------------------------

def test_an_estimator_cuts_x_columns_across_the_data_tensors(folder, data):
    pytest.importorskip("sklearn")
    from symdl.sklearn import SymdlRegressor
    x, t, y = data
    X = np.column_stack([x, t])
    estimator = SymdlRegressor(str(folder / "interaction_rows.py")).fit(X, y)
    np.testing.assert_allclose(estimator.params_["w"], [1.5, -2.0, 0.5], atol=1e-5)
    assert estimator.score(X, y) > 0.999999
    with pytest.raises(DataError, match="X has 4 columns, but its data tensors take 2"):
        SymdlRegressor(str(folder / "two_scalars.py")).fit(X, y)
    u = np.random.default_rng(1).standard_normal((120, 3))
    both = SymdlRegressor(str(folder / "two_vectors.py")).fit(np.column_stack([x, u]),
                                                               x @ [1, 2, 3] - u @ [3, 2, 1])
    np.testing.assert_allclose(both.params_["v"], [-3, -2, -1], atol=1e-5)
    with pytest.raises(DataError, match="X has 5 columns, which do not cut into its data tensors"):
        SymdlRegressor(str(folder / "two_vectors.py")).fit(np.column_stack([x, u[:, :2]]), y)


def test_chunked_training_of_several_tensors_is_training_in_memory(folder, data):
    """Each chunk meets every data tensor's rows (issue 17; test_language_gaps adds a vector
    target and stores); one chunked differently is refused, naming both."""
    da = pytest.importorskip("dask.array")
    x, t, y = data
    settings = {"optimizer": "gd", "learning_rate": 0.1, "epochs": 3}
    memory = train.fit(folder / "interaction_rows.py", (x, t), y, **settings)
    chunked = train.fit(folder / "interaction_rows.py",
                        (da.from_array(x, chunks=(50, 3)), da.from_array(t, chunks=50)),
                        da.from_array(y, chunks=50), **settings)
    np.testing.assert_allclose([j for _, j in chunked.history], [j for _, j in memory.history],
                               rtol=1e-12)
    with pytest.raises(DataError, match="t and x are chunked differently in rows"):
        train.fit(folder / "interaction_rows.py",
                  (da.from_array(x, chunks=(50, 3)), da.from_array(t, chunks=40)),
                  da.from_array(y, chunks=50), epochs=1)
