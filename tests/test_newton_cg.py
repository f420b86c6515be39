"""Newton-CG: the generated Hessian-vector products, the difference of gradients for models
without them, and the method itself (symdl.training.newton.newton_cg)."""

import itertools
import tracemalloc
import warnings

import numpy as np
import pytest

from symdl import cli, kernels, train
from symdl.training import inputs, newton

WITH_PRODUCT = ["ridge_regression", "logistic_regression", "multinomial_logistic", "poisson_glm",
                "affine_mse", "multivariate_least_squares", "logistic_three_parameter",
                "line_through_origin"]


def random_problem(name, rows=120, features=4, seed=0):
    """Random data for model `name`, and parameters away from 0 (so h(1 − h) varies)."""
    rng = np.random.default_rng(seed)
    spec = kernels.load(name).SPEC
    x = (rng.standard_normal((rows, features)) if spec["features"][1]
         else rng.standard_normal(rows))
    kind = spec["target"][1]
    y = {"real": rng.standard_normal(rows), "binary": (rng.random(rows) < 0.5).astype(float),
         "class": rng.integers(0, 3, rows)}[kind]
    if name == "poisson_glm":
        y = rng.poisson(2.0, rows).astype(float)
    sizes = inputs.dimension_sizes(spec, x, {"C": 3} if kind == "class" else {})
    params = inputs.initial_params(spec, sizes, init_scale=0.3, seed=seed + 1)
    return x, y, params


@pytest.mark.parametrize("name", WITH_PRODUCT)
def test_the_generated_product_is_the_hessian_times_v(name):
    """hessian_vector(θ, v) = hessian(θ)·v, plain, weighted and with a hyperparameter set."""
    module = kernels.load(name)
    assert module.SPEC["hessian_vector"]
    x, y, params = random_problem(name)
    v = np.random.default_rng(5).standard_normal(inputs.flat(params).size)
    weights = np.random.default_rng(6).random(len(y))
    hyper = {"alpha": 0.3} if name == "ridge_regression" else None
    module = inputs.with_hyper(module, module.SPEC, hyper)
    pairs = [(module.hessian(*params, x, y), module.hessian_vector(*params, v, x, y)),
             (module.hessian_weighted(*params, x, y, weights),
              module.hessian_vector_weighted(*params, v, x, y, weights))]
    for hessian, product in pairs:
        np.testing.assert_allclose(product, np.asarray(hessian) @ v, rtol=1e-12,
                                   atol=1e-12 * np.abs(product).max())


class WithoutProduct:
    """A module seen without its hessian_vector kernel: newton_cg differences gradients."""

    def __init__(self, module):
        self.module, self.SPEC = module, {**module.SPEC, "hessian_vector": False}

    def __getattr__(self, name):
        if name.startswith("hessian"):
            raise AttributeError(name)
        return getattr(self.module, name)


@pytest.mark.parametrize("name", ["logistic_regression", "multinomial_logistic", "poisson_glm"])
def test_the_difference_of_gradients_matches_the_derived_product(name):
    """The central difference of the generated gradient (the product of a model without a
    derived Hessian) agrees with the exact one to the accuracy its step allows."""
    module = kernels.load(name)
    x, y, params = random_problem(name)
    v = np.random.default_rng(7).standard_normal(inputs.flat(params).size)
    exact = newton.hessian_vector_product(module, (x, y))(params, v)
    difference = newton.hessian_vector_product(WithoutProduct(module), (x, y))(params, v)
    np.testing.assert_allclose(difference, exact, rtol=0, atol=1e-7 * np.abs(exact).max())
    np.testing.assert_allclose(exact, np.asarray(module.hessian(*params, x, y)) @ v, rtol=1e-12,
                               atol=1e-12 * np.abs(exact).max())


@pytest.mark.parametrize("name, sizes", [("logistic_regression", None),
                                         ("multinomial_logistic", {"C": 3})])
def test_newton_cg_reaches_the_optimum_of_newton_and_lbfgs(name, sizes):
    x, y, _ = random_problem(name, rows=400, features=6, seed=3)
    found = {opt: train.fit(name, x, y, optimizer=opt, epochs=200, tol=1e-8, sizes=sizes)
             for opt in ("newton", "newton-cg", "lbfgs")}
    assert all(r.converged for r in found.values())
    assert found["newton-cg"].stop_reason == found["newton"].stop_reason == "gradient"
    for key in found["newton"].params:
        for other in ("newton-cg", "lbfgs"):
            np.testing.assert_allclose(found[other].params[key], found["newton"].params[key],
                                       rtol=1e-6, atol=1e-8)
    assert found["newton-cg"].n_iter <= 15


def test_newton_cg_on_two_thousand_features_forms_no_p_by_p_matrix(monkeypatch):
    """P = 2,001: one P × P float64 matrix would be 32 MB. Newton-CG calls no Hessian kernel,
    allocates well below that, and reaches the gradient test."""
    rng = np.random.default_rng(0)
    rows, width = 300, 2000
    x = np.column_stack([np.ones(rows), rng.standard_normal((rows, width))])
    y = (x[:, 1] - x[:, 2] + rng.standard_normal(rows) > 0).astype(float)
    module = kernels.load("logistic_regression")

    def refused(*args, **kwargs):
        raise AssertionError("newton-cg formed the Hessian")
    monkeypatch.setattr(module, "hessian", refused)
    with warnings.catch_warnings():  # one step of each, so that every kernel it calls is
        warnings.simplefilter("ignore")  # compiled before memory is traced
        for name, data in (("logistic_regression", x[:20]), ("elastic_net_logistic", x[:20, 1:])):
            train.fit(name, data, y[:20], optimizer="newton-cg", epochs=1)
    tracemalloc.start()
    result = train.fit("elastic_net_logistic", x[:, 1:], y, optimizer="newton-cg", epochs=100,
                       tol=1e-6)
    plain = train.fit("logistic_regression", x, y, optimizer="newton-cg", epochs=50, tol=1e-6)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < (width + 1) ** 2 * 8 / 4
    assert result.converged and result.stop_reason == "gradient"
    assert plain.n_iter > 0 and np.isfinite(plain.history[-1][1])


def test_newton_cg_keeps_a_network_descending():
    """A network's Hessian is not positive definite: curvature ≤ 0 is met (its products
    are the generated R-pass, tests/test_hessian_vector_networks.py), and the damped step
    still lowers J at every iteration."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((300, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    result = train.fit("mlp_classifier", x, y, optimizer="newton-cg", epochs=40,
                       sizes={"H": 8, "C": 2}, init_scale=0.5)
    losses = [row[1] for row in result.history]
    assert all(later <= earlier for earlier, later in itertools.pairwise(losses))
    assert losses[-1] < 0.5 * losses[0]


def test_the_estimators_and_the_command_line_take_newton_cg(tmp_path, capsys):
    from symdl.sklearn import SymdlClassifier
    x, y, _ = random_problem("multinomial_logistic", rows=200, features=5, seed=4)
    estimator = SymdlClassifier("multinomial_logistic", optimizer="newton-cg", tol=1e-8).fit(x, y)
    reference = SymdlClassifier("multinomial_logistic", optimizer="lbfgs", tol=1e-8).fit(x, y)
    assert estimator.result_.settings["optimizer"] == "newton-cg" and estimator.result_.converged
    np.testing.assert_allclose(estimator.predict_proba(x), reference.predict_proba(x), atol=1e-4)
    np.savez(tmp_path / "data.npz", x=x, y=(y > 0).astype(float))
    status = cli.main(["train", "elastic_net_logistic", "--data", str(tmp_path / "data.npz"),
                       "--optimizer", "newton-cg", "--tol", "1e-6", "--quiet"])
    out = capsys.readouterr().out
    assert status == 0 and "max |∂J/∂p| ≤ tol" in out


def test_weighted_newton_cg_reaches_weighted_newtons_optimum():
    """Sample weights: the weighted hessian_vector kernel (logistic regression) and the
    difference of the weighted gradient (elastic_net_logistic, whose |w| leaves it without
    a Hessian) both reach the weighted optimum."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 4))
    y = (x[:, 0] + rng.standard_normal(300) > 0).astype(float)
    weights = 3 * rng.random(300)
    ones = np.column_stack([np.ones(300), x])
    exact = train.fit("logistic_regression", ones, y, optimizer="newton", tol=1e-9, epochs=50,
                      sample_weight=weights)
    found = train.fit("logistic_regression", ones, y, optimizer="newton-cg", tol=1e-9,
                      epochs=50, sample_weight=weights)
    np.testing.assert_allclose(found.params["theta"], exact.params["theta"], atol=1e-9)
    settings = dict(tol=1e-9, epochs=500, sample_weight=weights, hyper={"alpha": 0.5})
    by_lbfgs = train.fit("elastic_net_logistic", x, y, optimizer="lbfgs", **settings)
    by_cg = train.fit("elastic_net_logistic", x, y, optimizer="newton-cg", **settings)
    assert by_cg.stop_reason == "gradient"
    np.testing.assert_allclose(by_cg.params["w"], by_lbfgs.params["w"], atol=1e-7)
