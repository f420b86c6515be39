"""Property tests (Hypothesis): what holds for every size, parameter point and data set.

1. For every trainable model, at random sizes, random parameters and random data, the
   generated kernel, SymPy's derivative and central finite differences agree.
2. Random malformed input to the public functions never gives a traceback, and never a
   result for input an independent check calls malformed.
"""

from functools import lru_cache

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, example, given, settings, strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

from symdl import sources, train  # noqa: E402
from symdl.check import (FINITE_DIFFERENCE_TOLERANCE, SYMBOLIC_TOLERANCE, SampleProblem,  # noqa: E402
                         relative_error)
from symdl.errors import SymdlError  # noqa: E402
from symdl.model import Model  # noqa: E402

TRAINABLE = [name for name in sources.builtin_names()
             if isinstance(sources.load_derivation(name), Model)]
FEW = settings(max_examples=6, deadline=None, derandomize=True,
               suppress_health_check=[HealthCheck.too_slow])


@lru_cache(maxsize=None)
def problem(name, size):
    """The model written out at one size; SymPy's work is done once per (model, size)."""
    return SampleProblem(sources.load_derivation(name), size=size)


@pytest.mark.parametrize("name", TRAINABLE)
@FEW
@given(size=st.sampled_from([2, 3]), samples=st.integers(1, 6), seed=st.integers(0, 2**32 - 1),
       scale=st.floats(0.1, 2.0))
def test_kernel_sympy_and_finite_differences_agree(name, size, samples, seed, scale):
    p = problem(name, size)
    rng = np.random.default_rng(seed)
    flat = rng.standard_normal(len(p.flat_params())) * scale
    if p.model.features is not None:
        p.samples = samples
        p.inputs = [rng.standard_normal((samples,) + x.shape[1:]) * scale for x in p.inputs]
        if p.model.label is not None and p.model.label.kind == "binary":
            p.y = rng.integers(0, 2, samples).astype(float)
        elif p.model.label is not None and p.model.label.kind == "class":
            p.y = np.full(samples, p.label_value, dtype=np.int64)  # the instance's label
        elif p.model.label is not None:
            p.y = rng.standard_normal(samples) * scale
    kernel_loss, kernel_gradient = p.kernel(flat)
    symbolic = p.symbolic_gradient(flat)
    assert relative_error(kernel_loss, p.symbolic_loss(flat)) <= SYMBOLIC_TOLERANCE
    assert relative_error(kernel_gradient, symbolic) <= SYMBOLIC_TOLERANCE
    assert relative_error(symbolic, p.finite_difference_gradient(flat)) <= \
        10 * FINITE_DIFFERENCE_TOLERANCE


# ---- malformed input ------------------------------------------------------------------------

DTYPES = st.sampled_from([np.float64, np.float32, np.int64, np.bool_, np.complex128])
SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)
FLOATS = st.floats(-1e3, 1e3, width=32) | st.sampled_from([np.nan, np.inf, -np.inf])


def arrays(dtypes=DTYPES, shapes=SHAPES):
    """Arrays of any of `dtypes` and `shapes`, holding NaN and inf where the type allows."""
    def of(dtype):
        if dtype is np.bool_:
            return hnp.arrays(dtype, shapes, elements=st.booleans())
        if dtype is np.int64:
            return hnp.arrays(dtype, shapes, elements=st.integers(-5, 5))
        return hnp.arrays(dtype, shapes, elements=FLOATS)
    return dtypes.flatmap(of)


def well_formed_regression(theta, x, y) -> bool:
    """An independent reading of what multivariate_least_squares accepts."""
    def real(a):
        return a.dtype.kind in "biuf" and np.all(np.isfinite(a.astype(np.float64)))
    if not (real(theta) and real(x) and real(y)) or theta.ndim != 1 or len(theta) == 0:
        return False
    if x.ndim == 1 and len(theta) == 1:
        x = x.reshape(-1, 1)
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] != len(theta):
        return False
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.reshape(-1)
    return y.ndim == 1 and len(y) == len(x)


@settings(FEW, max_examples=60)
@given(theta=arrays(), x=arrays(), y=arrays())
@example(theta=np.array([1.0, -2.0]), x=np.arange(6.0).reshape(3, 2), y=np.ones(3))
@example(theta=np.array([2.0]), x=np.arange(3.0), y=np.ones((3, 1)))
def test_malformed_regression_input_is_refused_or_correct(theta, x, y):
    try:
        found = train.metrics("multivariate_least_squares", {"theta": theta}, x, y)
    except SymdlError:
        assert not well_formed_regression(theta, x, y)
        return
    assert well_formed_regression(theta, x, y), "a result for malformed input"
    x2 = x.reshape(len(x), -1).astype(np.float64)
    expected = np.mean((x2 @ theta.astype(np.float64) - y.reshape(-1)) ** 2)
    assert found["train mse"] == pytest.approx(expected, rel=1e-4, abs=1e-9)


@settings(FEW, max_examples=40)
@given(x=arrays(shapes=hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=5)),
       labels=arrays(st.sampled_from([np.int64, np.float64])),
       hidden=st.integers(-1, 3), classes=st.integers(-1, 4))
@example(x=np.ones((4, 2)), labels=np.array([0, 1, 2, 0]), hidden=2, classes=3)
def test_malformed_classifier_input_is_refused_or_trains(x, labels, hidden, classes):
    try:
        result = train.fit("mnist_mlp", x, labels, sizes={"H": hidden, "C": classes}, epochs=1,
                           optimizer="rmsprop", learning_rate=1e-3, init="glorot_uniform")
    except SymdlError:
        return
    labels = np.asarray(labels).reshape(-1)
    assert x.ndim == 2 and x.shape[0] == len(labels) > 0 and x.shape[1] > 0
    assert hidden >= 1 and classes >= 1 and np.all(np.isfinite(x))
    assert np.all(labels == np.round(labels)) and 0 <= labels.min() and labels.max() < classes
    assert np.isfinite(result.history[-1][1])
    assert result.params["W2"].shape == (classes, hidden)
