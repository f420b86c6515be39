"""The identities symdl.functions gives SymPy, held against SymPy's own calculus."""

import math

import numpy as np
import pytest
import sympy as sp

from symdl.functions import explicit, logsumexp, relu, sigmoid, softplus, stabilize

t = sp.Symbol("t", real=True)


@pytest.mark.parametrize("function", [sigmoid, softplus])
def test_derivative_identity_matches_the_definition(function):
    identity = sp.diff(function(t), t)
    from_definition = sp.diff(explicit(function(t)), t)
    assert sp.simplify(explicit(identity) - from_definition) == 0


def test_relu_derivative_is_the_step_away_from_zero():
    derivative = sp.diff(relu(t), t)
    for value in (-2.0, -0.1, 0.1, 3.0):
        assert float(derivative.subs(t, value)) == (1.0 if value > 0 else 0.0)
    assert float(derivative.subs(t, 0)) == 0.0


def test_logsumexp_derivative_is_softmax_for_explicit_classes():
    z = sp.symbols("z0:4", real=True)
    explicit_lse = sp.log(sum(sp.exp(v) for v in z))
    for k in range(4):
        softmax_k = sp.exp(z[k]) / sum(sp.exp(v) for v in z)
        assert sp.simplify(sp.diff(explicit_lse, z[k]) - softmax_k) == 0
    identity = sp.diff(logsumexp(z[1]), z[1]).xreplace({logsumexp(z[1]): explicit_lse})
    assert sp.simplify(identity - sp.exp(z[1]) / sum(sp.exp(v) for v in z)) == 0


def test_stabilize_removes_log_of_sigmoid_and_keeps_the_value():
    y = sp.Symbol("y", real=True)
    loss = -y * sp.log(sigmoid(t)) - (1 - y) * sp.log(1 - sigmoid(t))
    stable = stabilize(loss)
    assert not stable.has(sp.log)
    assert stable == softplus(t) - y * t
    for value in (-3.0, 0.5, 4.0):
        naive = float(explicit(loss).subs({t: value, y: 1}))
        assert math.isclose(float(explicit(stable).subs({t: value, y: 1})), naive, rel_tol=1e-12)


def test_naive_log_sigmoid_overflows_where_softplus_does_not():
    with np.errstate(all="ignore"):
        naive = np.log(1.0 / (1.0 + np.exp(np.float64(1000.0))))
    assert not np.isfinite(naive)
    stable = -(max(1000.0, 0.0) + math.log1p(math.exp(-1000.0)))  # log σ(−1000) = −softplus(1000)
    assert stable == -1000.0
