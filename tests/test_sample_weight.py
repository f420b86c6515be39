"""Sample weights: the weighted kernels compute J = Σ_i w_i ℓ⁽ⁱ⁾ (÷ Σ w for a mean), so a
sample of integer weight k counts as k copies of it, in every layout and tier."""

import numpy as np
import pytest

from symdl import kernels, train
from symdl.errors import DataError
from symdl.training import inputs, tiers

# one model per layout and reduction: block (sum, mean, a penalty and a hyperparameter, a
# learned scale), rows (softmax cross-entropy), blas (MNIST's network)
MODELS = {"logistic_regression": {}, "elastic_net_regression": {}, "huber_regressor": {},
          "multinomial_logistic": {"C": 3}, "mlp_classifier": {"H": 4, "C": 3},
          "mnist_mlp": {"H": 5, "C": 10}}


def problem(name, sizes, rows=40, seed=0):
    """Random data, parameters and integer weights (0 included) for model `name`."""
    rng = np.random.default_rng(seed)
    spec = kernels.load(name).SPEC
    n = 784 if name == "mnist_mlp" else 3
    x = rng.standard_normal((rows, n))
    kind = spec["target"][1]
    y = (rng.integers(0, sizes.get("C", 2), rows) if kind == "class"
         else rng.integers(0, 2, rows).astype(float) if kind == "binary"
         else rng.standard_normal(rows))
    bound = inputs.dimension_sizes(spec, x, sizes)
    params = inputs.initial_params(spec, bound, init_scale=1.0, seed=seed)
    params = [p + 0.1 * rng.standard_normal(np.shape(p)) for p in params]
    weights = rng.integers(0, 4, rows)
    return spec, x, y, params, weights


def repeated(x, y, weights):
    return np.repeat(x, weights, axis=0), np.repeat(y, weights)


@pytest.mark.parametrize("name", MODELS)
def test_integer_weights_are_repeated_rows(name):
    spec, x, y, params, weights = problem(name, MODELS[name])
    module = kernels.load(name)
    views = [module] + ([tiers.NumPyTier(module)] if spec["numpy_tier"] else [])
    for view in views:
        loss, *grads = view.loss_and_gradient_weighted(*params, x, y, weights.astype(float))
        expected, *expected_grads = view.loss_and_gradient(*params, *repeated(x, y, weights))
        assert loss == pytest.approx(expected, rel=1e-12)
        for got, want in zip(grads, expected_grads):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
        assert view.loss_weighted(*params, x, y, weights.astype(float)) == pytest.approx(expected, rel=1e-12)


def test_fit_with_integer_weights_is_fit_on_repeated_rows():
    spec, x, y, _, weights = problem("ridge_regression", {}, rows=60, seed=1)
    weighted = train.fit("ridge_regression", x, y, optimizer="lbfgs", epochs=500,
                         sample_weight=weights, hyper={"alpha": 0.3})
    copies = train.fit("ridge_regression", *repeated(x, y, weights), optimizer="lbfgs",
                       epochs=500, hyper={"alpha": 0.3})
    np.testing.assert_allclose(weighted.params["w"], copies.params["w"], atol=1e-6)
    assert weighted.settings["sample_weight"] is True


def test_the_estimators_take_sample_weight():
    pytest.importorskip("sklearn")
    from symdl.sklearn import SymdlClassifier, SymdlRegressor
    _, x, y, _, weights = problem("elastic_net_regression", {}, rows=60, seed=2)
    regressor = SymdlRegressor("elastic_net_regression", alpha=0.01, epochs=500)
    weighted = regressor.fit(x, y, sample_weight=weights).params_["w"]
    copies = regressor.fit(*repeated(x, y, weights)).params_["w"]
    np.testing.assert_allclose(weighted, copies, atol=1e-5)
    labels = (x[:, 0] + x[:, 1] > 0).astype(int)
    classifier = SymdlClassifier("multinomial_logistic", epochs=500)
    weighted = classifier.fit(x, labels, sample_weight=weights).params_["W"]
    copies = classifier.fit(*repeated(x, labels, weights)).params_["W"]
    np.testing.assert_allclose(weighted, copies, atol=1e-5)


def test_gradient_descent_with_the_automatic_step_stays_below_the_weighted_bound():
    pytest.importorskip("sklearn")
    from symdl.sklearn import SymdlClassifier
    rng = np.random.default_rng(3)
    X = rng.standard_normal((200, 2))
    y = (X[:, 0] > 0).astype(int)
    heavy = np.full(200, 50.0)  # 50 copies of every row: the curvature is 50 times larger
    classifier = SymdlClassifier("logistic_regression", epochs=50).fit(X, y, sample_weight=heavy)
    assert np.all(np.diff([j for _, j in classifier.history_]) <= 1e-12)


@pytest.mark.parametrize("weights, message", [
    (-np.ones(40), "negative weight"),
    (np.ones(39), "one weight per sample"),
    (np.full(40, np.nan), "sample_weight contains 40 NaN"),
    (np.zeros(40), "0 for every sample"),
    (np.array(["a"] * 40), "sample_weight"),
])
def test_bad_weights_are_named(weights, message):
    _, x, y, _, _ = problem("logistic_regression", {})
    with pytest.raises(DataError, match=message):
        train.fit("logistic_regression", x, y, epochs=1, sample_weight=weights)


@pytest.mark.parametrize("name, weight", [("logistic_regression", 1.0),
                                          ("elastic_net_regression", 2.5),
                                          ("multinomial_logistic", 1.0),
                                          ("mnist_mlp", 2.5)])
def test_equal_weights_train_mini_batches_as_no_weights_do(name, weight):
    """The same batches (the same permutation each epoch) with each row's weight: a summed J
    with weights of 1, or a mean J with any equal weight (÷ Σ w of the batch), is the
    unweighted run, history included."""
    spec, x, y, params, _ = problem(name, MODELS[name])
    settings = dict(optimizer="adam", learning_rate=0.01, batch_size=7, epochs=3,
                    params=params, sizes=MODELS[name], tier="numba")
    weighted = train.fit(name, x, y, sample_weight=np.full(len(y), weight), **settings)
    plain = train.fit(name, x, y, **settings)
    np.testing.assert_allclose([j for _, j in weighted.history], [j for _, j in plain.history],
                               rtol=1e-12)
    for key in plain.params:
        np.testing.assert_allclose(weighted.params[key], plain.params[key], rtol=1e-10,
                                   atol=1e-12)


def test_weighted_mini_batches_reach_the_weighted_optimum_as_repeated_rows_do():
    """SGD on batches that carry their rows' integer weights, and SGD on the rows repeated,
    both end within 0.02 of the weighted optimum (L-BFGS, full batch), which lies 0.12 from
    the unweighted one."""
    _, x, y, _, weights = problem("logistic_regression", {})
    best = train.fit("logistic_regression", x, y, optimizer="lbfgs", epochs=200, tol=1e-10,
                     sample_weight=weights).params["theta"]
    unweighted = train.fit("logistic_regression", x, y, optimizer="lbfgs", epochs=200,
                           tol=1e-10).params["theta"]
    assert np.abs(unweighted - best).max() > 0.1
    settings = dict(optimizer="sgd", learning_rate=0.01, batch_size=8, epochs=2000)
    weighted = train.fit("logistic_regression", x, y, sample_weight=weights, **settings)
    copies = train.fit("logistic_regression", *repeated(x, y, weights), **settings)
    assert np.abs(weighted.params["theta"] - best).max() < 0.02
    assert np.abs(copies.params["theta"] - best).max() < 0.02


@pytest.mark.parametrize("name", ["logistic_regression", "univariate_least_squares"])
def test_the_weighted_hessian_is_the_hessian_of_repeated_rows_and_newton_uses_it(name):
    spec, x, y, params, weights = problem(name, {}, seed=4)
    if name == "univariate_least_squares":  # two scalar parameters: the "scalar" Hessian
        x, params = x[:, 0], [0.3, -0.2]
    module = kernels.load(name)
    np.testing.assert_allclose(module.hessian_weighted(*params, x, y, weights.astype(float)),
                               module.hessian(*params, *repeated(x, y, weights)), rtol=1e-10)
    weighted = train.fit(name, x, y, optimizer="newton", epochs=30, sample_weight=weights)
    copies = train.fit(name, *repeated(x, y, weights), optimizer="newton", epochs=30)
    for key in copies.params:
        np.testing.assert_allclose(weighted.params[key], copies.params[key], rtol=1e-6, atol=1e-8)
