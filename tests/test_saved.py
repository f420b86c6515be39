"""Saved models: the round trip, predict, training on from saved parameters, and every refusal.

The oracles are the models' own formulas, written out here with NumPy: ŷ = a·x + b for 003
§3.1's line, h = σ(θᵀx) for 003 §3.3's logistic regression.
"""

import json
from pathlib import Path

import numpy as np
import pytest

import symdl
from symdl import datafiles, datasets, kernels, saved, stamps, train
from symdl.errors import DataError, SavedModelError, SymdlError
from symdl.generate import files
from test_bad_input import A_MODEL  # a derivation file of the tests' own: y_hat = w·x




@pytest.fixture(scope="module")
def line():
    return train.train("univariate_least_squares", epochs=30)


@pytest.fixture(scope="module")
def logistic():
    data = datasets.two_classes_with_bias(m=60)
    return train.fit("logistic_regression", data.x, data.y, learning_rate=0.005, epochs=20), data


def test_a_saved_model_loads_back_exactly(line, tmp_path):
    path = saved.save(line, tmp_path / "line.npz")
    again = saved.load(path)
    assert again.name == line.name
    assert again.params == line.params
    assert again.history == line.history and len(again.history) == 30
    assert again.metrics == line.metrics
    assert again.settings == line.settings
    assert again.settings["dataset"] == "floor_areas" and again.settings["epochs"] == 30


def test_the_per_epoch_training_and_validation_metrics_load_back(tmp_path):
    data = datasets.two_classes_with_bias(m=60)
    result = train.fit("logistic_regression", data.x[:40], data.y[:40], learning_rate=0.005,
                       epochs=6, validation_data=(data.x[40:], data.y[40:]))
    metrics = result.history.metrics
    assert {"J", "accuracy", "val J", "val accuracy"} <= set(metrics)
    metrics["val J"][2] = float("nan")  # JSON has no NaN: it is saved as null, read back as NaN
    again = saved.load(saved.save(result, tmp_path / "logistic.npz"))
    assert set(again.history.metrics) == set(metrics)
    for name, values in metrics.items():
        np.testing.assert_array_equal(again.history.metrics[name], values)
    assert len(again.history.metrics["val accuracy"]) == 6
    assert again.history.latest()["accuracy"] == metrics["accuracy"][-1]


def test_a_long_run_saves_its_history_in_a_few_bytes_an_epoch(tmp_path):
    result = train.train("univariate_least_squares", epochs=20_000, learning_rate=1e-4)
    path = saved.save(result, tmp_path / "long.npz")
    assert len(saved.load(path).history.metrics["J"]) == 20_000
    assert path.stat().st_size < 40 * 20_000  # ≈13 bytes an epoch; uncompressed UTF-32 ≈200


def metadata_of(path):
    with np.load(path) as archive:
        return json.loads(str(archive["metadata"]))


def rewrite_metadata(path, metadata):
    """Edit a saved file's metadata as a user with a text editor and NumPy could."""
    with np.load(path) as archive:
        arrays = {key: archive[key] for key in archive.files}
    arrays["metadata"] = np.array(json.dumps(metadata))
    np.savez(path, **arrays)


def test_a_hand_edited_history_is_an_error_not_a_traceback(line, tmp_path):
    path = saved.save(line, tmp_path / "line.npz")
    metadata = metadata_of(path)
    for damaged in ({"history": [[1, "low"]]}, {"history": 7}, {"epoch_metrics": {"J": ["x"]}},
                    {"epoch_metrics": [1, 2]}):
        rewrite_metadata(path, {**metadata, **damaged})
        with pytest.raises(SavedModelError, match="is damaged: its history"):
            saved.load(path)


def test_a_saved_file_is_plain_npz_with_json_metadata_and_no_pickle(logistic, tmp_path):
    result, _ = logistic
    path = saved.save(result, tmp_path / "logistic.npz")
    with np.load(path, allow_pickle=False) as archive:
        assert set(archive.files) == {"metadata", "param_theta"}
        assert all(archive[key].dtype != object for key in archive.files)
        metadata = json.loads(str(archive["metadata"]))
        np.testing.assert_array_equal(archive["param_theta"], result.params["theta"])
    module = kernels.load("logistic_regression")
    assert metadata["model"] == "logistic_regression"
    assert metadata["kernels"] == {"derivation_sha256": module.DERIVATION_SHA256,
                                   "generator_sha256": module.GENERATOR_SHA256,
                                   "code_sha256": stamps.code_hash(Path(module.__file__).read_text())}
    assert metadata["settings"]["learning_rate"] == 0.005


def test_predict_takes_the_result_of_fit_and_of_load(logistic, line, tmp_path):
    result, data = logistic
    theta = result.params["theta"]
    expected = 1 / (1 + np.exp(-(data.x @ theta)))
    np.testing.assert_allclose(train.predict(result, data.x), expected, rtol=1e-12)
    again = saved.load(saved.save(result, tmp_path / "logistic.npz"))
    np.testing.assert_allclose(symdl.predict(again, data.x), expected, rtol=1e-12)
    x = np.array([20.0, 35.5, 50.0])
    np.testing.assert_allclose(symdl.predict(line, x),
                               line.params["a"] * x + line.params["b"], rtol=1e-12)


def test_predict_and_save_take_a_result_and_say_so_for_anything_else(logistic, tmp_path):
    result, data = logistic
    for wrong in (None, "logistic_regression", dict(result.params)):
        with pytest.raises(DataError, match="takes the Result that fit, train or saved.load"):
            train.predict(wrong, data.x)
        with pytest.raises(DataError, match="takes the Result"):
            saved.save(wrong, tmp_path / "m.npz")
    assert list(tmp_path.iterdir()) == []
    estimator = pytest.importorskip("symdl.sklearn").SymdlRegressor("affine_mse")
    with pytest.raises(DataError, match=r"estimator predicts with its own \.predict\(X\)"):
        train.predict(estimator, data.x)


def test_saving_into_a_missing_folder_names_the_folder(line, tmp_path):
    with pytest.raises(SymdlError, match="the folder .*nowhere does not exist"):
        saved.save(line, tmp_path / "nowhere" / "line.npz")
    with pytest.raises(SymdlError, match="it is a folder"):
        saved.save(line, tmp_path)


def test_predict_refuses_samples_of_the_wrong_width(logistic):
    """θ has 3 entries: x of 3 columns (the ones first) or of the 2 features alone is right."""
    result, data = logistic
    assert data.x.shape[1] == 3
    with pytest.raises(DataError, match="4 features per sample.*expects 3 features.*give the 2 "
                                        "features alone, or all 3 columns with the ones first"):
        train.predict(result, np.ones((5, 4)))
    np.testing.assert_array_equal(train.predict(result, data.x[:, 1:]),
                                  train.predict(result, data.x))


def test_fit_trains_on_from_a_result_and_leaves_its_arrays_alone(logistic):
    result, data = logistic
    before = result.params["theta"].copy()
    more = train.fit("logistic_regression", data.x, data.y, learning_rate=0.005, epochs=5,
                     params=result.params)
    np.testing.assert_array_equal(result.params["theta"], before)
    # gradient descent with a step below 2/L lowers J at every step: the fifth step on from
    # epoch 20 is below epoch 20's loss, where training from zero would start far above it
    assert more.history[0][1] < result.history[-1][1]
    assert more.history[-1][1] < more.history[0][1]


def test_fit_names_the_parameters_a_dict_lacks_or_adds(logistic):
    result, data = logistic
    with pytest.raises(DataError, match="missing theta; unknown w"):
        train.fit("logistic_regression", data.x, data.y, params={"w": result.params["theta"]})


def test_loading_against_changed_kernels_says_how_to_retrain(tmp_path):
    """The derivation edited: a comment leaves the kernels as they were, a new formula not."""
    source = tmp_path / "own_line.py"
    source.write_text(A_MODEL)
    files.write([str(source)])
    result = train.fit(str(source), np.array([1.0, 2.0]), np.array([2.0, 4.0]), epochs=2)
    path = saved.save(result, tmp_path / "line.npz")
    source.write_text(A_MODEL + "# the same model, one comment longer\n")
    files.write([str(source)])
    assert saved.load(path).params == result.params
    source.write_text(A_MODEL.replace("w * x", "2 * w * x"))
    files.write([str(source)])
    with pytest.raises(SavedModelError, match=r"the derivation changed.*"
                                              r"symdl train .*own_line.py --save"):
        saved.load(path)


def test_a_file_from_an_older_generator_loads_when_its_kernels_are_the_same(line, tmp_path):
    path = saved.save(line, tmp_path / "line.npz")
    metadata = metadata_of(path)
    metadata["kernels"]["generator_sha256"] = "0" * 16  # a release whose generator differed
    rewrite_metadata(path, metadata)
    assert saved.load(path).params == line.params
    metadata["kernels"]["code_sha256"] = "0" * 16  # ... and whose kernels did too
    rewrite_metadata(path, metadata)
    with pytest.raises(SavedModelError, match="the generator changed"):
        saved.load(path)


def test_loading_refuses_another_model_and_files_that_are_not_models(line, tmp_path):
    path = saved.save(line, tmp_path / "line.npz")
    with pytest.raises(SavedModelError, match="holds a trained 'univariate_least_squares'"):
        saved.load(path, model="logistic_regression")
    with pytest.raises(SavedModelError, match="does not exist"):
        saved.load(tmp_path / "nothing.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    np.save(tmp_path / "array.npy", np.ones(3))
    np.savez(tmp_path / "other.npz", x=np.ones(3))
    for name in ("junk.npz", "array.npy", "other.npz"):
        with pytest.raises(SavedModelError, match="not a model saved by symdl"):
            saved.load(tmp_path / name)


def test_a_damaged_metadata_entry_is_an_error_not_a_traceback(line, tmp_path):
    path = saved.save(line, tmp_path / "line.npz")
    metadata = metadata_of(path)
    del metadata["kernels"]
    rewrite_metadata(path, metadata)
    with pytest.raises(SavedModelError, match="is damaged"):
        saved.load(path)


def test_a_hand_edited_version_or_hashes_are_errors_not_tracebacks(line, tmp_path):
    path = saved.save(line, tmp_path / "line.npz")
    metadata = metadata_of(path)
    for damaged in ({"format_version": "2"}, {"kernels": {"a": 1}}, {"ref": 5},
                    {"kernels": {**metadata["kernels"], "generator_sha256": None}}):
        rewrite_metadata(path, {**metadata, **damaged})
        with pytest.raises(SavedModelError, match="is damaged"):
            saved.load(path)


def test_a_model_whose_derivation_file_moved_says_where_to_name_it(tmp_path):
    source = tmp_path / "mine" / "own_line.py"
    source.parent.mkdir()
    source.write_text(A_MODEL)
    files.write([str(source)])
    result = train.fit(str(source), np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 6.0]),
                       learning_rate=0.01, epochs=3)
    path = saved.save(result, tmp_path / "mine.npz")
    moved = source.rename(tmp_path / "own_line.py")
    files.write([str(moved)])
    with pytest.raises(SavedModelError, match=r"trained from the derivation file .*mine/own_line"
                                              r"\.py, which is not there now.*model=PATH"):
        saved.load(path)
    again = saved.load(path, model=str(moved))
    assert again.params == result.params


def test_a_failed_save_leaves_the_earlier_file_intact(line, tmp_path, monkeypatch):
    path = saved.save(line, tmp_path / "line.npz")
    before = path.read_bytes()

    def fails(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(np, "savez_compressed", fails)
    with pytest.raises(OSError, match="disk full"):
        saved.save(line, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["line.npz"]


def test_data_to_predict_on_the_file_trained_on_or_features_alone(tmp_path):
    spec = kernels.load("logistic_regression").SPEC
    np.savez(tmp_path / "train.npz", x=np.ones((2, 3)), y=np.zeros(2))
    np.savez(tmp_path / "x.npz", x=np.ones((2, 3)))
    (tmp_path / "x.csv").write_text("x0,x1,x2\n1,2.5,3\n3,-4e-1,0\n")
    for name in ("train.npz", "x.npz"):
        np.testing.assert_array_equal(datafiles.load_features(tmp_path / name, spec),
                                      np.ones((2, 3)))
    np.testing.assert_array_equal(datafiles.load_features(tmp_path / "x.csv", spec),
                                  [[1, 2.5, 3], [3, -0.4, 0]])
    np.savez(tmp_path / "misnamed.npz", features=np.ones((2, 3)))
    with pytest.raises(DataError, match="reads arrays named x; the file holds features"):
        datafiles.load_features(tmp_path / "misnamed.npz", spec)


def test_prediction_columns_give_a_classifier_its_labels():
    spec = kernels.load("logistic_regression").SPEC
    columns = saved.prediction_columns(spec, np.array([0.2, 0.7]))
    assert list(columns) == ["label", "h"]
    np.testing.assert_array_equal(columns["label"], [0, 1])
    assert saved.predictions_csv(columns) == "label,h\n0,0.2\n1,0.7\n"


def test_a_class_model_predicts_its_label_and_the_softmax_of_its_logits():
    spec = kernels.load("mnist_mlp").SPEC
    logits = np.array([[0.0, np.log(3.0), 0.0] + [-np.inf] * 7, [1000.0, 0.0] + [0.0] * 8])
    columns = saved.prediction_columns(spec, logits)
    assert list(columns) == ["label"] + [f"p_{k}" for k in range(10)]
    np.testing.assert_array_equal(columns["label"], [1, 0])
    np.testing.assert_allclose([columns["p_0"][0], columns["p_1"][0], columns["p_2"][0]],
                               [0.2, 0.6, 0.2], rtol=1e-12)  # e^0, 3, e^0 over their sum 5
    assert columns["p_0"][1] == 1.0 and columns["p_1"][1] == 0.0  # e^-1000 underflows, no NaN
