"""The reference implementations: NumPy (gradients by hand), PyTorch and JAX (autodiff).

Each function is a factory ``f(problem) -> trainer`` (see interfaces.py). The NumPy versions
write the gradient out by hand, as the documents do; PyTorch and JAX derive it with their
autodiff, which is what symdl's SymPy-derived kernels are measured against. PyTorch and JAX
are imported inside the factories, so a missing framework only disables its own rows.

The loss is written with each framework's numerically stable softplus
(softplus(z) = log(1 + e^z)), so no implementation overflows for large |z|.
"""

import numpy as np
from scipy.special import expit as sigmoid  # NumPy has no stable sigmoid ufunc; SciPy's is one

from benchmarks.environment import import_jax, import_torch
from benchmarks.interfaces import FullBatchTrainer, MiniBatchTrainer


def softplus(z):
    """log(1 + e^z) without overflow."""
    return np.logaddexp(0.0, z)


# ====================================================================== W1: logistic regression


def w1_numpy(problem) -> FullBatchTrainer:
    X, y, lr, m = problem.X, problem.y, problem.lr, problem.m

    def epoch(theta):
        z = X @ theta
        loss = np.mean(softplus(z) - y * z)
        grad = X.T @ (sigmoid(z) - y) / m
        return loss, theta - lr * grad

    return FullBatchTrainer(init=lambda: np.zeros(X.shape[1]), epoch=epoch)


def w1_torch(problem) -> FullBatchTrainer:
    torch = import_torch()
    F = torch.nn.functional
    X, y = torch.from_numpy(problem.X), torch.from_numpy(problem.y)  # shares NumPy's memory
    lr = problem.lr

    def epoch(theta):
        theta = theta.detach().requires_grad_()
        z = X @ theta
        loss = (F.softplus(z) - y * z).mean()
        (grad,) = torch.autograd.grad(loss, theta)
        return loss.detach(), theta.detach() - lr * grad

    return FullBatchTrainer(init=lambda: torch.zeros(X.shape[1], dtype=torch.float64), epoch=epoch)


def w1_jax(problem) -> FullBatchTrainer:
    jax = import_jax()
    jnp = jax.numpy
    X, y = jnp.asarray(problem.X), jnp.asarray(problem.y)  # a device copy of the data
    lr = problem.lr

    def loss_fn(theta, X, y):
        z = X @ theta
        return jnp.mean(jax.nn.softplus(z) - y * z)

    # X and y are arguments, not closure constants: captured arrays would be baked into the
    # compiled program as constants.
    @jax.jit
    def step(theta, X, y):
        loss, grad = jax.value_and_grad(loss_fn)(theta, X, y)
        return loss, theta - lr * grad

    return FullBatchTrainer(
        init=lambda: jnp.zeros(X.shape[1], dtype=jnp.float64),
        epoch=lambda theta: step(theta, X, y),
    )


# ====================================================================== W2: two-layer sigmoid net


def w2_numpy(problem) -> FullBatchTrainer:
    """Backpropagation by hand through z1 = x W1ᵀ + b1, a1 = σ(z1), z2 = a1·w2 + b2."""
    x, c, lr, m = problem.x, problem.c, problem.lr, len(problem.c)

    def epoch(params):
        W1, b1, w2, b2 = params
        a1 = sigmoid(x @ W1.T + b1)  # (m, H)
        z2 = a1 @ w2 + b2  # (m,)
        loss = np.mean(softplus(z2) - c * z2)
        dz2 = (sigmoid(z2) - c) / m  # ∂loss/∂z2
        dz1 = np.outer(dz2, w2) * a1 * (1.0 - a1)  # ∂loss/∂z1, using σ' = σ(1 − σ)
        grads = (dz1.T @ x, dz1.sum(axis=0), a1.T @ dz2, dz2.sum())
        return loss, tuple(p - lr * g for p, g in zip(params, grads))

    return FullBatchTrainer(init=problem.init_params, epoch=epoch)


def w2_torch(problem) -> FullBatchTrainer:
    torch = import_torch()
    F = torch.nn.functional
    x, c, lr = torch.from_numpy(problem.x), torch.from_numpy(problem.c), problem.lr

    def init():
        W1, b1, w2, b2 = problem.init_params()
        return tuple(torch.as_tensor(p, dtype=torch.float64) for p in (W1, b1, w2, b2))

    def epoch(params):
        params = tuple(p.detach().requires_grad_() for p in params)
        W1, b1, w2, b2 = params
        z2 = torch.sigmoid(x @ W1.T + b1) @ w2 + b2
        loss = (F.softplus(z2) - c * z2).mean()
        grads = torch.autograd.grad(loss, params)
        return loss.detach(), tuple(p.detach() - lr * g for p, g in zip(params, grads))

    return FullBatchTrainer(init=init, epoch=epoch)


def w2_jax(problem) -> FullBatchTrainer:
    jax = import_jax()
    jnp = jax.numpy
    x, c, lr = jnp.asarray(problem.x), jnp.asarray(problem.c), problem.lr

    def loss_fn(params, x, c):
        W1, b1, w2, b2 = params
        z2 = jax.nn.sigmoid(x @ W1.T + b1) @ w2 + b2
        return jnp.mean(jax.nn.softplus(z2) - c * z2)

    @jax.jit
    def step(params, x, c):
        loss, grads = jax.value_and_grad(loss_fn)(params, x, c)
        return loss, tuple(p - lr * g for p, g in zip(params, grads))

    def init():
        return tuple(jnp.asarray(p, dtype=jnp.float64) for p in problem.init_params())

    return FullBatchTrainer(init=init, epoch=lambda params: step(params, x, c))


# ====================================================================== W3: MNIST, RMSprop, float32


def rmsprop_update(params, grads, velocity, problem):
    """Keras RMSprop, in place on NumPy arrays: v ← ρv + (1−ρ)g², p ← p − lr·g/sqrt(v + eps).

    (torch.optim.RMSprop divides by sqrt(v) + eps instead, which is why no optimizer class is
    used anywhere in this suite.)
    """
    lr, rho, eps = problem.lr, problem.rho, problem.eps
    for p, g, v in zip(params, grads, velocity):
        v *= rho
        v += (1.0 - rho) * g * g
        p -= lr * g / np.sqrt(v + eps)


def w3_numpy(problem) -> MiniBatchTrainer:
    """Forward and backward by hand; log-softmax with the row maximum subtracted."""

    def init():
        params = problem.init_params()
        return params, tuple(np.zeros_like(p) for p in params)

    def step(state, xb, yb):
        params, velocity = state
        W1, b1, W2, b2 = params
        B = len(yb)
        hidden = np.maximum(xb @ W1.T + b1, 0.0)  # (B, 512)
        logits = hidden @ W2.T + b2  # (B, 10)
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -log_probs[np.arange(B), yb].mean()
        dlogits = np.exp(log_probs)  # softmax
        dlogits[np.arange(B), yb] -= 1.0
        dlogits /= B  # ∂loss/∂logits for the batch mean
        dhidden = (dlogits @ W2) * (hidden > 0)
        grads = (dhidden.T @ xb, dhidden.sum(axis=0), dlogits.T @ hidden, dlogits.sum(axis=0))
        rmsprop_update(params, grads, velocity, problem)
        return loss, state

    return MiniBatchTrainer(init=init, step=step)


def w3_torch(problem) -> MiniBatchTrainer:
    torch = import_torch()
    F = torch.nn.functional
    lr, rho, eps = problem.lr, problem.rho, problem.eps

    def init():
        params = tuple(torch.tensor(p, requires_grad=True) for p in problem.init_params())
        return params, tuple(torch.zeros_like(p, requires_grad=False) for p in params)

    def step(state, xb, yb):
        params, velocity = state
        W1, b1, W2, b2 = params
        xb, yb = torch.from_numpy(xb), torch.from_numpy(yb)
        logits = torch.relu(xb @ W1.T + b1) @ W2.T + b2
        loss = F.cross_entropy(logits, yb)  # mean over the batch of −log softmax[label]
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g, v in zip(params, grads, velocity):
                v.mul_(rho).addcmul_(g, g, value=1.0 - rho)
                p.sub_(lr * g / torch.sqrt(v + eps))
        return loss.detach(), state

    return MiniBatchTrainer(init=init, step=step)


def w3_jax(problem) -> MiniBatchTrainer:
    jax = import_jax()
    jnp = jax.numpy
    lr, rho, eps = problem.lr, problem.rho, problem.eps

    def loss_fn(params, xb, yb):
        W1, b1, W2, b2 = params
        logits = jax.nn.relu(xb @ W1.T + b1) @ W2.T + b2
        log_probs = jax.nn.log_softmax(logits, axis=1)
        return -jnp.mean(jnp.take_along_axis(log_probs, yb[:, None], axis=1))

    @jax.jit  # compiles twice: once for full batches of 128, once for the last partial batch
    def update(params, velocity, xb, yb):
        loss, grads = jax.value_and_grad(loss_fn)(params, xb, yb)
        velocity = tuple(rho * v + (1.0 - rho) * g * g for v, g in zip(velocity, grads))
        params = tuple(p - lr * g / jnp.sqrt(v + eps) for p, g, v in zip(params, grads, velocity))
        return loss, params, velocity

    def init():
        params = tuple(jnp.asarray(p, dtype=jnp.float32) for p in problem.init_params())
        return params, tuple(jnp.zeros_like(p) for p in params)

    def step(state, xb, yb):
        loss, params, velocity = update(*state, xb, yb.astype(np.int32))
        return loss, (params, velocity)

    return MiniBatchTrainer(init=init, step=step)
