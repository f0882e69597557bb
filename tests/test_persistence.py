"""`save` / `skbert.load`: a JSON + safetensors directory that is safe to load."""

import json

import numpy as np
import pytest

import skbert
from conftest import TINY, run_python, tiny_classifier
from skbert import BertRegressor, ModelFormatError
from skbert.persistence import CONFIG_FILE, ONNX_FILE, VOCAB_FILE, WEIGHTS_FILE


@pytest.fixture(scope="module")
def saved(fitted, tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "model"
    fitted.save(path)
    return path


def copy_of(saved, tmp_path):
    import shutil

    return shutil.copytree(saved, tmp_path / "copy")


def test_round_trip_gives_the_same_estimator(fitted, saved, toy):
    _, _, X_test, _ = toy
    assert sorted(p.name for p in saved.iterdir()) == sorted(
        [CONFIG_FILE, WEIGHTS_FILE, ONNX_FILE, VOCAB_FILE]
    )
    loaded = skbert.load(saved)
    assert type(loaded) is type(fitted)
    assert loaded.get_params() == fitted.get_params()
    np.testing.assert_array_equal(
        loaded.predict_proba(X_test), fitted.predict_proba(X_test)
    )
    assert loaded.classes_.tolist() == ["neg", "pos"]
    assert loaded.classes_.dtype == fitted.classes_.dtype
    assert loaded.history_ == fitted.history_
    document = json.loads((saved / CONFIG_FILE).read_text())
    assert document["encoder"] == {
        "name": TINY,
        "plugin": "skbert.default_plugins.tiny_random",
        "distribution": "skbert",
    }
    assert set(document["versions"]) == {
        "skbert",
        "tensorflow",
        "tensorflow-hub",
        "tf-keras",
    }


def test_frozen_encoder_saves_only_the_head(toy, tmp_path):
    from safetensors.numpy import load_file

    X, y, X_test, _ = toy
    clf = tiny_classifier(train_encoder=False, epochs=1, head__dropout=0.2)
    clf.fit(X[:40], y[:40]).save(tmp_path / "frozen")
    weights = load_file(str(tmp_path / "frozen" / WEIGHTS_FILE))
    assert sorted(weights) == ["head/0", "head/1"]  # the output Dense
    loaded = skbert.load(tmp_path / "frozen")
    assert loaded.get_params()["head__dropout"] == 0.2
    np.testing.assert_array_equal(loaded.predict(X_test), clf.predict(X_test))


def test_regressor_round_trip_keeps_scaling_and_tuples(tmp_path):
    X = ["one", "two", "three", "four"] * 2
    reg = BertRegressor(TINY, "mlp", epochs=1, random_state=0, head__hidden_units=(8,))
    reg.fit(X, np.arange(8.0) * 100).save(tmp_path / "reg")
    loaded = skbert.load(tmp_path / "reg")
    assert loaded.get_params()["head__hidden_units"] == (8,)
    np.testing.assert_allclose(loaded.y_scale_, reg.y_scale_)
    np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))


NO_PICKLE = """
import sys
import skbert, skbert.model  # TensorFlow's imports come before the watch starts
events = []
sys.addaudithook(
    lambda event, args: events.append(event) if event.startswith("pickle") else None
)
clf = skbert.load({path!r})
print(clf.predict(["the film was good", "the film was awful"]).tolist(), events)
"""


@pytest.mark.slow
def test_load_unpickles_nothing_and_runs_nothing_planted(saved, tmp_path):
    path = copy_of(saved, tmp_path)
    marker = tmp_path / "ran"
    payload = f"open({str(marker)!r}, 'w').write('ran')\n"
    (path / "__init__.py").write_text(payload)
    (path / "skbert_plugin.py").write_text(payload)
    import pickle

    class Planted:
        def __reduce__(self):
            return (exec, (payload,))

    (path / "model.pkl").write_bytes(pickle.dumps(Planted()))
    (path / "model.joblib").write_bytes(pickle.dumps(Planted()))
    (path / "saved_model.pb").write_bytes(b"not read")
    for folder in ("assets", "variables", "encoder/assets"):
        (path / folder).mkdir(parents=True)
        (path / folder / "payload.py").write_text(payload)
    out = run_python(NO_PICKLE.format(path=str(path))).stdout
    assert out.strip() == "['pos', 'neg'] []"  # no pickle.find_class event
    assert not marker.exists()


def edit(path, change):
    document = json.loads((path / CONFIG_FILE).read_text())
    change(document)
    (path / CONFIG_FILE).write_text(json.dumps(document))


def test_broken_saves_give_clear_errors(saved, tmp_path):
    path = copy_of(saved, tmp_path)
    with pytest.raises(ModelFormatError, match="has no skbert.json"):
        skbert.load(tmp_path)
    weights = (path / WEIGHTS_FILE).read_bytes()
    (path / WEIGHTS_FILE).write_bytes(weights[: len(weights) // 2])
    with pytest.raises(ModelFormatError, match="truncated or changed after saving"):
        skbert.load(path)
    (path / WEIGHTS_FILE).unlink()
    with pytest.raises(ModelFormatError, match="has no weights.safetensors"):
        skbert.load(path)
    (path / WEIGHTS_FILE).write_bytes(weights)
    edit(path, lambda d: d.update(format_version=99))
    with pytest.raises(ModelFormatError, match="format version 99; this skbert reads"):
        skbert.load(path)
    edit(path, lambda d: d.update(format_version=1, estimator="os.system"))
    with pytest.raises(ModelFormatError, match="skbert loads only BertClassifier"):
        skbert.load(path)
    (path / CONFIG_FILE).write_text("{not json")
    with pytest.raises(ModelFormatError, match="not valid JSON"):
        skbert.load(path)


@pytest.mark.parametrize("member", [CONFIG_FILE, WEIGHTS_FILE])
def test_members_that_are_links_are_refused(saved, tmp_path, member):
    path = copy_of(saved, tmp_path)
    outside = tmp_path / "elsewhere"
    (path / member).rename(outside)
    (path / member).symlink_to(outside)
    with pytest.raises(ModelFormatError, match=f"{member} is a symbolic link"):
        skbert.load(path)


def test_missing_encoder_plugin_names_the_distribution(saved, tmp_path):
    path = copy_of(saved, tmp_path)

    def elsewhere(document):
        document["encoder"].update(plugin="gone", distribution="skbert-gone")
        config = dict(document["fitted"]["__dict__"])["network_config_"]
        for pair in config["__dict__"]:
            if pair[0] == "encoder":
                pair[1] = "gone_bert"

    edit(path, elsewhere)
    with pytest.raises(ValueError, match="needs encoder .* 'skbert-gone'.* install"):
        skbert.load(path)


def test_missing_local_encoder_says_where_it_was(saved, tmp_path):
    path = copy_of(saved, tmp_path)
    gone = str(tmp_path / "gone_encoder")

    def local(document):
        document["encoder"].update(name=gone, plugin="", distribution="")
        config = dict(document["fitted"]["__dict__"])["network_config_"]
        for pair in config["__dict__"]:
            if pair[0] == "encoder":
                pair[1] = gone

    edit(path, local)
    with pytest.raises(ValueError, match="local encoder .*gone_encoder.* put the"):
        skbert.load(path)


@pytest.mark.parametrize("cut", ["", "[layers=0]"])
def test_an_encoder_inside_the_saved_directory_is_refused(saved, tmp_path, cut):
    path = copy_of(saved, tmp_path)

    def inside(document):
        config = dict(document["fitted"]["__dict__"])["network_config_"]
        for pair in config["__dict__"]:
            if pair[0] == "encoder":
                pair[1] = str(path / "planted") + cut

    edit(path, inside)
    with pytest.raises(ModelFormatError, match="never loads SavedModels from"):
        skbert.load(path)


def test_save_refuses_what_it_cannot_write_safely(fitted, saved, toy):
    import sklearn.base

    with pytest.raises(FileExistsError, match="holds a saved skbert estimator"):
        fitted.save(saved)
    with pytest.raises(TypeError, match="no safe JSON form"):
        clone = sklearn.base.clone(fitted)
        clone.__dict__.update(fitted.__dict__)
        clone.random_state = np.random.RandomState(0)
        clone.save(saved.parent / "other")
    assert not (saved.parent / "other").exists()
