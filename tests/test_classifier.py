"""BertClassifier on the tiny random encoder: learning, pairs, sklearn, pickling."""

import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone, is_classifier
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import skbert
from conftest import TINY, run_python, tiny_classifier
from skbert import BertClassifier


def test_learns_a_separable_task(fitted, toy):
    _, _, X_test, y_test = toy
    assert fitted.score(X_test, y_test) >= 0.95
    assert fitted.history_["loss"][-1] < fitted.history_["loss"][0]
    assert fitted.n_iter_ == 8


def test_outputs_keep_the_original_labels(fitted, toy):
    _, _, X_test, _ = toy
    assert fitted.classes_.tolist() == ["neg", "pos"]
    proba = fitted.predict_proba(X_test)
    assert proba.shape == (len(X_test), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    scores = fitted.decision_function(X_test)
    assert scores.shape == (len(X_test),)
    np.testing.assert_array_equal(
        fitted.predict(X_test), fitted.classes_[(scores > 0) * 1]
    )
    assert set(fitted.predict(X_test)) <= {"neg", "pos"}


def test_default_binary_head_is_the_seed_head(fitted):
    layers = {layer.name: layer for layer in fitted.model_.get_layer("head").layers}
    assert layers["output_dropout"].rate == 0.1
    assert layers["output"].units == 1
    hub_layer = fitted.model_.get_layer("encoder").get_layer("encoder")
    assert type(hub_layer).__name__ == "KerasLayer" and hub_layer.trainable


def test_multiclass_softmax_with_int_labels(toy):
    X, y, _, _ = toy
    labels = np.array([{"pos": 7, "neg": 3}[v] for v in y])
    labels[::5] = 11  # a third class: every fifth text, whatever it says
    clf = tiny_classifier(epochs=2).fit(X, labels)
    assert clf.classes_.tolist() == [3, 7, 11]
    assert clf.model_.get_layer("head").get_layer("output").units == 3
    assert clf.predict_proba(X[:4]).shape == (4, 3)
    assert clf.decision_function(X[:4]).shape == (4, 3)
    assert clf.predict(X[:4]).dtype.kind == "i"


def test_bool_labels_and_pandas_input(toy):
    X, y, _, _ = toy
    clf = tiny_classifier(epochs=1).fit(pd.Series(X), pd.Series(y == "pos"))
    assert clf.classes_.tolist() == [False, True]
    assert clf.predict(pd.DataFrame({"text": X[:3]})).dtype == bool


def test_sentence_pairs_are_packed_as_two_segments():
    # Both classes hold the same words; only which segment says what differs.
    from conftest import NEGATIVE, POSITIVE

    rng = np.random.default_rng(0)
    good, bad = rng.choice(POSITIVE, 160), rng.choice(NEGATIVE, 160)
    first = rng.random(160) < 0.5
    X = pd.DataFrame(
        {
            "a": [f"it was {g if f else b}" for g, b, f in zip(good, bad, first)],
            "b": [f"it was {b if f else g}" for g, b, f in zip(good, bad, first)],
        }
    )
    clf = tiny_classifier(epochs=10).fit(X[:120], first[:120])
    assert clf.n_segments_ == 2
    assert clf.score(X[120:], first[120:]) >= 0.95
    with pytest.raises(ValueError, match="fitted on sentence pairs"):
        clf.predict(list(X["a"]))
    pairs = list(zip(X["a"][:3], X["b"][:3]))
    np.testing.assert_allclose(clf.predict_proba(pairs), clf.predict_proba(X[:3]))


def test_same_seed_same_predictions(fitted, toy):
    X, y, X_test, _ = toy
    again = tiny_classifier().fit(X, y)
    np.testing.assert_array_equal(
        again.predict_proba(X_test), fitted.predict_proba(X_test)
    )


def test_pickle_round_trip_is_identical(fitted, toy):
    _, _, X_test, _ = toy
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(
        restored.predict_proba(X_test), fitted.predict_proba(X_test)
    )
    assert "model_" in fitted.__dict__  # pickling leaves the original intact


@pytest.mark.slow
def test_joblib_round_trip_in_a_fresh_process(fitted, toy, tmp_path):
    _, _, X_test, _ = toy
    path = tmp_path / "clf.joblib"
    joblib.dump(fitted, path)
    np.save(tmp_path / "expected.npy", fitted.predict_proba(X_test))
    code = f"""
import joblib, numpy as np
clf = joblib.load({str(path)!r})
np.testing.assert_array_equal(clf.predict_proba({X_test!r}),
                              np.load({str(tmp_path / "expected.npy")!r}))
print("identical")
"""
    assert "identical" in run_python(code).stdout


def test_clone_and_params():
    clf = BertClassifier(TINY, head__dropout=0.3, epochs=2)
    assert is_classifier(clf)
    params = clf.get_params()
    assert params["encoder"] == TINY and params["head__dropout"] == 0.3
    assert params["max_seq_length"] == 128 and params["learning_rate"] == "auto"
    twin = clone(clf).set_params(head__dropout=0.2, head__hidden_units=(8,))
    assert twin.head__dropout == 0.2 and clf.head__dropout == 0.3
    assert twin.get_params()["head__hidden_units"] == (8,)
    assert "head__hidden_units" not in clf.get_params()
    assert "head__dropout=0.3" in repr(clf)
    tags = clf.__sklearn_tags__()
    assert tags.input_tags.string and not tags.input_tags.two_d_array


@pytest.mark.slow
def test_grid_search_over_a_pipeline_picks_the_learning_rate_that_learns(toy):
    X, y, X_test, y_test = toy
    pipe = make_pipeline(
        FunctionTransformer(lambda texts: [t.lower() for t in texts]),
        tiny_classifier(),
    )
    grid = GridSearchCV(
        pipe,
        {"bertclassifier__learning_rate": [1e-7, 3e-3]},
        cv=2,
        error_score="raise",
    )
    grid.fit(np.array(X[:96], dtype=object), y[:96])
    too_small, right = grid.cv_results_["mean_test_score"]
    assert too_small < 0.7 and right > 0.8  # each fold fitted with its own rate
    assert grid.best_params_ == {"bertclassifier__learning_rate": 3e-3}
    assert grid.best_estimator_[-1].learning_rate == 3e-3
    assert grid.best_estimator_.predict(X_test[:5]).dtype == object
    assert grid.score(X_test, y_test) > 0.8


@pytest.mark.slow
def test_cross_val_score(toy):
    X, y, _, _ = toy
    scores = cross_val_score(tiny_classifier(), X[:90], y[:90], cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.7


def test_frozen_encoder_trains_only_the_head(toy):
    X, y, _, _ = toy
    clf = tiny_classifier(train_encoder=False, epochs=1).fit(X, y)
    assert not clf.model_.get_layer("encoder").trainable_weights
    assert len(clf.model_.trainable_weights) == 2  # the Dense kernel and bias


def test_early_stopping_ends_on_the_best_weights():
    import tf_keras

    from skbert.training import EarlyStopping

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("float32")
    x_val, y_val = x[:16], 1 - y[:16]  # validation disagrees: later epochs get worse
    tf_keras.utils.set_random_seed(0)
    model = tf_keras.Sequential([tf_keras.layers.Dense(1, input_shape=(4,))])
    model.compile(
        tf_keras.optimizers.SGD(0.5), tf_keras.losses.BinaryCrossentropy(True)
    )
    history = model.fit(
        x,
        y,
        validation_data=(x_val, y_val),
        epochs=6,
        verbose=0,
        callbacks=[EarlyStopping(patience=10)],
    )
    val = history.history["val_loss"]
    assert np.argmin(val) < len(val) - 1
    assert model.evaluate(x_val, y_val, verbose=0) == pytest.approx(min(val), rel=1e-5)


def test_class_and_sample_weights_change_the_fit(toy):
    X, y, X_test, _ = toy
    # The head alone, on the encoder's stored features: the weights act on its loss.
    frozen = dict(train_encoder=False, learning_rate=3e-2, epochs=1)
    base = tiny_classifier(**frozen).fit(X, y).predict_proba(X_test)
    heavy = tiny_classifier(**frozen, class_weight={"pos": 5.0}).fit(X, y)
    assert heavy.predict_proba(X_test)[:, 1].mean() > base[:, 1].mean()
    balanced = tiny_classifier(**frozen, class_weight="balanced").fit(X, y)
    assert balanced.predict_proba(X_test).shape == base.shape
    w = np.where(np.asarray(y) == "neg", 5.0, 1.0)
    weighted = tiny_classifier(**frozen).fit(X, y, sample_weight=w)
    assert weighted.predict_proba(X_test)[:, 0].mean() > base[:, 0].mean()


def test_verbose_shows_a_progress_bar_and_zero_is_silent(toy, capsys):
    X, y, _, _ = toy
    tiny_classifier(epochs=1, verbose=1).fit(X[:32], y[:32])
    out = capsys.readouterr().out
    assert "[====" in out and "loss:" in out
    tiny_classifier(epochs=1, verbose=0).fit(X[:32], y[:32])
    assert capsys.readouterr().out == ""


def test_batches_are_padded_to_their_longest_text(fitted):
    import tensorflow as tf

    from skbert.model import Packer

    packer = Packer(fitted._network.packer.preprocessor, 1, max_seq_length=40)
    short = packer({"text_a": tf.constant(["a b c", "a"])})  # [CLS] a b c [SEP]
    assert short["input_word_ids"].shape == (2, 5)
    assert short["input_mask"].numpy().sum(axis=1).tolist() == [5, 3]
    long = packer({"text_a": tf.constant(["a " * 20, "a"])})
    assert long["input_word_ids"].shape == (2, 22)
    capped = packer({"text_a": tf.constant(["a " * 60])})
    assert capped["input_word_ids"].shape == (1, 40)
    one = fitted.predict_proba(["the film was good"])
    both = fitted.predict_proba(["the film was good", "a much longer text " * 5])
    np.testing.assert_allclose(one[0], both[0], rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_a_validation_set_is_scored_each_epoch_and_never_trained_on(toy):
    X, y, X_val, y_val = toy
    plain = tiny_classifier(epochs=3).fit(X, y)
    # Early stopping that never stops: it would hold out part of X, but
    # validates on X_val instead, so the model trains on all of X, as `plain`.
    clf = tiny_classifier(epochs=3, early_stopping=True, n_iter_no_change=5)
    clf.fit(X, y, X_val=X_val, y_val=y_val)
    assert clf.n_iter_ == 3 and sorted(clf.history_) == [
        "loss",
        "score",
        "val_loss",
        "val_score",
    ]
    for a, b in zip(plain.model_.get_weights(), clf.model_.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)
    assert clf.history_["loss"] == pytest.approx(plain.history_["loss"], rel=1e-5)
    assert clf.history_["val_score"][-1] == pytest.approx(clf.score(X_val, y_val))
    assert clf.history_["val_score"][-1] > clf.history_["val_score"][0]


def test_early_stopping_on_a_given_validation_set_keeps_its_best_epoch(toy):
    X, y, X_val, y_val = toy
    flipped = np.where(y_val == "pos", "neg", "pos")  # learning X worsens these
    clf = tiny_classifier(epochs=10, early_stopping=True, n_iter_no_change=2)
    clf.fit(X, y, X_val=X_val, y_val=flipped)
    val_loss, val_score = clf.history_["val_loss"], clf.history_["val_score"]
    best = int(np.argmin(val_loss))
    assert clf.n_iter_ == best + 1 + 2 < 10
    assert clf.score(X_val, flipped) == pytest.approx(val_score[best])


@pytest.mark.slow
def test_auto_learning_rate_is_the_encoders_own(toy):
    X, y, _, _ = toy
    fast = dict(epochs=1, max_seq_length=16, random_state=0)
    head_only = BertClassifier(TINY, train_encoder=False, **fast).fit(X[:16], y[:16])
    assert head_only.learning_rate == "auto" and head_only.learning_rate_ == 1e-3
    # The tiny preset recommends no rate: BERT's.
    assert BertClassifier(TINY, **fast).fit(X[:16], y[:16]).learning_rate_ == 3e-5
    given = BertClassifier(TINY, learning_rate=5e-4, **fast).fit(X[:16], y[:16])
    assert given.learning_rate_ == 5e-4
    assert skbert.get_encoder("minilm_l6_en_uncased").learning_rate == 1e-4
