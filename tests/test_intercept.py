"""One intercept convention (issue 18): a user's features never hold the column of ones; a model
that declares `data(..., bias_column=True)` gets it from symdl on every path, and a saved model
(an estimator's too) holds what predicting needs.

The expected parameters are NumPy's least squares on the design with the ones column, an
independent computation.
"""

import json

import numpy as np
import pytest

from symdl import cli, saved, train

MODEL = "multivariate_least_squares"


@pytest.fixture(scope="module")
def houses():
    """Features alone, a target with an intercept, and NumPy's least-squares θ (θ₀ first)."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((300, 3))
    y = 4.0 + x @ [1.0, -2.0, 0.5] + 0.1 * rng.standard_normal(300)
    theta, *_ = np.linalg.lstsq(np.column_stack([np.ones(300), x]), y, rcond=None)
    return x, y, theta


def trained(capsys, *argv):
    status = cli.main(["train", MODEL, "--optimizer", "newton", "--quiet", "--json", *argv])
    out = capsys.readouterr().out
    assert status == 0, out
    return json.loads(out)


def test_the_command_line_adds_the_ones_to_a_csv_of_features(tmp_path, capsys, houses):
    x, y, theta = houses
    np.savetxt(tmp_path / "plain.csv", np.column_stack([x, y]), delimiter=",",
               header="a,b,c,y", comments="")
    np.savetxt(tmp_path / "ones.csv", np.column_stack([np.ones(len(x)), x, y]), delimiter=",",
               header="one,a,b,c,y", comments="")
    plain = trained(capsys, "--data", str(tmp_path / "plain.csv"))
    ones = trained(capsys, "--data", str(tmp_path / "ones.csv"))
    np.testing.assert_allclose(plain["params"]["theta"], theta, rtol=1e-8)
    np.testing.assert_allclose(ones["params"]["theta"], theta, rtol=1e-8)
    assert plain["settings"]["bias_column"] == "added"
    assert ones["settings"]["bias_column"] == "in the data"


def test_a_store_of_features_gets_the_ones_too(tmp_path, capsys, houses):
    da = pytest.importorskip("dask.array")
    pytest.importorskip("zarr")
    x, y, theta = houses
    store = tmp_path / "houses.zarr"
    da.to_zarr(da.from_array(x, chunks=(100, -1)), str(store), component="x")
    da.to_zarr(da.from_array(y, chunks=100), str(store), component="y")
    found = trained(capsys, "--data", str(store))
    np.testing.assert_allclose(found["params"]["theta"], theta, rtol=1e-8)
    assert found["settings"]["bias_column"] == "added"


def test_predict_takes_the_features_alone_or_with_the_ones(tmp_path, capsys, houses):
    x, y, theta = houses
    np.savez(tmp_path / "train.npz", x=x, y=y)
    assert cli.main(["train", MODEL, "--data", str(tmp_path / "train.npz"), "--optimizer",
                     "newton", "--quiet", "--save", str(tmp_path / "m.npz")]) == 0
    capsys.readouterr()
    expected = theta[0] + x[:4] @ theta[1:]
    for name, rows in (("plain.csv", x[:4]), ("ones.csv", np.column_stack([np.ones(4), x[:4]]))):
        np.savetxt(tmp_path / name, rows, delimiter=",")
        assert cli.main(["predict", MODEL, "--params", str(tmp_path / "m.npz"), "--data",
                         str(tmp_path / name)]) == 0
        lines = capsys.readouterr().out.split()
        np.testing.assert_allclose([float(v) for v in lines[1:]], expected, rtol=1e-8)
    np.testing.assert_allclose(train.predict(saved.load(tmp_path / "m.npz"), x[:4]), expected,
                               rtol=1e-8)


def test_an_estimator_saves_and_loads_with_its_classes_and_settings(tmp_path, capsys):
    pytest.importorskip("sklearn")
    from symdl.sklearn import SymdlClassifier
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 2))
    labels = np.where(X @ [1.0, -1.0] + 0.3 * rng.standard_normal(200) > 0.2, "cat", "dog")
    fitted = SymdlClassifier("logistic_regression", tol=1e-6).fit(X, labels)
    fitted.save(tmp_path / "est.npz")
    loaded = SymdlClassifier.load(tmp_path / "est.npz")
    assert loaded.get_params() == fitted.get_params()
    assert list(loaded.classes_) == ["cat", "dog"] and loaded.n_iter_ == fitted.n_iter_
    np.testing.assert_array_equal(loaded.predict_proba(X), fitted.predict_proba(X))
    settings = saved.load(tmp_path / "est.npz").settings
    # the method that ran (Newton: three parameters, sklearn.default_method), with no step size
    assert "learning_rate" not in settings and settings["optimizer"] == "newton"
    assert settings["bias_column"] == "added"
    np.savetxt(tmp_path / "points.csv", X[:5], delimiter=",")
    assert cli.main(["predict", "logistic_regression", "--params", str(tmp_path / "est.npz"),
                     "--data", str(tmp_path / "points.csv")]) == 0
    rows = [line.split(",") for line in capsys.readouterr().out.split()[1:]]
    assert [r[0] for r in rows] == list(fitted.predict(X[:5]))
    np.testing.assert_allclose([float(r[1]) for r in rows], fitted.predict_proba(X[:5])[:, 1])
