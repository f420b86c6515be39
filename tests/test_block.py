"""The block layout and the rule that chooses a layout.

Block kernels are held against plain NumPy written here (not from symdl) on data small
enough for one chunk (serial) and large enough for several (the prange loop over chunks, with
partial blocks), and their sums must not depend on the number of threads.
"""

import copy

import numba
import numpy as np
import pytest
import scipy.special

from symdl import kernels, sources
from symdl.errors import DerivationError
from symdl.generate.block import BlockEmitter
from symdl.generate.files import layout_of
from symdl.derive import Derived

SIZES = [1, 70, 40_000]  # one partial block; one chunk; 4 chunks of partial blocks


def sigmoid(t):
    return scipy.special.expit(t)


def logistic_reference(theta, x, y):
    """003 §3.3: J = Σ −y log h − (1 − y) log(1 − h), ∇J = Xᵀ(h − y)."""
    z = x @ theta
    h = sigmoid(z)
    return np.sum(np.logaddexp(0, z) - y * z), x.T @ (h - y)


def two_layer_reference(theta1, b1, theta2, b2, point, colour):
    """001: a = σ(θ⁽¹⁾x + b⁽¹⁾), p = σ(θ⁽²⁾·a + b⁽²⁾), mean cross-entropy and its backprop."""
    a = sigmoid(point @ theta1.T + b1)
    z2 = a @ theta2 + b2
    p = sigmoid(z2)
    m = len(colour)
    d_z2 = (p - colour) / m
    d_z1 = (d_z2[:, None] * theta2) * a * (1 - a)
    loss = np.mean(np.logaddexp(0, z2) - colour * z2)
    return loss, d_z1.T @ point, d_z1.sum(0), a.T @ d_z2, d_z2.sum()


def close(got, expected):
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12 * max(1.0, np.max(np.abs(e))))


@pytest.mark.parametrize("m", SIZES)
def test_logistic_block_kernel_matches_numpy(m):
    module = kernels.load("logistic_regression")
    assert module.SPEC["layout"] == "block"
    rng = np.random.default_rng(m)
    x = rng.standard_normal((m, 7))
    y = (rng.random(m) < 0.5).astype(float)
    theta = rng.standard_normal(7)
    close(module.loss_and_gradient(theta, x, y), logistic_reference(theta, x, y))
    np.testing.assert_allclose(module.loss(theta, x, y), logistic_reference(theta, x, y)[0], rtol=1e-12)
    np.testing.assert_allclose(module.predict(theta, x), sigmoid(x @ theta), rtol=1e-13)


@pytest.mark.parametrize("m", SIZES)
@pytest.mark.parametrize("hidden", [3, 16])
def test_two_layer_block_kernel_matches_numpy(m, hidden):
    module = kernels.load("two_layer_network")
    assert module.SPEC["layout"] == "block"
    rng = np.random.default_rng(m + hidden)
    params = (rng.standard_normal((hidden, 2)), rng.standard_normal(hidden),
              rng.standard_normal(hidden), 0.3)
    point = rng.standard_normal((m, 2))
    colour = (rng.random(m) < 0.5).astype(float)
    expected = two_layer_reference(*params, point, colour)
    close(module.loss_and_gradient(*params, point, colour), expected)
    np.testing.assert_allclose(module.loss(*params, point, colour), expected[0], rtol=1e-12)
    probability = sigmoid(sigmoid(point @ params[0].T + params[1]) @ params[2] + params[3])
    np.testing.assert_allclose(module.predict(*params, point), probability, rtol=1e-13)


def test_sums_do_not_depend_on_the_thread_count():
    module = kernels.load("two_layer_network")
    rng = np.random.default_rng(3)
    params = (rng.standard_normal((8, 2)), rng.standard_normal(8), rng.standard_normal(8), 0.1)
    point = rng.standard_normal((50_000, 2))
    colour = (rng.random(50_000) < 0.5).astype(float)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = module.loss_and_gradient(*params, point, colour)
        numba.set_num_threads(threads)
        many = module.loss_and_gradient(*params, point, colour)
    finally:
        numba.set_num_threads(threads)
    for a, b in zip(one, many):
        assert np.array_equal(a, b)


def test_the_serial_and_the_parallel_loop_over_chunks_add_the_same_sums(monkeypatch):
    """Data of several chunks runs the prange loop; the serial loop over the same chunks (what
    one chunk runs, and what test_numpy_tier runs several through) gives the same bits."""
    module = kernels.load("two_layer_network")
    rng = np.random.default_rng(4)
    params = (rng.standard_normal((8, 2)), rng.standard_normal(8), rng.standard_normal(8), 0.1)
    point = rng.standard_normal((40_000, 2))
    colour = (rng.random(40_000) < 0.5).astype(float)
    assert len(module._chunk_bounds(len(point))) > 2
    parallel = module.loss_and_gradient(*params, point, colour)
    monkeypatch.setattr(module, "_chunked", lambda bounds, serial, parallel: serial)
    serial = module.loss_and_gradient(*params, point, colour)
    for a, b in zip(serial, parallel):
        assert np.array_equal(a, b)


def test_the_layout_rule():
    chosen = {name: layout_of(sources.load_derivation(name))
              for name in ("logistic_regression", "two_layer_network", "mnist_mlp",
                           "paraboloid_gradient", "univariate_least_squares")}
    assert chosen == {"logistic_regression": "block", "two_layer_network": "block",
                      "mnist_mlp": "blas", "paraboloid_gradient": "rows",
                      "univariate_least_squares": "block"}


def test_a_named_layout_overrides_the_rule():
    model = copy.copy(sources.load_derivation("logistic_regression"))  # the loaded one is shared
    model.layout = "rows"
    assert layout_of(model) == "rows"


def test_block_layout_refuses_what_it_cannot_express():
    model = sources.load_derivation("paraboloid_gradient")
    with pytest.raises(DerivationError, match="block layout cannot express"):
        BlockEmitter(Derived(model))


@pytest.mark.parametrize("layout", ["block", "rows"])
def test_a_call_read_by_several_statements_is_computed_once_per_row(tmp_path, layout):
    """ŷ = Σ_i a_i·tanh(c_i·x): forward and backward read the same three tanh values, which the
    kernel computes once per row (into buffers _f0[_r]… in block, variables _f0… in rows), and
    the gradient stays right."""
    from symdl import check
    from symdl.generate import files
    path = tmp_path / "tanh_sum.py"
    path.write_text('''"""Three tanh features."""
import sympy as sp
from symdl.model import Model, Training
derivation = Model("tanh_sum", title="t", source="none", reduction="mean", layout="LAYOUT",
                   training=Training(dataset="floor_areas", learning_rate=1e-3, epochs=3))
x = derivation.data("x")
y = derivation.target("y")
a = [derivation.param(f"a{i}") for i in range(3)]
y_hat = derivation.let("y_hat", sum(a[i] * sp.tanh(x * (i + 1) / 2) for i in range(3)))
derivation.loss((y - y_hat) ** 2)
derivation.output(y_hat)
'''.replace("LAYOUT", layout))
    files.write([path])
    text = (tmp_path / "generated" / "tanh_sum.py").read_text()
    fused = text.split("def _loss_and_gradient_of_rows(")[1].split("\ndef ")[0]
    assert fused.count("_tanh(") == 3
    assert ("_f2[_r] = _tanh(" if layout == "block" else "_f2 = _tanh(") in fused
    rows = check.check_model(sources.load_derivation(path))
    assert all(r.verdict == "passes" for r in rows), [(r.claim, r.evidence) for r in rows]
