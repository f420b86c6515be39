"""Hessians of affine models with a bias, a penalty and scalar parameters (Curvature kind
"affine"): held against finite differences of the generated gradient, and used by Newton."""

import numpy as np
import pytest

from symdl import kernels, train
from symdl.training import inputs


def flat_gradient(module, params, x, y, **hyper):
    return np.concatenate([np.ravel(g) for g in module.gradient(*params, x, y, **hyper)])


def numeric_hessian(module, params, x, y, step=1e-6, **hyper):
    """Central differences of the kernel's own gradient, one flat parameter at a time."""
    flat = np.concatenate([np.ravel(p) for p in params])
    columns = []
    for k in range(len(flat)):
        up, down = flat.copy(), flat.copy()
        up[k] += step
        down[k] -= step
        cut = [np.split(v, np.cumsum([np.size(p) for p in params])[:-1]) for v in (up, down)]
        shaped = [[c.reshape(np.shape(p)) if np.ndim(p) else float(c[0]) for c, p in zip(v, params)]
                  for v in cut]
        columns.append((flat_gradient(module, shaped[0], x, y, **hyper)
                        - flat_gradient(module, shaped[1], x, y, **hyper)) / (2 * step))
    return np.array(columns).T


CASES = {
    "ridge_regression": {"alpha": 0.7},          # w, b, a penalty with a hyperparameter
    "poisson_glm": {"alpha": 0.2},               # w, b, e^z, a mean, a penalty
    "logistic_three_parameter": {},              # a vector and a bias, no penalty
}


@pytest.mark.parametrize("name", CASES)
def test_the_hessian_is_the_derivative_of_the_gradient(name):
    module = kernels.load(name)
    spec = module.SPEC
    assert spec["hessian"]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((30, 3))
    y = (rng.random(30) > 0.5).astype(float) if spec["target"][1] == "binary" else rng.poisson(2.0, 30).astype(float)
    params = [p + 0.3 * rng.standard_normal(np.shape(p))
              for p in inputs.initial_params(spec, inputs.dimension_sizes(spec, x))]
    hyper = CASES[name]
    np.testing.assert_allclose(module.hessian(*params, x, y, **hyper),
                               numeric_hessian(module, params, x, y, **hyper), rtol=1e-6, atol=1e-6)


def test_newton_fits_ridge_to_scikit_learns_coefficients():
    linear_model = pytest.importorskip("sklearn.linear_model")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((100, 4))
    y = x @ [1.0, -2.0, 0.5, 3.0] + 1.0 + rng.standard_normal(100)
    expected = linear_model.Ridge(alpha=3.0).fit(x, y)
    result = train.fit("ridge_regression", x, y, optimizer="newton", epochs=5, tol=1e-9,
                       hyper={"alpha": 3.0})
    np.testing.assert_allclose(result.params["w"], expected.coef_, rtol=1e-10)
    assert result.params["b"] == pytest.approx(expected.intercept_, rel=1e-10)
    assert len(result.history) <= 3  # a quadratic: one Newton step lands on the minimiser


def test_newton_fits_poisson_regression_to_scikit_learns_coefficients_in_few_steps():
    linear_model = pytest.importorskip("sklearn.linear_model")
    rng = np.random.default_rng(2)
    x = rng.standard_normal((300, 3))
    y = rng.poisson(np.exp(x @ [0.3, -0.2, 0.5] + 0.1)).astype(float)
    expected = linear_model.PoissonRegressor(alpha=0.5, tol=1e-12, max_iter=1000).fit(x, y)
    result = train.fit("poisson_glm", x, y, optimizer="newton", epochs=30, tol=1e-10,
                       hyper={"alpha": 0.5})
    np.testing.assert_allclose(result.params["w"], expected.coef_, atol=1e-8)
    assert len(result.history) < 12


def test_the_weighted_hessian_of_a_penalised_model_is_that_of_repeated_rows():
    module = kernels.load("ridge_regression")
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((20, 3)), rng.standard_normal(20)
    weights = rng.integers(0, 4, 20)
    params = [rng.standard_normal(3), 0.5]
    np.testing.assert_allclose(
        module.hessian_weighted(*params, x, y, weights.astype(float), alpha=0.4),
        module.hessian(*params, np.repeat(x, weights, axis=0), np.repeat(y, weights), alpha=0.4),
        rtol=1e-12)


def test_a_kink_in_the_loss_gets_no_hessian():
    assert not kernels.load("huber_regressor").SPEC["hessian"]


def test_a_penaltys_kinks_are_weighed_and_newton_runs_only_where_they_weigh_nothing():
    """An elastic net's |w_j| has a kink at 0: the Hessian written is J's curvature away from
    the kinks (held against differences of the gradient there), `kink_weight` is 2αρ, and
    Newton's method runs at ρ = 0 (J twice differentiable: L-BFGS's optimum) and refuses
    ρ > 0, saying why."""
    module = kernels.load("elastic_net_logistic")
    assert module.SPEC["hessian"] and module.SPEC["kinks"]
    assert module.kink_weight(alpha=0.5, l1_ratio=0.3) == pytest.approx(2 * 0.5 * 0.3)
    assert module.kink_weight(alpha=0.5, l1_ratio=0.0) == 0.0
    rng = np.random.default_rng(8)
    x = rng.standard_normal((40, 3))
    y = (x[:, 0] + rng.standard_normal(40) > 0).astype(float)
    params = [np.array([0.7, -0.4, 0.2]), 0.1]  # no weight near a kink
    hyper = {"alpha": 0.5, "l1_ratio": 0.3}
    np.testing.assert_allclose(module.hessian(*params, x, y, **hyper),
                               numeric_hessian(module, params, x, y, **hyper), rtol=1e-6, atol=1e-7)
    smooth = {"alpha": 0.5, "l1_ratio": 0.0}
    newton = train.fit("elastic_net_logistic", x, y, optimizer="newton", hyper=smooth, tol=1e-10)
    lbfgs = train.fit("elastic_net_logistic", x, y, optimizer="lbfgs", hyper=smooth, tol=1e-10,
                      epochs=500)
    np.testing.assert_allclose(newton.params["w"], lbfgs.params["w"], rtol=1e-6, atol=1e-9)
    with pytest.raises(Exception, match="kinks.*weight 0.3.*lbfgs"):
        train.fit("elastic_net_logistic", x, y, optimizer="newton", hyper=hyper)


def test_the_estimators_take_newton_only_where_the_kinks_weigh_nothing():
    from symdl.sklearn import SymdlClassifier
    rng = np.random.default_rng(9)
    x = rng.standard_normal((60, 4))
    y = (x[:, 0] - x[:, 1] + rng.standard_normal(60) > 0).astype(int)
    assert SymdlClassifier("elastic_net_logistic").fit(x, y).result_.settings["optimizer"] == "newton"
    lasso_like = SymdlClassifier("elastic_net_logistic", l1_ratio=0.5).fit(x, y)
    assert lasso_like.result_.settings["optimizer"] == "lbfgs"


def test_the_softmax_hessian_over_a_matrix_and_a_bias_is_the_derivative_of_the_gradient():
    module = kernels.load("multinomial_logistic")
    assert module.SPEC["hessian"]
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((25, 3)), rng.integers(0, 4, 25)
    params = [rng.standard_normal((4, 3)), rng.standard_normal(4)]
    np.testing.assert_allclose(module.hessian(*params, x, y, alpha=0.3),
                               numeric_hessian(module, params, x, y, alpha=0.3), rtol=1e-6, atol=1e-6)
    weights = rng.integers(0, 3, 25)
    np.testing.assert_allclose(
        module.hessian_weighted(*params, x, y, weights.astype(float), alpha=0.3),
        module.hessian(*params, np.repeat(x, weights, axis=0), np.repeat(y, weights), alpha=0.3),
        rtol=1e-10, atol=1e-12)


def test_newton_fits_multinomial_logistic_regression_to_scikit_learns():
    sk_datasets = pytest.importorskip("sklearn.datasets")
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    x, y = sk_datasets.load_iris(return_X_y=True)
    x = StandardScaler().fit_transform(x)
    expected = LogisticRegression(C=1.0, tol=1e-12, max_iter=10000).fit(x, y)
    result = train.fit("multinomial_logistic", x, y, optimizer="newton", epochs=50, tol=1e-9,
                       sizes={"C": 3})
    np.testing.assert_allclose(result.params["W"], expected.coef_, atol=1e-5)
    assert len(result.history) < 20


def test_spec_says_quadratic_where_no_second_derivative_depends_on_a_parameter():
    """SPEC["quadratic"]: ridge's ℓ'' = 2 and α on the diagonal are constants; logistic
    regression's h(1 − h) is not; the estimator takes one Newton step for ridge."""
    from symdl import kernels
    from symdl.sklearn import SymdlRegressor
    assert kernels.load("ridge_regression").SPEC["quadratic"]
    assert kernels.load("multivariate_least_squares").SPEC["quadratic"]
    assert not kernels.load("logistic_regression").SPEC["quadratic"]
    assert not kernels.load("multinomial_logistic").SPEC["quadratic"]
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 5))
    y = X @ np.arange(5.0) + 3 + rng.standard_normal(100)
    ridge = SymdlRegressor("ridge_regression", alpha=2.0).fit(X, y)
    assert ridge.result_.settings["optimizer"] == "newton" and ridge.n_iter_ == 1
    centred = X - X.mean(axis=0)
    expected = np.linalg.solve(centred.T @ centred + 2.0 * np.eye(5), centred.T @ (y - y.mean()))
    np.testing.assert_allclose(ridge.coef_, expected, rtol=1e-8)
