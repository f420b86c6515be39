"""The data symdl trains on: the documents' own examples, synthetic stand-ins, and MNIST.

Every picture in the lecture documents that shows data (test scores, house prices, blue and
orange dots, red and blue moons, handwritten digits) has a function here that returns a
`Dataset` shaped like it. The synthetic sets are drawn with `numpy.random.default_rng(seed)`
from a fixed default seed, so a derivation checked today sees the same numbers tomorrow.
The real digits are the official MNIST test set, shipped inside the package and checked
against its md5 on every first load.

Conventions shared by all of them:

* ``x`` has shape ``(m,)`` when each sample is one number, ``(m, n)`` otherwise; when a
  document homogenises its features with a constant ``x0 = 1`` (`003_ff0b9f77f02ec2c2.txt`
  §3.2, §3.3) that column of ones is column 0 and is already included.
* ``y`` has shape ``(m,)``: float64 for regression and for binary labels 0.0/1.0, int64 for
  class labels 0..L-1.

Long because it holds one short function per data set (sixteen of them, each read on its own
beside the figure it imitates) and MNIST's reader; splitting them would only scatter a
catalogue that `load` names in one place.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Callable

import numpy as np

from symdl.errors import DataError


@dataclass(frozen=True, eq=False)
class Dataset:
    """A named set of samples, with an optional held-out test split.

    Equality is identity (``eq=False``): comparing two datasets field by field would compare
    NumPy arrays, which has no single truth value.
    """

    name: str
    description: str
    x: np.ndarray
    y: np.ndarray
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None


# --------------------------------------------------------------------------------------------
# Regression
# --------------------------------------------------------------------------------------------


def forward_pass_example() -> Dataset:
    """The four points of the worked forward pass, transcribed exactly.

    Source: `000_b9e7c87dcfbd1c26.txt` and `002_4c33554d2058975c.txt`, "Forward Pass II":
    X = [0.1, 0.3, 0.6, 0.7], Y = [0.2, 0.25, 0.4, 0.7], with W = [0.5] and B = [0].

    Two things in those slides do not follow from the data, and the tests built on this set
    should expect the data, not the slides:

    * the slides write the prediction as ``0.5 · Y``, but the numbers they print,
      [0.05, 0.15, 0.3, 0.35], are ``0.5 · X`` (which is what a forward pass computes);
    * the mean squared error of those predictions is 0.165 / 4 = 0.04125. The 2025 edition
      (002) prints 0.0412; the 2024 edition (000) prints 0.0825, which is twice that.
    """
    return Dataset(
        name="forward_pass_example",
        description=(
            "The four (x, y) points of the worked forward pass in 000/002 "
            '"Forward Pass II", transcribed exactly.'
        ),
        x=np.array([0.1, 0.3, 0.6, 0.7]),
        y=np.array([0.2, 0.25, 0.4, 0.7]),
    )


def test_scores(m: int = 90, seed: int = 0) -> Dataset:
    """Test 1 (x) against Test 2 (y) scores for a class, to fit a line through the origin.

    Imitates the scatter plot of `001_153ca892f3cbebf4.txt` (the math club talk): "Test 1 and
    Test 2 scores for 90 students", fitted by y = m·x, whose best slope has the closed form
    m = Σxy / Σx². Scores are whole points in [0, 100]; Test 1 lies roughly in 40..100 and
    Test 2 is about 0.9 of it plus noise.

    The talk's update m₁ = m₀ − 0.1·MSE′(m₀) diverges on scores of this size: MSE″ = 2·mean(x²)
    is about 10⁴, and gradient descent is stable only for steps below 1/mean(x²) ≈ 2·10⁻⁴.
    Divide both tests by 100 to use the talk's step of 0.1.
    """
    rng = np.random.default_rng(seed)
    test_1 = np.clip(np.round(rng.normal(72.0, 12.0, size=m)), 40.0, 100.0)
    test_2 = np.clip(np.round(0.9 * test_1 + rng.normal(0.0, 6.0, size=m)), 0.0, 100.0)
    return Dataset(
        name="test_scores",
        description=(
            f"Test 1 vs Test 2 scores of {m} students, imitating the scatter plot that 001 "
            "(the math club talk) fits with a line through the origin."
        ),
        x=test_1,
        y=test_2,
    )


test_scores.__test__ = False  # type: ignore[attr-defined]  # its name starts with "test_"; pytest must not collect it


def floor_areas(m: int = 50, seed: int = 0) -> Dataset:
    """Floor areas of homes and their sale prices, for univariate least squares.

    Imitates `003_ff0b9f77f02ec2c2.txt` §3.1 (Univariate Linear Regression): the model is
    y = a·x + b with cost J(a, b) = Σ(a·x + b − y)². Areas are in hundreds of square metres
    (0.5 to 3.0) and prices in hundreds of thousands, so the data are O(1) and the Hessian
    2[[Sxx, Sx], [Sx, m]] is small enough for gradient descent with a modest step s.
    The generating line is price = 1.5·area + 0.5, plus Gaussian noise of 0.25.
    """
    rng = np.random.default_rng(seed)
    area = rng.uniform(0.5, 3.0, size=m)
    price = 1.5 * area + 0.5 + rng.normal(0.0, 0.25, size=m)
    return Dataset(
        name="floor_areas",
        description=(
            f"Floor areas (100 m²) and prices (100k) of {m} homes, imitating the example "
            "of 003 §3.1 univariate linear regression."
        ),
        x=area,
        y=price,
    )


def houses(m: int = 200, n: int = 3, seed: int = 0) -> Dataset:
    """A design matrix of homes with n features each, for multivariate least squares.

    Imitates `003_ff0b9f77f02ec2c2.txt` §3.2 (Multivariate Regression): X is m × (n+1) with
    the homogenising column x0 = 1 first, so the model is y = Xθ and the cost is ‖Xθ − y‖².
    The other columns are standard normal; the true θ is drawn from N(0, 2²) and the targets
    carry Gaussian noise of 0.5.
    """
    rng = np.random.default_rng(seed)
    features = rng.standard_normal((m, n))
    design = _with_ones_column(features)
    theta_true = rng.normal(0.0, 2.0, size=n + 1)
    prices = design @ theta_true + rng.normal(0.0, 0.5, size=m)
    return Dataset(
        name="houses",
        description=(
            f"A {m} × {n + 1} design matrix of homes (column 0 all ones) and their prices, "
            "imitating 003 §3.2 multivariate regression."
        ),
        x=design,
        y=prices,
    )


def surface(m: int = 400, seed: int = 0) -> Dataset:
    """Two inputs per sample and a smooth curved surface over them: regression in the plane.

    Not from the documents: the smallest data on which a one-hidden-layer network beats a
    plane. x is m × 2, uniform on [−2, 2]²; y = sin(x₁) + x₂²/2 − 1 plus Gaussian noise of
    0.05. The last quarter of the samples is held out as the test split.
    """
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2.0, 2.0, size=(m, 2))
    y = np.sin(x[:, 0]) + 0.5 * x[:, 1] ** 2 - 1.0 + rng.normal(0.0, 0.05, size=m)
    return _last_quarter_held_out(
        "surface", "{train} samples of two inputs on [−2, 2]² and y = sin(x₁) + x₂²/2 − 1 "
                   "with noise, {test} held out: regression with two inputs.", x, y)


def counts(m: int = 300, seed: int = 0) -> Dataset:
    """Event counts whose log-rate is linear in two features: data for Poisson regression.

    Not from the documents. x is m × 3 with the homogenising column x0 = 1 first (as in
    `003_ff0b9f77f02ec2c2.txt` §3.2) and two standard normal columns; y ~ Poisson(e^{θᵀx})
    with θ = (0.5, 0.8, −0.4), so the rates stay between about 0.2 and 15.
    """
    rng = np.random.default_rng(seed)
    design = _with_ones_column(rng.standard_normal((m, 2)))
    rate = np.exp(design @ np.array([0.5, 0.8, -0.4]))
    return Dataset(
        name="counts",
        description=(f"{m} event counts y ~ Poisson(e^(θᵀx)) over a design matrix with a "
                     f"column of ones, θ = (0.5, 0.8, −0.4)."),
        x=design, y=rng.poisson(rate).astype(np.float64),
    )


def two_outputs(m: int = 400, seed: int = 0) -> Dataset:
    """Two targets per sample, each an affine function of three features: multi-output regression.

    Not from the documents. x is m × 3 standard normal; y = x·Bᵀ + c plus Gaussian noise of
    0.1, with B = ((1, −2, 0.5), (0, 1, 3)) and c = (0.5, −1), so y is m × 2. The last
    quarter of the samples is held out as the test split.
    """
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((m, 3))
    weights = np.array([[1.0, -2.0, 0.5], [0.0, 1.0, 3.0]])
    y = x @ weights.T + np.array([0.5, -1.0]) + rng.normal(0.0, 0.1, size=(m, 2))
    return _last_quarter_held_out(
        "two_outputs", "{train} samples of three features and two targets y = B·x + c with "
                       "noise, {test} held out: multi-output regression.", x, y)


# --------------------------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------------------------


def ring(m: int = 600, seed: int = 0) -> Dataset:
    """Points in the plane, class 1 within distance 1 of the point (0.5, −0.5): a disc.

    Not from the documents: no line separates the classes, one radial-basis unit
    e^{−s‖x − c‖²} does. x is m × 2, uniform on [−2, 2]²; labels near the circle are flipped
    with a probability that falls off with the distance to it. The last quarter is held out.
    """
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2.0, 2.0, size=(m, 2))
    distance = np.sqrt(np.sum((x - np.array([0.5, -0.5])) ** 2, axis=1))
    inside = _sigmoid(8.0 * (1.0 - distance))
    y = (rng.random(m) < inside).astype(np.float64)
    return _last_quarter_held_out(
        "ring", "{train} points on [−2, 2]², class 1 within distance 1 of (0.5, −0.5) "
                "(noisy near the circle), {test} held out.", x, y)


def two_classes(m: int = 200, seed: int = 0) -> Dataset:
    """Blue (0) and orange (1) dots in the plane that a line nearly separates.

    Imitates the second picture of `001_153ca892f3cbebf4.txt` (the math club talk), where
    logistic regression with parameters (m₁, m₂, b) finds a linear decision boundary.
    Two Gaussian clouds of standard deviation 0.6 centred at (0.5, 2.5) and (2.5, 1.5):
    they overlap a little, so the maximum-likelihood parameters are finite, and the boundary
    misses the origin, so the bias b matters. Half the points are in each class, shuffled.
    """
    rng = np.random.default_rng(seed)
    labels = _balanced_labels(m, classes=2, rng=rng)
    centres = np.array([[0.5, 2.5], [2.5, 1.5]])
    points = centres[labels] + rng.normal(0.0, 0.6, size=(m, 2))
    return Dataset(
        name="two_classes",
        description=(
            f"{m} blue (0) and orange (1) dots that a line nearly separates, imitating the "
            "logistic-regression picture of 001 (the math club talk)."
        ),
        x=points,
        y=labels.astype(np.float64),
    )


def two_classes_with_bias(m: int = 200, seed: int = 0) -> Dataset:
    """The points of `two_classes`, homogenised with a leading column of ones.

    For `003_ff0b9f77f02ec2c2.txt` §3.3 (Logistic Regression), whose hypothesis
    h_θ(x) = σ(θᵀx) carries the intercept as θ0 on the constant feature x0 = 1.
    """
    plain = two_classes(m, seed)
    return Dataset(
        name="two_classes_with_bias",
        description=(
            f"The {m} dots of two_classes with a leading column of ones, for 003 §3.3 "
            "logistic regression with θ0."
        ),
        x=_with_ones_column(plain.x),
        y=plain.y,
    )


def two_moons(m: int = 1000, noise: float = 0.1, seed: int = 0) -> Dataset:
    """Two interleaving half circles, a set no straight line separates.

    Imitates "What if our data looks like this though? A logistic regression would be
    hopeless..." in `001_153ca892f3cbebf4.txt` and the red and blue dots of
    `004_36f6966e031dacf2.txt` ("A classification problem"), the motivation for hidden layers.

    Class 0 lies on the upper unit half circle (cos t, sin t); class 1 on the lower unit
    half circle centred at (1, 0.5), i.e. (1 − cos t, 0.5 − sin t); t is uniform on [0, π].
    Both coordinates get Gaussian noise of standard deviation ``noise``.
    """
    rng = np.random.default_rng(seed)
    labels = _balanced_labels(m, classes=2, rng=rng)
    angle = rng.uniform(0.0, np.pi, size=m)
    upper = np.column_stack([np.cos(angle), np.sin(angle)])
    lower = np.column_stack([1.0 - np.cos(angle), 0.5 - np.sin(angle)])
    points = np.where(labels[:, None] == 0, upper, lower)
    points = points + rng.normal(0.0, noise, size=(m, 2))
    return Dataset(
        name="two_moons",
        description=(
            f"{m} points on two interleaving half circles that no line separates, imitating "
            "001's 'What if our data looks like this' and 004's red and blue dots."
        ),
        x=points,
        y=labels.astype(np.float64),
    )


def blobs(m: int = 300, classes: int = 3, seed: int = 0) -> Dataset:
    """L Gaussian blobs in the plane, with a leading column of ones, for one-vs-rest.

    For the closing paragraph of `003_ff0b9f77f02ec2c2.txt` §3.3: "To build a classifier with
    L classes, we can use L binary (one-vs-rest) classifiers." The blob centres sit evenly
    on a circle of radius 3 around (1, 1), each blob with standard deviation 0.8, so each
    class is roughly separable from the rest by one line with an intercept.
    """
    if classes < 2:
        raise ValueError(f"blobs needs at least 2 classes, got {classes}")
    rng = np.random.default_rng(seed)
    labels = _balanced_labels(m, classes=classes, rng=rng)
    angles = 2.0 * np.pi * np.arange(classes) / classes
    centres = 1.0 + 3.0 * np.column_stack([np.cos(angles), np.sin(angles)])
    points = centres[labels] + rng.normal(0.0, 0.8, size=(m, 2))
    return Dataset(
        name="blobs",
        description=(
            f"{m} points in {classes} Gaussian blobs with a leading column of ones, for the "
            "one-vs-rest classifier of 003 §3.3."
        ),
        x=_with_ones_column(points),
        y=labels,
    )


def pinwheel(m: int = 2000, classes: int = 10, seed: int = 0) -> Dataset:
    """Points in the plane on `classes` curved arms of a pinwheel, one class per arm.

    Not from the documents: a set with two inputs and ten classes that no linear classifier
    separates (the arms bend by up to 0.75 rad), for a small deep ReLU network with a softmax
    output. Radii are uniform on [0.3, 2.0], with Gaussian noise of 0.05 across the arm; the
    last fifth is held out as the test split.
    """
    rng = np.random.default_rng(seed)
    labels = _balanced_labels(m, classes=classes, rng=rng)
    radius = rng.uniform(0.3, 2.0, size=m)
    angle = 2.0 * np.pi * labels / classes + 0.375 * radius + rng.normal(0.0, 0.05, size=m)
    points = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    split = 4 * m // 5
    return Dataset(
        name="pinwheel",
        description=(f"{split} points on the {classes} curved arms of a pinwheel, one class "
                     f"per arm, {m - split} held out."),
        x=points[:split], y=labels[:split], x_test=points[split:], y_test=labels[split:],
    )


def logistic_features(m: int = 200_000, n: int = 32, seed: int = 0) -> Dataset:
    """A large logistic-regression problem, the performance workload.

    The model of `003_ff0b9f77f02ec2c2.txt` §3.3 at a size where kernel speed shows:
    column 0 is the constant x0 = 1, columns 1..n−1 are standard normal, and each label is
    a coin flip with probability σ(xᵀθ_true). θ_true is drawn with standard deviation
    2/√(n−1) so that xᵀθ_true has spread about 2: the labels are neither pure noise nor
    perfectly separable.
    """
    if n < 1:
        raise ValueError(f"logistic_features needs n >= 1 columns (the bias), got {n}")
    rng = np.random.default_rng(seed)
    design = _with_ones_column(rng.standard_normal((m, n - 1)))
    theta_true = rng.standard_normal(n) * (2.0 / np.sqrt(max(n - 1, 1)))
    probability = _sigmoid(design @ theta_true)
    labels = (rng.random(m) < probability).astype(np.float64)
    return Dataset(
        name="logistic_features",
        description=(
            f"{m} samples × {n} columns (column 0 all ones) with Bernoulli(σ(xᵀθ)) labels, "
            "a large instance of 003 §3.3 logistic regression for benchmarks."
        ),
        x=design,
        y=labels,
    )


def skewed_sample(m: int = 101, seed: int = 0) -> Dataset:
    """Skewed numbers whose mean and median clearly differ.

    For footnote 3 of `003_ff0b9f77f02ec2c2.txt` §3.1: the centre minimising the L² distance
    is the mean, the one minimising the L¹ distance is the median, "and the mean and the
    median of the data are not necessarily equal." Log-normal draws (mean ≈ 1.65, median ≈ 1)
    make the difference plain; m is odd by default so the median is one of the numbers.
    Only ``x`` carries data; ``y`` is zeros.
    """
    rng = np.random.default_rng(seed)
    return Dataset(
        name="skewed_sample",
        description=(
            f"{m} log-normal numbers whose mean and median differ, for 003's footnote on "
            "L2 giving the mean and L1 the median."
        ),
        x=rng.lognormal(0.0, 1.0, size=m),
        y=np.zeros(m),
    )


# --------------------------------------------------------------------------------------------
# MNIST: real digits
# --------------------------------------------------------------------------------------------

MNIST_IMAGES_FILE = "t10k-images-idx3-ubyte.gz"
MNIST_LABELS_FILE = "t10k-labels-idx1-ubyte.gz"
MNIST_MD5 = {
    MNIST_IMAGES_FILE: "9fb629c4189551a2d022fa330f9573f3",
    MNIST_LABELS_FILE: "ec29112dd5afa0611ce80d1b7f02629c",
}
MNIST_SIZE = 10_000
MNIST_PIXELS = 28 * 28
IDX_IMAGES_MAGIC = 2051
IDX_LABELS_MAGIC = 2049

_mnist_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}


def mnist(
    n_train: int = 8000,
    n_test: int = 2000,
    dtype=np.float32,
    directory: str | Path | None = None,
) -> Dataset:
    """Handwritten digits: the official MNIST test set, split into train and test.

    `002_4c33554d2058975c.txt` ("A Real Example: Data Setup") trains on 60,000 images and
    tests on 10,000, each flattened to 28 × 28 = 784 pixels. Only the 10,000-image test set
    ships with symdl, so it is split here: train = the FIRST ``n_train`` images, test = the
    LAST ``n_test`` (they never overlap, since n_train + n_test ≤ 10,000). Accuracies are
    therefore not directly comparable with the document's 0.9725 / 0.9586.

    Pixels are scaled to [0, 1] in ``dtype``; labels are int64 digits 0..9. The files are
    read from the package (``symdl/data/mnist``) unless ``directory`` names a folder holding
    the same two files. Either way their md5 is checked, and a bad checksum, IDX header or
    size raises `DataError`. Decoded images are cached per location, so later calls only
    slice and scale.
    """
    if n_train < 1 or n_test < 0 or n_train + n_test > MNIST_SIZE:
        raise DataError(
            f"mnist needs n_train >= 1, n_test >= 0 and n_train + n_test <= {MNIST_SIZE} "
            f"(the images available), got n_train={n_train}, n_test={n_test}"
        )
    try:
        kind = np.dtype(dtype).kind
    except TypeError:
        kind = None
    if kind != "f":
        raise DataError(f"mnist pixels need a floating dtype such as np.float32, got {dtype!r}")

    pixels, labels = _decoded_mnist(directory)

    def scaled(rows: np.ndarray) -> np.ndarray:
        return rows.astype(dtype) / np.asarray(255, dtype=dtype)

    test_start = MNIST_SIZE - n_test
    has_test = n_test > 0
    return Dataset(
        name="mnist",
        description=(
            f"{n_train} training and {n_test} test images of handwritten digits from the "
            "official MNIST test set, for the digit classifier of 002 'A Real Example'."
        ),
        x=scaled(pixels[:n_train]),
        y=labels[:n_train].copy(),
        x_test=scaled(pixels[test_start:]) if has_test else None,
        y_test=labels[test_start:].copy() if has_test else None,
    )


def _decoded_mnist(directory: str | Path | None) -> tuple[np.ndarray, np.ndarray]:
    """All 10,000 images as read-only uint8 rows of 784 pixels, and their int64 labels."""
    folder = resources.files("symdl") / "data" / "mnist" if directory is None else Path(directory)
    if directory is not None and not Path(directory).is_dir():
        what = "is a file, not a folder" if Path(directory).exists() else "does not exist"
        raise DataError(f"mnist(directory={str(directory)!r}): {folder} {what}; give the folder "
                        f"that holds {MNIST_IMAGES_FILE} and {MNIST_LABELS_FILE}")
    key = str(folder)
    if key not in _mnist_cache:
        image_bytes = _read_verified(folder, MNIST_IMAGES_FILE)
        label_bytes = _read_verified(folder, MNIST_LABELS_FILE)
        images = _parse_idx(image_bytes, IDX_IMAGES_MAGIC, MNIST_IMAGES_FILE)
        labels = _parse_idx(label_bytes, IDX_LABELS_MAGIC, MNIST_LABELS_FILE)
        if images.shape != (MNIST_SIZE, 28, 28):
            raise DataError(
                f"{MNIST_IMAGES_FILE} holds images of shape {images.shape}, "
                f"expected ({MNIST_SIZE}, 28, 28)"
            )
        if labels.shape != (MNIST_SIZE,):
            raise DataError(
                f"{MNIST_LABELS_FILE} holds labels of shape {labels.shape}, "
                f"expected ({MNIST_SIZE},)"
            )
        pixels = images.reshape(MNIST_SIZE, MNIST_PIXELS)
        digits = labels.astype(np.int64)
        pixels.setflags(write=False)
        digits.setflags(write=False)
        _mnist_cache[key] = (pixels, digits)
    return _mnist_cache[key]


def _read_verified(folder, file_name: str) -> bytes:
    """The decompressed contents of one MNIST file, after checking the md5 of its .gz bytes."""
    location = folder / file_name
    try:
        compressed = location.read_bytes()
    except FileNotFoundError:
        raise DataError(f"MNIST file not found: {location}") from None
    except IsADirectoryError:
        raise DataError(f"{location} is a folder, not the MNIST file: put the file "
                        f"{file_name} itself there (as downloaded, still gzip-compressed)") from None
    except OSError as error:
        raise DataError(f"{location} cannot be read ({error.strerror or error})") from None
    digest = hashlib.md5(compressed, usedforsecurity=False).hexdigest()
    if digest != MNIST_MD5[file_name]:
        raise DataError(
            f"{location} has md5 {digest}, expected {MNIST_MD5[file_name]}: the file is "
            "corrupted or is not the official MNIST test set"
        )
    try:
        return gzip.decompress(compressed)
    except (OSError, EOFError, zlib.error) as error:
        raise DataError(f"{location} is not a readable gzip file: {error}") from None


def _parse_idx(content: bytes, expected_magic: int, source: str) -> np.ndarray:
    """Decode an IDX file of unsigned bytes (the MNIST format) into an array.

    The header is a big-endian uint32 magic number, 0x0000 then type code 0x08 (unsigned
    byte) then the number of dimensions: 2051 for 3-D image stacks, 2049 for 1-D label
    lists. Each dimension follows as a big-endian uint32, then the data, one byte per entry.
    """
    if len(content) < 4:
        raise DataError(f"{source} is too short ({len(content)} bytes) to hold an IDX header")
    magic = int.from_bytes(content[:4], "big")
    if magic != expected_magic:
        raise DataError(
            f"{source} has IDX magic number {magic}, expected {expected_magic}: "
            "it is not the MNIST file its name says"
        )
    rank = magic & 0xFF
    header_size = 4 + 4 * rank
    if len(content) < header_size:
        raise DataError(f"{source} is too short ({len(content)} bytes) for its IDX header")
    shape = tuple(
        int.from_bytes(content[4 + 4 * axis: 8 + 4 * axis], "big") for axis in range(rank)
    )
    expected_size = header_size + int(np.prod(shape))
    if len(content) != expected_size:
        raise DataError(
            f"{source} has {len(content)} bytes, but its header (shape {shape}) "
            f"implies {expected_size}: the file is truncated or padded"
        )
    return np.frombuffer(content, dtype=np.uint8, offset=header_size).reshape(shape)


# --------------------------------------------------------------------------------------------
# Small helpers and the registry
# --------------------------------------------------------------------------------------------


def _last_quarter_held_out(name: str, description: str, x, y) -> Dataset:
    """A Dataset whose last quarter of samples is the test split; `description` names the
    counts as {train} and {test}."""
    split = 3 * len(x) // 4
    return Dataset(name=name, description=description.format(train=split, test=len(x) - split),
                   x=x[:split], y=y[:split], x_test=x[split:], y_test=y[split:])


def _with_ones_column(features: np.ndarray) -> np.ndarray:
    """Prepend the constant feature x0 = 1 (`003_ff0b9f77f02ec2c2.txt` §3.2)."""
    return np.column_stack([np.ones(len(features)), features])


def _balanced_labels(m: int, classes: int, rng: np.random.Generator) -> np.ndarray:
    """m int64 labels 0..classes−1 in shuffled order, each class as equally often as m allows."""
    labels = np.arange(m, dtype=np.int64) % classes
    rng.shuffle(labels)
    return labels


def _sigmoid(t: np.ndarray) -> np.ndarray:
    """σ(t) = 1 / (1 + e^(−t)), written via tanh so large |t| cannot overflow."""
    return 0.5 * (1.0 + np.tanh(0.5 * t))


BUILTIN: dict[str, Callable[[], Dataset]] = {
    "forward_pass_example": forward_pass_example,
    "test_scores": test_scores,
    "floor_areas": floor_areas,
    "houses": houses,
    "surface": surface,
    "counts": counts,
    "two_outputs": two_outputs,
    "two_classes": two_classes,
    "two_classes_with_bias": two_classes_with_bias,
    "two_moons": two_moons,
    "blobs": blobs,
    "pinwheel": pinwheel,
    "ring": ring,
    "logistic_features": logistic_features,
    "skewed_sample": skewed_sample,
    "mnist": mnist,
}


def load(name: str) -> Dataset:
    """The built-in dataset called ``name``, with its default size and seed."""
    try:
        make = BUILTIN[name]
    except KeyError:
        raise DataError(
            f"no built-in dataset named {name!r}; the names are: {', '.join(BUILTIN)}"
        ) from None
    return make()
