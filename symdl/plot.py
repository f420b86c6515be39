"""The documents' figures, drawn from symdl's own results (`pip install symdl[plot]`).

Every picture the documents are built around, computed by symdl rather than copied: the
unit square under the matrices 000/002 print (the rotation's turn drawn as an arrow, so its
direction is visible), z = x² + y² with the gradient field symdl derives, MSE(m) with the
gradient-descent steps of 001 — including the talk's step 0.1 on the raw test scores, which
diverges — the lines of best fit, the decision boundaries of the logistic and two-layer
models on their dots, loss curves, and MNIST digits with predictions and a confusion matrix.

Each function returns a matplotlib Figure (the object API, no pyplot state, so it works with
any backend, Agg included); `figure(name)` picks the one for a derivation and `symdl plot NAME
--out FILE` saves it.
"""

from __future__ import annotations

import importlib

import numpy as np

from symdl import datasets, interrupts, kernels, sources, train
from symdl.errors import SymdlError
from symdl.training import tiers

COLOURS = ("tab:blue", "tab:orange")


class PlotError(SymdlError):
    """A figure cannot be drawn: matplotlib is missing, or the name has no figure."""


def new_figure(width=10.0, height=4.0):
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise PlotError("drawing figures needs matplotlib: pip install 'symdl[plot]'") from None
    return Figure(figsize=(width, height), layout="constrained")


def derivation_module(name):
    return importlib.import_module(f"symdl.derivations.{name}")


# ---- 000/002: the unit square ------------------------------------------------------------

def unit_square():
    """The square X and its images under translation, scale, rotation and the affine map."""
    square = derivation_module("unit_square")
    before = np.array(square.SQUARE, dtype=float)
    panels = [("Translation: X + 0.2", square.translated()),
              ("Scale: diag(0.5, 0.5)·X", square.scaled()),
              ("Rotation: R(0.175)·X", square.rotated()),
              ("Affine: R(0.175)·X + 0.2", square.affine())]
    fig = new_figure(14, 3.8)
    for ax, (title, after) in zip(fig.subplots(1, 4), panels):
        after = np.array(after, dtype=float)
        ax.plot(before[0], before[1], color="0.6", linestyle="--", label="X")
        ax.plot(after[0], after[1], color="tab:red", label="image")
        ax.set(title=title, xlabel="x", ylabel="y", xlim=(-0.4, 1.5), ylim=(-0.2, 1.5), aspect="equal")
        if "R(0.175)" in title:
            draw_turn(ax, square, offset=0.2 if "Affine" in title else 0.0)
        ax.legend(loc="upper right", fontsize=7)
    return fig


def draw_turn(ax, square, offset):
    """An arc from the corner (1, 0) to its image, labelled with the signed angle symdl measures."""
    degrees = square.turning_angle_degrees()
    angles = np.radians(np.linspace(0.0, degrees, 20))
    ax.plot(np.cos(angles) + offset, np.sin(angles) + offset, color="tab:green", linewidth=1)
    ax.annotate("", xy=(np.cos(angles[-1]) + offset, np.sin(angles[-1]) + offset),
                xytext=(np.cos(angles[-3]) + offset, np.sin(angles[-3]) + offset),
                arrowprops={"arrowstyle": "->", "color": "tab:green"})
    turn = "counterclockwise" if degrees > 0 else "clockwise"
    ax.text(0.02, 0.02, f"turn {degrees:+.2f}° ({turn})", transform=ax.transAxes, fontsize=8,
            color="tab:green")


# ---- 000/002: the gradient of z = x² + y² ------------------------------------------------

def paraboloid(steps=12):
    """z = x² + y² as contours, the gradient field (∂z/∂x, ∂z/∂y) symdl derives, and descent."""
    import sympy as sp
    module = derivation_module("paraboloid_gradient")
    slopes = [sp.lambdify((module.x, module.y), module.derived_slope(s), "numpy")
              for s in (module.x, module.y)]
    grid = np.linspace(-2.5, 2.5, 101)
    gx, gy = np.meshgrid(grid, grid)
    fig = new_figure(6, 5.5)
    ax = fig.subplots()
    contours = ax.contour(gx, gy, gx ** 2 + gy ** 2, levels=8, cmap="viridis")
    ax.clabel(contours, fontsize=7)
    arrows = np.linspace(-2, 2, 9)
    ax_, ay_ = np.meshgrid(arrows, arrows)
    ax.quiver(ax_, ay_, slopes[0](ax_, ay_) + 0 * ax_, slopes[1](ax_, ay_) + 0 * ay_, color="0.4",
              angles="xy", label="gradient (2x, 2y)")
    path = descent_path("paraboloid_gradient", steps)
    ax.plot(path[:, 0], path[:, 1], "o-", color="tab:red", markersize=3,
            label=f"gradient descent, {steps} steps")
    ax.set(title="z = x² + y² and its gradient field", xlabel="x", ylabel="y", aspect="equal")
    ax.legend(loc="lower left", fontsize=8)
    return fig


def descent_path(name, steps, x=None, y=None, learning_rate=None):
    """The parameters after each of `steps` gradient-descent steps with the model's settings."""
    settings = dict(kernels.load(name).SPEC["training"])
    path, params = [[float(v) for v in settings["initial"].values()]], None
    for _ in range(steps):
        result = train.fit(name, x, y, learning_rate=learning_rate or settings["learning_rate"],
                           epochs=1, params=params, initial=settings.get("initial"))
        params = list(result.params.values())
        path.append([float(v) for v in params])
    return np.array(path)


# ---- 001: MSE(m), gradient descent, the line of best fit -----------------------------------

def kernels_for_figure(name, rows):
    """A model's kernels for a figure's evaluations over `rows` rows: the NumPy tier where the
    job is small (symdl.training.tiers), so a figure compiles, or loads from Numba's cache,
    nothing it does not need (loading the first cached kernel of a process costs ~0.8 s)."""
    return tiers.kernels_for(kernels.load(name), "auto", rows)


def slope_iterates(step, steps, x, y, start=0.0):
    """m₀ = start, m_{k+1} = m_k − step·MSE'(m_k), with the generated gradient kernel."""
    module = kernels_for_figure("line_through_origin", len(x) * steps)
    slopes = [start]
    for _ in range(steps):
        (derivative,) = module.gradient(slopes[-1], x, y)
        slopes.append(slopes[-1] - step * float(derivative))
    return np.array(slopes)


def mse_descent(steps=3, diverging_steps=4, zigzag_steps=6):
    """001's MSE(m) on the test scores: (a) the converging steps on the parabola, each
    numbered; (b) a step just above the bound 2/MSE'' drawn on the same parabola, where
    each step overshoots the minimum by more than it started and the iterates zig-zag
    outward — what the talk's 0.1 does, 550 times faster; (c) the talk's step 0.1 itself,
    whose factor per step, 1 − 0.1·MSE'' ≈ −1100.9, flips the side each step while the
    distance grows 1100.9-fold."""
    module = derivation_module("line_through_origin")
    scores = datasets.test_scores()
    generated = kernels_for_figure("line_through_origin", len(scores.x) * 200)
    best = train.closed_form("line_through_origin", scores.x, scores.y)["slope"]
    step = generated.SPEC["training"]["learning_rate"]
    bound = module.scores_bound()

    def mse(m):
        return generated.loss(m, scores.x, scores.y)

    fig = new_figure(15, 4.3)
    left, middle, right = fig.subplots(1, 3)
    slopes = np.linspace(0.0, 1.4, 200)
    left.plot(slopes, [mse(m) for m in slopes], color="tab:blue", label="MSE(m)")
    path = slope_iterates(step, steps, scores.x, scores.y)
    left.plot(path, [mse(m) for m in path], "o-", color="tab:red", markersize=4,
              label=f"m_(k+1) = m_k − {step:g}·MSE'(m_k), {steps} steps")
    labelled = []
    for k, m in enumerate(path):  # steps that land on one dot share one label: m2…m3
        if labelled and abs(m - labelled[-1][1]) < 0.03:
            labelled[-1] = (labelled[-1][0].split("…")[0] + f"…m{k}", labelled[-1][1])
        else:
            labelled.append((f"m{k}", m))
    for number, (text, m) in enumerate(labelled):  # alternately above and below the dot
        left.annotate(text, (m, mse(m)), textcoords="offset points",
                      xytext=(4, 6) if number % 2 == 0 else (6, -14), fontsize=8)
    left.axvline(best, color="0.5", linestyle=":", label=f"m_bestest = {best:.4f}")
    left.set(title="(a) step 1e-4: each step lands 10× closer", xlabel="slope m", ylabel="MSE",
             xlim=(-0.05, 1.4))
    left.legend(fontsize=8)

    over = 1.05 * bound
    zigzag = slope_iterates(over, zigzag_steps, scores.x, scores.y)
    span = 1.1 * np.max(np.abs(zigzag - best))
    wide = np.linspace(best - span, best + span, 300)
    middle.plot(wide, [mse(m) for m in wide], color="tab:blue", label="MSE(m)")
    middle.plot(zigzag, [mse(m) for m in zigzag], "o-", color="tab:red", markersize=4,
                label=f"step {over:.3g} = 1.05 × the bound {bound:.3g}")
    for k, m in enumerate(zigzag):
        middle.annotate(f"m{k}", (m, mse(m)), textcoords="offset points", xytext=(4, 6), fontsize=8)
    middle.set(title="(b) above the bound 2/MSE'': the steps zig-zag outward",
               xlabel="slope m", ylabel="MSE")
    middle.legend(fontsize=8, loc="upper center")

    talk = slope_iterates(float(module.TALK_STEP), diverging_steps, scores.x, scores.y)
    factor = module.scores_factor(float(module.TALK_STEP))
    right.semilogy(range(len(talk)), np.abs(talk - best), "o-", color="tab:red",
                   label=f"step 0.1 (the talk's): m_k − m* times {factor:.1f} per step")
    right.semilogy(range(len(path)), np.abs(path - best), "o-", color="tab:blue",
                   label=f"step {step:g} (below the bound {bound:.3g})")
    for k, m in enumerate(talk):
        side = "right" if m > best else "left"
        right.annotate(side, (k, abs(m - best)), textcoords="offset points", xytext=(4, -10),
                       fontsize=8)
    right.set(title="(c) the talk's step 0.1: |m_k − m*| on a log axis", xlabel="step k",
              ylabel="|m_k − m_bestest|")
    right.legend(fontsize=8)
    return fig


def best_fit():
    """001's line through the origin on the test scores; 003's y = ax + b on the floor areas."""
    fig = new_figure(11, 4.2)
    left, right = fig.subplots(1, 2)
    scores = datasets.test_scores()
    slope = train.closed_form("line_through_origin", scores.x, scores.y)["slope"]
    left.scatter(scores.x, scores.y, s=10, color="tab:blue", label="students (synthetic test scores)")
    line = np.array([0.0, 100.0])
    left.plot(line, slope * line, color="tab:red", label=f"y = {slope:.3f}x")
    left.set(title="001: the line through the origin of best fit", xlabel="Test 1",
             ylabel="Test 2")
    left.legend(fontsize=8)
    homes = datasets.floor_areas()
    fitted = train.closed_form("univariate_least_squares", homes.x, homes.y)
    right.scatter(homes.x, homes.y, s=10, color="tab:blue", label="homes (synthetic floor areas)")
    span = np.array([homes.x.min(), homes.x.max()])
    right.plot(span, fitted["a"] * span + fitted["b"], color="tab:red",
               label=f"y = {fitted['a']:.3g}x + {fitted['b']:.3g}")
    right.set(title="003 §3.1: least squares y = ax + b", xlabel="floor area", ylabel="price")
    right.legend(fontsize=8)
    return fig


# ---- decision boundaries ------------------------------------------------------------------

def decision_boundary(name, result=None):
    """The dots coloured by label, the trained model's boundary p = 1/2, and its loss curve."""
    spec = kernels.load(name).SPEC
    data = datasets.load(spec["training"]["dataset"])
    result = result or train.train(name)
    points = data.x[:, -2:]  # the two coordinates (after a leading column of ones, if any)
    fig = new_figure(11, 4.5)
    ax, loss_ax = fig.subplots(1, 2, width_ratios=(1.3, 1))
    for label, colour in enumerate(COLOURS):
        chosen = data.y == label
        ax.scatter(points[chosen, 0], points[chosen, 1], s=8, color=colour, label=f"class {label}")
    pad = 0.3
    xs = np.linspace(points[:, 0].min() - pad, points[:, 0].max() + pad, 200)
    ys = np.linspace(points[:, 1].min() - pad, points[:, 1].max() + pad, 200)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    if data.x.shape[1] == 3:
        grid = np.column_stack([np.ones(len(grid)), grid])
    values = [result.params[n] for n, _ in spec["params"]]
    probability = np.asarray(kernels_for_figure(name, len(grid)).predict(
        *values, np.ascontiguousarray(grid)))
    accuracy = result.metrics.get("train accuracy", float("nan"))
    ax.contour(gx, gy, probability.reshape(gx.shape), levels=[0.5], colors="black")
    ax.contourf(gx, gy, probability.reshape(gx.shape), levels=[0, 0.5, 1], colors=COLOURS, alpha=0.12)
    ax.set(title=f"{name}: the boundary p = 1/2 (train accuracy {accuracy:.3f})",
           xlabel="x", ylabel="y")

    ax.legend(fontsize=8, loc="upper right", title=f"synthetic data: {spec['training']['dataset']}",
              title_fontsize=8)  # symdl's built-in dots imitate the documents' pictures
    draw_loss(loss_ax, result)
    return fig


def draw_loss(ax, result):
    epochs, losses = zip(*result.history)
    ax.plot(epochs, losses, color="tab:purple")
    ax.set(title=f"loss J by epoch ({result.name})", xlabel="epoch", ylabel="J")
    if max(losses) > 0 and min(losses) > 0 and max(losses) / min(losses) > 100:
        ax.set_yscale("log")


def loss_curve(name, result=None):
    """J after each epoch of `symdl train NAME` (NAME a built-in name, a path or a Source)."""
    result = result or train.train(name)
    fig = new_figure(6, 4)
    draw_loss(fig.subplots(), result)
    return fig


# ---- 002: MNIST -------------------------------------------------------------------------

def mnist(result=None, shown=24, **training):
    """Test digits with their predicted labels (wrong ones in red), the confusion matrix, the loss."""
    data = datasets.mnist()
    result = result or train.train("mnist_mlp", **training)
    spec = kernels.load("mnist_mlp").SPEC
    values = [result.params[n] for n, _ in spec["params"]]
    predicted = np.argmax(kernels_for_figure("mnist_mlp", len(data.x_test)).predict(
        *values, data.x_test), axis=1)
    confusion = np.zeros((10, 10), dtype=int)
    np.add.at(confusion, (data.y_test, predicted), 1)
    fig = new_figure(15, 5)
    digits_area, matrix_ax, loss_ax = fig.subfigures(1, 3, width_ratios=(1.2, 1, 0.9))
    columns = 6
    for k, ax in enumerate(digits_area.subplots(int(np.ceil(shown / columns)), columns).ravel()):
        ax.imshow(data.x_test[k].reshape(28, 28), cmap="gray_r")
        right = predicted[k] == data.y_test[k]
        ax.set_title(f"{predicted[k]}" + ("" if right else f" (is {data.y_test[k]})"),
                     fontsize=8, color="black" if right else "tab:red")
        ax.set_axis_off()
    digits_area.suptitle("test digits, predicted label")
    ax = matrix_ax.subplots()
    ax.imshow(confusion, cmap="Blues")
    for (i, j), count in np.ndenumerate(confusion):
        ax.text(j, i, str(count), ha="center", va="center", fontsize=6,
                color="white" if count > confusion.max() / 2 else "black")
    accuracy = np.trace(confusion) / confusion.sum()
    ax.set(title=f"confusion matrix (test accuracy {accuracy:.3f})", xlabel="predicted",
           ylabel="true digit", xticks=range(10), yticks=range(10))
    draw_loss(loss_ax.subplots(), result)
    return fig


# ---- by name ----------------------------------------------------------------------------

CAPTIONS = {
    "unit_square": "The unit square $X$ (dashed) and its image under each matrix operation of "
                   "000/002, computed by symdl; the arrow shows the direction the rotation "
                   "$R(0.175)$ turns.",
    "paraboloid_gradient": "$z = x² + y²$ with the gradient field symdl derives, $∇z = (2x, 2y)$, "
                           "and gradient-descent steps walking down to the minimum.",
    "line_through_origin": "001's $MSE(m)$ on the synthetic test scores: (a) steps of $10⁻⁴$ land "
                           "ever closer to $m_bestest$; (b) a step just above the bound $2/MSE''$ "
                           "zig-zags outward on the parabola; (c) the talk's step 0.1, 550 times "
                           "the bound, multiplies the distance by $−1100.9$ each step.",
    "univariate_least_squares": "The closed-form least-squares lines: 001's $y = mx$ on the "
                                "synthetic test scores, 003's $y = ax + b$ on the synthetic floor "
                                "areas.",
    "logistic_three_parameter": "001's blue or orange dots (synthetic) with the boundary $p = 1/2$ "
                                "of the trained logistic model, a line, and the loss by epoch.",
    "logistic_regression": "003 §3.3 logistic regression on synthetic dots: its decision "
                           "boundary $θᵀx = 0$ is a line; the loss by epoch.",
    "two_layer_network": "001's and 004's dots no line separates (synthetic two moons): the "
                         "two-layer sigmoid network trained 150 epochs as the derivation "
                         "sets, its curved boundary $p = 1/2$, and the loss by epoch.",
    "mnist_mlp": "002's MNIST classifier trained as 002 trains it (RMSprop, batch 128, 5 epochs) "
                 "on 8,000 of the 10,000 MNIST test images symdl ships: test digits with their "
                 "predicted labels, the confusion matrix on the other 2,000, the loss by epoch.",
}
"""What each figure shows, for a handout's caption (symdl.report)."""

FIGURES = {
    "unit_square": unit_square,
    "paraboloid_gradient": paraboloid,
    "line_through_origin": mse_descent,
    "univariate_least_squares": best_fit,
    "logistic_three_parameter": lambda: decision_boundary("logistic_three_parameter"),
    "logistic_regression": lambda: decision_boundary("logistic_regression"),
    "two_layer_network": lambda: decision_boundary("two_layer_network"),
    "mnist_mlp": mnist,
}
"""The document figure drawn for each derivation; any other trainable model gets its loss curve."""


def figure(ref):
    """The figure for a derivation (a built-in name or a path): the document's picture, or
    the model's loss curve."""
    source = sources.resolve(ref)
    with interrupts.raising():  # Ctrl-C stops the figure: none drawn from a half-trained model
        if source.builtin and source.name in FIGURES:
            return FIGURES[source.name]()
        derivation = sources.load_derivation(source)
        if getattr(derivation, "training", None) is None:
            raise PlotError(f"{source.name} has no figure and trains nothing, so there is no "
                            f"loss curve to draw; figures exist for {', '.join(FIGURES)}")
        return loss_curve(source)
