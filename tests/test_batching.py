"""Length-aware batching, streamed prediction and the frozen-encoder feature store."""

import numpy as np
import pytest

from conftest import TINY, tiny_classifier


def test_bucketed_order_is_a_shuffled_permutation_of_length_sorted_batches():
    from skbert.batching import bucketed_order

    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 200, size=1000)
    first, second = (bucketed_order(lengths, 32, rng) for _ in range(2))
    for order in (first, second):
        assert sorted(order) == list(range(1000))
        batches = [order[i : i + 32] for i in range(0, 1000, 32)]
        assert len(batches[-1]) == 1000 % 32  # the short batch comes last
        spread = np.mean([np.ptp(lengths[b]) for b in batches])
        assert spread < 0.2 * np.ptp(lengths)  # random batches: about 0.95
    assert not np.array_equal(first, second)


def test_batches_follow_each_epochs_order():
    import tensorflow as tf

    from skbert.batching import batches

    orders = [[3, 1, 0, 2, 4], [4, 0, 1, 2, 3]]
    data = batches(lambda index: index, orders, 2, np.arange(5) * 10)
    got = [(x.numpy().tolist(), y.numpy().tolist()) for x, y in data]
    assert got == [
        ([3, 1], [30, 10]),
        ([0, 2], [0, 20]),
        ([4], [40]),
        ([4, 0], [40, 0]),
        ([1, 2], [10, 20]),
        ([3], [30]),
    ]
    assert isinstance(data, tf.data.Dataset)
    # Autotuning's thread held up each fit's end by about 10 s, now and then,
    # as the iterator's deletion waited for it.
    assert data.options().autotune.enabled is False


def test_prediction_order_and_streamed_input_match_the_input(fitted, toy, monkeypatch):
    import skbert.batching

    _, _, X, _ = toy
    expected = fitted.predict_proba(X)
    permutation = np.random.default_rng(0).permutation(len(X))
    shuffled = fitted.predict_proba([X[i] for i in permutation])
    np.testing.assert_allclose(shuffled, expected[permutation], rtol=1e-5, atol=1e-6)
    monkeypatch.setattr(skbert.batching, "CHUNK_SIZE", 7)
    streamed = fitted.predict_proba(text for text in X)
    np.testing.assert_allclose(streamed, expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="X is empty"):
        fitted.predict_proba(iter([]))


def test_frozen_grid_search_encodes_each_distinct_text_once(toy):
    from sklearn.model_selection import GridSearchCV

    import skbert

    X, y, _, _ = toy
    skbert.clear_feature_cache()
    grid = GridSearchCV(
        tiny_classifier(train_encoder=False, head="sequence", epochs=4),
        {"head__pooling": ["mean", "max"], "learning_rate": [3e-2, 1e-1]},
        cv=3,
    ).fit(X, y)
    info = skbert.feature_cache_info()
    assert info["texts_encoded"] == len(set(X))
    assert info["encoders"] == 1
    assert info["hits"] > 0.9 * info["lookups"]  # 13 fits and 12 scorings
    assert grid.best_estimator_.score(X, y) > 0.7


def test_stored_features_give_what_the_whole_network_gives(toy):
    import tensorflow as tf

    import skbert

    X, y, X_test, _ = toy
    for head in ("sigmoid", "sequence"):
        clf = tiny_classifier(train_encoder=False, head=head, epochs=2).fit(X, y)
        cached = clf.decision_function(X_test)
        before = skbert.feature_cache_info()["texts_encoded"]
        assert clf.decision_function(X_test) == pytest.approx(cached)
        assert skbert.feature_cache_info()["texts_encoded"] == before
        network = clf._network
        packed = network.packer({"text_a": tf.constant(X_test)})
        whole = network.model(packed, training=False).numpy()[:, 0]
        np.testing.assert_allclose(cached, whole, rtol=1e-4, atol=1e-5)


def test_feature_store_keeps_to_its_bound(toy, monkeypatch):
    import skbert
    from skbert import BertVectorizer

    X, _, _, _ = toy
    unbounded = BertVectorizer(TINY, pooling="mean").fit(X).transform(X)
    skbert.clear_feature_cache()
    monkeypatch.setenv("SKBERT_FEATURE_CACHE_MB", "0.004")  # about 4 KiB
    vectors = BertVectorizer(TINY, pooling="mean").fit(X).transform(X)
    np.testing.assert_allclose(vectors, unbounded, rtol=1e-5, atol=1e-6)
    info = skbert.feature_cache_info()
    assert 0 < info["bytes"] <= info["max_bytes"] < 5000
    assert info["entries"] < len(set(X))
    monkeypatch.setenv("SKBERT_FEATURE_CACHE_MB", "lots")
    with pytest.raises(ValueError, match="size in MiB"):
        skbert.feature_cache_info()


def test_xla_compiled_fit_learns_and_predicts_as_the_plain_network(toy):
    import tensorflow as tf

    X, y, X_test, y_test = toy
    clf = tiny_classifier(epochs=4, jit_compile=True).fit(X, y)
    assert clf.score(X_test, y_test) > 0.8
    packed = clf._network.packer({"text_a": tf.constant(X_test)})
    plain = clf.model_(packed, training=False).numpy()[:, 0]
    np.testing.assert_allclose(clf.decision_function(X_test), plain, atol=1e-4)
