"""What an implementation hands the harness, and the loops that drive it.

An implementation is a *factory*: ``factory(problem) -> trainer``. Building the trainer is
where it converts the data to its own arrays (torch tensors, JAX device arrays) and is not
timed. The trainer is a pair of plain functions over a *state* the implementation chooses
(NumPy arrays, tensors, JAX arrays): the harness never looks inside the state except through
``to_numpy`` at the end of a run.

Convention for losses: the loss an epoch or step returns is the loss at the parameters it
was given, i.e. computed in the same pass as the gradient, before the update.
"""

from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np

State = Any


@dataclass
class FullBatchTrainer:
    """W1 and W2: one full-batch gradient-descent epoch at a time.

    init()        -> the starting state (W1: θ = zeros(n); W2: (W1, b1, w2, b2) of init_params())
    epoch(state)  -> (mean loss at `state`, state after one gradient step)
    """

    init: Callable[[], State]
    epoch: Callable[[State], tuple]


@dataclass
class MiniBatchTrainer:
    """W3: one RMSprop mini-batch step at a time.

    init()                   -> the starting state (parameters and zeroed RMSprop accumulators)
    step(state, xb, yb)      -> (mean loss over the batch at `state`, state after the update);
                                xb (B, 784) float32 and yb (B,) int64 are NumPy arrays
    params(state)            -> (W1, b1, W2, b2), anything np.asarray accepts; used for accuracy
    """

    init: Callable[[], State]
    step: Callable[[State, np.ndarray, np.ndarray], tuple]
    params: Callable[[State], tuple] = lambda state: state[0]


@dataclass
class Snippet:
    """W4: Python source run in a fresh interpreter until it has the first W1 gradient.

    The code runs after a prelude that defines ``np``, ``theta``, ``X`` and ``y`` (W1 data),
    and must leave the gradient computed (block on asynchronous frameworks).
    ``needs`` names a module that must be importable, else the row reads "not installed";
    ``numba_cache`` runs it twice per repeat: cold (empty NUMBA_CACHE_DIR) then warm (same dir).
    """

    code: str
    needs: Optional[str] = None
    numba_cache: bool = False


def to_numpy(tree):
    """Copy a state (nested tuples/lists/dicts of arrays, tensors or scalars) into NumPy.

    This also makes asynchronous frameworks (JAX) finish their work, so a timed run ends
    only when its last update is really computed.
    """
    if isinstance(tree, (tuple, list)):
        return type(tree)(to_numpy(item) for item in tree)
    if isinstance(tree, dict):
        return {key: to_numpy(value) for key, value in tree.items()}
    if hasattr(tree, "detach"):  # a torch tensor, possibly requiring grad
        tree = tree.detach()
    return np.asarray(tree)


def train_full_batch(trainer: FullBatchTrainer, epochs: int):
    """Run `epochs` epochs from the starting state; return (loss per epoch, final state in NumPy)."""
    state = trainer.init()
    losses = []
    for _ in range(epochs):
        loss, state = trainer.epoch(state)
        losses.append(loss)  # kept as returned: converting each one would stall JAX's pipeline
    return np.array([float(loss) for loss in losses]), to_numpy(state)


def train_minibatch(trainer: MiniBatchTrainer, problem, epochs: int, max_steps: Optional[int] = None):
    """Run `epochs` epochs (or the first `max_steps` steps); return (loss per step, final params)."""
    state = trainer.init()
    losses = []
    for order in problem.epoch_orders(epochs):
        for start in range(0, len(order), problem.batch):
            if max_steps is not None and len(losses) == max_steps:
                break
            batch = order[start : start + problem.batch]
            loss, state = trainer.step(state, problem.x[batch], problem.y[batch])
            losses.append(loss)
    return np.array([float(loss) for loss in losses]), to_numpy(trainer.params(state))


def mnist_accuracy(params, x: np.ndarray, y: np.ndarray) -> float:
    """Fraction of digits whose largest logit is the label (NumPy forward pass, float32)."""
    W1, b1, W2, b2 = params
    hidden = np.maximum(x @ W1.T + b1, 0.0)
    return float(np.mean(np.argmax(hidden @ W2.T + b2, axis=1) == y))
