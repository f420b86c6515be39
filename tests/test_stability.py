"""Every loss the generator stabilises stays finite, and right, for |z| up to 1e4.

Each loss is a one-parameter model ℓ(w·x) written the way a user writes it; with x = 1 the
kernel's J and ∂J/∂w are held against mpmath evaluating the expression as written, at 50
digits, wherever that true value is finite in float64.
"""

import math

import numpy as np
import pytest
import sympy as sp

from symdl import check, kernels, sources
from symdl.functions import sigmoid
from symdl.generate import files

Z = sp.Symbol("z", real=True)
SWEEP = [-1e4, -1e3, -710.0, -40.0, -1.0, 0.0, 0.5, 40.0, 710.0, 1e3, 1e4]

LOSSES = {
    "log_cosh": "sp.log(sp.cosh(z - y))",
    "log_one_plus_exp": "sp.log(1 + sp.exp(z))",
    "log_exp_minus_plus_one": "sp.log(sp.exp(-z) + 1) + y * z",
    "log_of_explicit_sigmoid": "-sp.log(1 / (1 + sp.exp(-z)))",
    "log_sigmoid": "-y * sp.log(sigmoid(z)) - (1 - y) * sp.log(1 - sigmoid(z))",
    "log_two_exponentials": "sp.log(sp.exp(z) + sp.exp(-z))",
}

MODEL = '''import sympy as sp
from symdl.functions import sigmoid
from symdl.model import Model
derivation = Model("NAME", title="a loss", source="a test")
x = derivation.data("x")
y = derivation.target("y")
w = derivation.param("w")
z = derivation.let("z", w * x)
derivation.loss(LOSS)
'''


def model_file(folder, name, loss):
    path = folder / f"{name}.py"
    path.write_text(MODEL.replace("NAME", name).replace("LOSS", loss))
    files.write([path])
    return path


def exact(loss, value, target):
    """(ℓ, dℓ/dz) at z = value from the expression exactly as written, correct to 30 digits.

    SymPy's evalf raises its working precision until those digits are right, so the
    cancellation in 1 − 1/(1 + e⁻⁷¹⁰) does not reach the reference.
    """
    y = sp.Symbol("y", real=True)
    expr = eval(loss, {"sp": sp, "sigmoid": sigmoid, "z": Z, "y": y}).subs(y, target)
    expr = expr.rewrite(sp.exp)
    point = {Z: sp.Rational(value)}
    return (float(sp.N(expr.subs(point), 30, maxn=20000)),
            float(sp.N(sp.diff(expr, Z).subs(point), 30, maxn=20000)))


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("losses")


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_is_finite_and_exact_for_large_arguments(folder, name):
    module = kernels.load(model_file(folder, name, LOSSES[name]))
    x, y = np.ones(1), np.ones(1) * 0.0
    for value in SWEEP:
        loss, gradient = module.loss_and_gradient(float(value), x, y)
        true_loss, true_gradient = exact(LOSSES[name], value, 0)
        assert math.isfinite(loss) and math.isfinite(gradient), (name, value, loss, gradient)
        assert math.isclose(loss, float(true_loss), rel_tol=1e-12, abs_tol=1e-12), (name, value)
        assert math.isclose(gradient, float(true_gradient), rel_tol=1e-9, abs_tol=1e-12), (name, value)


def test_exp_of_an_affine_map_reports_where_it_overflows(folder):
    """e^z cannot be finite beyond z = 709.78; the check names the exponential and the bound."""
    path = model_file(folder, "poisson_like", "sp.exp(z) - y * z")
    module = kernels.load(path)
    assert math.isfinite(module.loss(700.0, np.ones(1), np.zeros(1)))
    rows = check.check_model(sources.load_derivation(path))
    (stability,) = [r for r in rows if "size 1000" in r.claim]
    assert "e^(w*x) overflows float64 where its argument exceeds 709.78" in stability.evidence
    assert all(r.verdict == "passes" for r in rows), [r.evidence for r in rows]


def test_a_decaying_exponential_gets_no_overflow_note(folder):
    """e^(−(w·x)²) cannot overflow, so the size-1000 row does not talk about overflow."""
    path = model_file(folder, "decaying", "(y - sp.exp(-z**2))**2")
    rows = check.check_model(sources.load_derivation(path))
    (stability,) = [r for r in rows if "size 1000" in r.claim]
    assert stability.verdict == "passes" and "overflow" not in stability.evidence


SOFTMAX_LOSSES = {
    "log_softmax": "-total(y * sp.log(softmax(z)))",
    "log_softmax_written_out": "-total(y * sp.log(sp.exp(z) / total(sp.exp(z))))",
}

SOFTMAX_MODEL = '''import sympy as sp
from symdl.functions import softmax, total
from symdl.model import Model
derivation = Model("NAME", title="a log of a softmax", source="a test", layout="LAYOUT")
x = derivation.data("x", ("k",))
y = derivation.target("y", shape=("k",))
w = derivation.param("w")
z = derivation.let("z", w * x)
derivation.loss(LOSS)
'''
DIRECTION = (1.0, -1.0, 0.5)  # z = w·(1, −1, 0.5): the largest logit grows with |w|


@pytest.mark.parametrize("layout", ["rows", "block"])
@pytest.mark.parametrize("name", sorted(SOFTMAX_LOSSES))
def test_log_of_a_softmax_is_finite_and_exact_for_large_logits(folder, name, layout):
    """−Σ_k y_k log softmax(z)_k, however it is written, is evaluated as log-sum-exp."""
    path = folder / f"{name}_{layout}.py"
    path.write_text(SOFTMAX_MODEL.replace("NAME", f"{name}_{layout}").replace("LAYOUT", layout)
                    .replace("LOSS", SOFTMAX_LOSSES[name]))
    files.write([path])
    module = kernels.load(path)
    x, y = np.array([DIRECTION]), np.array([[0.0, 1.0, 0.0]])  # the label is the smallest logit
    w = sp.Symbol("w", real=True)
    z = [w * sp.nsimplify(d) for d in DIRECTION]
    true = -sp.log(sp.exp(z[1]) / sum(sp.exp(t) for t in z))
    for value in SWEEP:
        loss, gradient = module.loss_and_gradient(float(value), x, y)
        point = {w: sp.Rational(value)}
        assert math.isfinite(loss) and math.isfinite(gradient), (name, value, loss, gradient)
        assert math.isclose(loss, float(sp.N(true.subs(point), 30, maxn=20000)),
                            rel_tol=1e-12, abs_tol=1e-12), (name, value)
        assert math.isclose(gradient, float(sp.N(sp.diff(true, w).subs(point), 30, maxn=20000)),
                            rel_tol=1e-9, abs_tol=1e-12), (name, value)


def test_a_named_sum_is_read_by_name_not_expanded_in_the_loss():
    """rbf_classifier's r = Σ_j (x_j − c_j)²: the stabilised loss reads r. Expanded, it was a
    second sum Σ c² − 2cx + x² that cancels catastrophically once x is far from 0; at
    x = c + 1e6·(1, 1) plus unit noise the expanded form lost every digit."""
    from pathlib import Path
    from symdl.derive import Derived
    from symdl.functions import REDUCTIONS
    path = Path(__file__).parent.parent / "examples" / "models" / "rbf_classifier.py"
    derived = Derived(sources.load_derivation(path))
    r = derived.model.tensors["r"].symbol
    assert r in derived.named_loss.free_symbols
    assert not derived.named_loss.has(*REDUCTIONS)
    module = kernels.load(path)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((20, 2)) + 1e6
    c = x.mean(axis=0)
    distance = ((x - c) ** 2).sum(axis=1)  # no cancellation: each term is a unit-size square
    z = 0.1 + 1.0 * np.exp(-0.5 * distance)
    y = (rng.random(20) > 0.5) * 1.0
    expected = np.mean(np.logaddexp(0, z) - y * z)
    assert math.isclose(module.loss(c, 0.5, 1.0, 0.1, x, y), expected, rel_tol=1e-12)
