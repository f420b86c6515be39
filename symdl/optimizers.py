"""The update rules that turn a gradient into a step, compiled and in place.

Gradient descent is the rule of every document: w_u = w − α ∂e/∂w (000/002 "Gradient
Descent II"), m₁ = m₀ − 0.1·MSE′(m₀) (001), θ(k+1) = θ(k) − s·grad J(θ) (003 §3.2).
RMSprop is the optimizer 002's MNIST model compiles with; its Keras form divides by
sqrt(v + ε) (docs/engineering.md, 'RMSprop and ε'), which is the form used here. Momentum,
Nesterov and Adam are the rules users of PyTorch and Keras expect; each docstring states
its exact form.

Every rule is one small `@numba.njit` loop over a parameter's elements that updates the
parameter and the rule's state in place: a step allocates nothing, whatever the size of the
model. Each has a NumPy twin of the same arithmetic in the same order (`NUMPY_RULES`), which a
rule runs instead when `compiled` is False: a job on the kernels' NumPy tier
(symdl.training.tiers) then compiles nothing at all, its update rule included. Weight decay is *decoupled* (Loshchilov & Hutter's AdamW form): before the rule's
step, p ← p − α·λ·p, for every parameter; for plain gradient descent that is the same as an
L2 penalty (λ/2)‖p‖² added to J, for Adam and RMSprop it is not (the decay is not rescaled
by the adaptive denominators).

    >>> rule = make("adam", 1e-3)                     # or Adam(1e-3, weight_decay=1e-2)
    >>> params = rule.step(params, grads)             # arrays updated in place, floats returned
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numba
import numpy as np

from symdl.errors import SymdlError


class OptimizerError(SymdlError, ValueError):
    """An optimizer name or setting that symdl does not know or cannot use."""


NJIT: dict[str, Any] = dict(cache=True, error_model="numpy")


@numba.njit(**NJIT)
def _decay(p, keep):
    """p ← keep·p with keep = 1 − α·λ: decoupled weight decay."""
    flat = p.reshape(p.size)
    for i in range(flat.size):
        flat[i] *= keep


@numba.njit(**NJIT)
def _descend(p, g, rate):
    """p ← p − α·g."""
    flat, grad = p.reshape(p.size), g.reshape(g.size)
    for i in range(flat.size):
        flat[i] -= rate * grad[i]


@numba.njit(**NJIT)
def _momentum(p, g, velocity, rate, mu, nesterov):
    """v ← μ·v + g; p ← p − α·v (heavy ball) or p ← p − α·(g + μ·v) (Nesterov)."""
    flat, grad, v = p.reshape(p.size), g.reshape(g.size), velocity.reshape(velocity.size)
    for i in range(flat.size):
        v[i] = mu * v[i] + grad[i]
        flat[i] -= rate * (grad[i] + mu * v[i] if nesterov else v[i])


@numba.njit(**NJIT)
def _rmsprop(p, g, mean_square, rate, rho, one_minus_rho, epsilon):
    """v ← ρ·v + (1 − ρ)·g²; p ← p − α·g / sqrt(v + ε)."""
    flat, grad, v = p.reshape(p.size), g.reshape(g.size), mean_square.reshape(mean_square.size)
    for i in range(flat.size):
        v[i] = rho * v[i] + one_minus_rho * grad[i] * grad[i]
        flat[i] -= rate * grad[i] / np.sqrt(v[i] + epsilon)


@numba.njit(**NJIT)
def _adam(p, g, first, second, rate, beta1, one_minus_beta1, beta2, one_minus_beta2, epsilon,
          unbias1, unbias2):
    """m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²; p ← p − α·m̂ / (sqrt(v̂) + ε),
    with m̂ = m·unbias1 and v̂ = v·unbias2."""
    flat, grad = p.reshape(p.size), g.reshape(g.size)
    m, v = first.reshape(first.size), second.reshape(second.size)
    for i in range(flat.size):
        m[i] = beta1 * m[i] + one_minus_beta1 * grad[i]
        v[i] = beta2 * v[i] + one_minus_beta2 * grad[i] * grad[i]
        flat[i] -= rate * (m[i] * unbias1) / (np.sqrt(v[i] * unbias2) + epsilon)


def _decay_numpy(p, keep):
    p *= keep


def _descend_numpy(p, g, rate):
    p -= rate * g


def _momentum_numpy(p, g, velocity, rate, mu, nesterov):
    velocity *= mu
    velocity += g
    p -= rate * (g + mu * velocity) if nesterov else rate * velocity


def _rmsprop_numpy(p, g, mean_square, rate, rho, one_minus_rho, epsilon):
    mean_square *= rho
    mean_square += one_minus_rho * g * g
    p -= rate * g / np.sqrt(mean_square + epsilon)


def _adam_numpy(p, g, first, second, rate, beta1, one_minus_beta1, beta2, one_minus_beta2,
                epsilon, unbias1, unbias2):
    first *= beta1
    first += one_minus_beta1 * g
    second *= beta2
    second += one_minus_beta2 * g * g
    p -= rate * (first * unbias1) / (np.sqrt(second * unbias2) + epsilon)


NUMPY_RULES = {_decay: _decay_numpy, _descend: _descend_numpy, _momentum: _momentum_numpy,
               _rmsprop: _rmsprop_numpy, _adam: _adam_numpy}
"""Each compiled rule's NumPy twin: whole-array statements, the same operations in the same
order, so both give the same numbers; they allocate temporaries, and compile nothing."""


class Optimizer:
    """A first-order rule: `step(params, grads)` updates array parameters in place.

    Scalar parameters (Python floats) are returned updated; `states` are the per-parameter
    arrays a rule keeps (velocities, running moments), made on the first step. The settings
    reach the compiled loop in the parameter's own precision, so a float32 model is updated
    in float32 arithmetic (twice the SIMD width), as Keras and PyTorch do. With `compiled`
    False the rule's NumPy twin runs instead (`NUMPY_RULES`).
    """

    states_per_param = 0
    compiled = True

    def __init__(self, learning_rate=0.1, *, weight_decay=0.0):
        self.learning_rate = float(learning_rate)
        self.weight_decay = float(weight_decay)
        if not (self.learning_rate > 0 and math.isfinite(self.learning_rate)):
            raise OptimizerError(f"learning_rate must be a positive number, not {learning_rate!r}")
        if not (self.weight_decay >= 0 and math.isfinite(self.weight_decay)):
            raise OptimizerError(f"weight_decay must be ≥ 0, not {weight_decay!r}")
        self.states = None
        self.steps = 0

    def step(self, params, grads):
        """Apply one update; returns the parameter list (the same arrays, new floats)."""
        if self.states is None:
            self.states = [[np.zeros(np.shape(g) or (1,), dtype=np.asarray(g).dtype
                                     if isinstance(g, np.ndarray) else np.float64)
                            for _ in range(self.states_per_param)] for g in grads]
        self.steps += 1
        updated = []
        for p, g, state in zip(params, grads, self.states):
            scalar = not isinstance(p, np.ndarray)
            array = np.array([p], dtype=np.float64) if scalar else p
            grad = np.array([g], dtype=np.float64) if scalar else np.asarray(g)
            if self.weight_decay:
                keep = array.dtype.type(1.0 - self.learning_rate * self.weight_decay)
                self.rule(_decay)(array, keep)
            self.update(*flat_views(array, grad, *state), kind=array.dtype.type)
            updated.append(float(array[0]) if scalar else array)
        return updated

    def update(self, p, g, *state, kind):
        """The rule's step for one parameter; `kind` casts a setting to p's precision."""
        raise NotImplementedError

    def rule(self, compiled_rule):
        """The compiled rule, or its NumPy twin when `compiled` is False."""
        return compiled_rule if self.compiled else NUMPY_RULES[compiled_rule]


def flat_views(parameter, gradient, *states):
    """The parameter, its gradient and the rule's state as 1-D arrays, so that a rule compiles
    once per precision, not once per number of dimensions. The parameter and the states are
    updated in place, so they are viewed, never copied: a parameter that is not contiguous
    is passed as it is."""
    if not parameter.flags.c_contiguous:
        return [parameter, gradient, *states]
    return [parameter.reshape(-1), np.ascontiguousarray(gradient).reshape(-1),
            *(state.reshape(-1) for state in states)]


class GradientDescent(Optimizer):
    """p ← p − α·g for every parameter p (full batch: "gd"; mini-batches: "sgd")."""

    def update(self, p, g, *, kind):
        self.rule(_descend)(p, g, kind(self.learning_rate))


class Momentum(Optimizer):
    """Heavy-ball momentum, PyTorch's form: v ← μ·v + g, p ← p − α·v (v₀ = 0).

    nesterov=True takes Nesterov's look-ahead in the same form as torch.optim.SGD:
    p ← p − α·(g + μ·v) with the v just updated.
    """

    states_per_param = 1

    def __init__(self, learning_rate=0.01, momentum=0.9, *, nesterov=False, weight_decay=0.0):
        super().__init__(learning_rate, weight_decay=weight_decay)
        if not 0.0 <= momentum < 1.0:
            raise OptimizerError(f"momentum must be in [0, 1), not {momentum!r}")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    def update(self, p, g, velocity, *, kind):
        self.rule(_momentum)(p, g, velocity, kind(self.learning_rate), kind(self.momentum),
                             self.nesterov)


class RMSprop(Optimizer):
    """v ← ρv + (1 − ρ)g², p ← p − α·g/sqrt(v + ε), per parameter element (Keras' form)."""

    states_per_param = 1

    def __init__(self, learning_rate=1e-3, rho=0.9, epsilon=1e-7, *, weight_decay=0.0):
        super().__init__(learning_rate, weight_decay=weight_decay)
        self.rho, self.epsilon = float(rho), float(epsilon)

    def update(self, p, g, mean_square, *, kind):
        self.rule(_rmsprop)(p, g, mean_square, kind(self.learning_rate), kind(self.rho),
                            kind(1.0 - self.rho), kind(self.epsilon))


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015, Algorithm 1), the defaults of the paper and of PyTorch.

    m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g², m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ),
    p ← p − α·m̂/(sqrt(v̂) + ε), with t the number of steps taken (1 on the first).
    With weight_decay > 0 this is AdamW (the decay decoupled, see the module docstring).
    """

    states_per_param = 2

    def __init__(self, learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8, *,
                 weight_decay=0.0):
        super().__init__(learning_rate, weight_decay=weight_decay)
        if not (0.0 <= beta1 < 1.0 and 0.0 <= beta2 < 1.0):
            raise OptimizerError(f"beta1 and beta2 must be in [0, 1), not {beta1!r}, {beta2!r}")
        self.beta1, self.beta2, self.epsilon = float(beta1), float(beta2), float(epsilon)

    def update(self, p, g, first, second, *, kind):
        b1, b2 = self.beta1, self.beta2
        self.rule(_adam)(p, g, first, second, kind(self.learning_rate), kind(b1), kind(1.0 - b1),
                         kind(b2), kind(1.0 - b2), kind(self.epsilon),
                         kind(1.0 / (1.0 - b1 ** self.steps)), kind(1.0 / (1.0 - b2 ** self.steps)))


OPTIMIZERS: dict[str, Callable[..., Optimizer]] = {
    "gd": GradientDescent, "sgd": GradientDescent, "momentum": Momentum,
    "nesterov": lambda rate, **kw: Momentum(rate, nesterov=True, **kw),
    "rmsprop": RMSprop, "adam": Adam}
# Second-order and quasi-Newton methods run whole minimisations, not steps (symdl.train).
METHODS = ("lbfgs", "newton", "newton-cg")

STEPPED = ("gd", "sgd", "momentum", "nesterov")
"""The rules whose step, when not given on the user's own data, comes from the curvature at
the start (learning_rate="auto": symdl.training.divergence.automatic_step). RMSprop and Adam
scale their steps per parameter themselves and keep the derivation's rate."""


def names() -> tuple:
    """Every optimizer name `train.fit(optimizer=...)` accepts."""
    return tuple(OPTIMIZERS) + METHODS


def make(optimizer, learning_rate) -> Optimizer:
    """An Optimizer from a name (with `learning_rate`) or an Optimizer passed as it is."""
    if isinstance(optimizer, Optimizer):
        return optimizer
    if optimizer not in OPTIMIZERS:
        raise OptimizerError(f"unknown optimizer {optimizer!r}; choose one of "
                             f"{', '.join(names())}, or pass an Optimizer such as "
                             f"symdl.optimizers.Adam(1e-3, weight_decay=1e-2)")
    return OPTIMIZERS[optimizer](learning_rate)
