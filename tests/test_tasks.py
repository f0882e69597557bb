"""Multi-label classification, regression, embeddings, and heads with options."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MultiLabelBinarizer

from conftest import NEGATIVE, POSITIVE, SUBJECTS, TINY, tiny_classifier
from skbert import BertRegressor, BertVectorizer


def tagged(n, seed):
    """Texts with two independent tags: the sentiment, and whether it is a film."""
    rng = np.random.default_rng(seed)
    texts, tags = [], []
    for _ in range(n):
        positive, film = rng.random() < 0.5, rng.random() < 0.5
        subject = "film" if film else rng.choice(SUBJECTS[2:])
        word = rng.choice(POSITIVE if positive else NEGATIVE)
        texts.append(f"the {subject} was {word}")
        tags.append({t for t, on in (("positive", positive), ("film", film)) if on})
    return texts, tags


def rated(n, seed):
    """Texts whose score is the count of positive words, and a second target."""
    rng = np.random.default_rng(seed)
    texts, y = [], []
    for _ in range(n):
        k = int(rng.integers(0, 4))
        words = list(rng.choice(POSITIVE, k)) + list(rng.choice(SUBJECTS, 3 - k))
        texts.append(" ".join(rng.permutation(words)))
        y.append([2.0 * k + 10.0, -float(k)])
    return texts, np.array(y)


@pytest.fixture(scope="module")
def multilabel():
    X, tags = tagged(200, seed=0)
    X_test, tags_test = tagged(60, seed=1)
    clf = tiny_classifier(epochs=10, learning_rate=5e-3).fit(X, tags)
    return clf, X_test, tags_test


def test_multilabel_from_label_sets(multilabel):
    clf, X_test, tags_test = multilabel
    assert clf.classes_.tolist() == ["film", "positive"]
    assert clf.network_config_.head == "multilabel"
    truth = MultiLabelBinarizer(classes=clf.classes_).fit_transform(tags_test)
    proba = clf.predict_proba(X_test)
    assert proba.shape == (60, 2) and not np.allclose(proba.sum(axis=1), 1.0)
    predicted = clf.predict(X_test)
    np.testing.assert_array_equal(predicted, (proba > 0.5).astype(int))
    assert (predicted == truth).mean() > 0.9
    assert clf.decision_function(X_test).shape == (60, 2)


def test_multilabel_indicator_matrix_like_mlpclassifier(multilabel):
    reference, X_test, tags_test = multilabel
    X, tags = tagged(200, seed=0)
    indicator = MultiLabelBinarizer().fit_transform(tags)
    clf = tiny_classifier(epochs=10, learning_rate=5e-3).fit(X, indicator)
    assert clf.classes_.tolist() == [0, 1]
    np.testing.assert_allclose(
        clf.predict_proba(X_test), reference.predict_proba(X_test), atol=1e-6
    )
    truth = MultiLabelBinarizer(classes=["film", "positive"]).fit_transform(tags_test)
    assert clf.score(X_test, truth) > 0.8  # subset accuracy, as for MLPClassifier


def test_regression_single_and_multi_output():
    X, y = rated(200, seed=0)
    X_test, y_test = rated(60, seed=1)
    params = dict(epochs=10, batch_size=8, learning_rate=3e-3, max_seq_length=16)
    single = BertRegressor(TINY, random_state=0, **params).fit(X, y[:, 0])
    predicted = single.predict(X_test)
    assert predicted.shape == (60,)
    assert single.score(X_test, y_test[:, 0]) > 0.8
    assert abs(predicted.mean() - y_test[:, 0].mean()) < 1.0  # in y's units
    np.testing.assert_allclose(single.y_mean_, [y[:, 0].mean()])
    multi = BertRegressor(TINY, "mlp", random_state=0, head__hidden_units=16, **params)
    multi.fit(X, y)
    assert multi.predict(X_test).shape == (60, 2)
    assert multi.score(X_test, y_test) > 0.8
    assert multi.model_.get_layer("head").get_layer("mlp_hidden_0").units == 16


def test_early_stopping_stops_when_validation_worsens_and_keeps_the_best_epoch():
    from sklearn.utils import check_random_state

    from skbert.base import _split

    X, y = rated(120, seed=0)
    y = y[:, 0]
    # The held-out texts, as fit draws them (a regressor's split is not
    # stratified), get the opposite targets: each epoch that learns the
    # training texts makes the validation loss worse.
    seed = int(check_random_state(0).randint(2**31 - 1))
    _, held_out = _split(np.arange(len(X)), 0.25, None, seed)
    y[held_out] = 20.0 - y[held_out]
    params = dict(epochs=10, batch_size=8, learning_rate=3e-3, max_seq_length=16)
    reg = BertRegressor(
        TINY,
        random_state=0,
        early_stopping=True,
        validation_fraction=0.25,
        n_iter_no_change=2,
        **params,
    ).fit(X, y)
    val_loss = reg.history_["val_loss"]
    best = int(np.argmin(val_loss))
    assert reg.n_iter_ == best + 1 + 2 < 10  # stopped two epochs after the best
    assert min(val_loss[best + 1 :]) > val_loss[best]
    # The weights are the best epoch's: their loss on the held-out texts is its.
    texts = [X[i] for i in held_out]
    predicted = (reg.predict(texts) - reg.y_mean_) / reg.y_scale_
    target = (y[held_out] - reg.y_mean_) / reg.y_scale_
    assert np.mean((predicted - target) ** 2) == pytest.approx(val_loss[best], rel=1e-4)


def test_vectorizer_feeds_a_scikit_learn_pipeline(toy):
    X, y, X_test, y_test = toy
    pipe = make_pipeline(
        BertVectorizer(TINY, pooling="mean", max_seq_length=16),
        LogisticRegression(max_iter=1000),
    )
    assert pipe.fit(X, y).score(X_test, y_test) > 0.8
    vectorizer = pipe[0]
    features = vectorizer.transform(X_test[:5])
    assert features.shape == (5, 32) and features.dtype == np.float32
    assert vectorizer.get_feature_names_out().tolist()[-1] == "bertvectorizer31"


def test_vectorizer_poolings_differ_and_pairs_work():
    texts = ["a good film", "a bad film that went on and on"]
    pooled = {
        mode: BertVectorizer(TINY, pooling=mode).fit_transform(texts)
        for mode in ("pooled", "mean", "cls", "max")
    }
    for a in pooled:
        for b in pooled:
            assert a == b or not np.allclose(pooled[a], pooled[b])
    pairs = [("a man", "a person"), ("a cat", "a car")]
    vectorizer = BertVectorizer(TINY).fit(pairs)
    assert vectorizer.transform(pairs).shape == (2, 32)
    with pytest.raises(ValueError, match="fitted on sentence pairs"):
        vectorizer.transform(["a man"])


def test_padding_does_not_change_an_embedding():
    vectorizer = BertVectorizer(TINY, pooling="mean").fit(["x"])
    alone = vectorizer.transform(["a short text"])
    beside_long = vectorizer.transform(["a short text", "long " * 60])[:1]
    np.testing.assert_allclose(alone, beside_long, atol=1e-5)


def test_grid_search_over_head_options(toy):
    X, y, X_test, y_test = toy
    grid = GridSearchCV(
        tiny_classifier(head="mlp", train_encoder=False, learning_rate=3e-2),
        {"head__hidden_units": [(8,), (32,)], "head__activation": ["relu"]},
        cv=2,
        error_score="raise",
    ).fit(X[:96], y[:96])
    best = grid.best_estimator_
    width = best.get_params()["head__hidden_units"][0]
    assert best.model_.get_layer("head").get_layer("mlp_hidden_0").units == width
    assert (
        best.model_.get_layer("head").get_layer("mlp_hidden_0").activation.__name__
        == "relu"
    )


@pytest.mark.slow
@pytest.mark.parametrize("pooling", ["attention", "mean"])
def test_sequence_head_learns(toy, pooling):
    X, y, X_test, y_test = toy
    clf = tiny_classifier(head="sequence", head__pooling=pooling).fit(X, y)
    assert clf.score(X_test, y_test) > 0.9
    assert f"{pooling}_pooling" in [
        layer.name for layer in clf.model_.get_layer("head").layers
    ]


@pytest.mark.slow
def test_regressor_validation_score_is_its_r2():
    X, y = rated(120, seed=0)
    X_val, y_val = rated(40, seed=1)
    reg = BertRegressor(
        TINY,
        epochs=4,
        batch_size=8,
        learning_rate=3e-3,
        max_seq_length=16,
        random_state=0,
    ).fit(X, y, X_val=X_val, y_val=y_val)
    r2 = reg.history_["val_score"]
    assert len(r2) == 4 and r2[-1] == pytest.approx(reg.score(X_val, y_val), rel=1e-4)
    assert r2[-1] > 0.5
