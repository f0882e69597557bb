"""Incremental training: ``warm_start`` and ``partial_fit``, on real fits.

Ctrl-C in the middle of either is in ``test_faults.py``.
"""

import copy

import numpy as np
import pytest

from conftest import TINY, tiny_classifier
from skbert import BertClassifier, BertRegressor

CLASSES = ["neg", "pos"]
#: A head on the frozen encoder, without dropout: fast, and repeatable call by call.
FROZEN = dict(train_encoder=False, head__dropout=0.0)


def weights(estimator):
    return [w.copy() for w in estimator.model_.get_weights()]


def largest_change(before, after):
    return max(np.abs(a - b).max() for a, b in zip(before, after))


def test_warm_start_trains_the_fitted_weights_further(toy):
    X, y, _, _ = toy
    clf = tiny_classifier(**FROZEN, epochs=2).fit(X[:64], y[:64])
    fitted = weights(clf)
    # At a vanishing learning rate, a fit moves the weights it starts from
    # by almost nothing: the ones it was given, or new ones.
    clf.set_params(warm_start=True, epochs=1, learning_rate=1e-9)
    clf.fit(X[64:128], y[64:128])
    assert largest_change(fitted, weights(clf)) < 1e-6
    assert clf.n_iter_ == len(clf.history_["loss"]) == 3

    clf.set_params(warm_start=False)
    clf.fit(X[64:128], y[64:128])
    assert largest_change(fitted, weights(clf)) > 1e-3
    assert clf.n_iter_ == len(clf.history_["loss"]) == 1


def test_warm_start_refuses_other_classes_and_settings_and_changes_nothing(toy):
    X, y, _, _ = toy
    clf = tiny_classifier(**FROZEN, epochs=1, warm_start=True).fit(X[:32], y[:32])
    fitted, history = weights(clf), clf.history_
    numbers = (y[:32] == "pos").astype(int)
    with pytest.raises(ValueError, match=r"predicts the classes \['neg', 'pos'\], but"):
        clf.fit(X[:32], numbers)
    clf.set_params(max_seq_length=8)
    with pytest.raises(ValueError, match=r"max_seq_length \(16 -> 8\).*warm_start=F"):
        clf.fit(X[:32], y[:32])
    clf.set_params(max_seq_length=16, head__dropout=0.5)
    with pytest.raises(ValueError, match=r"head_params \(\{'dropout': 0.0\} ->"):
        clf.fit(X[:32], y[:32])
    assert clf.history_ is history and largest_change(fitted, weights(clf)) == 0


def test_partial_fit_learns_call_by_call(toy):
    X, y, X_test, y_test = toy
    clf = tiny_classifier()
    for _ in range(6):
        clf.partial_fit(X, y, classes=CLASSES)
    loss = clf.history_["loss"]
    assert clf.n_iter_ == len(loss) == 6
    assert loss[-1] < 0.5 * loss[0], loss
    assert clf.score(X_test, y_test) > 0.8


def test_partial_fit_keeps_the_optimizer_state_through_a_copy(toy):
    X, y, X_test, _ = toy
    clf = tiny_classifier(**FROZEN, learning_rate=3e-2)
    clf.partial_fit(X[:64], y[:64], classes=CLASSES)
    twin = copy.deepcopy(clf)  # pickled and rebuilt, as dask_ml does between calls
    start = clf.predict_proba(X_test)
    for estimator in (clf, twin):
        estimator.partial_fit(X[64:], y[64:])
    np.testing.assert_allclose(
        twin.predict_proba(X_test), clf.predict_proba(X_test), atol=1e-6
    )
    assert np.abs(clf.predict_proba(X_test) - start).max() > 1e-3


def test_partial_fit_asks_for_its_classes_once_and_holds_to_them(toy):
    X, y, _, _ = toy
    clf = tiny_classifier(**FROZEN)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X[:16], y[:16])
    with pytest.raises(ValueError, match=r"not in classes: 'pos'; the classes are"):
        clf.partial_fit(X[:16], y[:16], classes=["neg", "other"])
    with pytest.raises(ValueError, match=r"In classes: y has one class \('neg'\)"):
        clf.partial_fit(X[:16], y[:16], classes=["neg"])
    assert "model_" not in vars(clf)

    # A batch of one class is fine once the classes are known.
    negative = np.flatnonzero(y == "neg")[:8]
    clf.partial_fit([X[i] for i in negative], y[negative], classes=CLASSES)
    assert clf.classes_.tolist() == CLASSES and clf.n_iter_ == 1
    with pytest.raises(ValueError, match=r"differs from the classes of the first"):
        clf.partial_fit(X[:16], y[:16], classes=["neg", "pos", "other"])
    clf.set_params(class_weight="balanced")
    with pytest.raises(ValueError, match="class_weight='balanced' weighs"):
        clf.partial_fit(X[:16], y[:16])
    clf.set_params(class_weight={"pos": 2.0})
    clf.partial_fit(X[:16], y[:16])
    assert clf.n_iter_ == 2


def test_partial_fit_with_label_sets_has_a_column_for_every_label(toy):
    X, y, _, _ = toy
    tags = [{"good"} if label == "pos" else set() for label in y[:32]]
    clf = BertClassifier("tiny_random_en_uncased", **FROZEN, max_seq_length=16)
    clf.partial_fit(X[:32], tags, classes=["bad", "good", "long"])
    assert clf.classes_.tolist() == ["bad", "good", "long"]
    assert clf.predict_proba(X[:5]).shape == clf.predict(X[:5]).shape == (5, 3)
    with pytest.raises(ValueError, match="not in classes: 'short'"):
        clf.partial_fit(X[:2], [{"short"}, set()])
    with pytest.raises(ValueError, match=r"indicator matrix with 2 columns, whose"):
        clf.partial_fit(X[:2], np.array([[0, 1], [1, 0]]))
    # An indicator's classes are its column numbers: names could be misread.
    with pytest.raises(ValueError, match="is 'bad', 'good'. Pass classes=range"):
        BertClassifier(TINY).partial_fit(X[:2], [[0, 1], [1, 0]], ["good", "bad"])
    indicator = np.array([[1, 0, 1], [0, 1, 0]] * 4)
    clf = BertClassifier(TINY, **FROZEN, max_seq_length=16)
    clf.partial_fit(X[:8], indicator, classes=range(3))
    assert clf.classes_.tolist() == [0, 1, 2]


def test_continued_training_predicts_with_its_new_weights(toy):
    X, y, X_test, _ = toy
    clf = tiny_classifier(epochs=1)  # fine-tuned: predicts on ONNX Runtime
    clf.partial_fit(X, y, classes=CLASSES)
    first = clf.predict_proba(X_test)
    clf.partial_fit(X, y)
    second = clf.predict_proba(X_test)
    assert clf.inference_backend_ == "onnxruntime"
    assert np.abs(second - first).max() > 1e-3
    clf.set_params(inference_backend="tensorflow")
    np.testing.assert_allclose(clf.predict_proba(X_test), second, atol=1e-5)


def test_early_stopping_history_lines_up_across_continued_fits(toy):
    X, y, _, _ = toy
    clf = tiny_classifier(**FROZEN, epochs=2, early_stopping=True, n_iter_no_change=5)
    clf.fit(X, y)
    held_out = clf.history_["val_loss"]
    clf.partial_fit(X[:32], y[:32])
    clf.set_params(warm_start=True).fit(X, y)
    history = clf.history_
    assert len(history["loss"]) == len(history["val_loss"]) == clf.n_iter_ == 5
    assert history["val_loss"][:2] == held_out and np.isnan(history["val_loss"][2])
    assert not np.isnan(history["val_loss"][3:]).any()


@pytest.mark.slow
def test_regressor_partial_fit_keeps_the_first_calls_scaling(toy):
    X, y, X_test, y_test = toy
    stars = np.where(y == "pos", 5.0, 1.0)
    reg = BertRegressor(
        "tiny_random_en_uncased",
        max_seq_length=16,
        batch_size=8,
        learning_rate=3e-3,
        random_state=0,
    )
    reg.partial_fit(X[:80], stars[:80])
    mean = reg.y_mean_.copy()
    for _ in range(5):
        reg.partial_fit(X[80:], stars[80:] + 10.0)  # other units: the scaling stays
    np.testing.assert_array_equal(reg.y_mean_, mean)
    assert reg.n_iter_ == 6
    with pytest.raises(ValueError, match=r"y has 2 target\(s\) per text; the fitted"):
        reg.partial_fit(X[:8], np.c_[stars[:8], stars[:8]])
    predicted = reg.predict(X_test)
    expected = np.where(y_test == "pos", 15.0, 11.0)
    assert np.corrcoef(predicted, expected)[0, 1] > 0.8


@pytest.mark.slow
def test_layer_decay_moves_lower_blocks_less(toy):
    import re

    X, y, _, _ = toy

    def first_step(layer_decay):
        # One step of 8 texts at a constant rate: Adam's first update is
        # the rate times the gradient's sign, so each weight's move is its rate.
        clf = tiny_classifier(batch_size=8, learning_rate=1e-3, layer_decay=layer_decay)
        clf.partial_fit(X[:8], y[:8], classes=CLASSES)
        encoder = clf.model_.get_layer("encoder")
        return {v.name: v.numpy() for v in encoder.weights}, weights(clf)

    start = tiny_classifier(epochs=1, learning_rate=1e-12).fit(X[:8], y[:8])
    before = {v.name: v.numpy() for v in start.model_.get_layer("encoder").weights}
    plain, plain_all = first_step(1.0)
    decayed, decayed_all = first_step(0.5)
    # Two blocks: block 1 at 0.5, block 0 at 0.25, the embeddings at 0.125.
    seen = set()
    for name, value in before.items():
        block = re.search(r"/layer_(\d)/", name)
        scale = 0.5 ** (2 - int(block[1])) if block else 0.125
        if "pooler" in name:
            scale = 1.0
        moved = plain[name] - value
        if "key/bias" in name:  # attention is blind to it: no gradient
            continue
        assert np.abs(moved).max() > 1e-4, name
        np.testing.assert_allclose(decayed[name] - value, scale * moved, atol=2e-6)
        seen.add(scale)
    assert seen >= {0.125, 0.25, 0.5}
    # The head trains at the full rate either way.
    np.testing.assert_allclose(decayed_all[-1], plain_all[-1], atol=1e-6)
