"""The built-in models a practitioner reaches for, held against scikit-learn's equivalents.

Each test fits scikit-learn's model and symdl's built-in on the same small data set, with the
same hyperparameters mapped as the derivation's docstring says, and compares the fitted
coefficients: every expected number comes from scikit-learn, run here. The estimators run
with tol=None (L-BFGS to SciPy's own tests), so they converge as far as the comparison needs.
"""

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn import datasets as sk_datasets  # noqa: E402
from sklearn import linear_model  # noqa: E402
from sklearn.neural_network import MLPClassifier, MLPRegressor  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from symdl import kernels, sources, train  # noqa: E402
from symdl.sklearn import SymdlClassifier, SymdlRegressor  # noqa: E402

BUILT_IN = ("ridge_regression", "elastic_net_regression", "elastic_net_logistic",
            "multinomial_logistic", "poisson_glm", "huber_regressor", "mlp_classifier",
            "mlp_regressor")


def scaled(X):
    return StandardScaler().fit_transform(X)


@pytest.fixture(scope="module")
def diabetes():
    X, y = sk_datasets.load_diabetes(return_X_y=True)
    return scaled(X), y


@pytest.fixture(scope="module")
def counts():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 3))
    return X, rng.poisson(np.exp(X @ [0.3, -0.2, 0.5] + 0.1)).astype(float)


def test_every_built_in_is_listed_with_its_hyperparameters_and_cites_its_source():
    assert set(BUILT_IN) <= set(sources.builtin_names())
    for name in BUILT_IN:
        module = kernels.load(name)
        assert module.SPEC["hypers"], name
        assert "Not from the documents" in sources.load_derivation(name).origin.path.read_text()


@pytest.mark.parametrize("alpha", [0.1, 10.0])
def test_ridge_is_scikit_learns_ridge(diabetes, alpha):
    X, y = diabetes
    expected = linear_model.Ridge(alpha=alpha).fit(X, y)
    ours = SymdlRegressor("ridge_regression", tol=None, alpha=alpha, epochs=1000).fit(X, y)
    np.testing.assert_allclose(ours.params_["w"], expected.coef_, rtol=1e-4, atol=1e-3)
    assert ours.params_["b"] == pytest.approx(expected.intercept_, rel=1e-5)


def test_elastic_net_matches_scikit_learn_where_no_weight_is_zero():
    """|w| is differentiated to sign(w): away from zero weights J is smooth and L-BFGS finds
    scikit-learn's minimiser; the exact zeros of coordinate descent are not claimed."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((200, 4))
    y = X @ [1.0, -2.0, 0.5, 3.0] + 1.0 + 0.3 * rng.standard_normal(200)
    expected = linear_model.ElasticNet(alpha=0.1, l1_ratio=0.5, tol=1e-12, max_iter=100000).fit(X, y)
    assert np.all(np.abs(expected.coef_) > 0.1)  # the premise: no weight at 0
    ours = SymdlRegressor("elastic_net_regression", tol=None, alpha=0.1, l1_ratio=0.5, epochs=3000).fit(X, y)
    np.testing.assert_allclose(ours.params_["w"], expected.coef_, atol=1e-4)
    assert ours.params_["b"] == pytest.approx(expected.intercept_, abs=1e-4)


def test_elastic_net_logistic_with_no_l1_is_scikit_learns_logistic_regression():
    X, y = sk_datasets.load_breast_cancer(return_X_y=True)
    X = scaled(X)
    expected = linear_model.LogisticRegression(C=0.5, tol=1e-10, max_iter=10000).fit(X, y)
    ours = SymdlClassifier("elastic_net_logistic", tol=None, alpha=1 / 0.5, epochs=3000).fit(X, y)
    np.testing.assert_allclose(ours.params_["w"], expected.coef_[0], atol=1e-3)
    assert ours.params_["b"] == pytest.approx(expected.intercept_[0], abs=1e-3)


def test_elastic_net_logistic_matches_saga_where_no_weight_is_zero():
    X, y = sk_datasets.load_iris(return_X_y=True)
    X, y = scaled(X[y < 2][:, :2]), y[y < 2]
    X = X + np.random.default_rng(0).normal(0, 0.5, X.shape)  # not separable: a finite minimiser
    expected = linear_model.LogisticRegression(solver="saga", C=2.0,
                                               l1_ratio=0.5, tol=1e-12, max_iter=100000).fit(X, y)
    assert np.all(np.abs(expected.coef_) > 1e-2)
    ours = SymdlClassifier("elastic_net_logistic", tol=None, alpha=0.5, l1_ratio=0.5, epochs=3000).fit(X, y)
    np.testing.assert_allclose(ours.params_["w"], expected.coef_[0], atol=2e-3)


def test_multinomial_logistic_is_scikit_learns_multinomial_logistic_regression():
    X, y = sk_datasets.load_iris(return_X_y=True)
    X = scaled(X)
    expected = linear_model.LogisticRegression(C=1.0, tol=1e-10, max_iter=10000).fit(X, y)
    ours = SymdlClassifier("multinomial_logistic", tol=None, epochs=3000).fit(X, y)
    # softmax is unchanged by a shift of every class's weights; the penalty fixes the shift
    # at Σ_c W_c = 0 in both, so the weights compare directly
    np.testing.assert_allclose(ours.params_["W"], expected.coef_, atol=1e-3)
    np.testing.assert_allclose(ours.params_["b"] - ours.params_["b"].mean(),
                               expected.intercept_ - expected.intercept_.mean(), atol=1e-3)
    np.testing.assert_allclose(ours.predict_proba(X), expected.predict_proba(X), atol=1e-4)


def test_poisson_glm_is_scikit_learns_poisson_regressor(counts):
    X, y = counts
    expected = linear_model.PoissonRegressor(alpha=0.5, tol=1e-12, max_iter=10000).fit(X, y)
    ours = SymdlRegressor("poisson_glm", tol=None, alpha=0.5, epochs=2000).fit(X, y)
    np.testing.assert_allclose(ours.params_["w"], expected.coef_, atol=1e-5)
    assert ours.params_["b"] == pytest.approx(expected.intercept_, abs=1e-5)
    np.testing.assert_allclose(ours.predict(X), expected.predict(X), rtol=1e-4)


def test_huber_is_scikit_learns_huber_regressor_scale_included():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((300, 3))
    y = X @ [1.0, 2.0, 3.0] + 0.5 * rng.standard_normal(300)
    y[:15] += 20.0  # outliers
    expected = linear_model.HuberRegressor(epsilon=1.5, alpha=1e-3, tol=1e-12,
                                           max_iter=10000).fit(X, y)
    ours = SymdlRegressor("huber_regressor", tol=None, epsilon=1.5, alpha=1e-3, epochs=3000).fit(X, y)
    np.testing.assert_allclose(ours.params_["w"], expected.coef_, atol=1e-4)
    assert ours.params_["b"] == pytest.approx(expected.intercept_, abs=1e-4)
    assert np.exp(ours.params_["s"]) == pytest.approx(expected.scale_, rel=1e-4)


def sklearn_weights(network):
    """(W, b) of each layer of a fitted scikit-learn network, as symdl's (units, inputs)."""
    return [(W.T.copy(), b.copy()) for W, b in zip(network.coefs_, network.intercepts_)]


def test_mlp_regressor_has_scikit_learns_cost_at_scikit_learns_weights():
    X, y = sk_datasets.make_regression(200, 4, noise=5.0, random_state=0)
    X, y = scaled(X), y / y.std()
    network = MLPRegressor(hidden_layer_sizes=(7,), alpha=1e-2, solver="lbfgs", max_iter=300, tol=1e-12,
                           random_state=0).fit(X, y)
    (W, b), (v, c) = sklearn_weights(network)
    # scikit-learn's α/(2m)·‖W‖² is α/2·‖W‖² here with α divided by m
    loss, _ = train.loss_and_gradient("mlp_regressor", {"W": W, "b": b, "v": v[0], "c": c[0]},
                                      X, y, hyper={"alpha": 1e-2 / len(X)})
    assert loss == pytest.approx(network.loss_, rel=1e-8)
    ours = SymdlRegressor("mlp_regressor", tol=None, sizes={"H": 7}, epochs=300).fit(X, y)
    assert ours.params_["W"].shape == (7, 4) and ours.score(X, y) > 0.9


def test_mlp_classifier_has_scikit_learns_cost_at_scikit_learns_weights():
    X, y = sk_datasets.load_iris(return_X_y=True)
    X = scaled(X)
    network = MLPClassifier(hidden_layer_sizes=(5,), alpha=1e-2, solver="lbfgs", max_iter=300, tol=1e-12,
                            random_state=0).fit(X, y)
    (W1, b1), (W2, b2) = sklearn_weights(network)
    loss, _ = train.loss_and_gradient("mlp_classifier",
                                      {"W1": W1, "b1": b1, "W2": W2, "b2": b2}, X, y,
                                      hyper={"alpha": 1e-2 / len(X)})
    assert loss == pytest.approx(network.loss_, rel=1e-8)
    ours = SymdlClassifier("mlp_classifier", tol=None, sizes={"H": 5}, epochs=300).fit(X, y)
    assert ours.params_["W2"].shape == (3, 5) and ours.score(X, y) > 0.95
