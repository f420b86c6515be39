"""The generated files' polynomial exp, log, log1p, tanh, σ and softplus against libm.

Each helper is run the way the kernels run it: inlined into a FASTMATH loop. Its results
over a dense sweep of its whole domain (extremes, subnormals, ±inf and NaN included) are held
against libm evaluated in long double, at the maximum relative error its docstring states.
"""

import re
import warnings

import numba
import numpy as np
import pytest

from symdl import kernels

if np.finfo(np.longdouble).eps >= np.finfo(np.float64).eps:
    pytest.skip("needs a long double wider than float64 for the reference", allow_module_level=True)

KERNELS = kernels.load("logistic_regression")
L = np.longdouble
TINY = np.finfo(np.float64).tiny
SPECIALS = np.array([0.0, -0.0, 5e-324, -5e-324, 1e-310, -1e-310, TINY, -TINY, 1e-300, -1e-300,
                     1.0, -1.0, np.inf, -np.inf, np.nan, 1.7976931348623157e308,
                     -1.7976931348623157e308])


def _sweep(lo, hi, count=100_000, seed=0):
    rng = np.random.default_rng(seed)
    return np.concatenate([np.linspace(lo, hi, count), rng.uniform(lo, hi, count)])


def _magnitudes(count=100_000):
    """Positive floats across every binade, subnormals to the largest."""
    rng = np.random.default_rng(1)
    return np.concatenate([np.geomspace(5e-324, 1.7976931348623157e308, count),
                           np.ldexp(rng.uniform(1.0, 2.0, count), rng.integers(-1074, 1024, count))])


with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    DOMAINS = {
        "_exp": (np.concatenate([_sweep(-746, 710), _sweep(-1, 1), _sweep(-745.2, -708),
                                 _sweep(709, 709.8), SPECIALS]),
                 lambda x: np.exp(x)),
        "_log": (np.concatenate([_magnitudes(), _sweep(0.5, 2), -_magnitudes(1000), SPECIALS]),
                 lambda x: np.log(x)),
        "_log1p": (np.concatenate([_magnitudes(), -_magnitudes() * 1e-308, _sweep(-1, 1),
                                   _sweep(-1, -0.99), [-1.0, -1.0 + 2.0 ** -53, -2.0], SPECIALS]),
                   lambda x: np.log1p(x)),
        "_tanh": (np.concatenate([_sweep(-20, 20), _sweep(-1e-3, 1e-3), _magnitudes(),
                                  -_magnitudes(), SPECIALS]),
                  lambda x: np.tanh(x)),
        "_sigmoid": (np.concatenate([_sweep(-760, 760), _sweep(-1, 1), _magnitudes(),
                                     -_magnitudes(), SPECIALS]),
                     lambda x: 1 / (1 + np.exp(-x))),
        "_softplus": (np.concatenate([_sweep(-760, 760), _sweep(-1, 1), _magnitudes(),
                                      -_magnitudes(), SPECIALS]),
                      lambda x: np.logaddexp(L(0), x)),
    }


def elementwise(helper):
    @numba.njit(fastmath=KERNELS.FASTMATH, error_model="numpy")
    def run(x, out):
        for i in range(x.shape[0]):
            out[i] = helper(x[i])
    return run


def stated_bound(helper) -> float:
    found = re.search(r"max relative error ([0-9.e-]+)", helper.py_func.__doc__)
    assert found, f"{helper.__name__}'s docstring must state its measured maximum error"
    return float(found.group(1))


@pytest.mark.parametrize("name", DOMAINS)
def test_helper_matches_libm_over_its_domain(name):
    helper = getattr(KERNELS, name)
    x, reference = DOMAINS[name]
    got = np.empty_like(x)
    elementwise(helper)(x, got)
    with np.errstate(all="ignore"):
        exact = reference(x.astype(L))
        rounded = exact.astype(np.float64)
    same = (got == rounded) | (np.isnan(got) & np.isnan(rounded))
    assert np.array_equal(np.isnan(got), np.isnan(rounded)), "NaN where libm has none, or none where it has"
    assert np.array_equal(np.isinf(got), np.isinf(rounded)), "inf where libm is finite, or the reverse"
    with np.errstate(all="ignore"):
        error = np.where(same, 0, np.abs(got.astype(L) - exact) / np.maximum(np.abs(exact), L(TINY)))
    worst = int(np.argmax(error))
    assert error[worst] <= stated_bound(helper), (
        f"{name}({x[worst]!r}) = {got[worst]!r}, libm {exact[worst]!r}: "
        f"relative error {float(error[worst]):.3g} above the stated bound")


def test_helpers_keep_the_sign_of_zero_and_propagate_nan():
    zeros = np.array([0.0, -0.0])
    out = np.empty(2)
    elementwise(KERNELS._tanh)(zeros, out)
    assert np.array_equal(np.signbit(out), [False, True])
    for name in DOMAINS:
        nan = np.array([np.nan])
        elementwise(getattr(KERNELS, name))(nan, got := np.empty(1))
        assert np.isnan(got[0]), name
