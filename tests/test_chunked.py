"""Training on Dask arrays gives the in-memory parameters, on one machine and on a cluster.

The sums are reordered (per chunk, then a tree), so parameters agree to rounding, rtol 1e-10
after 50 epochs (issue 11). A killed worker costs a recomputation, never a wrong gradient;
a bad chunk gets the in-memory error, naming the chunk. The divergence watch, Ctrl-C and the
callbacks behave as in memory.
"""

import io
import logging
import os
import signal
import sys
import threading
import time

import numpy as np
import pytest

da = pytest.importorskip("dask.array")

from symdl import callbacks, cli, datasets, kernels, saved, stores, train  # noqa: E402
from symdl.errors import DataError, DivergenceError  # noqa: E402

RTOL = 1e-10


@pytest.fixture(scope="module")
def logistic():
    """3,000 rows, 5 features (column 0 the bias), labels drawn from a logistic model."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((3000, 5))
    x[:, 0] = 1.0
    y = (rng.random(3000) < 1 / (1 + np.exp(-x @ rng.standard_normal(5)))).astype(float)
    return x, y


def chunked_like(x, y, rows=700):
    return da.from_array(x, chunks=(rows, x.shape[1])), da.from_array(y, chunks=rows)


def assert_same_params(result, expected):
    for name, value in expected.params.items():
        np.testing.assert_allclose(result.params[name], value, rtol=RTOL, atol=0)
    np.testing.assert_allclose([j for _, j in result.history],
                               [j for _, j in expected.history], rtol=RTOL)


def test_gradient_descent_on_dask_equals_in_memory(logistic):
    x, y = logistic
    expected = train.fit("logistic_regression", x, y, learning_rate=1e-3, epochs=50)
    result = train.fit("logistic_regression", *chunked_like(x, y), learning_rate=1e-3, epochs=50)
    assert_same_params(result, expected)
    assert result.metrics["chunks"] == 5 and result.metrics["passes over the data"] == 51


def test_mean_reduction_network_and_scalar_features_equal_in_memory():
    """Kernels that return means are scaled back to sums per chunk; scalars stay floats."""
    moons = datasets.two_moons(m=600)
    points, labels = moons.x, moons.y
    options = dict(learning_rate=0.5, epochs=50, sizes={"H": 4}, init_scale=1.0)
    expected = train.fit("two_layer_network", points, labels, **options)
    result = train.fit("two_layer_network", *chunked_like(points, labels, 250), **options)
    assert_same_params(result, expected)
    assert isinstance(result.params["b2"], float)

    floors = datasets.floor_areas()
    expected = train.fit("affine_mse", floors.x, floors.y, learning_rate=0.05, epochs=50)
    xs = da.from_array(np.asarray(floors.x, dtype=float), chunks=3)
    result = train.fit("affine_mse", xs, da.from_array(floors.y, chunks=3),
                       learning_rate=0.05, epochs=50)
    assert_same_params(result, expected)


@pytest.mark.parametrize("name, options", [
    ("logistic_regression", dict(optimizer="gd", learning_rate=1e-3, epochs=20)),
    ("logistic_regression", dict(optimizer="newton", epochs=20)),
    ("two_layer_network", dict(optimizer="lbfgs", epochs=20, sizes={"H": 4}, init_scale=1.0))])
def test_weighted_chunks_equal_weighted_rows_in_memory(logistic, name, options):
    """A weight array travels in the rows of x's chunks: each chunk's sums are Σ w ℓ (a mean
    J's ÷ Σ w of all rows), as the in-memory weighted kernels give them."""
    x, y = logistic if name == "logistic_regression" else (
        datasets.two_moons(m=600).x, datasets.two_moons(m=600).y)
    weights = np.random.default_rng(2).integers(0, 4, len(y)).astype(float)
    expected = train.fit(name, x, y, sample_weight=weights, **options)
    xs, ys = chunked_like(x, y, 250)
    for given in (weights, da.from_array(weights, chunks=250)):  # NumPy or Dask weights
        result = train.fit(name, xs, ys, sample_weight=given, **options)
        assert_same_params(result, expected)
        assert result.settings["sample_weight"] is True


def test_weighted_mini_batches_over_chunks_reach_the_weighted_optimum(logistic):
    """Mini-batches from one chunk at a time carry their rows' weights: SGD over weighted
    chunks ends within 0.02 of the weighted optimum, which lies 0.2 from the unweighted one."""
    x, y = logistic
    weights = np.where(y > 0, 4.0, 1.0)  # weights that move the optimum: the positives × 4
    best = train.fit("logistic_regression", x, y, optimizer="lbfgs", epochs=200, tol=1e-10,
                     sample_weight=weights).params["theta"]
    plain = train.fit("logistic_regression", x, y, optimizer="lbfgs", epochs=200,
                      tol=1e-10).params["theta"]
    assert np.abs(plain - best).max() > 0.2
    result = train.fit("logistic_regression", *chunked_like(x, y), sample_weight=weights,
                       optimizer="sgd", learning_rate=1e-3, batch_size=50, epochs=30)
    assert np.abs(result.params["theta"] - best).max() < 0.02


def test_bad_weights_over_chunks_are_named(logistic):
    x, y = logistic
    for weights, message in [(-np.ones(3000), "negative"), (np.zeros(3000), "0 for every"),
                             (np.full(3000, np.nan), "NaN"), (np.ones((3000, 2)), "1-D")]:
        with pytest.raises(DataError, match=message):
            train.fit("logistic_regression", *chunked_like(x, y), sample_weight=weights,
                      epochs=1)


def test_lbfgs_on_dask_follows_the_in_memory_iterates(logistic):
    x, y = logistic
    expected = train.fit("logistic_regression", x, y, optimizer="lbfgs", epochs=8)
    result = train.fit("logistic_regression", *chunked_like(x, y), optimizer="lbfgs", epochs=8)
    np.testing.assert_allclose(result.params["theta"], expected.params["theta"], rtol=1e-8)
    gradient = kernels.load("logistic_regression").gradient(result.params["theta"], x, y)[0]
    first = kernels.load("logistic_regression").gradient(np.zeros(5), x, y)[0]
    assert np.linalg.norm(gradient) < 1e-3 * np.linalg.norm(first)


def test_newton_on_dask_equals_in_memory_newton(logistic):
    """The per-chunk Hessians summed, one solve on the client: the in-memory iterates."""
    x, y = logistic
    expected = train.fit("logistic_regression", x, y, optimizer="newton", epochs=4)
    result = train.fit("logistic_regression", *chunked_like(x, y), optimizer="newton", epochs=4)
    assert_same_params(result, expected)
    assert len(result.history) == 4
    # each iteration's J, ∇J and H come from one pass (the full step is always taken here)
    assert result.metrics["passes over the data"] == 5


def test_rmsprop_over_chunks_lowers_the_loss(logistic):
    x, y = logistic
    result = train.fit("logistic_regression", *chunked_like(x, y), optimizer="rmsprop",
                       learning_rate=0.05, batch_size=100, epochs=3)
    losses = [j for _, j in result.history]
    assert losses[-1] < 0.7 * kernels.load("logistic_regression").loss(np.zeros(5), x, y)


# ------------------------------------------------------------------ as in memory: the watch, Ctrl-C, callbacks


def test_a_diverging_run_stops_with_the_in_memory_error(logistic):
    x, y = logistic
    with pytest.raises(DivergenceError) as in_memory:
        train.fit("logistic_regression", x, y, learning_rate=0.05, epochs=50)
    with pytest.raises(DivergenceError) as on_chunks:
        train.fit("logistic_regression", *chunked_like(x, y), learning_rate=0.05, epochs=50)
    assert "2/λ_max" in str(on_chunks.value)
    assert str(on_chunks.value) == str(in_memory.value)


def test_ctrl_c_on_chunks_returns_what_was_learnt(logistic):
    def press_ctrl_c(line):
        if "epoch     2 " in line:
            os.kill(os.getpid(), signal.SIGINT)

    x, y = logistic
    result = train.fit("logistic_regression", *chunked_like(x, y), learning_rate=1e-3,
                       epochs=100000, log=press_ctrl_c, log_every=1)
    assert result.interrupted and result.stopped_epoch == 2 and len(result.history) == 2
    assert_same_params(result, train.fit("logistic_regression", x, y, learning_rate=1e-3,
                                         epochs=2))


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_callbacks_and_metrics_on_chunks_match_memory(logistic, tmp_path):
    """Early stopping on Dask validation data, a checkpoint, per-epoch metrics, a bar."""
    x, y = logistic
    x_val, y_val = x[:600], 1.0 - y[:600]  # flipped labels: val J rises, training stops early
    runs = {}
    for where, (xs, ys), held_out in (
            ("memory", (x, y), (x_val, y_val)),
            ("chunks", chunked_like(x, y), chunked_like(x_val, y_val, 250))):
        terminal = Terminal()
        stop = callbacks.EarlyStopping(patience=3)
        checkpoint = callbacks.Checkpoint(tmp_path / f"{where}.npz", every=2)
        runs[where] = train.fit("logistic_regression", xs, ys, learning_rate=1e-3, epochs=40,
                                validation_data=held_out, epoch_metrics=True,
                                callbacks=[stop, checkpoint, callbacks.ProgressBar(terminal)])
        runs[where].stopped = stop.stopped_epoch, stop.best_epoch, checkpoint.written_epochs
        assert "logistic_regression" in terminal.getvalue()
    memory, chunks = runs["memory"], runs["chunks"]
    assert chunks.stopped == memory.stopped and memory.stopped[0] < 40
    assert list(chunks.history.metrics) == ["J", "accuracy", "val J", "val accuracy"]
    for name, values in memory.history.metrics.items():
        np.testing.assert_allclose(chunks.history.metrics[name], values, rtol=RTOL)
    np.testing.assert_allclose(chunks.params["theta"], memory.params["theta"], rtol=RTOL)
    reloaded = saved.load(tmp_path / "chunks.npz")
    np.testing.assert_allclose(reloaded.params["theta"],
                               saved.load(tmp_path / "memory.npz").params["theta"], rtol=RTOL)


# ------------------------------------------------------------------ out of core


def test_zarr_store_and_npy_folder_train_like_memory_and_from_the_cli(logistic, tmp_path,
                                                                      capsys):
    zarr = pytest.importorskip("zarr")
    x, y = logistic
    store = zarr.open_group(str(tmp_path / "big.zarr"), mode="w")
    store.create_array("x", data=x, chunks=(512, 5))
    store.create_array("y", data=y, chunks=(512,))
    (tmp_path / "npy").mkdir()
    np.save(tmp_path / "npy" / "x.npy", x)
    np.save(tmp_path / "npy" / "y.npy", y)

    expected = train.fit("logistic_regression", x, y, learning_rate=1e-3, epochs=20)
    for path in (tmp_path / "big.zarr", tmp_path / "npy"):
        xs, ys = stores.load(path, chunk_rows=512)
        assert xs.chunks[0][0] == 512 and ys.chunks[0] == xs.chunks[0]
        assert_same_params(train.fit("logistic_regression", xs, ys, learning_rate=1e-3,
                                     epochs=20), expected)

    assert cli.main(["train", "logistic_regression", "--data", str(tmp_path / "big.zarr"),
                     "--epochs", "20", "--lr", "1e-3"]) == 0
    out = capsys.readouterr().out
    assert f"final J: {expected.history[-1][1]:.6g}" in out
    accuracy = train.metrics("logistic_regression", expected.params, x, y)["train accuracy"]
    assert f"train accuracy: {accuracy:.6g}" in out


def test_a_stores_weight_array_weighs_its_rows_from_the_cli(logistic, tmp_path, capsys):
    """`symdl train MODEL --data STORE --weights w`: the store's array w weighs each row."""
    zarr = pytest.importorskip("zarr")
    x, y = logistic
    weights = np.where(y > 0, 3.0, 1.0)
    store = zarr.open_group(str(tmp_path / "weighted.zarr"), mode="w")
    store.create_array("x", data=x, chunks=(512, 5))
    store.create_array("y", data=y, chunks=(512,))
    store.create_array("w", data=weights, chunks=(700,))  # chunked otherwise: read in x's rows
    expected = train.fit("logistic_regression", x, y, learning_rate=1e-4, epochs=20,
                         sample_weight=weights)
    assert cli.main(["train", "logistic_regression", "--data", str(tmp_path / "weighted.zarr"),
                     "--weights", "w", "--epochs", "20", "--lr", "1e-4"]) == 0
    assert f"final J: {expected.history[-1][1]:.6g}" in capsys.readouterr().out


def test_uncompressed_zarr_chunks_are_read_as_plain_files(tmp_path):
    """Zarr v3 and v2, either byte order, an edge chunk, a missing chunk: Zarr's own values."""
    zarr = pytest.importorskip("zarr")
    x = np.arange(70.0).reshape(14, 5)
    for version, dtype in ((3, "<f8"), (2, ">f8")):
        group = zarr.open_group(str(tmp_path / f"v{version}.zarr"), mode="w", zarr_format=version)
        group.create_array("x", shape=x.shape, chunks=(4, 5), dtype=dtype, compressors=None)[:] = x
        group.create_array("y", shape=(14,), chunks=(4,), dtype="i4", compressors=None,
                           fill_value=7)[:8] = 1  # rows 8.. are never written: no chunk files
        xs, ys = stores.load(tmp_path / f"v{version}.zarr")
        assert stores.RawZarrChunks.readable(group["x"]) and xs.name.startswith("raw-zarr")
        np.testing.assert_array_equal(xs.compute(), group["x"][:])
        np.testing.assert_array_equal(ys.compute(), group["y"][:])
        assert list(ys.compute()[7:]) == [1] + [7] * 6
    compressed = zarr.open_group(str(tmp_path / "zstd.zarr"), mode="w")
    compressed.create_array("x", data=x, chunks=(4, 5))
    assert not stores.RawZarrChunks.readable(compressed["x"])


def test_npy_rows_are_read_by_block_not_mapped(tmp_path):
    a = np.arange(60.0).reshape(20, 3)
    np.save(tmp_path / "a.npy", a)
    rows = stores.NpyRows(tmp_path / "a.npy")
    assert rows.shape == (20, 3) and rows.dtype == a.dtype
    np.testing.assert_array_equal(rows[5:9], a[5:9])
    np.testing.assert_array_equal(rows[(slice(18, 20), slice(1, 3))], a[18:, 1:])
    assert type(rows[0:2]) is np.ndarray


def test_bad_paths_say_what_to_pass(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((4, 2)))
    with pytest.raises(DataError, match="one folder"):
        stores.load(tmp_path / "x.npy")
    with pytest.raises(DataError, match="missing y.npy"):
        stores.load(tmp_path)
    # symdl's own error: exit 1 (2 is argparse's, for usage errors)
    assert cli.main(["train", "logistic_regression", "--scheduler", "tcp://localhost:1"]) == 1


# ------------------------------------------------------------------ bad chunks


def test_nan_in_a_chunk_names_the_chunk_and_the_row(logistic):
    x, y = logistic
    x = x.copy()
    x[1850, 2] = np.nan
    with pytest.raises(DataError, match=r"chunk 2 \(rows 1400\.\.2099\).*NaN.*row 1850"):
        train.fit("logistic_regression", *chunked_like(x, y), epochs=2)


def test_bad_labels_in_a_chunk_get_the_in_memory_message(logistic):
    x, y = logistic
    y = y.copy()
    y[2999] = 2.0
    with pytest.raises(DataError, match=r"chunk 4 \(rows 2800\.\.2999\): task 'binary' needs"):
        train.fit("logistic_regression", *chunked_like(x, y), epochs=2)


def test_misaligned_chunks_and_lengths_are_refused(logistic):
    x, y = logistic
    xs, _ = chunked_like(x, y, 700)
    with pytest.raises(DataError, match="x's chunk 0 is rows 0..699 but y's is rows 0..599"):
        train.fit("logistic_regression", xs, da.from_array(y, chunks=600), epochs=2)
    with pytest.raises(DataError, match="samples"):
        train.fit("logistic_regression", xs, da.from_array(y[:-1], chunks=700), epochs=2)


def test_a_chunk_narrower_than_its_array_says_so(logistic):
    """A chunk whose real width differs from what the array declares (e.g. a ragged file)."""
    import dask
    x, y = logistic
    blocks = [da.from_delayed(dask.delayed(lambda a: a)(x[:1000]), (1000, 5), float),
              da.from_delayed(dask.delayed(lambda a: a[:, :4])(x[1000:]), (2000, 5), float)]
    xs = da.concatenate(blocks)
    ys = da.from_array(y, chunks=(xs.chunks[0],))
    with pytest.raises(DataError, match=r"chunk 1 \(rows 1000\.\.2999\).*4 columns.*5"):
        train.fit("logistic_regression", xs, ys, epochs=2)


# ------------------------------------------------------------------ a cluster


def _stall_first_task(block, marker):
    """The first chunk to arrive writes its worker's pid to `marker` and waits to be killed."""
    if len(block) == 0:
        return block
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return block
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    time.sleep(30)
    return block


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    import cloudpickle
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=logging.CRITICAL) as c:
        with distributed.Client(c, set_as_default=False) as client:
            yield client


def test_local_cluster_equals_in_memory(cluster, logistic):
    x, y = logistic
    expected = train.fit("logistic_regression", x, y, learning_rate=1e-3, epochs=50)
    result = train.fit("logistic_regression", *chunked_like(x, y), learning_rate=1e-3,
                       epochs=50, scheduler=cluster)
    assert_same_params(result, expected)
    expected = train.fit("logistic_regression", x, y, optimizer="newton", epochs=4)
    result = train.fit("logistic_regression", *chunked_like(x, y), optimizer="newton",
                       epochs=4, scheduler=cluster)
    assert_same_params(result, expected)


def test_symdl_train_runs_on_the_scheduler_at_an_address(cluster, logistic, tmp_path, capsys):
    x, y = logistic
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    expected = train.fit("logistic_regression", x, y, optimizer="newton", epochs=3)
    address = cluster.scheduler_info()["address"]
    assert cli.main(["train", "logistic_regression", "--data", str(tmp_path), "--optimizer",
                     "newton", "--epochs", "3", "--scheduler", address]) == 0
    assert f"final J: {expected.history[-1][1]:.6g}" in capsys.readouterr().out
    assert cluster.run(lambda: 1)  # the run closed its own client, not the cluster


def test_a_worker_killed_mid_epoch_costs_a_retry_not_a_wrong_gradient(cluster, logistic,
                                                                      tmp_path):
    x, y = logistic
    marker = tmp_path / "killed-worker-pid"
    xs, ys = chunked_like(x, y)
    xs = xs.map_blocks(_stall_first_task, marker=str(marker), meta=np.empty((0, 5)))
    expected = train.fit("logistic_regression", x, y, learning_rate=1e-3, epochs=5)
    outcome = {}

    def run():
        try:
            outcome["result"] = train.fit("logistic_regression", xs, ys, learning_rate=1e-3,
                                          epochs=5, scheduler=cluster)
        except BaseException as error:  # re-raised below, in the test's thread
            outcome["error"] = error

    trainer = threading.Thread(target=run)
    trainer.start()
    for _ in range(600):
        if marker.exists() and marker.read_text():
            break
        time.sleep(0.05)
    pid = int(marker.read_text())
    assert pid in cluster.run(os.getpid).values()
    os.kill(pid, signal.SIGKILL)
    trainer.join(timeout=60)
    assert not trainer.is_alive(), "training did not finish after the worker was killed"
    if "error" in outcome:
        raise outcome["error"]
    assert pid not in cluster.run(os.getpid).values()
    assert_same_params(outcome["result"], expected)
