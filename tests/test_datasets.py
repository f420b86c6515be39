"""Tests for symdl.datasets (built-in data, MNIST loading) and symdl.validate (input checks)."""

import gzip
import shutil
from importlib import resources

import numpy as np
import pytest

from symdl import datasets
from symdl.errors import DataError, DivergenceError
from symdl.training.divergence import finite_loss
from symdl.validate import training_data

PACKAGED_MNIST = resources.files("symdl") / "data" / "mnist"


def decode_independently(file_name):
    """Read an MNIST IDX file with gzip and frombuffer, without symdl's parser."""
    content = gzip.decompress((PACKAGED_MNIST / file_name).read_bytes())
    if "images" in file_name:
        return np.frombuffer(content, dtype=np.uint8, offset=16).reshape(10_000, 784)
    return np.frombuffer(content, dtype=np.uint8, offset=8)


@pytest.fixture(scope="module")
def digits():
    return datasets.mnist()


@pytest.fixture
def mnist_copy(tmp_path):
    for file_name in (datasets.MNIST_IMAGES_FILE, datasets.MNIST_LABELS_FILE):
        with resources.as_file(PACKAGED_MNIST / file_name) as source:
            shutil.copy(source, tmp_path / file_name)
    return tmp_path


# --------------------------------------------------------------------------------------------
# MNIST
# --------------------------------------------------------------------------------------------


def test_mnist_shapes_range_and_labels(digits):
    assert digits.x.shape == (8000, 784) and digits.x_test.shape == (2000, 784)
    assert digits.x.dtype == np.float32 and digits.x_test.dtype == np.float32
    assert digits.y.dtype == np.int64 and digits.y_test.dtype == np.int64
    for pixels in (digits.x, digits.x_test):
        assert pixels.min() == 0.0 and pixels.max() == 1.0
    for labels in (digits.y, digits.y_test):
        assert set(np.unique(labels)) == set(range(10))


def test_mnist_train_is_first_and_test_is_last_images(digits):
    pixels = decode_independently(datasets.MNIST_IMAGES_FILE)
    labels = decode_independently(datasets.MNIST_LABELS_FILE)
    np.testing.assert_array_equal(digits.x_test, pixels[-2000:].astype(np.float32) / 255)
    np.testing.assert_array_equal(digits.y_test, labels[-2000:])
    np.testing.assert_array_equal(digits.x, pixels[:8000].astype(np.float32) / 255)
    np.testing.assert_array_equal(digits.y, labels[:8000])


def test_mnist_dtype_and_split_sizes():
    small = datasets.mnist(n_train=100, n_test=50, dtype=np.float64)
    assert small.x.shape == (100, 784) and small.x.dtype == np.float64
    assert small.x_test.shape == (50, 784)
    no_test = datasets.mnist(n_train=10, n_test=0)
    assert no_test.x_test is None and no_test.y_test is None


def test_mnist_rejects_more_images_than_exist():
    with pytest.raises(DataError, match="10000"):
        datasets.mnist(n_train=9000, n_test=2000)


def test_mnist_second_call_uses_cache(digits, monkeypatch):
    def refuse_to_read(*args):
        raise AssertionError("MNIST files were read again")

    monkeypatch.setattr(datasets, "_read_verified", refuse_to_read)
    again = datasets.mnist()
    np.testing.assert_array_equal(again.x, digits.x)


def test_mnist_results_do_not_share_memory_with_the_cache(digits):
    digits_copy = datasets.mnist()
    digits_copy.x[:] = -1.0
    digits_copy.y[:] = -1
    fresh = datasets.mnist()
    assert fresh.x.min() == 0.0 and fresh.y.min() == 0


def test_mnist_from_an_intact_copy(mnist_copy):
    copied = datasets.mnist(n_train=50, n_test=50, directory=mnist_copy)
    np.testing.assert_array_equal(copied.y, datasets.mnist(n_train=50, n_test=50).y)


def test_mnist_corrupted_copy_raises_md5_error(mnist_copy):
    images = mnist_copy / datasets.MNIST_IMAGES_FILE
    tampered = bytearray(images.read_bytes())
    tampered[len(tampered) // 2] ^= 0xFF
    images.write_bytes(bytes(tampered))
    with pytest.raises(DataError, match="md5"):
        datasets.mnist(directory=mnist_copy)


def test_mnist_missing_file_raises(mnist_copy):
    (mnist_copy / datasets.MNIST_LABELS_FILE).unlink()
    with pytest.raises(DataError, match="not found"):
        datasets.mnist(directory=mnist_copy)


def idx_bytes(magic, shape, payload_size):
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in shape)
    return header + bytes(payload_size)


def test_idx_parser_reads_header_and_data():
    parsed = datasets._parse_idx(idx_bytes(2051, (2, 3, 4), 24), 2051, "tiny")
    assert parsed.shape == (2, 3, 4)


def test_idx_parser_rejects_wrong_magic_number():
    with pytest.raises(DataError, match="magic number 2049, expected 2051"):
        datasets._parse_idx(idx_bytes(2049, (5,), 5), 2051, "labels-as-images")


def test_idx_parser_rejects_truncated_data():
    with pytest.raises(DataError, match="truncated"):
        datasets._parse_idx(idx_bytes(2051, (2, 3, 4), 23), 2051, "short")


# --------------------------------------------------------------------------------------------
# Synthetic and transcribed data
# --------------------------------------------------------------------------------------------

SEEDED = [
    datasets.test_scores,
    datasets.floor_areas,
    datasets.houses,
    datasets.surface,
    datasets.counts,
    datasets.two_classes,
    datasets.two_classes_with_bias,
    datasets.two_moons,
    datasets.blobs,
    datasets.pinwheel,
    datasets.skewed_sample,
    lambda seed=0: datasets.logistic_features(m=2000, seed=seed),
]


@pytest.mark.parametrize("make", SEEDED)
def test_same_seed_same_arrays_other_seed_other_arrays(make):
    first, second, other = make(seed=3), make(seed=3), make(seed=4)
    np.testing.assert_array_equal(first.x, second.x)
    np.testing.assert_array_equal(first.y, second.y)
    assert not np.array_equal(first.x, other.x)


@pytest.mark.parametrize("name", sorted(datasets.BUILTIN))
def test_every_builtin_loads_under_its_name(name):
    loaded = datasets.load(name)
    assert loaded.name == name
    assert loaded.description.endswith(".")
    assert len(loaded.x) == len(loaded.y) > 0
    assert np.all(np.isfinite(loaded.x)) and np.all(np.isfinite(loaded.y))


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(DataError) as raised:
        datasets.load("iris")
    assert "iris" in str(raised.value) and "two_moons" in str(raised.value)


def test_forward_pass_example_is_the_documents_numbers():
    example = datasets.forward_pass_example()
    np.testing.assert_array_equal(example.x, [0.1, 0.3, 0.6, 0.7])
    np.testing.assert_array_equal(example.y, [0.2, 0.25, 0.4, 0.7])
    np.testing.assert_allclose(0.5 * example.x, [0.05, 0.15, 0.3, 0.35])
    assert np.mean((example.y - 0.5 * example.x) ** 2) == pytest.approx(0.04125)


def test_test_scores_look_like_scores():
    scores = datasets.test_scores()
    assert scores.x.shape == scores.y.shape == (90,)
    assert 40 <= scores.x.min() and scores.x.max() <= 100
    assert 0 <= scores.y.min() and scores.y.max() <= 100
    best_slope = (scores.x @ scores.y) / (scores.x @ scores.x)
    assert best_slope == pytest.approx(0.9, abs=0.05)


def test_floor_areas_are_order_one_and_linear():
    homes = datasets.floor_areas()
    assert homes.x.shape == homes.y.shape == (50,)
    assert 0.1 < np.abs(homes.x).max() < 10 and 0.1 < np.abs(homes.y).max() < 10
    assert np.corrcoef(homes.x, homes.y)[0, 1] > 0.9


def test_houses_design_matrix_has_ones_first():
    homes = datasets.houses(m=120, n=5)
    assert homes.x.shape == (120, 6) and homes.y.shape == (120,)
    np.testing.assert_array_equal(homes.x[:, 0], 1.0)
    theta, residual, *_ = np.linalg.lstsq(homes.x, homes.y, rcond=None)
    assert residual[0] / 120 < 0.5


def test_two_classes_are_balanced_and_nearly_linearly_separable():
    dots = datasets.two_classes()
    assert dots.x.shape == (200, 2) and dots.y.dtype == np.float64
    assert set(np.unique(dots.y)) == {0.0, 1.0} and dots.y.sum() == 100
    design = np.column_stack([np.ones(200), dots.x])
    weights, *_ = np.linalg.lstsq(design, 2 * dots.y - 1, rcond=None)
    assert np.mean((design @ weights > 0) == (dots.y == 1)) > 0.9


def test_two_classes_with_bias_is_the_same_points_with_ones():
    plain, biased = datasets.two_classes(seed=7), datasets.two_classes_with_bias(seed=7)
    assert biased.x.shape == (200, 3)
    np.testing.assert_array_equal(biased.x[:, 0], 1.0)
    np.testing.assert_array_equal(biased.x[:, 1:], plain.x)
    np.testing.assert_array_equal(biased.y, plain.y)


def test_two_moons_shape_balance_and_half_circles():
    moons = datasets.two_moons(m=1001)
    assert moons.x.shape == (1001, 2)
    assert set(np.unique(moons.y)) == {0.0, 1.0}
    assert abs(moons.y.sum() - 1001 / 2) <= 0.5
    exact = datasets.two_moons(m=400, noise=0.0)
    upper, lower = exact.x[exact.y == 0], exact.x[exact.y == 1]
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0)
    np.testing.assert_allclose(np.hypot(*(lower - [1.0, 0.5]).T), 1.0)
    assert np.all(upper[:, 1] >= 0) and np.all(lower[:, 1] <= 0.5)


def test_blobs_have_int_labels_for_every_class_and_a_ones_column():
    points = datasets.blobs(m=400, classes=4)
    assert points.x.shape == (400, 3) and points.y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(points.y), [100, 100, 100, 100])
    np.testing.assert_array_equal(points.x[:, 0], 1.0)


def test_logistic_features_layout_and_labels():
    workload = datasets.logistic_features(m=5000, n=8)
    assert workload.x.shape == (5000, 8) and workload.y.shape == (5000,)
    np.testing.assert_array_equal(workload.x[:, 0], 1.0)
    assert set(np.unique(workload.y)) == {0.0, 1.0}
    assert 0.1 < workload.y.mean() < 0.9


def test_skewed_sample_mean_and_median_differ():
    sample = datasets.skewed_sample()
    assert sample.x.shape == (101,) and np.all(sample.y == 0)
    assert np.mean(sample.x) - np.median(sample.x) > 0.3


# --------------------------------------------------------------------------------------------
# validate
# --------------------------------------------------------------------------------------------


def test_training_data_casts_and_makes_contiguous():
    x = np.arange(12, dtype=np.int32).reshape(6, 2)[::2]
    x_checked, y_checked = training_data(x, [0, 1, 0], feature_shape=(2,), dtype=np.float32)
    assert x_checked.dtype == np.float32 and x_checked.flags.c_contiguous
    assert y_checked.dtype == np.float64


def test_training_data_flattens_a_single_column_for_scalar_features():
    x_checked, _ = training_data(np.ones((4, 1)), np.ones(4), feature_shape=())
    assert x_checked.shape == (4,)


def test_training_data_class_labels_become_int64():
    _, labels = training_data(np.ones((3, 2)), [0.0, 2.0, 1.0], task="classes", classes=3)
    assert labels.dtype == np.int64
    np.testing.assert_array_equal(labels, [0, 2, 1])


@pytest.mark.parametrize(
    "x, y, options, words",
    [
        (np.ones((0, 2)), np.ones(0), {}, "no samples"),
        (np.ones((5, 2)), np.ones(4), {}, "x has 5 samples but y has 4"),
        (np.ones((4, 3)), np.ones(4), {"feature_shape": (2,)}, "3 features .* expects 2"),
        (np.ones(4), np.ones(4), {"feature_shape": (2,)}, "single number .* expects 2"),
        (np.array([[1.0, np.nan], [np.nan, 2.0]]), np.ones(2), {}, "x contains 2 NaN"),
        (np.ones(3), np.array([1.0, np.inf, 0.0]), {}, "y contains 0 NaN and 1 inf"),
        (np.ones(3), np.array([0.0, 1.0, 2.0]), {"task": "binary"}, "0 or 1"),
        (np.ones(3), np.array([0.0, 1.5, 2.0]), {"task": "classes"}, "integer labels"),
        (np.ones(3), np.array([0, 3, -1]), {"task": "classes", "classes": 3}, r"0\.\.2"),
        (np.array(["a", "b"]), np.ones(2), {}, "real numbers"),
        (np.array([1e300]), np.ones(1), {"dtype": np.float32}, "too large for float32"),
        (np.ones((3, 2)), np.ones((3, 2)), {}, "one target per sample"),
    ],
)
def test_training_data_names_the_problem(x, y, options, words):
    with pytest.raises(DataError, match=words):
        training_data(x, y, **options)


def test_finite_loss_passes_finite_values_and_stops_divergence():
    assert finite_loss(0.25, step=3) == 0.25
    with pytest.raises(DivergenceError, match="inf at step 17; the step size"):
        finite_loss(float("inf"), step=17)
    with pytest.raises(DivergenceError, match="NaN at step 2"):
        finite_loss(np.float64("nan"), step=2)
