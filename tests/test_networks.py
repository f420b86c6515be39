"""Tests for the network derivations and the matrix pictures.

derivations/two_layer_network.py (001 "Neural networks!"), mnist_mlp.py (002 "A Real
Example", 004 "MLP networks"), affine_collapse.py (000 "What Is ϱ(h) and Why Do We Need It?")
and unit_square.py (000/002 "Matrix Translation" ... "Matris Transformation: Affine").

Every generated kernel is held against a plain NumPy implementation written here from the
documents' formulas, not from symdl; every discrepancy reported to the lead is tested to be a
real difference in value.
"""

import math

import numpy as np
import pytest
import sympy as sp
from sympy.matrices import ShapeError

from symdl import sources, train
from symdl.derive import Derived, chain_rule, explicit_instance
from symdl.functions import explicit
from symdl.generate import files
from symdl.prose import plain

from claim_verdicts import verdicts

NAMES = ["two_layer_network", "mnist_mlp", "affine_collapse", "unit_square"]
MODELS = ["two_layer_network", "mnist_mlp"]


@pytest.fixture(scope="module", autouse=True)
def generated_files():
    files.write(MODELS)


@pytest.mark.parametrize("name", NAMES)
def test_derivation_loads_and_renders(name):
    from symdl import render
    derivation = sources.load_derivation(name)
    assert derivation.name == name
    assert render.render(derivation)
    assert "?" not in render.render(derivation, latex=True).replace("Need It?", "")


@pytest.mark.parametrize("name", MODELS)
def test_generated_file_is_fresh(name):
    assert files.stale([name]) == []


# ---- two_layer_network ---------------------------------------------------------------------

def numpy_sigmoid(t):
    return 0.5 * (1.0 + np.tanh(0.5 * t))


def two_layer_reference(theta1, b1, theta2, b2, point, colour):
    """001: a = σ(θ⁽¹⁾(x, y) + b⁽¹⁾), p = σ(θ⁽²⁾·a + b⁽²⁾), mean cross-entropy; backprop by hand.

    The gradients are the slide's (p − c)·aₖ and (p − c)θₖ⁽²⁾aₖ(1 − aₖ)xⱼ for every k, j,
    averaged over the samples, with b⁽²⁾ and b⁽¹⁾ getting the same products without aₖ and xⱼ.
    """
    m = len(colour)
    z1 = point @ theta1.T + b1
    a = numpy_sigmoid(z1)
    z2 = a @ theta2 + b2
    p = numpy_sigmoid(z2)
    loss = -np.mean(colour * np.log(p) + (1 - colour) * np.log(1 - p))
    error = p - colour
    hidden_error = error[:, None] * theta2[None, :] * a * (1 - a)
    return (loss, hidden_error.T @ point / m, hidden_error.mean(axis=0), a.T @ error / m,
            error.mean())


def two_layer_problem(seed=0, m=13, hidden=5):
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal((hidden, 2)), rng.standard_normal(hidden),
              rng.standard_normal(hidden), float(rng.standard_normal())]
    point = rng.standard_normal((m, 2))
    colour = rng.integers(0, 2, m).astype(float)
    return params, point, colour


def test_two_layer_kernel_matches_numpy_reference():
    from symdl.generated import two_layer_network as kernels
    params, point, colour = two_layer_problem()
    expected = two_layer_reference(*params, point, colour)
    got = kernels.loss_and_gradient(*params, point, colour)
    for e, g in zip(expected, got):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-14)
    assert kernels.loss(*params, point, colour) == pytest.approx(expected[0], rel=1e-10)
    np.testing.assert_allclose(kernels.predict(*params[:4], point),
                               numpy_sigmoid(numpy_sigmoid(point @ params[0].T + params[1])
                                             @ params[2] + params[3]), rtol=1e-10)


def test_two_layer_kernel_matches_finite_differences_of_reference():
    from symdl.generated import two_layer_network as kernels
    params, point, colour = two_layer_problem(seed=1)
    _, *gradients = kernels.loss_and_gradient(*params, point, colour)
    step = 1e-6
    for index, (value, gradient) in enumerate(zip(params, gradients)):
        flat = np.atleast_1d(np.array(value, dtype=float)).ravel()
        numeric = np.empty_like(flat)
        for position in range(flat.size):
            moved = []
            for sign in (1, -1):
                shifted = flat.copy()
                shifted[position] += sign * step
                trial = list(params)
                trial[index] = shifted.reshape(np.shape(value)) if np.ndim(value) else shifted[0]
                moved.append(two_layer_reference(*trial, point, colour)[0])
            numeric[position] = (moved[0] - moved[1]) / (2 * step)
        np.testing.assert_allclose(np.ravel(gradient), numeric, rtol=1e-6, atol=1e-8)


def test_chain_rule_matches_sympy_diff_of_fully_substituted_loss():
    """derive.chain_rule's product, evaluated element by element, against diff of the instance."""
    from symdl.derivations import two_layer_network as tln
    model = tln.derivation
    sizes = {"H": 2, "n": 2}
    instance = explicit_instance(model, sizes)
    loss = explicit(instance.loss)
    products = {p.name: sp.Mul(*[f.value for f in chain_rule(Derived(model), p)[0]])
                for p in model.params}
    rng = np.random.default_rng(7)
    for _ in range(5):
        values = {}
        for p in model.params:
            element = instance.params[p.name]
            for s in (sp.flatten(element.tolist()) if isinstance(element, sp.Array) else [element]):
                values[s] = rng.standard_normal()
        for s in instance.features:
            values[s] = rng.standard_normal()
        values[instance.label] = float(rng.integers(0, 2))
        theta1 = np.array([[values[instance.params["theta1"][k, j]] for j in range(2)]
                           for k in range(2)])
        b1 = np.array([values[instance.params["b1"][k]] for k in range(2)])
        theta2 = np.array([values[instance.params["theta2"][k]] for k in range(2)])
        point = np.array([values[s] for s in instance.features])
        a = numpy_sigmoid(theta1 @ point + b1)
        p = numpy_sigmoid(theta2 @ a + values[instance.params["b2"]])
        forward = {tln.p: p, tln.colour: values[instance.label]}
        for name, element_symbols in (("theta1", instance.params["theta1"]),
                                      ("b1", instance.params["b1"]),
                                      ("theta2", instance.params["theta2"]),
                                      ("b2", instance.params["b2"])):
            indices = (np.ndindex(*element_symbols.shape) if isinstance(element_symbols, sp.Array)
                       else [()])
            for index in indices:
                symbol = element_symbols[index] if index else element_symbols
                k = index[0] if index else 0
                at = dict(forward)
                at.update({tln.a: a[k], tln.theta2: theta2[k]})
                if name == "theta1":
                    at[tln.point] = point[index[1]]
                chain_value = float(products[name].xreplace(at))
                direct = float(sp.diff(loss, symbol).xreplace(values))
                assert chain_value == pytest.approx(direct, rel=1e-10, abs=1e-14)


def test_two_layer_stable_at_saturated_units():
    from symdl.generated import two_layer_network as kernels
    params, point, colour = two_layer_problem(seed=2, m=4)
    colour = np.array([0.0, 1.0, 0.0, 1.0])
    theta1, b1, theta2, _ = params
    for b2 in (1000.0, -1000.0):
        loss, *grads = kernels.loss_and_gradient(theta1 * 1000, b1, np.zeros_like(theta2), b2,
                                                 point, colour)
        assert math.isfinite(loss)
        assert loss == pytest.approx(1000.0 / 2, rel=1e-12)  # half the samples are wrong by 1000
        assert all(np.all(np.isfinite(g)) for g in grads)


def test_slide_derivatives_really_differ_in_sign_from_its_own_J():
    from symdl.derivations import two_layer_network as tln
    p, c = tln.p, tln.C
    printed = (p - c) / (p * (1 - p))
    of_slide_J = sp.diff(c * sp.log(p) + (1 - c) * sp.log(1 - p), p)
    assert sp.simplify(of_slide_J - printed) != 0
    assert sp.simplify(of_slide_J + printed) == 0
    at = {p: 0.3, c: 1.0}
    assert float(of_slide_J.subs(at)) == pytest.approx(-float(printed.subs(at)))
    assert sp.simplify(tln.slide_gradient(tln.THETA2_1) + (p - c) * tln.A_1) == 0
    printed_inner = (p - c) * tln.THETA2_1 * tln.A_1 * (1 - tln.A_1) * tln.X
    assert sp.simplify(tln.slide_gradient(tln.THETA1_11) + printed_inner) == 0
    assert sp.simplify(tln.cross_entropy_gradient("theta1") - printed_inner) == 0


def test_two_layer_verdicts():
    found = verdicts("two_layer_network")
    assert [v for s, v in found.items() if "as the slide defines it" in s or "for J =" in s] \
        == ["disagrees"] * 3
    assert [v for s, v in found.items() if "cross-entropy" in s] == ["agrees"] * 2
    assert list(found.values()).count("agrees") == 6


def test_two_layer_network_separates_the_moons():
    result = train.train("two_layer_network")
    assert result.metrics["train accuracy"] >= 0.95


# ---- mnist_mlp -----------------------------------------------------------------------------

def mlp_reference(W1, b1, W2, b2, x, label):
    """002/004 in NumPy float64: h = ReLU(W⁽¹⁾x + b⁽¹⁾), z = W⁽²⁾h + b⁽²⁾, mean −log softmax(z)_y."""
    m = len(label)
    z1 = x @ W1.T + b1
    h = np.maximum(z1, 0.0)
    z2 = h @ W2.T + b2
    top = z2.max(axis=1, keepdims=True)
    log_partition = top[:, 0] + np.log(np.exp(z2 - top).sum(axis=1))
    loss = np.mean(log_partition - z2[np.arange(m), label])
    d_z2 = (np.exp(z2 - log_partition[:, None]) - np.eye(W2.shape[0])[label]) / m
    d_z1 = (d_z2 @ W2) * (z1 > 0)
    return loss, d_z1.T @ x, d_z1.sum(axis=0), d_z2.T @ h, d_z2.sum(axis=0)


def mlp_problem(seed=0, m=37, n=20, hidden=16, classes=10, dtype=np.float64):
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal((hidden, n)) / np.sqrt(n), rng.standard_normal(hidden) * 0.1,
              rng.standard_normal((classes, hidden)) / np.sqrt(hidden),
              rng.standard_normal(classes) * 0.1]
    x = rng.random((m, n))
    label = rng.integers(0, classes, m)
    return [p.astype(dtype) for p in params], x.astype(dtype), label


def test_mlp_kernel_matches_numpy_reference_float64():
    from symdl.generated import mnist_mlp as kernels
    params, x, label = mlp_problem()
    expected = mlp_reference(*params, x, label)
    got = kernels.loss_and_gradient(*params, x, label)
    for e, g in zip(expected, got):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-15)
    assert kernels.loss(*params, x, label) == pytest.approx(expected[0], rel=1e-10)
    z2 = np.maximum(x @ params[0].T + params[1], 0) @ params[2].T + params[3]
    np.testing.assert_allclose(kernels.predict(*params, x), z2, rtol=1e-10)


def test_mlp_gradient_does_not_depend_on_batch_size_beyond_the_mean():
    """The same sample repeated m times has the gradient of one sample (the 1/m once)."""
    from symdl.generated import mnist_mlp as kernels
    params, x, label = mlp_problem(m=1)
    single = kernels.loss_and_gradient(*params, x, label)
    repeated = kernels.loss_and_gradient(*params, np.repeat(x, 9, axis=0), np.repeat(label, 9))
    for s, r in zip(single, repeated):
        np.testing.assert_allclose(r, s, rtol=1e-12, atol=1e-15)


def test_mlp_kernel_in_float32_at_mnist_sizes():
    """Float32 kernels against the float64 reference: 784 pixels summed in float32 keep about
    six significant digits, so rtol 1e-4 with an absolute floor of 1e-5 of the largest entry."""
    from symdl.generated import mnist_mlp as kernels
    params, x, label = mlp_problem(seed=3, m=64, n=784, hidden=512, dtype=np.float32)
    expected = mlp_reference(*[p.astype(np.float64) for p in params], x.astype(np.float64), label)
    got = kernels.loss_and_gradient(*params, x, label)
    for e, g in zip(expected, got):
        np.testing.assert_allclose(np.asarray(g, dtype=np.float64), e, rtol=1e-4,
                                   atol=1e-5 * np.max(np.abs(e)))
    assert all(np.asarray(g).dtype == np.float32 for g in got[1:])


def test_mlp_stable_at_logits_of_1000():
    from symdl.generated import mnist_mlp as kernels
    params, x, _ = mlp_problem(m=3)
    W1, b1, W2, _ = params
    b2 = np.zeros(10)
    b2[0], b2[1] = 1000.0, -1000.0
    W2 = np.zeros_like(W2)
    label = np.array([0, 1, 2])
    loss, *grads = kernels.loss_and_gradient(W1, b1, W2, b2, x, label)
    assert math.isfinite(loss)
    assert loss == pytest.approx((0.0 + 2000.0 + 1000.0) / 3, rel=1e-12)
    assert all(np.all(np.isfinite(g)) for g in grads)
    np.testing.assert_allclose(grads[3], mlp_reference(W1, b1, W2, b2, x, label)[4], atol=1e-15)


def test_generated_softmax_gradient_keeps_the_exponent_together():
    """exp(z − lse) cannot overflow; exp(z)·exp(−lse) is inf·0 = nan at z = 1000."""
    text = (sources.generated_dir() / "mnist_mlp.py").read_text()
    assert "_exp(-lse_rows[i] + z2[i, c])" in text
    assert "_exp(z2[i, c])" not in text


def test_softmax_identity_matches_explicit_diff():
    from symdl.derivations import mnist_mlp as mlp
    assert sp.simplify(mlp.identity_gradient() - mlp.explicit_gradient()).is_zero_matrix
    rng = np.random.default_rng(4)
    logits = rng.standard_normal(mlp.CLASSES_SHOWN)
    values = dict(zip(mlp.logits, logits))
    softmax = np.exp(logits) / np.exp(logits).sum()
    softmax[mlp.LABEL_SHOWN] -= 1.0
    np.testing.assert_allclose(np.array(mlp.explicit_gradient().subs(values), dtype=float).ravel(),
                               softmax, rtol=1e-12)


def test_an_epoch_is_63_forward_backward_cycles_not_one():
    from symdl.derivations import mnist_mlp as mlp
    assert mlp.forward_backward_cycles_per_epoch() == 63 == math.ceil(8000 / 128)
    assert verdicts("mnist_mlp")["one forward pass followed by one backward pass is an epoch"] \
        == "disagrees"


def test_mnist_mlp_reaches_95_percent_median_test_accuracy():
    """002's "greater than 95%": the median of three trainings on 8,000 images (about a minute)."""
    from symdl.derivations import mnist_mlp as mlp
    runs = mlp.trained_accuracies()
    assert all(test > 0.93 and train_accuracy > test for _, train_accuracy, test in runs)
    assert mlp.median_test_accuracy_above(0.95)


# ---- affine_collapse -----------------------------------------------------------------------

def test_printed_shapes_are_refused_by_sympy():
    from symdl.derivations import affine_collapse as ac
    with pytest.raises(ShapeError):
        ac.W1 * ac.X + ac.B1_AS_PRINTED
    with pytest.raises(ShapeError):
        ac.W2 * ac.B1_AS_PRINTED
    assert not ac.printed_shapes_are_defined()


def test_corrected_collapse_holds_symbolically_and_numerically():
    from symdl.derivations import affine_collapse as ac
    assert ac.collapses_symbolically()
    assert (ac.W2 * ac.W1).shape == (1, 3) and (ac.W2 * ac.B1 + ac.B2).shape == (1, 1)
    explicit_two = ac.two_layers().subs(ac.N, 5).as_explicit()
    explicit_one = ac.one_layer().subs(ac.N, 5).as_explicit()
    assert sp.expand(explicit_two - explicit_one).is_zero_matrix
    rng = np.random.default_rng(11)
    x, w1, b1 = rng.random((3, 9)), rng.random((4, 3)), rng.random((4, 1))
    w2, b2 = rng.random((1, 4)), rng.random((1, 1))
    np.testing.assert_allclose(w2 @ (w1 @ x + b1) + b2, (w2 @ w1) @ x + (w2 @ b1 + b2),
                               rtol=1e-12)
    assert verdicts("affine_collapse") == {
        plain(ac.derivation.claims[0].statement): "disagrees",
        plain(ac.derivation.claims[1].statement): "agrees"}


def test_collapse_claim_fails_when_the_layers_do_not_collapse():
    """With a ReLU between the layers the two forms differ: the check can fail."""
    rng = np.random.default_rng(12)
    x, w1, b1 = rng.standard_normal((3, 9)), rng.standard_normal((4, 3)), rng.standard_normal((4, 1))
    w2, b2 = rng.standard_normal((1, 4)), rng.standard_normal((1, 1))
    with_relu = w2 @ np.maximum(w1 @ x + b1, 0) + b2
    assert not np.allclose(with_relu, (w2 @ w1) @ x + (w2 @ b1 + b2))


# ---- unit_square ---------------------------------------------------------------------------

def test_printed_rotation_turns_counterclockwise_by_10_03_degrees():
    from symdl.derivations import unit_square as us
    printed = np.array([[np.cos(0.175), -np.sin(0.175)], [np.sin(0.175), np.cos(0.175)]])
    image = printed @ np.array([1.0, 0.0])
    assert image[1] > 0
    assert np.linalg.det(printed) == pytest.approx(1.0)
    assert math.degrees(math.atan2(image[1], image[0])) == pytest.approx(10.0268, abs=1e-4)
    assert us.turning_angle_degrees() == pytest.approx(10.0268, abs=1e-4)
    clockwise_10 = np.array([[np.cos(math.radians(-10)), -np.sin(math.radians(-10))],
                             [np.sin(math.radians(-10)), np.cos(math.radians(-10))]])
    assert not np.allclose(printed, clockwise_10, atol=1e-2)
    swapped = np.array([[np.cos(0.175), np.sin(0.175)], [-np.sin(0.175), np.cos(0.175)]])
    assert np.allclose(swapped, clockwise_10, atol=1e-3)


def test_transformed_squares():
    from symdl.derivations import unit_square as us
    square = np.array(us.SQUARE, dtype=float)
    np.testing.assert_allclose(np.array(us.translated(), dtype=float), square + 0.2)
    np.testing.assert_allclose(np.array(us.scaled(), dtype=float), 0.5 * square)
    rotation = np.array([[np.cos(0.175), -np.sin(0.175)], [np.sin(0.175), np.cos(0.175)]])
    np.testing.assert_allclose(np.array(us.rotated().evalf(), dtype=float), rotation @ square,
                               rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(np.array(us.affine().evalf(), dtype=float),
                               rotation @ square + 0.2, rtol=1e-14)


def test_unit_square_verdicts():
    found = verdicts("unit_square")
    assert found["the direction of the turn: rotated by negative 10 degrees (clockwise)"] \
        == "disagrees"
    assert list(found.values()).count("agrees") == 4
