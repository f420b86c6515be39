"""Turn a kernel ``loss_and_gradient`` into a trainer the harness can drive.

A kernel returns the loss and its gradient either summed over the samples (document 003
defines J as a SUM) or averaged; ``reduction`` says which ("sum" or "mean"; symdl's generated
modules state it in ``SPEC["reduction"]``). The reference implementations use means, so the
adapters divide sums by the number of samples, then apply the update rule of the workload.
A kernel therefore plugs in without knowing anything about the harness.

Expected kernel signatures (all arrays NumPy, C-contiguous):

    W1  loss_and_gradient(theta, X, y)            -> (loss, grad_theta)
        theta (n,), X (m, n), y (m,) float64

    W2  loss_and_gradient(W1, b1, w2, b2, x, c)   -> (loss, gW1, gb1, gw2, gb2)
        W1 (H, 2), b1 (H,), w2 (H,), b2 float, x (m, 2), c (m,) float64

    W3  loss_and_gradient(W1, b1, W2, b2, x, y)   -> (loss, gW1, gb1, gW2, gb2)
        W1 (512, 784), b1 (512,), W2 (10, 512), b2 (10,), x (B, 784) float32, y (B,) int64;
        loss = Σ (or mean) over the batch of −log softmax(logits)[label]

Gradients come back with the shapes of their parameters (gb2 of W2 may be a float or 0-d).
"""

import numpy as np

from benchmarks.interfaces import FullBatchTrainer, MiniBatchTrainer
from benchmarks.references import rmsprop_update


def _divisor(reduction: str, count: int) -> int:
    """What to divide the kernel's loss and gradient by to get means."""
    if reduction not in ("sum", "mean"):
        raise ValueError(f"reduction must be 'sum' or 'mean', not {reduction!r}")
    return count if reduction == "sum" else 1


def w1_from_kernel(loss_and_gradient, reduction: str = "sum"):
    """Factory for W1: θ ← θ − lr·(mean gradient), reporting the mean loss."""

    def factory(problem) -> FullBatchTrainer:
        X, y, lr = problem.X, problem.y, problem.lr
        divisor = _divisor(reduction, problem.m)

        def epoch(theta):
            loss, grad = loss_and_gradient(theta, X, y)
            return loss / divisor, theta - lr * (grad / divisor)

        return FullBatchTrainer(init=lambda: np.zeros(X.shape[1]), epoch=epoch)

    return factory


def w2_from_kernel(loss_and_gradient, reduction: str = "sum"):
    """Factory for W2: every parameter p ← p − lr·(mean ∂/∂p), reporting the mean loss."""

    def factory(problem) -> FullBatchTrainer:
        x, c, lr = problem.x, problem.c, problem.lr
        divisor = _divisor(reduction, len(c))

        def epoch(params):
            loss, *grads = loss_and_gradient(*params, x, c)
            W1, b1, w2, b2 = (p - lr * (g / divisor) for p, g in zip(params, grads))
            return loss / divisor, (W1, b1, w2, float(b2))

        return FullBatchTrainer(init=problem.init_params, epoch=epoch)

    return factory


def w3_from_kernel(loss_and_gradient, reduction: str = "sum"):
    """Factory for W3: mean gradient over the batch, then Keras RMSprop in NumPy."""

    def factory(problem) -> MiniBatchTrainer:
        def init():
            params = problem.init_params()
            return params, tuple(np.zeros_like(p) for p in params)

        def step(state, xb, yb):
            params, velocity = state
            divisor = np.float32(_divisor(reduction, len(yb)))
            loss, *grads = loss_and_gradient(*params, xb, yb)
            grads = tuple(np.asarray(g, dtype=np.float32) / divisor for g in grads)
            rmsprop_update(params, grads, velocity, problem)
            return loss / divisor, state

        return MiniBatchTrainer(init=init, step=step)

    return factory
