"""The vector-parameter models of 001 and 003 §3.2–3.3, against NumPy written from the documents.

Every loss and gradient below is written independently from the formulas the documents print
(003 §3.2 J(θ) = ‖Xθ − y‖², grad J = 2Xᵀ(Xθ − y), H = 2XᵀX; 003 §3.3 the cross-entropy and
grad J = Xᵀ(h_θ(X) − y); 001 p = σ(m₁x + m₂y + b) and its log-likelihood) and compared with
the generated kernels in float64 at rtol 1e-10. Each discrepancy symdl reports is tested
too: the computed value really differs from the printed one. Also symdl.one_vs_rest.
"""

import numpy as np
import pytest
import sympy as sp

from symdl import datasets, kernels, one_vs_rest, train
from symdl.derivations import logistic_regression as logistic
from symdl.derivations import logistic_three_parameter as three
from symdl.derivations import multivariate_least_squares as least_squares
from symdl.derive import explicit_instance
from symdl.errors import DataError, DerivationError, DivergenceError, SingularError
from symdl.functions import explicit
from symdl.sources import load_derivation

from claim_verdicts import verdict_of

RTOL = 1e-10
RNG = np.random.default_rng(20240602)




def sigmoid(t):
    return 1.0 / (1.0 + np.exp(-t))


@pytest.fixture(scope="module")
def houses():
    return datasets.houses()


@pytest.fixture(scope="module")
def dots_with_bias():
    return datasets.two_classes_with_bias()


@pytest.fixture(scope="module")
def dots():
    return datasets.two_classes()


@pytest.fixture(scope="module")
def fitted():
    """Three one-vs-rest logistic classifiers on the blobs, step below 2/λ_max(XᵀX/4)."""
    training = datasets.blobs()
    return training, one_vs_rest.fit("logistic_regression", training.x, training.y, 3,
                                     learning_rate=0.002, epochs=300)


# ---- 003 §3.2 Multivariate Regression ------------------------------------------------------

class TestMultivariateLeastSquares:
    name = "multivariate_least_squares"

    def test_kernel_matches_the_document_formulas(self, houses):
        X, y = houses.x, houses.y
        theta = RNG.normal(size=X.shape[1])
        loss, gradient = kernels.load(self.name).loss_and_gradient(theta, X, y)
        residual = X @ theta - y
        np.testing.assert_allclose(loss, residual @ residual, rtol=RTOL)
        np.testing.assert_allclose(gradient, 2 * X.T @ residual, rtol=RTOL)

    def test_hessian_kernel_is_twice_the_gram_matrix(self, houses):
        X = houses.x
        hessian = kernels.load(self.name).hessian(np.zeros(X.shape[1]), X, houses.y)
        np.testing.assert_allclose(hessian, 2 * X.T @ X, rtol=RTOL)

    def test_closed_form_is_the_least_squares_solution(self, houses):
        exact = train.closed_form(self.name, houses.x, houses.y)["theta"]
        expected, *_ = np.linalg.lstsq(houses.x, houses.y, rcond=None)
        np.testing.assert_allclose(exact, expected, rtol=1e-10)

    def test_dependent_columns_are_refused(self, houses):
        X = houses.x.copy()
        X[:, 2] = 3.0 * X[:, 1]
        with pytest.raises(SingularError, match="dependent columns"):
            train.closed_form(self.name, X, houses.y)

    def test_training_step_is_below_the_stability_bound(self, houses):
        """θ − s·2Xᵀ(Xθ − y) converges iff |1 − s·λ| < 1 for every eigenvalue λ of 2XᵀX."""
        largest = np.linalg.eigvalsh(2 * houses.x.T @ houses.x).max()
        bound = 2 / largest
        step = kernels.load(self.name).SPEC["training"]["learning_rate"]
        assert step < bound
        with pytest.raises(DivergenceError, match=f"below 2/λ_max = {bound:.3g}"):
            train.fit(self.name, houses.x, houses.y, learning_rate=1.1 * bound, epochs=60)

    def test_gradient_descent_reaches_the_closed_form(self):
        result = train.train(self.name)
        assert result.metrics["max |p − closed form|"] < 1e-8

    def test_stable_with_parameters_of_size_1000(self, houses):
        theta = np.full(houses.x.shape[1], 1000.0)
        loss, gradient = kernels.load(self.name).loss_and_gradient(theta, houses.x, houses.y)
        residual = houses.x @ theta - houses.y
        np.testing.assert_allclose(loss, residual @ residual, rtol=RTOL)
        np.testing.assert_allclose(gradient, 2 * houses.x.T @ residual, rtol=RTOL)

    def test_matrix_calculus_agrees_with_the_elementwise_derivative(self):
        problem = least_squares.generic_problem()
        gradient = least_squares.at_instance(least_squares.GRADIENT_MATRIX_FORM, problem)
        assert sp.expand(gradient - least_squares.elementwise_gradient(problem)).is_zero_matrix
        hessian = least_squares.at_instance(least_squares.HESSIAN_MATRIX_FORM, problem)
        assert sp.expand(hessian - least_squares.elementwise_hessian(problem)).is_zero_matrix

    def test_matrix_calculus_guard_catches_a_wrong_result(self):
        problem = least_squares.generic_problem()
        X, theta = least_squares.DESIGN, least_squares.THETA
        with pytest.raises(DerivationError, match="matrix-form"):
            least_squares.held_against_elementwise(
                2 * X.T * X * theta, least_squares.elementwise_gradient(problem), problem, "gradient")

    def test_matrix_gradient_matches_finite_differences(self, houses):
        """SymPy's 2Xᵀ(Xθ − y), lambdified, against central differences of ‖Xθ − y‖²."""
        X, y = houses.x[:6], houses.y[:6]
        problem = least_squares.problem_with(sp.Matrix(X), sp.Matrix(y))
        at = RNG.normal(size=X.shape[1])
        gradient = np.array(least_squares.at_instance(least_squares.GRADIENT_MATRIX_FORM, problem)
                            .subs(dict(zip(problem.theta, at))), dtype=float).ravel()
        cost = lambda t: float(np.sum((X @ t - y) ** 2))  # noqa: E731
        step = 1e-6
        numeric = [(cost(at + step * e) - cost(at - step * e)) / (2 * step) for e in np.eye(len(at))]
        np.testing.assert_allclose(gradient, numeric, rtol=1e-6)

    @pytest.mark.parametrize("words", [
        "= θᵀXᵀXθ − 2yᵀXθ + yᵀy", "2XᵀXθ − 2(yᵀX)ᵀ", "2Xᵀ(Xθ − y)", "2(XᵀX)ᵀ = 2XᵀX",
        "≥ 0", "∂(Qu)/∂u = Qᵀ", "has the solution", "perpendicular", "pseudoinverse",
        "Equation (1)"])
    def test_claims_that_agree(self, words):
        assert verdict_of(self.name, words) == "agrees"

    def test_rows_are_not_what_makes_the_gram_matrix_definite(self, houses):
        X = houses.x
        assert np.linalg.matrix_rank(X) == X.shape[1] < X.shape[0]  # dependent rows
        assert np.linalg.eigvalsh(X.T @ X).min() > 0  # yet XᵀX positive definite
        first = X[:3]
        assert np.linalg.matrix_rank(first) == first.shape[0]  # independent rows
        assert np.linalg.eigvalsh(first.T @ first).min() < 1e-10  # yet XᵀX singular
        assert verdict_of(self.name, "rows of X") == "disagrees"

    def test_quadratic_form_rule_needs_a_symmetric_matrix(self):
        derived = least_squares.derived_quadratic_form_gradient()
        Q = sp.Matrix(3, 3, lambda j, k: sp.Symbol(f"Q_{j}{k}", real=True))
        u = sp.Matrix(3, 1, lambda j, _: sp.Symbol(f"u_{j}", real=True))
        assert sp.expand(derived - (Q + Q.T) * u).is_zero_matrix
        assert not sp.expand(derived - 2 * Q * u).is_zero_matrix
        symmetric = {Q[k, j]: Q[j, k] for j in range(3) for k in range(j)}
        assert sp.expand((derived - 2 * Q * u).xreplace(symmetric)).is_zero_matrix
        assert verdict_of(self.name, "uᵀQu") == "disagrees"


# ---- 003 §3.3 Logistic Regression --------------------------------------------------------

class TestLogisticRegression:
    name = "logistic_regression"

    def test_kernel_matches_the_document_formulas(self, dots_with_bias):
        X, y = dots_with_bias.x, dots_with_bias.y
        theta = RNG.normal(size=X.shape[1])
        loss, gradient = kernels.load(self.name).loss_and_gradient(theta, X, y)
        h = sigmoid(X @ theta)
        np.testing.assert_allclose(loss, np.sum(-y * np.log(h) - (1 - y) * np.log(1 - h)), rtol=RTOL)
        np.testing.assert_allclose(gradient, X.T @ (h - y), rtol=RTOL)

    def test_stable_at_z_of_1000(self):
        X = np.array([[1.0, 1.0], [1.0, -1.0], [1.0, 1.0], [1.0, -1.0]])
        y = np.array([1.0, 1.0, 0.0, 0.0])
        theta = np.array([0.0, 1000.0])  # z = ±1000, two samples right and two badly wrong
        loss, gradient = kernels.load(self.name).loss_and_gradient(theta, X, y)
        z = X @ theta
        np.testing.assert_allclose(loss, np.sum(np.logaddexp(0.0, z) - y * z), rtol=RTOL)
        np.testing.assert_allclose(gradient, X.T @ ((z > 0) - y), rtol=RTOL)

    def test_per_sample_gradient_from_the_definition_of_sigma(self):
        """SymPy's diff of the loss with σ = 1/(1 + e^{−z}) written out is (σ − y)x."""
        derivation = load_derivation(self.name)
        instance = explicit_instance(derivation, {"n": 3})
        loss = explicit(instance.loss)
        z = sum(t * x for t, x in zip(instance.params["theta"], instance.features))
        for theta_j, x_j in zip(instance.params["theta"], instance.features):
            expected = x_j * (1 / (1 + sp.exp(-z)) - instance.label)
            assert sp.simplify(sp.diff(loss, theta_j) - expected) == 0

    def test_decision_boundary_is_theta_x_zero(self, dots_with_bias):
        theta = RNG.normal(size=dots_with_bias.x.shape[1])
        h = kernels.load(self.name).predict(theta, dots_with_bias.x)
        np.testing.assert_array_equal(h >= 0.5, dots_with_bias.x @ theta >= 0)

    @pytest.mark.parametrize("words", ["σ′ = σ(1 − σ)", "is the cross-entropy", "Xᵀ(h_θ(X) − y)",
                                       "decision boundary", "one-vs-rest"])
    def test_claims_that_agree(self, words):
        assert verdict_of(self.name, words) == "agrees"

    def test_printed_target_distribution_is_wrong_for_label_zero(self):
        h = sp.Rational(1, 4)
        printed = logistic.cross_entropy((1, 0), (h, 1 - h))  # p₁ = 1, p₂ = 0 as printed
        loss_at_zero = logistic.PRINTED_CROSS_ENTROPY.subs({logistic.y: 0, logistic.h: h})
        assert printed == -sp.log(h) and loss_at_zero == -sp.log(1 - h)
        assert printed != loss_at_zero
        assert logistic.cross_entropy((0, 1), (h, 1 - h)) == loss_at_zero  # p = (y, 1 − y)
        assert verdict_of(self.name, "p₁ = 1 and p₂ = 0") == "disagrees"

    def test_trains_to_high_accuracy(self):
        assert train.train(self.name).metrics["train accuracy"] >= 0.9


class TestOneVsRest:
    model = "logistic_regression"

    def test_classifies_fresh_blobs(self, fitted):
        _, params_list = fitted
        held_out = datasets.blobs(seed=1)
        predicted = one_vs_rest.predict(self.model, params_list, held_out.x)
        assert np.mean(predicted == held_out.y) >= 0.9

    def test_each_classifier_separates_its_class(self, fitted):
        training, params_list = fitted
        for k, params in enumerate(params_list):
            h = sigmoid(training.x @ params["theta"])
            assert np.mean((h >= 0.5) == (training.y == k)) >= 0.9

    def test_prediction_is_the_highest_score(self, fitted):
        training, params_list = fitted
        scores = np.column_stack([sigmoid(training.x @ p["theta"]) for p in params_list])
        np.testing.assert_allclose(one_vs_rest.scores(self.model, params_list, training.x),
                                   scores, rtol=RTOL)
        np.testing.assert_array_equal(one_vs_rest.predict(self.model, params_list, training.x),
                                      np.argmax(scores, axis=1))

    def test_refuses_bad_input(self, fitted):
        training, params_list = fitted
        with pytest.raises(DataError):
            one_vs_rest.fit(self.model, training.x, training.y, 1)
        with pytest.raises(DataError):
            one_vs_rest.fit(self.model, training.x, training.y, 2)  # label 2 out of range
        with pytest.raises(DataError):
            one_vs_rest.predict(self.model, params_list[:1], training.x)
        with pytest.raises(DerivationError, match="not a binary classifier"):
            one_vs_rest.fit("multivariate_least_squares", training.x, training.y, 3)


# ---- 001 the blue or orange dots ----------------------------------------------------------

class TestLogisticThreeParameter:
    name = "logistic_three_parameter"

    def test_kernel_matches_the_talk_formulas(self, dots):
        weights, b = RNG.normal(size=2), float(RNG.normal())
        loss, g_weights, g_b = kernels.load(self.name).loss_and_gradient(weights, b, dots.x, dots.y)
        p = sigmoid(dots.x @ weights + b)
        c = dots.y
        np.testing.assert_allclose(loss, -np.mean(c * np.log(p) + (1 - c) * np.log(1 - p)), rtol=RTOL)
        np.testing.assert_allclose(g_weights, dots.x.T @ (p - c) / len(c), rtol=RTOL)
        np.testing.assert_allclose(g_b, np.mean(p - c), rtol=RTOL)

    def test_stable_at_z_of_1000(self):
        points = np.array([[1.0, 0.0], [-1.0, 0.0], [1.0, 0.0], [-1.0, 0.0]])
        c = np.array([1.0, 1.0, 0.0, 0.0])
        weights = np.array([1000.0, 0.0])
        loss, g_weights, g_b = kernels.load(self.name).loss_and_gradient(weights, 0.0, points, c)
        z = points @ weights
        np.testing.assert_allclose(loss, np.mean(np.logaddexp(0.0, z) - c * z), rtol=RTOL)
        np.testing.assert_allclose(g_weights, points.T @ ((z > 0) - c) / 4, rtol=RTOL)
        np.testing.assert_allclose(g_b, np.mean((z > 0) - c), rtol=RTOL)

    def test_training_step_is_below_the_curvature_bound(self, dots):
        design = np.column_stack([dots.x, np.ones(len(dots.x))])
        largest_curvature = np.linalg.eigvalsh(design.T @ design / len(design)).max() / 4
        step = kernels.load(self.name).SPEC["training"]["learning_rate"]
        assert step < 2 / largest_curvature

    def test_gradient_descent_reaches_the_maximum_likelihood(self, dots):
        """Newton's method in NumPy finds the minimiser of the mean cross-entropy independently."""
        design = np.column_stack([dots.x, np.ones(len(dots.x))])
        theta = np.zeros(3)
        for _ in range(30):
            p = sigmoid(design @ theta)
            gradient = design.T @ (p - dots.y) / len(p)
            hessian = (design * (p * (1 - p))[:, None]).T @ design / len(p)
            theta -= np.linalg.solve(hessian, gradient)
        result = train.train(self.name)
        trained = np.append(result.params["weights"], result.params["b"])
        np.testing.assert_allclose(trained, theta, atol=1e-3)
        assert result.metrics["train accuracy"] >= 0.9

    def test_decision_rule_is_the_sign_of_z(self, dots):
        weights, b = RNG.normal(size=2), float(RNG.normal())
        p = kernels.load(self.name).predict(weights, b, dots.x)
        np.testing.assert_array_equal(p >= 0.5, dots.x @ weights + b >= 0)

    def test_printed_parenthesisation_differs_from_the_mean(self):
        values = {three.LABELS[0]: 1, three.LABELS[1]: 0, three.LABELS[2]: 1,
                  three.PROBABILITIES[0]: sp.Rational(3, 4), three.PROBABILITIES[1]: sp.Rational(1, 3),
                  three.PROBABILITIES[2]: sp.Rational(1, 2)}
        printed = float(three.printed_cost(three.LABELS, three.PROBABILITIES).subs(values))
        mean = np.mean([np.log(3 / 4), np.log(1 - 1 / 3), np.log(1 / 2)])
        assert abs(printed - mean) > 0.1
        assert verdict_of(self.name, "parenthesised as printed") == "disagrees"

    def test_descending_the_talks_cost_lowers_the_likelihood(self, dots):
        before, after = three.log_likelihood_after_talk_step()
        assert after < before
        module = kernels.load(self.name)
        _, g_weights, g_b = module.loss_and_gradient(np.zeros(2), 0.0, dots.x, dots.y)
        corrected = module.loss(-0.1 * g_weights, -0.1 * g_b, dots.x, dots.y)
        assert -corrected * len(dots.y) > before  # descending −J raises it
        assert verdict_of(self.name, "fits the dots better") == "disagrees"

    def test_likelihood_is_not_its_logarithm(self):
        labelling = (1, 0, 1)
        probabilities = (0.75, 1 / 3, 0.5)
        product = np.prod([p if c == 1 else 1 - p for c, p in zip(labelling, probabilities)])
        log_form = np.mean([c * np.log(p) + (1 - c) * np.log(1 - p)
                            for c, p in zip(labelling, probabilities)])
        assert product > 0 > log_form
        assert np.isclose(np.log(product) / 3, log_form)
        assert verdict_of(self.name, "first line of the cost equals the second") == "disagrees"
        assert verdict_of(self.name, "logs convert the product") == "agrees"

    def test_decision_boundary_claim_agrees(self):
        assert verdict_of(self.name, "decision boundary is the line") == "agrees"
