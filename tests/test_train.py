"""Training drives the generated kernels, and bad input gets an error that names the problem."""

import numpy as np
import pytest

from symdl import datasets, kernels, train
from symdl.errors import DataError, DivergenceError


@pytest.fixture
def dots():
    return datasets.two_classes_with_bias()


def test_gradient_descent_lowers_the_cost_and_classifies(dots):
    result = train.fit("logistic_regression", dots.x, dots.y, learning_rate=0.01, epochs=200)
    losses = [loss for _, loss in result.history]
    assert losses[-1] < losses[0] / 2
    accuracy = train.metrics("logistic_regression", result.params, dots.x, dots.y)["train accuracy"]
    assert accuracy >= 0.9


def test_minibatch_sgd_and_rmsprop_also_train(dots):
    for optimizer, rate in (("sgd", 0.01), ("rmsprop", 0.05)):
        result = train.fit("logistic_regression", dots.x, dots.y, optimizer=optimizer,
                           learning_rate=rate, epochs=30, batch_size=32)
        assert result.history[-1][1] < result.history[0][1]


def test_shape_mismatch_names_both_counts(dots):
    with pytest.raises(DataError, match="samples"):
        train.fit("logistic_regression", dots.x, dots.y[:-3])


def test_wrong_parameter_shape_is_reported(dots):
    with pytest.raises(DataError, match="theta"):
        train.fit("logistic_regression", dots.x, dots.y, params=[np.zeros(5)])


def test_nan_in_features_is_reported(dots):
    x = dots.x.copy()
    x[4, 1] = np.nan
    with pytest.raises(DataError, match="NaN"):
        train.fit("logistic_regression", x, dots.y)


def test_empty_data_is_reported():
    with pytest.raises(DataError, match="no samples"):
        train.fit("logistic_regression", np.zeros((0, 3)), np.zeros(0))


def test_labels_outside_zero_one_are_reported(dots):
    with pytest.raises(DataError):
        train.fit("logistic_regression", dots.x, dots.y * 2)


def test_divergence_is_an_error_not_a_nan_model():
    data = datasets.houses()
    with pytest.raises(DivergenceError, match="step size"):
        train.fit("multivariate_least_squares", data.x, data.y, learning_rate=10.0, epochs=500)


def test_a_user_model_gets_its_kernels_on_first_use(tmp_path, capsys):
    """A new user's `train.fit("my_model.py", ...)` (or `symdl train`) before any `symdl
    generate` writes the kernels beside the file, says so, and trains; they are then what
    `symdl generate` writes (so --check finds them fresh)."""
    from symdl.generate import files
    model_file = tmp_path / "not_generated_yet.py"
    model_file.write_text("from symdl.model import Model\n"
                          "derivation = Model('not_generated_yet', title='A title', source='none')\n"
                          "c = derivation.param('c')\n"
                          "derivation.loss((c - 3) ** 2)\n")
    result = train.fit(str(model_file), learning_rate=0.25, epochs=40)
    assert abs(float(result.params["c"]) - 3.0) < 1e-6
    assert "generated " + str(tmp_path / "generated" / "not_generated_yet.py") in capsys.readouterr().err
    assert files.stale([str(model_file)]) == []


def test_missing_builtin_kernels_say_how_to_make_them(tmp_path):
    """symdl's own kernels ship in the package: a missing one is not regenerated into it."""
    import dataclasses

    from symdl import sources
    from symdl.errors import DerivationError
    source = dataclasses.replace(sources.resolve("logistic_regression"),
                                 kernel_path=tmp_path / "none.py")
    with pytest.raises(DerivationError, match="symdl generate"):
        kernels.verify(source)


def test_a_derivation_without_a_model_is_not_trainable(tmp_path):
    from symdl.errors import DerivationError
    model_file = tmp_path / "only_algebra.py"
    model_file.write_text("from symdl.model import Derivation\n"
                          "derivation = Derivation('only_algebra', 'A title', 'no source')\n")
    with pytest.raises(DerivationError, match="not a model to train"):
        kernels.load(str(model_file))
