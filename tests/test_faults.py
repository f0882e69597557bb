"""Faults: Ctrl-C in the middle of fit, broken cache entries, leaks, determinism."""

import copy
import json
import signal
from pathlib import Path

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

import skbert
from conftest import TINY, run_python, tiny_classifier
from skbert.cache import built_encoder_dir


def interrupted_fit(clf, X, y, monkeypatch, method="fit", at=(1, 1), **fit_params):
    """Fit `clf`, with a real SIGINT sent at step `at` = (epoch, batch), from 0.

    `method` is ``"fit"`` or ``"partial_fit"`` (one epoch: use ``at=(0, 1)``).

    A Keras callback added to the fit sends it, as a terminal does on Ctrl-C:
    the point of interruption is chosen, not found by timing.
    """
    import tf_keras

    pressed = []

    class CtrlC(tf_keras.callbacks.Callback):
        epoch = None

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if not pressed and (self.epoch, batch) == at:
                pressed.append((self.epoch, batch))
                signal.raise_signal(signal.SIGINT)

    fit = tf_keras.Model.fit

    def fit_with_ctrl_c(model, *args, callbacks=None, **kwargs):
        return fit(model, *args, callbacks=[*(callbacks or []), CtrlC()], **kwargs)

    monkeypatch.setattr(tf_keras.Model, "fit", fit_with_ctrl_c)
    # Python's own handler, whatever an earlier test or library installed.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    clf.set_params(epochs=3, batch_size=4)
    try:
        with pytest.raises(KeyboardInterrupt):
            getattr(clf, method)(X, y, **fit_params)
    finally:
        signal.signal(signal.SIGINT, previous)
        monkeypatch.undo()
    assert pressed == [at]
    clf.set_params(epochs=1, batch_size=8)


@pytest.mark.slow
def test_ctrl_c_in_the_middle_of_fit_leaves_the_estimator_as_it_was(toy, monkeypatch):
    X, y, X_test, _ = toy
    clf = tiny_classifier()
    interrupted_fit(clf, X[:48], y[:48], monkeypatch)
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)
    assert not [k for k in vars(clf) if k.endswith("_") and not k.startswith("_")]

    clf.fit(X[:32], y[:32])
    before = vars(clf).copy()
    proba = clf.predict_proba(X_test[:8])
    numbers = (y[:48] == "pos").astype(int)  # other classes, other data
    interrupted_fit(clf, X[:48], numbers, monkeypatch)
    assert all(vars(clf)[k] is v for k, v in before.items() if k.endswith("_"))
    np.testing.assert_array_equal(clf.predict_proba(X_test[:8]), proba)

    clf.fit(X[:48], numbers)
    assert clf.classes_.tolist() == [0, 1] and clf.model_ is not before["model_"]


@pytest.mark.parametrize("method", ["partial_fit", "warm_start"])
def test_ctrl_c_in_a_continued_fit_puts_the_weights_and_optimizer_back(
    toy, monkeypatch, method
):
    X, y, X_test, _ = toy
    # No dropout and a frozen encoder: the same calls give the same weights.
    clf = tiny_classifier(
        train_encoder=False, head__dropout=0.0, warm_start=method == "warm_start"
    )
    clf.partial_fit(X[:32], y[:32], classes=["neg", "pos"])
    twin = copy.deepcopy(clf)  # as dask_ml copies an estimator between calls
    before = vars(clf).copy()
    proba = clf.predict_proba(X_test)
    if method == "partial_fit":
        interrupted_fit(clf, X[32:80], y[32:80], monkeypatch, method, at=(0, 1))
    else:
        interrupted_fit(clf, X[32:80], y[32:80], monkeypatch)
    assert all(vars(clf)[k] is v for k, v in before.items() if k.endswith("_"))
    np.testing.assert_array_equal(clf.predict_proba(X_test), proba)

    # What comes next is what would have come without the interruption.
    for estimator in (clf, twin):
        estimator.partial_fit(X[80:], y[80:])
    assert clf.n_iter_ == twin.n_iter_ == 2
    np.testing.assert_allclose(
        clf.predict_proba(X_test), twin.predict_proba(X_test), atol=1e-6
    )
    assert np.abs(clf.predict_proba(X_test) - proba).max() > 1e-3


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("SKBERT_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture(scope="session")
def tiny_entry():
    """The tiny preset's entry in the suite's cache."""
    return Path(skbert.get_encoder(TINY).materialize()[1]).parent


def test_a_half_written_or_changed_cache_entry_is_rebuilt(tiny_entry, home):
    import shutil

    import tensorflow as tf
    import tensorflow_hub as hub

    builds = []

    def build(directory):  # as the tiny preset builds, from a copy of its files
        builds.append(directory)
        ignore = shutil.ignore_patterns(".complete")
        shutil.copytree(tiny_entry, directory, ignore=ignore, dirs_exist_ok=True)

    entry = built_encoder_dir("tiny", build)
    assert built_encoder_dir("tiny", build) == entry and len(builds) == 1
    manifest = json.loads((entry / ".complete").read_text())
    assert manifest["format"] == 2 and "encoder/saved_model.pb" in manifest["files"]

    # An entry an older skbert wrote (format 1: a flat manifest) is rebuilt.
    (entry / ".complete").write_text(json.dumps(manifest["files"]))
    with pytest.warns(UserWarning, match="in cache format 1, not 2; rebuilding"):
        built_encoder_dir("tiny", build)

    (entry / ".complete").unlink()  # a crash before the manifest was written
    with pytest.warns(UserWarning, match="incomplete .no manifest.; rebuilding"):
        built_encoder_dir("tiny", build)
    variables = next((entry / "encoder").rglob("variables.data-*"))
    data = bytearray(variables.read_bytes())
    data[len(data) // 2] ^= 0xFF
    variables.write_bytes(data)
    with pytest.warns(UserWarning, match="changed since it was built .encoder/var"):
        built_encoder_dir("tiny", build)
    (entry / "encoder" / "planted.py").write_text("raise SystemExit('ran')\n")
    with pytest.warns(UserWarning, match="files differ from its manifest"):
        built_encoder_dir("tiny", build)
    assert len(builds) == 5
    assert sorted(p.name for p in (home / "encoders").iterdir()) == [
        ".tiny.lock",
        "tiny",
    ]
    outputs = hub.load(str(entry / "encoder"))(
        {n: tf.ones([1, 4], tf.int32) for n in ("input_word_ids", "input_mask")}
        | {"input_type_ids": tf.zeros([1, 4], tf.int32)}
    )
    assert np.isfinite(outputs["pooled_output"].numpy()).all()


@pytest.mark.parametrize("key", ["../outside", "a/b", "/tmp/x", ".hidden", ""])
def test_cache_keys_cannot_name_a_path_outside_the_cache(home, key):
    with pytest.raises(ValueError, match="is not a plain name"):
        built_encoder_dir(key, lambda directory: pytest.fail("built"))
    assert list(home.iterdir()) == []


LEAKS = """
import gc, json, os, tempfile
import tensorflow as tf
import skbert

def state(i):
    with open("/proc/self/status") as status:
        rss = next(l for l in status if l.startswith("VmRSS")).split()[1]
    graphs = None
    if i in (4, 19):
        gc.collect()
        graphs = sum(isinstance(o, tf.Graph) for o in gc.get_objects())
    return [int(rss) / 1024, len(os.listdir("/proc/self/fd")), graphs]

X = ["the film was good", "the film was bad", "a fine plot", "a dull plot"] * 4
y = [1, 0, 1, 0] * 4
params = dict(epochs=1, batch_size=8, max_seq_length=16)
fits, loads = [], []
for i in range(20):
    clf = skbert.BertClassifier({tiny!r}, train_encoder=False, **params)
    clf.fit(X, y).predict_proba(X)
    fits.append(state(i))
path = tempfile.mkdtemp() + "/model"
skbert.BertClassifier({tiny!r}, **params).fit(X, y).save(path)
for i in range(20):
    skbert.load(path).predict_proba(X)
    loads.append(state(i))
print(json.dumps({{"fits": fits, "loads": loads}}))
"""


@pytest.mark.slow
def test_twenty_fits_and_twenty_loads_leak_no_memory_files_or_graphs():
    """20 frozen-encoder fits (as a grid search makes), then 20 loads of a fine-tuned
    estimator (each a new ``hub.KerasLayer``) and predictions, in a fresh process."""
    out = run_python(LEAKS.format(tiny=TINY)).stdout
    cycles = json.loads(out.splitlines()[-1])
    for name, bound in (("fits", 50), ("loads", 100)):
        rss, fds, graphs = zip(*cycles[name])
        print(name, "RSS MiB", [round(r) for r in rss], "fds", fds, "graphs", graphs)
        # After 5 warm-up cycles: bounded RSS growth, no more open files or graphs.
        assert rss[-1] - rss[4] < bound
        assert fds[-1] <= fds[4]
        assert graphs[-1] <= graphs[4]


DETERMINISM = """
import hashlib
import tensorflow as tf
tf.config.experimental.enable_op_determinism()
from conftest import sentiment, tiny_classifier
X, y = sentiment(64, seed=0)
for seed in (0, 1):
    clf = tiny_classifier(epochs=2, random_state=seed, head__dropout=0.3).fit(X, y)
    print(seed, hashlib.sha256(clf.predict_proba(X).tobytes()).hexdigest())
"""


@pytest.mark.slow
def test_same_random_state_gives_identical_predictions_in_fresh_processes():
    env = {"PYTHONPATH": str(Path(__file__).parent)}
    first, second = (
        run_python(DETERMINISM, env=env).stdout.split("\n")[-3:-1] for _ in "ab"
    )
    assert first == second  # bit for bit, seed by seed
    assert first[0].split()[1] != first[1].split()[1]  # and the seed matters


def test_a_truncated_local_encoder_gives_a_clear_error(tmp_path):
    import shutil

    preprocess, encoder = (Path(h) for h in skbert.get_encoder(TINY).materialize())
    local = tmp_path / "my_bert"
    shutil.copytree(preprocess, local / "preprocess")
    shutil.copytree(encoder, local / "encoder")
    graph = local / "encoder" / "saved_model.pb"
    graph.write_bytes(graph.read_bytes()[: graph.stat().st_size // 2])
    clf = skbert.BertClassifier(str(local), epochs=1)
    with pytest.raises(skbert.EncoderLoadError, match="Could not load the TF Hub mo"):
        clf.fit(["a good film", "a bad film"], [1, 0])
    assert not hasattr(clf, "model_")
