"""Training that stops when it has converged (issue 18): `tol` for every rule, in memory and in
chunks, the stop reason, the ConvergenceWarning, and the step taken from the curvature.

Every expected optimum comes from an independent computation: SciPy's minimiser on a NumPy
cross-entropy, NumPy's least squares, NumPy's eigenvalues of XᵀX/4.
"""

import warnings

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import expit

from symdl import cli, datasets, kernels, train
from symdl.errors import ConvergenceWarning
from symdl.training import inputs
from symdl.training.divergence import automatic_step, power_iteration

LR = "logistic_regression"


@pytest.fixture(scope="module")
def dots():
    return datasets.two_classes_with_bias()


def numpy_optimum(x, y):
    """The minimiser of Σ −y log h − (1 − y) log(1 − h), by SciPy on NumPy code of its own."""
    def cost(theta):
        z = x @ theta
        return np.sum(np.logaddexp(0.0, z) - y * z), x.T @ (expit(z) - y)
    return minimize(cost, np.zeros(x.shape[1]), jac=True, method="BFGS",
                    options={"gtol": 1e-10}).x


def gradient_norm(result, x, y):
    """max |∂J/∂θ_j|, the norm the stopping test reads (SciPy's and scikit-learn's)."""
    _, gradient = train.loss_and_gradient(LR, result.params, x, y)
    return float(np.max(np.abs(gradient["theta"])))


def test_newton_without_tol_stops_after_the_few_iterations_it_needs(dots):
    result = train.fit(LR, dots.x, dots.y, optimizer="newton", epochs=50)
    assert result.n_iter <= 10 and result.stop_reason == "no progress" and result.converged
    np.testing.assert_allclose(result.params["theta"], numpy_optimum(dots.x, dots.y), rtol=1e-6)


@pytest.mark.parametrize("optimizer, settings", [
    ("gd", {"learning_rate": "auto"}), ("momentum", {"learning_rate": "auto"}),
    ("lbfgs", {}), ("newton", {})])
def test_tol_stops_every_full_gradient_rule_at_the_gradient_test(dots, optimizer, settings):
    tol = 1e-3
    result = train.fit(LR, dots.x, dots.y, optimizer=optimizer, epochs=20000, tol=tol, **settings)
    assert result.stop_reason == "gradient" and result.n_iter < 20000
    assert gradient_norm(result, dots.x, dots.y) <= tol
    assert result.n_iter == result.history[-1][0]


def test_mini_batches_stop_once_j_has_settled(dots):
    result = train.fit(LR, dots.x, dots.y, optimizer="sgd", batch_size=16, learning_rate="auto",
                       epochs=2000, tol=1e-3)
    assert result.stop_reason == "loss" and result.n_iter < 2000
    losses = result.history.metrics["J"]
    best_before = min(losses[:-10])
    assert min(losses[-10:]) > best_before - 1e-3 * abs(best_before)  # the test, recomputed


def test_the_budget_ending_first_warns_only_when_a_test_was_asked_for(dots):
    with pytest.warns(ConvergenceWarning, match="whole budget of 3 epochs.*tol = 1e-09"):
        result = train.fit(LR, dots.x, dots.y, optimizer="lbfgs", epochs=3, tol=1e-9)
    assert result.stop_reason == "epochs" and not result.converged
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert train.fit(LR, dots.x, dots.y, learning_rate=0.001, epochs=3).stop_reason == "epochs"


def test_a_callback_or_ctrl_c_is_its_own_reason(dots):
    from symdl.callbacks import EarlyStopping
    result = train.fit(LR, dots.x, dots.y, learning_rate=1e-9, epochs=500,
                       callbacks=[EarlyStopping(monitor="J", patience=1, min_delta=1.0)])
    assert result.stop_reason == "callback" and not result.converged


def test_lbfgs_settings_record_no_step_size(dots):
    result = train.fit(LR, dots.x, dots.y, optimizer="lbfgs", learning_rate=0.5, epochs=50)
    assert "learning_rate" not in result.settings and result.settings["optimizer"] == "lbfgs"


def test_chunked_training_stops_where_training_in_memory_does(dots):
    da = pytest.importorskip("dask.array")
    x, y = da.from_array(dots.x, chunks=(50, -1)), da.from_array(dots.y, chunks=50)
    for optimizer, tol in (("lbfgs", 1e-3), ("newton", 1e-3), ("gd", 0.3)):
        # gd's 739 epochs to ‖∇J‖ ≤ 0.3 (4,051 to 1e-3) are each a pass of Dask's scheduler
        settings = {"optimizer": optimizer, "epochs": 5000, "tol": tol,
                    "learning_rate": "auto", "scheduler": "synchronous"}
        chunks = train.fit(LR, x, y, **settings)
        memory = train.fit(LR, dots.x, dots.y, **{k: v for k, v in settings.items()
                                                  if k != "scheduler"})
        assert chunks.stop_reason == memory.stop_reason == "gradient", optimizer
        assert chunks.n_iter == memory.n_iter, optimizer


# ---- the step from the curvature -------------------------------------------------------------

def test_power_iteration_finds_the_largest_eigenvalue_of_the_hessian(dots):
    """At θ = 0 the cross-entropy's Hessian is XᵀX/4 (σ′(0) = 1/4), computed here by NumPy."""
    module = kernels.load(LR)
    params = [np.zeros(dots.x.shape[1])]
    expected = np.linalg.eigvalsh(dots.x.T @ dots.x / 4).max()
    assert power_iteration(module, params, (dots.x, dots.y)) == pytest.approx(expected, rel=1e-3)
    assert automatic_step(module, params, (dots.x, dots.y)) == pytest.approx(1 / expected)
    # a mini-batch of a summed loss sees batch/m of the curvature: the step grows by m/batch
    rows = len(dots.y)
    assert automatic_step(module, params, (dots.x, dots.y), 10, rows) == pytest.approx(
        rows / 10 / expected)


def finite_difference_hessian(name, params, x, y, sizes, step=1e-5):
    """The Hessian of J by central differences of the gradient, one parameter entry at a time."""
    names = list(params)
    flat = np.concatenate([np.ravel(params[n]) for n in names])

    def gradient(vector):
        at, cut = {}, 0
        for n in names:
            size = np.size(params[n])
            at[n] = vector[cut:cut + size].reshape(np.shape(params[n]))
            cut += size
        _, found = train.loss_and_gradient(name, at, x, y, sizes)
        return np.concatenate([np.ravel(found[n]) for n in names])

    columns = [(gradient(flat + step * e) - gradient(flat - step * e)) / (2 * step)
               for e in np.eye(flat.size)]
    hessian = np.array(columns)
    return (hessian + hessian.T) / 2


def test_the_automatic_step_trains_a_network_without_a_hessian(dots):
    """Power iteration on Hessian-vector products finds the curvature a dense finite-difference
    Hessian has, and its step trains a network on features of a scale never seen before."""
    name, sizes = "two_layer_network", {"H": 4}
    spec = kernels.load(name).SPEC
    assert not spec["hessian"]
    x = dots.x[:, 1:] * 1000.0
    start = inputs.initial_params(spec, {"n": 2, "H": 4}, init_scale=0.5, seed=0)
    named = dict(zip([n for n, _ in spec["params"]], start))
    largest = np.abs(np.linalg.eigvalsh(finite_difference_hessian(name, named, x, dots.y,
                                                                  sizes))).max()
    result = train.fit(name, x, dots.y, sizes=sizes, init_scale=0.5, learning_rate="auto",
                       epochs=300)
    assert result.settings["learning_rate"] == pytest.approx(1 / largest, rel=1e-2)
    assert result.history[-1][1] < result.history[0][1]


def test_the_automatic_step_halves_where_the_curvature_grows(tmp_path):
    """J(c) = eᶜ − 3c has curvature eᶜ: 1 at the start c = 0, 3 at the minimum c = ln 3. The
    step 1/1 overshoots to c = 2, where J is higher; the safeguard halves it and goes on."""
    path = tmp_path / "growing_curvature.py"
    path.write_text("import sympy as sp\n"
                    "from symdl.model import Model\n"
                    "derivation = Model('growing_curvature', title='eᶜ − 3c', source='none')\n"
                    "c = derivation.param('c')\n"
                    "derivation.loss(sp.exp(c) - 3 * c)\n")
    result = train.fit(str(path), learning_rate="auto", epochs=200, tol=1e-10)
    assert result.settings["learning_rate"] == pytest.approx(1.0)
    assert result.settings["final learning_rate"] < 1.0
    assert result.stop_reason == "gradient"
    assert float(result.params["c"]) == pytest.approx(np.log(3.0), abs=1e-9)
    losses = result.history.metrics["J"]
    assert all(later <= earlier + 1e-12 for earlier, later in zip(losses, losses[1:]))


def test_the_command_line_takes_the_automatic_step_on_the_users_data(tmp_path, capsys):
    """The derivation's step 0.005 suits its own 100 dots; on 20,000 rows of a summed loss it
    overshoots (2/λ_max is about 1e-4 there). Without --lr the command takes 1/λ_max on the
    data instead, and gets to a lower J."""
    rng = np.random.default_rng(0)
    x = np.column_stack([np.ones(20000), rng.standard_normal((20000, 3))])
    y = (x[:, 1] - x[:, 2] + 0.5 * rng.standard_normal(20000) > 0).astype(float)
    np.savez(tmp_path / "big.npz", x=x, y=y)
    final = {}
    for given in ([], ["--lr", "0.005"]):
        status = cli.main(["train", LR, "--data", str(tmp_path / "big.npz"), "--optimizer", "gd",
                           "--epochs", "300", "--tol", "1", "--quiet", *given])
        out = capsys.readouterr().out
        assert status == 0
        final[bool(given)] = float(out.split("final J: ")[1].split()[0])
        assert ("step from the curvature of J at the start" in out) != bool(given)
    assert "stopped after" in out
    assert final[False] < 0.9 * final[True]



WITH_TOL = '''
import sympy as sp
from symdl.functions import sigmoid
from symdl.model import Model, Training

derivation = Model("logistic_with_tol", title="Logistic regression that stops", source="none",
                   reduction="mean",
                   training=Training(dataset="two_classes_with_bias", optimizer="gd",
                                     learning_rate=0.5, epochs=3000, tol=TOL))
x = derivation.data("x", ("n",))
y = derivation.target("y", kind="binary")
theta = derivation.param("theta", ("n",))
h = derivation.let("h", sigmoid(derivation.affine("z", theta, x)))
derivation.loss(-y * sp.log(h) - (1 - y) * sp.log(1 - h))
derivation.output(h)
'''


def test_a_derivations_training_tol_stops_symdl_train(tmp_path):
    """Training(tol=...) in a model file is the run's stopping test, as `train(tol=)` is."""
    runs = {}
    for tol in (1e-3, None):
        path = tmp_path / f"with_tol_{'none' if tol is None else 'set'}.py"
        path.write_text(WITH_TOL.replace("TOL", repr(tol)).replace(
            '"logistic_with_tol"', f'"{path.stem}"'))
        runs[tol] = train.train(str(path))
    assert runs[1e-3].stop_reason == "gradient" and runs[1e-3].n_iter < 3000
    data = datasets.load("two_classes_with_bias")
    module = kernels.load(str(tmp_path / "with_tol_set.py"))
    _, gradient = module.loss_and_gradient(runs[1e-3].params["theta"], data.x, data.y)
    assert np.max(np.abs(gradient)) <= 1e-3 * 1.01  # the stopping test ran on the same ∇J
    assert runs[None].n_iter == 3000  # without it, every epoch runs
