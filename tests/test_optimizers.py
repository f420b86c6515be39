"""The optimizers: each compiled rule against a NumPy transcription of its formula, and each
optimizer driven by train.fit to a minimiser known independently (a closed form, or SciPy on
a loss written here in NumPy)."""

import numpy as np
import pytest

from symdl import datasets, kernels, optimizers, train
from symdl.optimizers import Adam, Momentum, RMSprop
from symdl.training import batches


def numpy_rule(name, p, grads, lr, decay=0.0):
    """The update formulas of optimizers.py, written out in NumPy, float64, out of place."""
    p, state1, state2 = p.astype(np.float64), 0.0 * p, 0.0 * p
    for t, g in enumerate(grads, start=1):
        p = p - lr * decay * p
        if name == "momentum":
            state1 = 0.9 * state1 + g
            p = p - lr * state1
        elif name == "nesterov":
            state1 = 0.9 * state1 + g
            p = p - lr * (g + 0.9 * state1)
        elif name == "rmsprop":
            state1 = 0.9 * state1 + 0.1 * g * g
            p = p - lr * g / np.sqrt(state1 + 1e-7)
        elif name == "adam":
            state1 = 0.9 * state1 + 0.1 * g
            state2 = 0.999 * state2 + 0.001 * g * g
            p = p - lr * (state1 / (1 - 0.9 ** t)) / (np.sqrt(state2 / (1 - 0.999 ** t)) + 1e-8)
        else:
            p = p - lr * g
    return p


RULES = {"gd": lambda: optimizers.make("gd", 0.05),
         "momentum": lambda: Momentum(0.05, 0.9),
         "nesterov": lambda: Momentum(0.05, 0.9, nesterov=True),
         "rmsprop": lambda: RMSprop(0.05),
         "adam": lambda: Adam(0.05)}


@pytest.mark.parametrize("name", RULES)
@pytest.mark.parametrize("decay", [0.0, 0.1])
def test_compiled_rule_matches_its_formula(name, decay):
    rng = np.random.default_rng(3)
    matrix, vector, scalar = rng.standard_normal((3, 4)), rng.standard_normal(5), 0.7
    steps = [(rng.standard_normal((3, 4)), rng.standard_normal(5), float(rng.standard_normal()))
             for _ in range(6)]
    rule = RULES[name]()
    rule.weight_decay = decay
    params = [matrix.copy(), vector.copy(), scalar]
    for grads in steps:
        params = rule.step(params, list(grads))
    for k, start in enumerate((matrix, vector, np.array(scalar))):
        expected = numpy_rule(name, start, [np.asarray(g[k]) for g in steps], 0.05, decay)
        np.testing.assert_allclose(params[k], expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", RULES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_each_rules_numpy_twin_takes_the_compiled_rules_steps(name, dtype):
    """The NumPy twins (what a job on the NumPy tier runs, compiling nothing) do the same
    operations in the same order as the compiled loops, so they give the same numbers."""
    rng = np.random.default_rng(5)
    start = [rng.standard_normal((3, 4)).astype(dtype), rng.standard_normal(5).astype(dtype), 0.7]
    steps = [[rng.standard_normal((3, 4)).astype(dtype), rng.standard_normal(5).astype(dtype),
              float(rng.standard_normal())] for _ in range(6)]
    ends = []
    for compiled in (True, False):
        rule = RULES[name]()
        rule.weight_decay, rule.compiled = 0.1, compiled
        params = [p.copy() if isinstance(p, np.ndarray) else p for p in start]
        for grads in steps:
            params = rule.step(params, grads)
        ends.append(params)
    for on_numba, on_numpy in zip(*ends):
        assert np.asarray(on_numpy).dtype == np.asarray(on_numba).dtype
        np.testing.assert_allclose(on_numpy, on_numba, rtol=0, atol=0)


def test_rules_keep_float32_parameters_float32_and_in_place():
    weights = np.ones((4, 3), np.float32)
    rule = Adam(1e-2)
    (same,) = rule.step([weights], [np.full((4, 3), 0.5, np.float32)])
    assert same is weights and weights.dtype == np.float32
    np.testing.assert_allclose(weights, 1 - 1e-2, rtol=1e-6)  # Adam's first step is α·sign(g)


def test_unknown_optimizer_lists_the_choices():
    data = datasets.two_classes_with_bias()
    with pytest.raises(optimizers.OptimizerError, match="adam, lbfgs, newton"):
        train.fit("logistic_regression", data.x, data.y, optimizer="adma")


def test_newton_needs_a_hessian():
    """huber_regressor's loss reads |r| (a kink): symdl derives neither its Hessian nor a
    Hessian-vector product (a network gets the latter, and Newton builds H from it)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 2))
    with pytest.raises(optimizers.OptimizerError, match="no Hessian"):
        train.fit("huber_regressor", x, x[:, 0], optimizer="newton")


@pytest.mark.parametrize("optimizer, rate, epochs", [
    ("gd", 0.002, 400), ("momentum", 0.001, 600), ("nesterov", 0.001, 600),
    ("lbfgs", None, 50), ("newton", None, 5)])
def test_least_squares_reaches_the_closed_form(optimizer, rate, epochs):
    data = datasets.houses()
    exact = train.closed_form("multivariate_least_squares", data.x, data.y)["theta"]
    result = train.fit("multivariate_least_squares", data.x, data.y, optimizer=optimizer,
                       learning_rate=rate or 0.1, epochs=epochs)
    np.testing.assert_allclose(result.params["theta"], exact, rtol=1e-6, atol=1e-8)


def test_newton_and_lbfgs_match_scipy_on_logistic_regression():
    from scipy.optimize import minimize
    data = datasets.two_classes_with_bias()
    x, y = data.x, data.y

    def cross_entropy(theta):  # written here in NumPy, independent of the generated kernel
        z = x @ theta
        return np.sum(np.logaddexp(0, z) - y * z), x.T @ (1 / (1 + np.exp(-z)) - y)

    reference = minimize(cross_entropy, np.zeros(x.shape[1]), jac=True, method="BFGS",
                         options={"gtol": 1e-10}).x
    for optimizer, tol in (("newton", 1e-9), ("lbfgs", 1e-6)):
        result = train.fit("logistic_regression", x, y, optimizer=optimizer, epochs=200, tol=tol)
        np.testing.assert_allclose(result.params["theta"], reference, rtol=1e-6)
        gradient = kernels.load("logistic_regression").gradient(result.params["theta"], x, y)[0]
        assert np.max(np.abs(gradient)) <= tol  # the stopping test: max |∂J/∂θ_j| ≤ tol
    newton = train.fit("logistic_regression", x, y, optimizer="newton", epochs=200, tol=1e-9)
    assert len(newton.history) <= 12  # quadratic convergence: a handful of iterations


def test_adam_trains_minibatches_and_batches_match_the_reference_order():
    data = datasets.two_classes_with_bias()
    result = train.fit("logistic_regression", data.x, data.y, optimizer="adam",
                       learning_rate=0.05, epochs=20, batch_size=16)
    assert result.history[-1][1] < 0.5 * result.history[0][1]
    gathered = batches.Batches(data.x, data.y, 16)
    for (_, (xa, ya)), (xb, yb) in zip(gathered.epoch(np.random.default_rng(5)),
                                  batches.batches(data.x, data.y, 16, np.random.default_rng(5))):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
