"""Hyperparameters (`Model.hyper`): scalar arguments of the kernels, settable everywhere,
and a new value compiles nothing."""

import shutil

import numpy as np
import pytest
import sympy as sp

from symdl import kernels, saved, train
from symdl.errors import DataError, DerivationError, SettingsError
from symdl.functions import sigmoid, total
from symdl.model import Model
from symdl.training import inputs

EXAMPLE = "examples/models/logistic_weight_decay.py"


@pytest.fixture(scope="module")
def decay(tmp_path_factory, request):
    """The weight-decay example in a folder of its own, its kernels generated there."""
    folder = tmp_path_factory.mktemp("hyper")
    path = folder / "logistic_weight_decay.py"
    shutil.copy(request.config.rootpath / EXAMPLE, path)
    return str(path)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = np.column_stack([np.ones(400), rng.standard_normal((400, 3))])
    y = (x @ [0.5, 2.0, -1.0, 3.0] + rng.standard_normal(400) > 0).astype(float)
    return x, y


def test_the_kernels_take_the_hyperparameter_by_keyword_after_the_data(decay, data):
    x, y = data
    module = kernels.load(decay)
    assert module.SPEC["hypers"] == [("lam", 0.01)]
    theta = np.linspace(-1, 1, 4)
    base = module.loss(theta, x, y, lam=0.0)
    for lam in (0.0, 0.01, 2.5):
        # the penalty λ‖θ‖², computed here from the kernel's own λ = 0 value
        assert module.loss(theta, x, y, lam=lam) == pytest.approx(base + lam * theta @ theta)
        gradient_0 = module.gradient(theta, x, y, lam=0.0)[0]
        np.testing.assert_allclose(module.gradient(theta, x, y, lam=lam)[0],
                                   gradient_0 + 2 * lam * theta)
        np.testing.assert_allclose(module.loss_numpy(theta, x, y, lam=lam),
                                   module.loss(theta, x, y, lam=lam))
    assert module.loss(theta, x, y) == module.loss(theta, x, y, lam=0.01)  # the default


def test_fit_takes_hyper_and_the_result_and_the_saved_model_record_it(decay, data, tmp_path):
    x, y = data
    weak = train.fit(decay, x, y, optimizer="lbfgs", epochs=200, hyper={"lam": 1e-4})
    strong = train.fit(decay, x, y, optimizer="lbfgs", epochs=200, hyper={"lam": 1.0})
    assert strong.settings["hyper"] == {"lam": 1.0}
    assert np.linalg.norm(strong.params["theta"]) < 0.5 * np.linalg.norm(weak.params["theta"])
    # at the optimum the kernel's gradient at that λ vanishes, and at another λ it does not
    at_own = train.loss_and_gradient(decay, strong.params, x, y, hyper={"lam": 1.0})[1]["theta"]
    at_other = train.loss_and_gradient(decay, strong.params, x, y)[1]["theta"]
    assert np.linalg.norm(at_own) < 1e-5 < np.linalg.norm(at_other)
    saved.save(strong, tmp_path / "strong.npz")
    assert saved.load(tmp_path / "strong.npz").settings["hyper"] == {"lam": 1.0}


@pytest.mark.parametrize("hyper, message", [
    ({"mu": 0.1}, "has no hyperparameter 'mu'; its hyperparameters are lam"),
    ({"lam": "big"}, "hyperparameter lam must be a real number, not 'big'"),
    ({"lam": float("nan")}, "hyperparameter lam must be finite, not nan"),
    ({"lam": True}, "must be a real number, not True"),
    ([("lam", 0.1)], "hyper must be a dictionary"),
])
def test_bad_hyperparameters_are_named(decay, data, hyper, message):
    with pytest.raises(DataError, match=message):
        train.fit(decay, *data, epochs=1, hyper=hyper)


def test_a_model_without_hyperparameters_refuses_one(data):
    with pytest.raises(DataError, match="has no hyperparameter 'lam'; its hyperparameters are none"):
        train.fit("logistic_regression", *data, epochs=1, hyper={"lam": 0.1})


def test_a_declaration_with_a_bad_default_is_refused():
    model = Model("m", title="t", source="s")
    for default, message in (("x", "must be a number"), (float("inf"), "must be finite")):
        with pytest.raises(DerivationError, match=message):
            model.hyper("lam", default=default)


def test_the_derivation_keeps_it_symbolic_and_check_uses_the_default():
    model = Model("m", title="t", source="s")
    x = model.data("x", ("n",))
    y = model.target("y", kind="binary")
    theta = model.param("theta", ("n",))
    lam = model.hyper("lam", default=0.5, latex=r"\lambda")
    h = model.let("h", sigmoid(model.affine("z", theta, x)))
    model.loss(-y * sp.log(h) - (1 - y) * sp.log(1 - h))
    model.penalty(lam * total(theta**2))
    from symdl.derive import Derived, explicit_instance
    assert lam in Derived(model).penalty_gradients["theta"].free_symbols
    assert explicit_instance(model, {"n": 2}).penalty.free_symbols.isdisjoint({lam})
    from symdl.render import render
    assert "λ (hyperparameter lam)" in render(model)  # the symbol, and the name to set it by


def test_the_calling_convention_fills_in_defaults():
    spec = {"name": "m", "hypers": [("a", 1.0), ("b", 2.0)]}
    assert inputs.hyper_values(spec) == {"a": 1.0, "b": 2.0}
    values = inputs.hyper_values(spec, {"b": np.int64(3)})
    assert values == {"a": 1.0, "b": 3.0} and all(type(v) is float for v in values.values())


def compiled_versions(module) -> int:
    """How many versions Numba has compiled of the module's functions so far."""
    import numba.core.registry
    return sum(len(f.signatures) for f in vars(module).values()
               if isinstance(f, numba.core.registry.CPUDispatcher))


def test_a_grid_search_over_the_hyperparameter_compiles_nothing_after_the_first_fit(decay):
    sklearn = pytest.importorskip("sklearn")
    from sklearn.model_selection import GridSearchCV
    from symdl.sklearn import SymdlClassifier
    rng = np.random.default_rng(1)
    X = rng.standard_normal((1500, 3))
    y = (X @ [2.0, -1.0, 3.0] + rng.standard_normal(1500) > 0).astype(int)
    # 1,500 rows × 4,000 iterations is above the NumPy tier's job size: the Numba kernels run
    estimator = SymdlClassifier(decay, optimizer="lbfgs", epochs=4000)
    assert estimator.get_params()["lam"] is None and sklearn.base.clone(estimator).lam is None
    estimator.set_params(lam=0.1).fit(X, y)
    module = kernels.load(decay)
    before = compiled_versions(module)
    assert before > 0
    search = GridSearchCV(estimator, {"lam": [1e-4, 1e-3, 1e-2, 1e-1, 1]}, cv=5).fit(X, y)
    assert compiled_versions(module) == before
    assert search.best_estimator_.result_.settings["hyper"] == {"lam": search.best_params_["lam"]}
    norms = [np.linalg.norm(SymdlClassifier(decay, optimizer="lbfgs", lam=lam).fit(X, y).params_["theta"])
             for lam in (1e-3, 1.0)]
    assert norms[1] < norms[0]


def test_the_estimator_names_an_unknown_hyperparameter(decay, data):
    from symdl.sklearn import SymdlClassifier
    with pytest.raises(SettingsError, match="has no hyperparameter 'lamda'; its hyperparameters are lam"):
        SymdlClassifier(decay, lamda=0.1).fit(data[0][:, 1:], data[1])


SCALED_LOG_COSH = '''
"""ŷ = θᵀx with the loss δ²·log cosh((y − ŷ)/δ): δ a hyperparameter inside the loss."""
import sympy as sp
from symdl.model import Model
derivation = Model("scaled_log_cosh", title="t", source="s", reduction="mean")
x = derivation.data("x", ("n",))
y = derivation.target("y")
theta = derivation.param("theta", ("n",))
delta = derivation.hyper("delta", default=1.0)
z = derivation.affine("z", theta, x)
derivation.loss(delta**2 * sp.log(sp.cosh((y - z) / delta)))
derivation.output(z)
'''


def test_a_hyperparameter_in_the_loss_trains_the_same_in_chunks_and_in_memory(tmp_path):
    da = pytest.importorskip("dask.array")
    path = tmp_path / "scaled_log_cosh.py"
    path.write_text(SCALED_LOG_COSH)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((900, 3))
    y = x @ [1.0, -2.0, 0.5] + rng.standard_normal(900)
    settings = dict(optimizer="gd", learning_rate=0.5, epochs=30, hyper={"delta": 0.3})
    in_memory = train.fit(str(path), x, y, **settings)
    chunked = train.fit(str(path), da.from_array(x, chunks=(300, 3)),
                        da.from_array(y, chunks=300), **settings)
    np.testing.assert_allclose(chunked.params["theta"], in_memory.params["theta"], rtol=1e-10)
    assert chunked.settings["hyper"] == {"delta": 0.3}
    other = train.fit(str(path), x, y, **{**settings, "hyper": {"delta": 3.0}})
    assert np.abs(other.params["theta"] - in_memory.params["theta"]).max() > 1e-3


def test_a_saved_estimator_keeps_its_hyperparameters(tmp_path):
    """save/load round-trips every constructor parameter, the model's hyperparameters too."""
    from sklearn.datasets import make_regression
    from symdl.sklearn import SymdlRegressor
    X, y = make_regression(60, 3, noise=1.0, random_state=0)
    fitted = SymdlRegressor("ridge_regression", alpha=0.25).fit(X, y)
    loaded = SymdlRegressor.load(fitted.save(tmp_path / "ridge.npz"))
    assert loaded.get_params()["alpha"] == 0.25
    np.testing.assert_array_equal(loaded.predict(X), fitted.predict(X))
