"""Terms of the cost that depend on the parameters only: λ‖θ‖², L1, elastic net, norms.

The penalty R(θ) is added once to J; the kernel's J and ∂J/∂θ are held against SymPy and
finite differences of the written-out cost (check.check_model), in the rows layout here and
in the blas layout by examples/models/elastic_net_mlp_blas.py (tests/test_examples.py).
"""

import numpy as np
import pytest

from symdl import check, kernels, sources, train
from symdl.errors import DerivationError
from symdl.generate import files
from symdl.generate.files import layout_of

MODEL = '''import sympy as sp
from symdl.functions import norm, sigmoid, total
from symdl.model import Model
derivation = Model("NAME", title="a penalty", source="a test", reduction="mean", layout="LAYOUT")
x = derivation.data("x", ("n",))
y = derivation.target("y", kind="binary")
theta = derivation.param("theta", ("n",))
W = derivation.param("W", ("H", "n"))
b = derivation.param("b")
z = derivation.affine("z", theta, x, b)
h = derivation.let("h", sp.tanh(derivation.affine("u", W, x)))
v = derivation.let("v", sigmoid(z))
derivation.loss(-y * sp.log(v) - (1 - y) * sp.log(1 - v))
derivation.penalty(PENALTY)
'''


def write(folder, name, penalty, layout="auto"):
    path = folder / f"{name}.py"
    path.write_text(MODEL.replace("NAME", name).replace("PENALTY", penalty).replace("LAYOUT", layout))
    return path


@pytest.mark.parametrize("layout", ["rows", "block"])
def test_elastic_net_and_norms_agree_three_ways(tmp_path, layout):
    """R(θ) is added once per evaluation in both per-sample layouts, never once per sample."""
    path = write(tmp_path, "elastic", "sp.Rational(1, 10) * total(sp.Abs(theta)) "
                 "+ sp.Rational(1, 4) * total(theta**2) + 3 * b**2 + norm(W) + total(W**2)", layout)
    files.write([path])
    assert kernels.load(path).SPEC["layout"] == layout
    rows = check.check_model(sources.load_derivation(path))
    assert all(r.verdict == "passes" for r in rows), [(r.claim, r.evidence) for r in rows]
    module = kernels.load(path)
    theta, W = np.array([1.0, -2.0]), np.zeros((1, 2))
    x, y = np.zeros((4, 2)), np.zeros(4)
    loss, g_theta, g_W, g_b = module.loss_and_gradient(theta, W, 0.5, x, y)
    # x = 0: every sample has z = b, so J = softplus(b) + R exactly
    expected = np.log1p(np.exp(0.5)) + 0.1 * 3 + 0.25 * 5 + 3 * 0.25
    assert np.isclose(loss, expected, rtol=1e-14)
    np.testing.assert_allclose(g_theta, 0.1 * np.sign(theta) + 0.5 * theta, rtol=1e-14)
    assert np.isclose(module.loss(theta, W, 0.5, x, y), expected, rtol=1e-14)
    big = np.zeros((9000, 2))  # several chunks in the block layout: R still counted once
    assert np.isclose(module.loss(theta, W, 0.5, big, np.zeros(9000)), expected, rtol=1e-12)


def test_a_penalised_model_is_not_forced_onto_rows(tmp_path):
    assert layout_of(sources.load_derivation(write(tmp_path, "decay_auto", "total(theta**2)"))) == "block"


@pytest.mark.parametrize("penalty, words", [
    ("total(x**2)", "parameters only; x is a data"),
    ("theta**2", "theta is a vector in the penalty"),
    ("total(theta * W)", "exactly one vector or matrix parameter"),
])
def test_a_penalty_that_is_not_one_says_why(tmp_path, penalty, words):
    path = write(tmp_path, "bad_penalty", penalty)
    with pytest.raises(DerivationError, match=words):
        sources.load_derivation(path)


def test_chunked_training_refuses_a_penalty_it_would_count_per_chunk(tmp_path):
    da = pytest.importorskip("dask.array")
    path = write(tmp_path, "decay", "total(theta**2) + total(W**2)")  # every parameter in the cost
    files.write([path])
    x = da.from_array(np.ones((8, 2)), chunks=4)
    with pytest.raises(Exception, match="penalty"):
        train.fit(path, x, da.from_array(np.ones(8), chunks=4), epochs=1, sizes={"H": 2})
