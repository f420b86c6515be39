"""The update rules that turn a gradient into a step.

Gradient descent is the rule of every document: w_u = w − α ∂e/∂w (000/002 "Gradient
Descent II"), m₁ = m₀ − 0.1·MSE′(m₀) (001), θ(k+1) = θ(k) − s·grad J(θ) (003 §3.2).
RMSprop is the optimizer 002's MNIST model compiles with; its Keras form divides by
sqrt(v + ε) (ENGINEERING-NOTES.md), which is the form used here.
"""

import numpy as np


class GradientDescent:
    """p ← p − α·g for every parameter p."""

    def __init__(self, learning_rate):
        self.learning_rate = learning_rate

    def step(self, params, grads):
        updated = []
        for p, g in zip(params, grads):
            if isinstance(p, np.ndarray):
                p -= self.learning_rate * g
                updated.append(p)
            else:
                updated.append(p - self.learning_rate * g)
        return updated


class RMSprop:
    """v ← ρv + (1 − ρ)g², p ← p − α·g/sqrt(v + ε), per parameter element (Keras' form)."""

    def __init__(self, learning_rate=1e-3, rho=0.9, epsilon=1e-7):
        self.learning_rate, self.rho, self.epsilon = learning_rate, rho, epsilon
        self.mean_square = None

    def step(self, params, grads):
        if self.mean_square is None:
            self.mean_square = [np.zeros_like(np.asarray(g)) for g in grads]
        updated = []
        for index, (p, g) in enumerate(zip(params, grads)):
            v = self.mean_square[index]
            v *= self.rho
            v += (1.0 - self.rho) * np.square(g)
            step = self.learning_rate * g / np.sqrt(v + self.epsilon)
            if isinstance(p, np.ndarray):
                p -= step.astype(p.dtype, copy=False)
                updated.append(p)
            else:
                updated.append(p - float(step))
        return updated


OPTIMIZERS = {"gd": GradientDescent, "sgd": GradientDescent, "rmsprop": RMSprop}
