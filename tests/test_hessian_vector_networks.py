"""The generated Hessian-vector product of the networks (Pearlmutter's R-pass,
symdl.generate.directional), held against finite differences of the generated gradient and,
independently, second differences of the loss; Newton's method and Newton-CG on it."""

import numpy as np
import pytest

from symdl import kernels, optimizers, train
from symdl.training import divergence, inputs, newton, tiers

NETWORKS = [("mlp_regressor", {"H": 4}), ("mlp_classifier", {"H": 4, "C": 3}),
            ("two_layer_network", {"H": 4})]


def problem(name, sizes, rows=150, features=3, seed=0):
    """Random data and parameters (Glorot-scaled, so the units are neither dead nor
    saturated) for a network, float64: more rows than a block (64), the last block partial."""
    rng = np.random.default_rng(seed)
    spec = kernels.load(name).SPEC
    x = rng.standard_normal((rows, features))
    y = {"real": rng.standard_normal(rows), "binary": (rng.random(rows) < 0.5).astype(float),
         "class": rng.integers(0, sizes.get("C", 2), rows)}[spec["target"][1]]
    dims = inputs.dimension_sizes(spec, x, sizes)
    params = inputs.initial_params(spec, dims, init_scale=1.0, init="glorot_uniform",
                                   seed=seed + 1)
    params = [p + 0.1 * rng.standard_normal(np.shape(p)) for p in params]  # biases off 0
    return x, y, params


def hyper_of(module):
    return inputs.with_hyper(module, module.SPEC, {"alpha": 0.3} if module.SPEC["hypers"] else None)


def clear_of_the_kink(params, x, *directions):
    """Whether every first-layer unit z⁽¹⁾ = W⁽¹⁾x + b⁽¹⁾ (a ReLU's kink at 0) keeps its sign,
    with a factor 10 to spare, over the points θ + Σ±d the differences below evaluate:
    computed here with NumPy, so a difference never straddles a kink."""
    weight, bias = params[0], params[1]
    margin = np.abs(x @ weight.T + bias).min()
    reach = 0.0
    for d in directions:
        shaped = inputs.unflat(d, params)
        reach += np.abs(x @ shaped[0].T + shaped[1]).max()
    return margin > 10 * reach


def moved(params, direction, step):
    return inputs.unflat(inputs.flat(params) + step * direction, params)


@pytest.mark.parametrize("name, sizes", NETWORKS)
def test_the_product_is_the_difference_of_the_gradient(name, sizes):
    """hessian_vector(θ, v) = (∇J(θ + εv) − ∇J(θ − εv))/2ε: truncation O(ε²‖∇³J‖) and
    rounding eps·‖∇J‖/ε, both below 1e-7 of the product at ε = 1e-5; no sample crosses a
    ReLU's kink between θ − εv and θ + εv (`clear_of_the_kink`)."""
    module = hyper_of(kernels.load(name))
    assert module.SPEC["hessian_vector"] and not module.SPEC["hessian"]
    x, y, params = problem(name, sizes)
    step = 1e-5
    for seed in range(3):
        v = np.random.default_rng(10 + seed).standard_normal(inputs.flat(params).size)
        assert clear_of_the_kink(params, x, step * v)
        product = module.hessian_vector(*params, v, x, y)
        ahead = inputs.flat(module.loss_and_gradient(*moved(params, v, step), x, y)[1:])
        behind = inputs.flat(module.loss_and_gradient(*moved(params, v, -step), x, y)[1:])
        np.testing.assert_allclose(product, (ahead - behind) / (2 * step), rtol=0,
                                   atol=1e-5 * np.abs(product).max())


@pytest.mark.parametrize("name, sizes", NETWORKS)
def test_the_product_is_the_second_difference_of_the_loss(name, sizes):
    """uᵀ·(H·v) = [J(θ+εu+εv) − J(θ+εu−εv) − J(θ−εu+εv) + J(θ−εu−εv)]/4ε², from the loss
    kernel alone: truncation O(ε²), rounding about eps·J/ε² ≈ 1e-8 at ε = 1e-4."""
    module = hyper_of(kernels.load(name))
    x, y, params = problem(name, sizes, rows=40, seed=2)  # few rows: none near a kink
    step = 1e-4
    rng = np.random.default_rng(20)
    size = inputs.flat(params).size
    for _ in range(3):
        u, v = rng.standard_normal(size), rng.standard_normal(size)
        assert clear_of_the_kink(params, x, step * u, step * v)

        def loss(a, b, u=u, v=v):
            return module.loss(*moved(params, a * u + b * v, step), x, y)
        second = (loss(1, 1) - loss(1, -1) - loss(-1, 1) + loss(-1, -1)) / (4 * step**2)
        product = module.hessian_vector(*params, v, x, y)
        assert u @ product == pytest.approx(second, rel=1e-5, abs=1e-5 * np.linalg.norm(u)
                                            * np.linalg.norm(product))


def test_the_weighted_product_is_the_difference_of_the_weighted_gradient():
    module = hyper_of(kernels.load("mlp_regressor"))
    x, y, params = problem("mlp_regressor", {"H": 4}, seed=3)
    weights = 3 * np.random.default_rng(4).random(len(y))
    v = np.random.default_rng(5).standard_normal(inputs.flat(params).size)
    step = 1e-5
    product = module.hessian_vector_weighted(*params, v, x, y, weights)
    ahead = module.loss_and_gradient_weighted(*moved(params, v, step), x, y, weights)[1:]
    behind = module.loss_and_gradient_weighted(*moved(params, v, -step), x, y, weights)[1:]
    difference = (inputs.flat(ahead) - inputs.flat(behind)) / (2 * step)
    np.testing.assert_allclose(product, difference, rtol=0, atol=1e-5 * np.abs(product).max())
    assert not np.allclose(product, module.hessian_vector(*params, v, x, y))


@pytest.mark.parametrize("name, lines", [
    ("mlp_classifier", ["R_z1[k] = _v_b1[k] + _dot(_v_W1[k], x_i)",
                        "R_d_z1[k] = R_d_h[k]*(1.0 if z1[k] > 0.0 else 0.0)",
                        "R_d_h[k] = _dot_column(_v_W2, k, d_z2) + _dot_column(W2, k, R_d_z2)"]),
    ("mlp_regressor", ["_rows_affine(_x, _v_W_t, _v_b, R_z1, _size)",
                       "R_d_z1[_r, k] = R_d_h[_r, k]*(1.0 if z1[_r, k] > 0.0 else 0.0)",
                       "R_d_h[_r, k] = _v_v[k]*d_y_hat[_r] + v[k]*R_d_y_hat[_r]"])])
def test_the_kernel_is_named_after_the_derivation(name, lines):
    """The R-statements read as the derivation does (rows layout, then block layout):
    R_z1 = R{W}·x + R{b}, the ReLU's step on R_d_z1, R{W}ᵀ·δ plus Wᵀ·R{δ} back through the
    output layer."""
    with open(kernels.load(name).__file__, encoding="utf-8") as file:
        source = file.read()
    for line in lines:
        assert line in source


def test_a_deep_example_network_gets_the_product_block_by_block(example_models):
    """Two tanh layers (an affine map of an intermediate into a vector: R{W}·h + W·R{h},
    and R{δz} ⊗ h + δz ⊗ R{h}): the block layout's R-pass against the difference of the
    gradient, as above."""
    module = kernels.load(example_models / "deep_tanh_classifier.py")
    spec = module.SPEC
    assert spec["hessian_vector"] and spec["layout"] == "block"
    rng = np.random.default_rng(0)
    x = rng.standard_normal((150, 2))
    y = (rng.random(150) < 0.5).astype(float)
    dims = inputs.dimension_sizes(spec, x, {dim: 4 for dim in spec["training"]["sizes"]})
    params = inputs.initial_params(spec, dims, init_scale=1.0, seed=1)
    v = rng.standard_normal(inputs.flat(params).size)
    step = 1e-5
    product = module.hessian_vector(*params, v, x, y)
    ahead = inputs.flat(module.loss_and_gradient(*moved(params, v, step), x, y)[1:])
    behind = inputs.flat(module.loss_and_gradient(*moved(params, v, -step), x, y)[1:])
    np.testing.assert_allclose(product, (ahead - behind) / (2 * step), rtol=0,
                               atol=1e-5 * np.abs(product).max())


@pytest.mark.parametrize("name", ["huber_regressor", "center_median", "mnist_mlp"])
def test_a_kink_in_the_loss_or_the_blas_layout_keeps_the_difference(name):
    """|r| in the loss (the median's minimum sits on the kink) and the blas layout get no
    R-pass: SPEC says so, and the trainers difference the gradient."""
    module = kernels.load(name)
    assert not module.SPEC["hessian_vector"] and not hasattr(module, "hessian_vector")


def test_newton_on_a_network_returns_to_the_minimum_lbfgs_finds():
    """From a point near the local minimum L-BFGS reaches (a ReLU network has many; from the
    start itself the two methods may well find different ones), Newton with the Hessian built
    from P exact products (P = 17) converges to it quadratically: max |∂J/∂p| ≤ 1e-10 within
    a few iterations, the same J and the same outputs."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 2))
    y = np.sin(x[:, 0]) + x[:, 1] ** 2 + 0.1 * rng.standard_normal(200)
    settings = {"sizes": {"H": 4}, "hyper": {"alpha": 1e-3}, "init": "glorot_uniform", "seed": 5}
    found = train.fit("mlp_regressor", x, y, optimizer="lbfgs", epochs=2000, tol=1e-9,
                      **settings)
    module = kernels.load("mlp_regressor")
    slope = module.loss_and_gradient(*found.params.values(), x, y, alpha=1e-3)[1:]
    assert np.abs(inputs.flat(slope)).max() < 1e-5  # L-BFGS ended at a minimum, to its tests
    start = {k: np.asarray(p) + 1e-2 * rng.standard_normal(np.shape(p))
             for k, p in found.params.items()}
    result = train.fit("mlp_regressor", x, y, optimizer="newton", epochs=50, tol=1e-10,
                       params=start, **settings)
    assert result.converged and result.stop_reason == "gradient" and result.n_iter <= 20
    assert result.history[-1][1] == pytest.approx(found.history[-1][1], rel=1e-9)
    np.testing.assert_allclose(module.predict(*result.params.values(), x),
                               module.predict(*found.params.values(), x), atol=1e-5)


def test_newton_builds_no_hessian_of_too_many_products():
    x = np.random.default_rng(0).standard_normal((20, 2))
    with pytest.raises(optimizers.OptimizerError, match="newton-cg"):
        train.fit("mlp_regressor", x, x[:, 0], optimizer="newton", sizes={"H": 600})


def test_newton_cg_and_the_automatic_step_take_the_generated_product(monkeypatch):
    """newton_cg's and power iteration's products are the kernel's (counted), and CG's
    direction from them is the one differences of the gradient give, to their accuracy."""
    module = hyper_of(kernels.load("two_layer_network"))
    x, y, params = problem("two_layer_network", {"H": 4}, rows=100)
    calls = []
    original = kernels.load("two_layer_network").hessian_vector

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)
    monkeypatch.setattr(kernels.load("two_layer_network"), "hessian_vector", counted)
    gradient = inputs.flat(module.loss_and_gradient(*params, x, y)[1:])
    exact = newton.hessian_vector_product(module, (x, y))
    direction = newton._conjugate_gradients(lambda v: exact(params, v), gradient)
    assert calls

    class Differenced:
        """The module as one without the kernel: newton_cg differences the gradient."""

        def __init__(self):
            self.SPEC = {**module.SPEC, "hessian_vector": False}

        def __getattr__(self, name):
            return getattr(module, name)
    difference = newton.hessian_vector_product(Differenced(), (x, y))
    other = newton._conjugate_gradients(lambda v: difference(params, v), gradient)
    np.testing.assert_allclose(direction, other, rtol=0, atol=1e-6 * np.abs(direction).max())
    calls.clear()
    largest = divergence.largest_curvature(module, params, (x, y))
    assert calls and largest > 0


@pytest.mark.parametrize("name, sizes", NETWORKS)
def test_the_numpy_tier_writes_the_same_product(name, sizes):
    """hessian_vector_numpy, the R-pass as matrix expressions (a small job compiles nothing),
    is the Numba kernel's product up to rounding, and the NumPy tier's view serves it."""
    module = hyper_of(kernels.load(name))
    x, y, params = problem(name, sizes, seed=4)
    v = np.random.default_rng(6).standard_normal(inputs.flat(params).size)
    product = module.hessian_vector(*params, v, x, y)
    np.testing.assert_allclose(module.hessian_vector_numpy(*params, v, x, y), product, rtol=0,
                               atol=1e-12 * np.abs(product).max())
    tier = tiers.NumPyTier(kernels.load(name))
    assert tier.hessian_vector is kernels.load(name).hessian_vector_numpy
