"""The documents' figures, drawn with the Agg backend and read back: axes, lines, points.

Models are trained for a few epochs only (the content is checked, not the fit), except where
the figure's point is the result (the GD path, the closed-form line).
"""

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from symdl import cli, datasets, kernels, plot, train  # noqa: E402
from symdl.sources import load_derivation  # noqa: E402


def lines_labelled(ax, words):
    return [line for line in ax.get_lines() if words in line.get_label()]


def test_unit_square_shows_each_map_and_the_direction_of_the_turn():
    module = plot.derivation_module("unit_square")
    axes = plot.unit_square().axes
    assert [ax.get_title().split(":")[0] for ax in axes] == ["Translation", "Scale", "Rotation", "Affine"]
    for ax, expected in zip(axes, (module.translated(), module.scaled(), module.rotated(), module.affine())):
        (image,) = lines_labelled(ax, "image")
        assert np.allclose(image.get_xydata().T, np.array(expected, dtype=float))
        assert ax.get_xlabel() == "x" and ax.get_ylabel() == "y"
    rotation = axes[2]
    arc = [line for line in rotation.get_lines() if line.get_color() == "tab:green"][0]
    end = arc.get_xydata()[-1]
    assert end[1] > 0 and np.isclose(np.degrees(np.arctan2(end[1], end[0])), 10.03, atol=0.01)
    assert any("+10.03° (counterclockwise)" in text.get_text() for text in rotation.texts)


def test_paraboloid_draws_the_gradient_field_and_a_descent_that_shrinks_by_0_8():
    ax = plot.paraboloid(steps=6).axes[0]
    (quiver,) = [c for c in ax.collections if type(c).__name__ == "Quiver"]
    assert np.allclose(quiver.U, 2 * quiver.X) and np.allclose(quiver.V, 2 * quiver.Y)
    (path,) = lines_labelled(ax, "gradient descent")
    points = path.get_xydata()
    assert len(points) == 7 and np.allclose(points[0], (1.5, -2.0))
    assert np.allclose(np.linalg.norm(points[1:], axis=1) / np.linalg.norm(points[:-1], axis=1), 0.8)


def test_mse_descent_converges_with_the_small_step_and_diverges_with_the_talks_0_1():
    left, middle, right = plot.mse_descent(steps=5, diverging_steps=3).axes
    assert left.get_xlabel() == "slope m" and left.get_ylabel() == "MSE"
    (path,) = lines_labelled(left, "MSE'(m_k)")
    assert len(path.get_xdata()) == 6
    scores = datasets.test_scores()
    best = train.closed_form("line_through_origin", scores.x, scores.y)["slope"]
    assert abs(path.get_xdata()[-1] - best) < abs(path.get_xdata()[0] - best) * 1e-3
    (talk,) = lines_labelled(right, "step 0.1")
    distances = talk.get_ydata()
    assert len(distances) == 4 and np.all(np.diff(distances) > 0)
    assert np.allclose(distances[1:] / distances[:-1], 1100.9, rtol=1e-3)  # |1 − 0.1·MSE''|
    (zigzag,) = lines_labelled(middle, "1.05 × the bound")  # drawn on the parabola
    offsets = zigzag.get_xdata() - best
    assert np.all(np.sign(offsets[1:]) == -np.sign(offsets[:-1]))  # each step crosses m*
    assert np.all(np.abs(offsets[2:]) > np.abs(offsets[1:-1]))  # and lands farther out


def test_best_fit_lines_are_the_closed_forms():
    left, right = plot.best_fit().axes
    scores = datasets.test_scores()
    assert len(left.collections[0].get_offsets()) == len(scores.x) == 90
    (line,) = lines_labelled(left, "y = ")
    slope = train.closed_form("line_through_origin", scores.x, scores.y)["slope"]
    assert np.allclose(line.get_ydata(), slope * line.get_xdata())
    assert right.get_xlabel() == "floor area"


@pytest.mark.parametrize("name, epochs", [("logistic_three_parameter", 30), ("two_layer_network", 5)])
def test_decision_boundary_on_the_dots(name, epochs):
    result = train.train(name, epochs=epochs)
    dots, loss = plot.decision_boundary(name, result).axes
    data = datasets.load(kernels.load(name).SPEC["training"]["dataset"])
    counts = [len(c.get_offsets()) for c in dots.collections if hasattr(c, "get_offsets")
              and len(c.get_offsets()) and c.get_label().startswith("class")]
    assert sorted(counts) == sorted(np.bincount(data.y.astype(int)).tolist())
    assert any(list(getattr(c, "levels", [])) == [0.5] for c in dots.collections)  # p = 1/2
    assert len(loss.get_lines()[0].get_xdata()) == epochs and loss.get_ylabel() == "J"


def test_mnist_digits_predictions_and_confusion_matrix():
    result = train.train("mnist_mlp", epochs=1)
    figure = plot.mnist(result, shown=12)
    digit_axes = [ax for ax in figure.axes if ax.images and ax.images[0].get_array().shape == (28, 28)]
    assert len(digit_axes) == 12
    (matrix_ax,) = [ax for ax in figure.axes if "confusion" in ax.get_title()]
    confusion = np.asarray(matrix_ax.images[0].get_array())
    assert confusion.shape == (10, 10) and confusion.sum() == len(datasets.mnist().y_test)
    accuracy = float(matrix_ax.get_title().split("accuracy ")[1].rstrip(")"))
    assert np.isclose(accuracy, result.metrics["test accuracy"], atol=1e-3)


def test_a_model_without_a_document_figure_gets_its_loss_curve_and_the_cli_saves_it(tmp_path, capsys):
    ax = plot.figure("center_mean").axes[0]
    assert len(ax.get_lines()[0].get_xdata()) == load_derivation("center_mean").training.epochs
    out = tmp_path / "square.png"
    assert cli.main(["plot", "unit_square", "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert cli.main(["plot", "affine_collapse"]) == 1
    assert "no figure" in capsys.readouterr().err
    assert cli.main(["plot", "unit_square", "--out", str(tmp_path / "x.unknown")]) == 1
