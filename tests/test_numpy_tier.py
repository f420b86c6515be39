"""The NumPy tier: the kernels in NumPy, which need no compiling, of every model the block
layout can express, whatever layout its Numba kernels are in (block, rows, blas).

The tier is held to the same three-way check as the Numba kernels (`symdl check`'s "NumPy
tier" row, run for every example in test_example_models.py and every built-in in
test_check.py). Here it is held to the Numba kernels themselves on data of one row, of one
chunk and of several chunks (partial blocks included), and the rule that picks a tier is held
to what its docstring says.
"""

import glob
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from symdl import cli, kernels, sources, train
from symdl.errors import SettingsError
from symdl.generate import files
from symdl.model import Model
from symdl.training import inputs, tiers

EXAMPLES = Path(__file__).parent.parent / "examples" / "models"
# every model with a NumPy tier, built in or in examples/models (decided from the derivations,
# so that a checkout whose example kernels were never generated tests them all the same)
TIER_MODELS = [ref for ref in sources.builtin_names() + sorted(glob.glob(str(EXAMPLES / "*.py")))
               if isinstance(model := sources.load_derivation(ref), Model)
               and files.has_numpy_tier(model)]
SIZES = [1, 70, 40_000]  # one row; one chunk of partial blocks; four chunks side by side


def kernels_of(ref, example_models):
    """A built-in's kernels, or an example's from the session's copy (tests/conftest.py)."""
    return kernels.load(ref if sources.resolve(ref).builtin else example_models / Path(ref).name)


def random_arguments(module, rows, seed=0):
    """Parameters of size 0.5 and data of unit scale, targets of the model's kind."""
    spec = module.SPEC
    rng = np.random.default_rng(seed)
    sizes = {d: 3 for _, shape in spec["params"] + inputs.input_specs(spec)
             for d in shape if isinstance(d, str)}
    params = inputs.initial_params(spec, sizes, init_scale=0.5, seed=seed)
    data = [rng.standard_normal((rows,) + tuple(sizes.get(d, d) for d in shape))
            for _, shape in inputs.input_specs(spec)]
    if spec["target"] is not None and spec["target"][1] == "class":
        data.append(rng.integers(0, sizes.get(spec["classes_dim"], spec["classes_dim"]), rows))
    elif spec["target"] is not None:
        shape = (rows,) + tuple(sizes.get(d, d) for d in spec["target_shape"])
        target = rng.standard_normal(shape)
        data.append((target > 0).astype(float) if spec["target"][1] == "binary" else target)
    return params, data


@pytest.mark.parametrize("rows", SIZES)
@pytest.mark.parametrize("ref", TIER_MODELS, ids=lambda ref: Path(ref).stem)
def test_the_numpy_tier_computes_what_the_numba_kernels_do(ref, rows, example_models,
                                                         monkeypatch):
    module = kernels_of(ref, example_models)
    assert module.SPEC["numpy_tier"]
    # several chunks through the serial loop: the same sums, in the same order, as the prange
    # loop (tests/test_block.py holds the two equal), without compiling a parallel function
    # for each of these models
    monkeypatch.setattr(module, "_chunked", lambda bounds, serial, parallel: serial)
    params, data = random_arguments(module, rows)
    numba_loss, *numba_gradient = module.loss_and_gradient(*params, *data)
    numpy_loss, *numpy_gradient = module.loss_and_gradient_numpy(*params, *data)
    np.testing.assert_allclose(numpy_loss, numba_loss, rtol=1e-12)
    np.testing.assert_allclose(module.loss_numpy(*params, *data), numba_loss, rtol=1e-12)
    for numba_part, numpy_part in zip(numba_gradient, numpy_gradient):
        assert np.shape(numpy_part) == np.shape(numba_part)
        scale = np.max(np.abs(numba_part)) or 1.0
        np.testing.assert_allclose(numpy_part, numba_part, rtol=0, atol=1e-12 * scale)
    for numba_part, numpy_part in zip(module.gradient(*params, *data),
                                      module.gradient_numpy(*params, *data)):
        np.testing.assert_allclose(numpy_part, numba_part, rtol=0,
                                   atol=1e-12 * (np.max(np.abs(numba_part)) or 1.0))
    if hasattr(module, "hessian_numpy"):  # the curvature kinds the tier writes
        numba_hessian = module.hessian(*params, *data)
        np.testing.assert_allclose(module.hessian_numpy(*params, *data), numba_hessian, rtol=0,
                                   atol=1e-12 * (np.max(np.abs(numba_hessian)) or 1.0))
    if hasattr(module, "closed_form_numpy") and rows > 1:  # one row: a singular design
        for numba_part, numpy_part in zip(np.atleast_1d(module.closed_form(*data)),
                                          np.atleast_1d(module.closed_form_numpy(*data))):
            np.testing.assert_allclose(numpy_part, numba_part, rtol=1e-10)
    if module.SPEC["output"] is not None:
        x = data[:len(inputs.input_specs(module.SPEC))]
        numba_output = module.predict(*params, *x)
        np.testing.assert_allclose(module.predict_numpy(*params, *x), numba_output, rtol=0,
                                   atol=1e-12 * np.max(np.abs(numba_output)))


def test_a_small_job_runs_the_numpy_tier_and_a_large_one_numba():
    module = kernels.load("logistic_regression")
    assert isinstance(tiers.kernels_for(module, "auto", rows=1_000, epochs=2_000), tiers.NumPyTier)
    assert tiers.kernels_for(module, "auto", rows=100_000, epochs=100) is module
    assert tiers.kernels_for(module, "numba", rows=10, epochs=1) is module
    assert isinstance(tiers.kernels_for(module, "numpy", rows=10**8, epochs=10), tiers.NumPyTier)
    # mini-batches: each call counts as CALL_AS_ROWS rows too, so one epoch of 200,000 rows
    # in batches of 10 is not small, and the same epoch in one batch is
    assert tiers.rows_passed(200_000, 1, batch_size=10) > tiers.NUMPY_ROWS_PASSED
    assert tiers.rows_passed(200_000, 1) < tiers.NUMPY_ROWS_PASSED


def test_a_model_without_a_numpy_tier_says_so_and_auto_runs_numba():
    module = kernels.load("paraboloid_gradient")  # no data: the block layout cannot express it
    assert tiers.kernels_for(module, "auto", rows=10, epochs=1) is module
    with pytest.raises(SettingsError, match="paraboloid_gradient has no NumPy tier.*rows"):
        tiers.kernels_for(module, "numpy", rows=10, epochs=1)
    with pytest.raises(SettingsError, match="tier must be one of auto, numba, numpy"):
        train.fit("logistic_regression", np.ones((4, 2)), np.ones(4), tier="fast")


def test_training_on_either_tier_reaches_the_same_parameters():
    x = np.random.default_rng(1).standard_normal((300, 3))
    y = (x @ [1.0, -2.0, 0.5] > 0).astype(float)
    runs = {tier: train.fit("logistic_regression", x, y, learning_rate=0.5, epochs=200, tier=tier)
            for tier in ("numba", "numpy")}
    assert runs["numba"].settings["tier"] == "numba"
    assert runs["numpy"].settings["tier"] == "numpy"
    np.testing.assert_allclose(runs["numpy"].params["theta"], runs["numba"].params["theta"],
                               rtol=1e-10)
    assert train.fit("logistic_regression", x, y, epochs=5).settings["tier"] == "numpy"


def test_the_command_line_says_which_kernels_ran(capsys):
    assert cli.main(["train", "logistic_regression", "--quiet", "--epochs", "50"]) == 0
    assert "(NumPy kernels)" in capsys.readouterr().out
    assert cli.main(["train", "logistic_regression", "--quiet", "--epochs", "50",
                     "--tier", "numba"]) == 0
    assert "(Numba kernels)" in capsys.readouterr().out


def test_softmax_cross_entropy_in_the_block_layout_and_its_numpy_tier(tmp_path):
    """A softmax classifier names layout="block": its block kernels and NumPy tier compute what
    the rows kernels do, and pass the three-way check. Unnamed, its Numba kernels stay in
    rows, and its file carries the same NumPy tier."""
    from symdl import check
    text = (EXAMPLES / "softmax_regression.py").read_text()
    assert files.layout_of(sources.load_derivation(EXAMPLES / "softmax_regression.py")) == "rows"
    path = tmp_path / "softmax_block.py"
    path.write_text(text.replace('"softmax_regression"', '"softmax_block"')
                    .replace('reduction="mean",', 'reduction="mean", layout="block",'))
    rows_path = tmp_path / "softmax_regression.py"
    rows_path.write_text(text)
    block, rows = kernels.load(path), kernels.load(rows_path)
    assert block.SPEC["layout"] == "block" and block.SPEC["numpy_tier"]
    assert rows.SPEC["layout"] == "rows" and rows.SPEC["numpy_tier"]
    rng = np.random.default_rng(3)
    W, b = rng.standard_normal((10, 6)), rng.standard_normal(10)
    for m in SIZES:
        x, label = rng.standard_normal((m, 6)) * 3, rng.integers(0, 10, m)
        expected = rows.loss_and_gradient(W, b, x, label)
        for found in (block.loss_and_gradient(W, b, x, label),
                      block.loss_and_gradient_numpy(W, b, x, label),
                      rows.loss_and_gradient_numpy(W, b, x, label)):
            for a, e in zip(found, expected):
                np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-12 * np.max(np.abs(e)))
        np.testing.assert_allclose(block.predict_numpy(W, b, x), rows.predict(W, b, x),
                                   rtol=1e-12, atol=1e-12)
    rows_of_check = check.check_model(sources.load_derivation(path))
    assert all(r.verdict == "passes" for r in rows_of_check), [(r.claim, r.evidence)
                                                                for r in rows_of_check]
    assert any(r.claim.startswith("NumPy tier") for r in rows_of_check)


def test_a_small_job_of_a_softmax_model_compiles_nothing(tmp_path):
    """A rows-layout model (softmax over narrow layers) starts a small job on its NumPy tier,
    mini-batches and RMSprop included: a fresh process with an empty Numba cache leaves the
    cache empty, so nothing was compiled (issue 16: a new model's first run)."""
    code = ("import numpy as np; from symdl import train; rng = np.random.default_rng(0); "
            "x = rng.standard_normal((500, 6)).astype(np.float32); y = rng.integers(0, 3, 500); "
            "r = train.fit('multinomial_logistic', x, y, optimizer='rmsprop', batch_size=32, "
            "epochs=3, sizes={'C': 3}, learning_rate=1e-2); print(r.settings['tier'])")
    cache = tmp_path / "numba-cache"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "NUMBA_CACHE_DIR": str(cache)}, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["numpy"]
    assert not [p.name for p in cache.rglob("*") if p.is_file()]
