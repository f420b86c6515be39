"""Turn a kernel that returns SUMS over the samples into a trainer the harness can drive.

Document 003 defines the cost as a sum over samples (J = Σ ...), so symdl's generated kernels
return the summed loss and summed gradient; the reference implementations use means. The
adapters divide by the number of samples and apply the update rule of the workload, so a
kernel plugs in without knowing anything about the harness.

Expected kernel signatures (all arrays NumPy, C-contiguous):

    W1  loss_and_gradient(theta, X, y)            -> (sum_loss, grad_theta)
        theta (n,), X (m, n), y (m,) float64

    W2  loss_and_gradient(W1, b1, w2, b2, x, c)   -> (sum_loss, gW1, gb1, gw2, gb2)
        W1 (H, 2), b1 (H,), w2 (H,), b2 float, x (m, 2), c (m,) float64

    W3  loss_and_gradient(W1, b1, W2, b2, x, y)   -> (sum_loss, gW1, gb1, gW2, gb2)
        W1 (512, 784), b1 (512,), W2 (10, 512), b2 (10,), x (B, 784) float32, y (B,) int64;
        sum_loss = Σ over the batch of −log softmax(logits)[label]

Gradients come back with the shapes of their parameters (gb2 of W2 may be a float or 0-d).
"""

import numpy as np

from benchmarks.interfaces import FullBatchTrainer, MiniBatchTrainer
from benchmarks.references import rmsprop_update


def w1_from_sums(loss_and_gradient):
    """Factory for W1: θ ← θ − lr·(Σ gradient)/m, reporting (Σ loss)/m."""

    def factory(problem) -> FullBatchTrainer:
        X, y, lr, m = problem.X, problem.y, problem.lr, problem.m

        def epoch(theta):
            sum_loss, sum_grad = loss_and_gradient(theta, X, y)
            return sum_loss / m, theta - lr * (sum_grad / m)

        return FullBatchTrainer(init=lambda: np.zeros(X.shape[1]), epoch=epoch)

    return factory


def w2_from_sums(loss_and_gradient):
    """Factory for W2: every parameter p ← p − lr·(Σ ∂/∂p)/m, reporting (Σ loss)/m."""

    def factory(problem) -> FullBatchTrainer:
        x, c, lr, m = problem.x, problem.c, problem.lr, len(problem.c)

        def epoch(params):
            sum_loss, *sum_grads = loss_and_gradient(*params, x, c)
            W1, b1, w2, b2 = (p - lr * (g / m) for p, g in zip(params, sum_grads))
            return sum_loss / m, (W1, b1, w2, float(b2))

        return FullBatchTrainer(init=problem.init_params, epoch=epoch)

    return factory


def w3_from_sums(loss_and_gradient):
    """Factory for W3: gradients divided by the batch size, then Keras RMSprop in NumPy."""

    def factory(problem) -> MiniBatchTrainer:
        def init():
            params = problem.init_params()
            return params, tuple(np.zeros_like(p) for p in params)

        def step(state, xb, yb):
            params, velocity = state
            B = len(yb)
            sum_loss, *sum_grads = loss_and_gradient(*params, xb, yb)
            grads = tuple(np.asarray(g, dtype=np.float32) / np.float32(B) for g in sum_grads)
            rmsprop_update(params, grads, velocity, problem)
            return sum_loss / B, state

        return MiniBatchTrainer(init=init, step=step)

    return factory
