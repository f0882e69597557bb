"""``callbacks=``: the user's tf_keras callbacks in every kind of fit."""

import csv
import pickle

import numpy as np
import pytest
import tensorflow as tf
import tf_keras
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from conftest import tiny_classifier
from skbert import BertRegressor


class Events(tf_keras.callbacks.Callback):
    """Records the events it gets and the logs of each epoch."""

    def __init__(self):
        super().__init__()
        self.events, self.epoch_logs = [], []

    def on_train_begin(self, logs=None):
        self.events.append("train_begin")

    def on_train_batch_end(self, batch, logs=None):
        self.events.append("batch")

    def on_epoch_end(self, epoch, logs=None):
        self.events.append("epoch")
        self.epoch_logs.append(dict(logs))


def test_a_csv_log_and_a_tensorboard_log_are_written_and_read(toy, tmp_path):
    X, y, X_val, y_val = toy
    csv_path, board = tmp_path / "log.csv", tmp_path / "board"
    callbacks = [
        tf_keras.callbacks.CSVLogger(str(csv_path)),
        tf_keras.callbacks.TensorBoard(str(board)),
    ]
    clf = tiny_classifier(epochs=3, callbacks=callbacks)
    clf.fit(X[:64], y[:64], X_val=X_val[:16], y_val=y_val[:16])
    with open(csv_path) as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    assert {"loss", "score", "val_loss", "val_score"} <= set(rows[0])
    logged = [float(r["val_loss"]) for r in rows]
    np.testing.assert_allclose(logged, clf.history_["val_loss"], rtol=1e-6)

    losses = [
        float(tf.make_ndarray(value.tensor))
        for path in sorted((board / "validation").iterdir())
        for event in tf.compat.v1.train.summary_iterator(str(path))
        for value in event.summary.value
        if value.tag == "epoch_loss"
    ]
    np.testing.assert_allclose(losses, clf.history_["val_loss"], rtol=1e-6)


def test_callbacks_get_each_epoch_and_batch_beside_early_stopping(toy):
    X, y, _, _ = toy
    events = Events()
    clf = tiny_classifier(
        epochs=6, early_stopping=True, n_iter_no_change=1, callbacks=[events]
    ).fit(X[:64], y[:64])
    assert events.events.count("epoch") == clf.n_iter_ == len(clf.history_["loss"])
    # 64 texts less the 10 % held out, batches of 8: 8 steps per epoch.
    assert events.events.count("batch") == 8 * clf.n_iter_
    assert [logs["loss"] for logs in events.epoch_logs] == pytest.approx(
        clf.history_["loss"]
    )
    assert "val_score" in events.epoch_logs[0]


def test_callbacks_follow_partial_fit_warm_start_and_chunks(toy):
    X, y, _, _ = toy
    events = Events()
    clf = tiny_classifier(epochs=1, callbacks=[events])
    clf.partial_fit(X[:32], y[:32], classes=["neg", "pos"])
    clf.partial_fit(X[32:64], y[32:64])
    assert events.events.count("train_begin") == 2
    clf.set_params(warm_start=True, long_texts="chunks", max_seq_length=8)
    clf.set_params(warm_start=False).fit(X[:32], y[:32])
    clf.set_params(warm_start=True).fit(X[:32], y[:32])
    assert events.events.count("epoch") == 4
    reg = BertRegressor(
        "tiny_random_en_uncased",
        epochs=2,
        batch_size=8,
        max_seq_length=16,
        callbacks=[events],
    )
    reg.fit(X[:16], np.arange(16.0))
    assert events.events.count("epoch") == 6


@pytest.mark.slow
def test_callbacks_clone_pickle_and_search_as_parameters(toy):
    X, y, _, _ = toy
    events = Events()
    clf = tiny_classifier(epochs=1, callbacks=[events])
    copy = clone(clf)
    assert copy.get_params()["callbacks"][0] is not events
    assert isinstance(copy.get_params()["callbacks"][0], Events)
    clf.fit(X[:32], y[:32])
    assert events.model is None  # detached: the estimator pickles
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X[:8]), clf.predict_proba(X[:8]))
    assert again.callbacks[0].events == events.events
    grid = GridSearchCV(clf, {"head__dropout": [0.0, 0.1]}, cv=2).fit(X[:32], y[:32])
    assert events.events.count("epoch") == 1  # the search fitted clones
    # The refit clone copied the events so far (one epoch), then added its own.
    assert grid.best_estimator_.callbacks[0].events.count("epoch") == 2


def test_callbacks_must_be_tf_keras_callbacks(toy):
    X, y, _, _ = toy
    with pytest.raises(TypeError, match="tf_keras callbacks"):
        tiny_classifier(callbacks=["log.csv"]).fit(X[:16], y[:16])
