"""Sparse x: the kernels over CSR rows (generate/csr.py) and training on them.

Every model that reads x only through affine maps has `loss_csr`, `loss_and_gradient_csr`,
`gradient_csr` and `predict_csr` (weighted ones too, and where the file has a NumPy tier, that
tier's; the blas layout's are its batch kernels with the first layer over the non-zeros). Each is held here to the model's dense kernel on the same x made dense, with explicit
zeros, empty rows and duplicate entries among the non-zeros; training on sparse x is held
to training on its dense form, and a shape whose dense form would need 80 GB is trained
without it.
"""

import glob
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse

from symdl import kernels, sources, train
from symdl.derive import Derived
from symdl.errors import DataError
from symdl.generate import csr, files
from symdl.model import Model
from symdl.optimizers import OptimizerError
from symdl.training import inputs

EXAMPLES = Path(__file__).parent.parent / "examples" / "models"
CSR_MODELS = [ref for ref in sources.builtin_names() + sorted(glob.glob(str(EXAMPLES / "*.py")))
              if isinstance(model := sources.load_derivation(ref), Model)
              and not csr.unsupported(model, Derived(model), files.layout_of(model))]


def kernels_of(ref, example_models):
    return kernels.load(ref if sources.resolve(ref).builtin else example_models / Path(ref).name)


def sparse_arguments(module, rows, seed=0):
    """Parameters of size 0.5, sparse x (30% non-zero, every third row empty, an explicit zero
    and a duplicate entry in row 1) with its dense form, and targets of the model's kind."""
    spec = module.SPEC
    rng = np.random.default_rng(seed)
    sizes = {d: 4 for _, shape in spec["params"] + inputs.input_specs(spec)
             for d in shape if isinstance(d, str)}
    params = inputs.initial_params(spec, sizes, init_scale=0.5, seed=seed)
    width = sizes[spec["features"][1][0]]
    dense = rng.standard_normal((rows, width)) * (rng.random((rows, width)) < 0.3)
    dense[::3] = 0.0
    x = scipy.sparse.csr_matrix(dense)
    if rows > 1:  # an explicit zero and a duplicate entry (x[1, 0] = 0.25 + 0.5) in row 1
        x = scipy.sparse.vstack([x[:1], scipy.sparse.csr_matrix(
            (np.r_[0.0, 0.25, 0.5], np.r_[1, 0, 0], np.r_[0, 3]), shape=(1, width)), x[2:]],
            format="csr")
        dense[1] = 0.0
        dense[1, 0] = 0.75
    checked = inputs.model_inputs(spec, params, x, None, need_target=False).x
    target = None
    if spec["target"] is not None:
        shape = (rows,) + tuple(sizes.get(d, d) for d in spec["target_shape"])
        kind = spec["target"][1]
        target = (rng.integers(0, sizes.get(spec.get("classes_dim"), 2), rows) if kind == "class"
                  else (rng.standard_normal(shape) > 0).astype(float) if kind == "binary"
                  else np.abs(rng.standard_normal(shape)))
    return params, checked, dense, target


@pytest.mark.parametrize("tier", ["", "_numpy"])
@pytest.mark.parametrize("rows", [1, 70, 40_000])
@pytest.mark.parametrize("ref", CSR_MODELS, ids=lambda ref: Path(ref).stem)
def test_the_csr_kernels_compute_what_the_dense_ones_do(ref, rows, tier, example_models,
                                                       monkeypatch):
    module = kernels_of(ref, example_models)
    spec = module.SPEC
    assert spec["csr_input"]
    if tier and not spec["numpy_tier"]:
        pytest.skip("a rows-layout model has no NumPy tier")
    monkeypatch.setattr(module, "_chunked", lambda bounds, serial, parallel: serial)
    params, x, dense, target = sparse_arguments(module, rows)
    weights = np.random.default_rng(1).integers(0, 3, rows).astype(float)
    weights[0] = 1.0
    for weighted, extra in [("", ()), ("_weighted", (weights,))]:
        data = ((target,) if target is not None else ()) + extra
        expected = getattr(module, f"loss_and_gradient{weighted}{tier}")(*params, dense, *data)
        found = getattr(module, f"loss_and_gradient{weighted}_csr{tier}")(*params, *x.arrays, *data)
        np.testing.assert_allclose(found[0], expected[0], rtol=1e-12)
        np.testing.assert_allclose(getattr(module, f"loss{weighted}_csr{tier}")(
            *params, *x.arrays, *data), expected[0], rtol=1e-12)
        for dense_part, sparse_part in zip(expected[1:], found[1:]):
            assert np.shape(sparse_part) == np.shape(dense_part)
            np.testing.assert_allclose(sparse_part, dense_part, rtol=0,
                                       atol=1e-12 * (np.max(np.abs(dense_part)) or 1.0))
    if spec["output"] is not None:
        expected = getattr(module, f"predict{tier}")(*params, dense)
        np.testing.assert_allclose(getattr(module, f"predict_csr{tier}")(*params, *x.arrays),
                                   expected, rtol=0, atol=1e-12 * np.max(np.abs(expected)))


def test_which_models_get_csr_kernels():
    """The linear models and a network whose first layer reads x do, in every layout (the
    blas layout's mnist_mlp and the blas examples too); a model that reads x element-wise (an
    RBF) or several data tensors, or a scalar x, does not."""
    have = {Path(ref).stem for ref in CSR_MODELS}
    assert {"logistic_regression", "ridge_regression", "multinomial_logistic", "poisson_glm",
            "elastic_net_logistic", "huber_regressor", "mlp_classifier", "mnist_mlp",
            "relu_mlp_blas", "elastic_net_mlp_blas"} <= have
    assert not {"rbf_classifier", "interaction_regression", "univariate_least_squares"} & have


@pytest.mark.parametrize("optimizer, settings", [
    ("lbfgs", {}), ("gd", {"learning_rate": 0.01}),
    ("adam", {"learning_rate": 0.01, "batch_size": 16})])
def test_training_on_sparse_x_is_training_on_its_dense_form(optimizer, settings):
    rng = np.random.default_rng(3)
    x = scipy.sparse.random(120, 15, density=0.2, format="csr", random_state=4)
    y = rng.integers(0, 3, 120)
    weights = rng.integers(0, 3, 120).astype(float)
    for sample_weight in (None, weights):
        common = dict(optimizer=optimizer, epochs=15, sizes={"C": 3}, tier="numba",
                      sample_weight=sample_weight, **settings)
        fits_alike("multinomial_logistic", x.tocoo(), y, common, atol=1e-10)  # any format


def fits_alike(model, x, y, settings, atol):
    """train.fit on sparse x and on its dense form: the same parameters and predictions
    (within atol); the sparse fit's result."""
    dense = train.fit(model, x.toarray(), y, **settings)
    sparse = train.fit(model, x, y, **settings)
    for name in dense.params:
        np.testing.assert_allclose(sparse.params[name], dense.params[name], rtol=0, atol=atol)
    np.testing.assert_allclose(train.predict(sparse, x), train.predict(dense, x.toarray()),
                               rtol=0, atol=atol)
    assert sparse.settings["tier"] == dense.settings["tier"]
    return sparse


def test_sparse_x_says_what_it_cannot_do():
    x = scipy.sparse.random(20, 3, density=0.5, format="csr", random_state=0)
    y = np.arange(20) % 2
    with pytest.raises(OptimizerError, match="kernels over sparse x have no Hessian, so Newton"):
        train.fit("logistic_regression", x, y.astype(float), optimizer="newton", epochs=2)
    with pytest.raises(DataError, match="no kernels over sparse x"):
        inputs.OverCsrRows(kernels.load("univariate_least_squares"))  # x is a scalar
    with pytest.raises(DataError, match="sparse matrix"):
        train.fit("univariate_least_squares", scipy.sparse.csr_matrix(np.ones((20, 1))),
                  y.astype(float), epochs=2)
    bad = x.copy()
    bad.data[0] = np.nan
    with pytest.raises(DataError, match="NaN"):
        train.fit("logistic_regression", bad, y.astype(float), epochs=2)


def test_a_shape_whose_dense_form_needs_80_gb_trains_in_little_memory():
    """100,000 × 100,000 at 0.1% density (10⁷ entries): dense, 80 GB. The estimator fits and
    predicts through the CSR kernels; every array it allocates together stays under 1 GB."""
    from symdl.sklearn import SymdlClassifier
    rng = np.random.default_rng(0)
    rows = columns = 100_000
    per_row = 100
    x = scipy.sparse.csr_matrix(
        (rng.standard_normal(rows * per_row), rng.integers(0, columns, rows * per_row),
         np.arange(0, rows * per_row + 1, per_row)), shape=(rows, columns))
    y = (x[:, :50].sum(axis=1).A1 > 0).astype(int)
    tracemalloc.start()
    try:
        clf = SymdlClassifier("logistic_regression", epochs=3, tol=None).fit(x, y)
        clf.predict_proba(x[:1000])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert clf.coef_.shape == (columns,)
    assert peak < 1e9, f"{peak / 1e9:.1f} GB"


def test_the_column_of_ones_goes_in_front_of_sparse_x_too():
    """train.train(data=...) and train.predict take a user's sparse features, as dense ones:
    the ones column of a model that declares it is put in front, sparse."""
    rng = np.random.default_rng(5)
    x = scipy.sparse.random(200, 6, density=0.3, format="csr", random_state=6)
    y = (x @ rng.standard_normal(6) + 0.5 * rng.standard_normal(200) > 0).astype(float)
    sparse = train.train("logistic_regression", data=(x, y), optimizer="lbfgs", epochs=20)
    dense = train.train("logistic_regression", data=(x.toarray(), y), optimizer="lbfgs",
                        epochs=20)
    assert sparse.settings["bias_column"] == dense.settings["bias_column"] == "added"
    np.testing.assert_allclose(sparse.params["theta"], dense.params["theta"], rtol=0, atol=1e-8)
    np.testing.assert_allclose(train.predict(sparse, x), train.predict(dense, x.toarray()),
                               rtol=0, atol=1e-10)


def mnist_like(rows, columns, density, seed):
    """Sparse x and ten classes read off it, so that training has something to learn."""
    normal = np.random.default_rng(seed).standard_normal
    x = 3.0 * scipy.sparse.random(rows, columns, density=density, format="csr",
                                  random_state=seed, data_rvs=normal)
    scores = x @ np.random.default_rng(seed).standard_normal((columns, 10))
    return x, np.argmax(scores, axis=1)


@pytest.mark.parametrize("optimizer, settings", [
    ("lbfgs", {}), ("rmsprop", {"learning_rate": 0.01, "batch_size": 32})])
def test_the_blas_network_trains_on_sparse_x_as_on_its_dense_form(optimizer, settings):
    """mnist_mlp (the blas layout) on sparse x, through its kernels over CSR rows: the same
    parameters as on the dense form (whose first layer is one BLAS product), weighted too,
    and the same predictions, from both tiers."""
    x, y = mnist_like(300, 40, 0.1, seed=7)
    weights = np.random.default_rng(8).integers(0, 3, 300).astype(float)
    for tier in ("numba", "numpy"):
        for sample_weight in (None, weights):
            common = dict(optimizer=optimizer, epochs=20, sizes={"H": 8, "C": 10}, tier=tier,
                          sample_weight=sample_weight, tol=None, seed=0, init="glorot_uniform",
                          **settings)
            sparse = fits_alike("mnist_mlp", x, y, common, atol=1e-9)
            assert sparse.settings["tier"] == tier
            assert sparse.history[-1][1] < 0.9 * sparse.history[0][1]  # it learned something


def test_the_blas_network_estimator_takes_sparse_x():
    """SymdlClassifier("mnist_mlp"): fit, predict and predict_proba on sparse X give what they
    give on its dense form."""
    from symdl.sklearn import SymdlClassifier
    x, y = mnist_like(200, 30, 0.15, seed=9)
    labels = np.array(list("abcdefghij"))[y]
    settings = {"sizes": {"H": 6}, "epochs": 5, "batch_size": 50, "learning_rate": 0.01,
                "seed": 0, "tol": None, "tier": "numba"}
    sparse = SymdlClassifier("mnist_mlp", **settings).fit(x, labels)
    dense = SymdlClassifier("mnist_mlp", **settings).fit(x.toarray(), labels)
    for name in dense.params_:
        np.testing.assert_allclose(sparse.params_[name], dense.params_[name], rtol=0, atol=1e-9)
    np.testing.assert_allclose(sparse.predict_proba(x), dense.predict_proba(x.toarray()),
                               rtol=0, atol=1e-9)
    assert list(sparse.predict(x.tocoo())) == list(dense.predict(x.toarray()))


def test_a_network_on_x_whose_dense_form_needs_8_gb_trains_in_little_memory():
    """50,000 × 20,000 at 0.1% density (10⁶ entries): dense, 8 GB. mnist_mlp fits two epochs
    of mini-batches and predicts through its CSR kernels, every array it allocates together
    under 200 MB."""
    from symdl.sklearn import SymdlClassifier
    rng = np.random.default_rng(0)
    rows, columns, per_row = 50_000, 20_000, 20
    x = scipy.sparse.csr_matrix(
        (rng.random(rows * per_row), rng.integers(0, columns, rows * per_row),
         np.arange(0, rows * per_row + 1, per_row)), shape=(rows, columns))
    y = rng.integers(0, 10, rows)
    tracemalloc.start()
    try:
        clf = SymdlClassifier("mnist_mlp", sizes={"H": 4}, epochs=2, batch_size=1000,
                              learning_rate=0.01, tol=None, tier="numba").fit(x, y)
        clf.predict_proba(x[:1000])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert clf.params_["W1"].shape == (4, columns)
    assert peak < 2e8, f"{peak / 1e6:.0f} MB"
