"""The trainer's epochs: batches gathered into reused buffers, the sparse-input kernel equal
to the dense one, and every route through train.fit giving the same model."""

import numpy as np
import pytest

from symdl import datasets, kernels, train
from symdl.training import batches as batches_module
from symdl.training.batches import batches


@pytest.fixture(scope="module")
def digits():
    data = datasets.mnist(n_train=300, n_test=10)
    return np.ascontiguousarray(data.x, dtype=np.float32), data.y.astype(np.int64)


def small_network(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-0.1, 0.1, (16, 784)).astype(np.float32),
            rng.uniform(-0.1, 0.1, 16).astype(np.float32),
            rng.uniform(-0.3, 0.3, (10, 16)).astype(np.float32), np.zeros(10, np.float32)]


def test_sparse_kernel_equals_the_dense_one(digits):
    x, y = digits[0][:40], digits[1][:40]
    module = kernels.load("mnist_mlp")
    assert module.SPEC["sparse_input"] == "W1"
    W1, b1, W2, b2 = small_network()
    nonzero = x != 0
    starts = np.concatenate([[0], np.cumsum(nonzero.sum(axis=1))]).astype(np.int64)
    dense = module.loss_and_gradient(W1, b1, W2, b2, x, y)
    sparse = module.loss_and_gradient_sparse(np.ascontiguousarray(W1.T), b1, W2, b2, x[nonzero],
                                             np.nonzero(nonzero)[1].astype(np.int64), starts, y)
    np.testing.assert_allclose(sparse[0], dense[0], rtol=1e-6)
    np.testing.assert_allclose(sparse[1].T, dense[1], rtol=1e-4, atol=1e-7)
    for got, expected in zip(sparse[2:], dense[2:]):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-7)


def test_a_penalised_model_gets_a_sparse_kernel_with_its_penalty(example_models):
    """elastic_net_mlp_blas: the penalty on W1, W2 is added once per call, its gradient for W1
    transposed like W1's own."""
    module = kernels.load(example_models / "elastic_net_mlp_blas.py")
    assert module.SPEC["penalty"] and module.SPEC["sparse_input"] == "W1"
    rng = np.random.default_rng(0)
    x = rng.standard_normal((30, 3)) * (rng.random((30, 3)) < 0.5)
    y = rng.integers(0, 3, 30)
    params = [rng.uniform(-0.5, 0.5, (16, 3)), rng.uniform(-0.1, 0.1, 16),
              rng.uniform(-0.5, 0.5, (3, 16)), np.zeros(3)]
    nonzero = x != 0
    starts = np.concatenate([[0], np.cumsum(nonzero.sum(axis=1))]).astype(np.int64)
    dense = module.loss_and_gradient(*params, x, y)
    sparse = module.loss_and_gradient_sparse(np.ascontiguousarray(params[0].T), *params[1:],
                                             x[nonzero], np.nonzero(nonzero)[1].astype(np.int64),
                                             starts, y)
    assert module.penalty(*params) > 0.01 * dense[0]  # the penalty weighs in J
    np.testing.assert_allclose(sparse[0], dense[0], rtol=1e-12)
    np.testing.assert_allclose(sparse[1].T, dense[1], rtol=1e-10, atol=1e-12)
    for got, expected in zip(sparse[2:], dense[2:]):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_sparse_and_dense_epochs_train_the_same_model(digits, monkeypatch):
    x, y = digits
    results = []
    monkeypatch.setattr(batches_module, "SPARSE_THREADS", 1024)  # whatever the threads here
    for density in (1.0, 0.0):  # at most 100% non-zero: sparse path; at most 0%: dense path
        monkeypatch.setattr(batches_module, "SPARSE_DENSITY", density)
        results.append(train.fit("mnist_mlp", x, y, optimizer="rmsprop", learning_rate=1e-3,
                                 batch_size=64, epochs=2, params=small_network(),
                                 sizes={"H": 16, "C": 10}))
    sparse, dense = results
    np.testing.assert_allclose([j for _, j in sparse.history], [j for _, j in dense.history],
                               rtol=1e-5)
    for name in dense.params:
        np.testing.assert_allclose(sparse.params[name], dense.params[name], rtol=1e-4, atol=1e-6)
    assert sparse.params["W1"].shape == (16, 784) and sparse.params["W1"].flags.c_contiguous


def test_minibatch_epoch_loss_is_the_sum_of_its_batch_losses(digits):
    x, y = digits
    module = kernels.load("mnist_mlp")
    start = small_network()
    result = train.fit("mnist_mlp", x, y, optimizer="sgd", learning_rate=0.1, batch_size=128,
                       epochs=1, params=[p.copy() for p in start], sizes={"H": 16, "C": 10})
    params, total = start, 0.0  # the same epoch by hand, from the same seed's order
    for xb, yb in batches(x, y, 128, np.random.default_rng(0)):
        loss, *grads = module.loss_and_gradient(*params, xb, yb)
        total += loss * len(xb)
        params = [p - np.float32(0.1) * g for p, g in zip(params, grads)]
    assert result.history[0][1] == pytest.approx(total / len(x), rel=1e-5)
    np.testing.assert_allclose(result.params["W2"], params[2], rtol=1e-4, atol=1e-6)


def test_full_batch_history_is_the_loss_after_each_update():
    data = datasets.houses()
    result = train.fit("multivariate_least_squares", data.x, data.y, learning_rate=0.002,
                       epochs=3)
    module = kernels.load("multivariate_least_squares")
    theta = np.zeros(data.x.shape[1])
    for epoch in range(3):
        theta = theta - 0.002 * module.gradient(theta, data.x, data.y)[0]
        assert result.history[epoch][1] == pytest.approx(module.loss(theta, data.x, data.y),
                                                          rel=1e-12)
