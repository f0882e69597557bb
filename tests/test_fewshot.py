"""`BertFewShotClassifier`: contrastive tuning of the tiny encoder, then a head."""

import pickle

import numpy as np
import pytest
import tensorflow as tf
from sklearn.base import clone
from sklearn.linear_model import RidgeClassifier
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier

from conftest import TINY
from skbert import BertFewShotClassifier, BertVectorizer
from skbert.fewshot import _balanced_order, pair_loss


def few_shot(**params):
    # The tiny random encoder's tanh pooler saturates: train its mean pooling.
    defaults = dict(
        max_pairs=3000,
        learning_rate=3e-3,
        max_seq_length=16,
        pooling="mean",
        random_state=0,
    )
    return BertFewShotClassifier(TINY, **{**defaults, **params})


@pytest.fixture(scope="module")
def tuned(toy):
    X, y, _, _ = toy
    return few_shot().fit(X[:48], y[:48])


def margin(embeddings, labels):
    """Mean cosine of same-class pairs less that of different-class pairs."""
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    cosine = unit @ unit.T
    labels = np.asarray(labels)
    same = labels[:, None] == labels[None, :]
    off = ~np.eye(len(labels), dtype=bool)
    return cosine[same & off].mean() - cosine[~same].mean()


def test_contrastive_tuning_pulls_classes_apart_and_the_head_learns(toy, tuned):
    X, y, X_test, y_test = toy
    frozen = BertVectorizer(TINY, max_seq_length=16, pooling="mean").fit(X)
    before = margin(frozen.transform(X_test), y_test)
    after = margin(tuned.embed(X_test), y_test)
    assert after > before + 0.2, (before, after)  # measured: 0.0024 -> 0.44
    untuned = few_shot(max_pairs=0).fit(X[:48], y[:48])
    assert tuned.score(X_test, y_test) >= untuned.score(X_test, y_test) + 0.2
    assert tuned.history_["loss"][0] > 0
    assert 3000 <= tuned.n_pairs_ < 3000 + 120


def test_no_pairs_is_a_head_on_the_frozen_encoders_normalized_embeddings(toy):
    X, y, X_test, _ = toy
    clf = few_shot(max_pairs=0).fit(X[:24], y[:24])
    vec = BertVectorizer(TINY, max_seq_length=16, pooling="mean")
    embeddings = vec.fit(X).transform(X_test)
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    np.testing.assert_allclose(clf.embed(X_test), unit, atol=1e-5)
    assert clf.history_ == {"loss": []} and clf.n_pairs_ == 0


def test_batches_take_each_class_in_turn_and_no_text_twice():
    labels = np.repeat([0, 1, 2, 3, 4], [10, 10, 10, 10, 1])
    order = _balanced_order(labels, 8, 50, np.random.default_rng(0))
    batches = order.reshape(50, 8)
    assert all(len(set(b)) == 8 for b in batches)
    for batch in batches:
        counts = np.bincount(labels[batch], minlength=5)
        assert set(counts[counts > 0]) <= {1, 2}  # 2 each, the lone text once
        assert counts[:4].max() == 2
    seen = np.bincount(labels[order], minlength=5)
    assert seen[:4].max() - seen[:4].min() <= 0.1 * seen[:4].mean()  # in turns
    assert seen[4] > 0


def test_pair_loss_matches_its_definition():
    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(5, 3)).astype(np.float32)
    targets = np.eye(2, dtype=np.float32)[[0, 0, 1, 1, 1]]
    targets[4] = [1, 1]  # a text with both labels
    got = pair_loss(tf.constant(targets), tf.constant(embeddings)).numpy()
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    cosine = unit @ unit.T
    for i in range(5):
        pos, neg = [], []
        for j in range(5):
            if i == j:
                continue
            shared = np.minimum(targets[i], targets[j]).sum()
            jaccard = shared / np.maximum(targets[i], targets[j]).sum()
            (pos if jaccard > 0 else neg).append((cosine[i, j] - jaccard) ** 2)
        # Half each where a text has both kinds of pairs (text 4 has no negative).
        expected = (
            np.mean(pos + neg)
            if not (pos and neg)
            else np.mean(pos) / 2 + np.mean(neg) / 2
        )
        assert got[i] == pytest.approx(expected, rel=1e-5)


def test_label_sets_and_indicator_matrices(toy):
    X, y, X_test, _ = toy
    tags = [{"film"} if "film" in t else {"other", label} for t, label in zip(X, y)]
    clf = few_shot(max_pairs=300).fit(X[:32], tags[:32])
    assert clf.classes_.tolist() == sorted({t for s in tags[:32] for t in s})
    assert clf.predict(X_test[:5]).shape == (5, len(clf.classes_))
    assert clf.predict_proba(X_test[:5]).shape == (5, len(clf.classes_))
    indicator = (np.asarray(y[:32]) == "pos")[:, None] * np.array([1, 0]) + [0, 1]
    assert few_shot(max_pairs=300).fit(X[:32], indicator).predict(X[:2]).shape == (2, 2)


def test_descriptions_are_extra_examples_for_a_class_of_one_text(toy):
    X, y, X_test, y_test = toy
    texts = ["the film was great", "the film was awful"]
    clf = few_shot(
        max_pairs=600,
        label_descriptions={"pos": ["good", "great fun"], "neg": "bad and boring"},
    ).fit(texts, ["pos", "neg"])
    assert clf.classes_.tolist() == ["neg", "pos"]
    assert clf.score(X_test, y_test) > 0.5
    with pytest.raises(ValueError, match="label_descriptions describes 'meh'"):
        few_shot(label_descriptions={"meh": "so so"}).fit(texts, ["pos", "neg"])
    with pytest.raises(ValueError, match="non-empty string"):
        few_shot(label_descriptions={"pos": [""]}).fit(texts, ["pos", "neg"])


def test_bad_input_gets_a_clear_error(toy):
    X, y, _, _ = toy
    with pytest.raises(ValueError, match="one class"):
        few_shot().fit(X[:8], ["pos"] * 8)
    with pytest.raises(ValueError, match="single texts"):
        few_shot().fit([["a", "b"], ["c", "d"]], ["pos", "neg"])
    with pytest.raises(ValueError, match="max_pairs"):
        few_shot(max_pairs=-1).fit(X[:8], y[:8])
    with pytest.raises(ValueError, match="head"):
        few_shot(head="logistic").fit(X[:8], y[:8])
    with pytest.raises(ValueError, match="takes no sample_weight"):
        few_shot(head=KNeighborsClassifier(3)).fit(X[:8], y[:8], np.ones(8))


def test_any_sklearn_classifier_is_a_head_and_its_options_are_searched(toy):
    X, y, X_test, _ = toy
    clf = few_shot(max_pairs=0, head=RidgeClassifier()).fit(X[:24], y[:24])
    assert not hasattr(clf, "predict_proba")
    assert clf.decision_function(X_test[:3]).shape == (3,)
    knn = few_shot(max_pairs=0, head=KNeighborsClassifier(3)).fit(X[:24], y[:24])
    assert set(knn.predict(X_test)) <= {"neg", "pos"}
    grid = GridSearchCV(few_shot(max_pairs=0), {"head__C": [0.1, 10.0]}, cv=2)
    grid.fit(X[:24], y[:24])
    assert grid.best_params_["head__C"] in (0.1, 10.0)
    assert clone(few_shot()).head is not few_shot().head


def test_predictions_agree_across_backends_and_pickling(toy, tuned):
    _, _, X_test, _ = toy
    proba = tuned.predict_proba(X_test)
    assert tuned.inference_backend_ == "onnxruntime"
    again = pickle.loads(pickle.dumps(tuned))
    np.testing.assert_allclose(again.predict_proba(X_test), proba, atol=1e-6)
    again.set_params(inference_backend="tensorflow")
    assert again.inference_backend_ == "tensorflow"
    np.testing.assert_allclose(again.predict_proba(X_test), proba, atol=1e-5)


def test_long_texts_in_chunks_train_and_predict_on_every_window(toy):
    X, y, X_test, y_test = toy
    long_X = [" ".join([t] * 6) for t in X[:32]]
    clf = few_shot(max_pairs=300, long_texts="chunks", max_seq_length=8)
    clf.fit(long_X, y[:32])
    vec = BertVectorizer(TINY, max_seq_length=8, long_texts="chunks", pooling="mean")
    vec.fit(long_X)
    vec._network = clf._network  # the tuned encoder, read window by window
    pooled = vec.transform(X_test[:4])
    unit = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
    np.testing.assert_allclose(clf.embed(X_test[:4]), unit, atol=1e-5)
