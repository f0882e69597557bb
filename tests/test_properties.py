"""Arbitrary X and y: each case works correctly or fails with a clear error.

Hypothesis draws the inputs, derandomized (every run tries the same cases).
A case passes if the call returns a correct result, or raises ValueError or
TypeError whose message names the argument (X, y or sample_weight). Each
outcome is tagged with `hypothesis.event`; ``pytest tests/test_properties.py
--hypothesis-show-statistics`` counts them.
"""

import re
from functools import partial

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from conftest import TINY, tiny_classifier

ARGUMENT = re.compile(r"\b(X|y|sample_weight)\b")
SETTINGS = dict(
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
MEGABYTE = 1_000_000
SPECIAL = [
    "",
    " ",
    "\t \n\r ",
    "\u200b\u200c\u200d\ufeff",  # zero-width
    "\u202eright to left\u202c",
    "שלום עולם",
    "مرحبا بالعالم",
    "😀🎉 👍🏽 👨‍👩‍👧",
    "你好，世界",
    "日本語のテキスト",
    "\x00\x07\x1b[31m\x7f\x85",  # control characters
    "e\u0301\u0308\u20dd",  # combining marks
    "lone \udcff surrogate",  # surrogateescape'd byte
    "good " * (MEGABYTE // 5),  # 1 MB of words
    "x" * MEGABYTE,  # one 1 MB word
]
texts = st.one_of(
    st.text(st.characters(exclude_categories=()), max_size=30),
    st.sampled_from(SPECIAL),
)
#: Texts that must work: any Unicode but lone surrogates.
good_texts = st.one_of(
    st.text(max_size=30), st.sampled_from([t for t in SPECIAL if "\udcff" not in t])
)
not_texts = st.one_of(
    st.binary(max_size=8),
    st.integers(),
    st.floats(allow_nan=True),
    st.none(),
    st.just(np.nan),
    st.lists(texts, max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
)
items = st.one_of(texts, texts, texts, not_texts)


@st.composite
def any_X(draw):
    """X in every form a caller might pass, good or bad."""
    kind = draw(
        st.sampled_from(
            [
                "texts",
                "text_pairs",
                "list",
                "array",
                "iterator",
                "pairs",
                "ragged_pairs",
                "frame",
                "3d",
                "scalar",
            ]
        )
    )
    if kind == "texts":
        return draw(st.lists(good_texts, min_size=1, max_size=5))
    if kind == "text_pairs":
        pair = st.tuples(good_texts, good_texts)
        return draw(st.lists(pair, min_size=1, max_size=4))
    rows = draw(st.lists(items, max_size=5))
    if kind == "list":
        return rows
    if kind == "array":
        array = np.empty(len(rows), dtype=object)
        array[:] = rows
        return array
    if kind == "iterator":
        return iter(rows)
    if kind == "pairs":
        return draw(st.lists(st.tuples(items, items), min_size=1, max_size=4))
    if kind == "ragged_pairs":
        return draw(st.lists(st.lists(texts, max_size=3), min_size=1, max_size=4))
    if kind == "frame":
        columns = draw(st.integers(1, 3))
        cells = draw(st.lists(st.tuples(*[texts] * columns), min_size=1, max_size=4))
        names = [f"c{i}" for i in range(columns)]
        return pd.DataFrame(cells, columns=names, dtype=object)
    if kind == "3d":
        return np.full((2, draw(st.integers(1, 2)), 2), "a", dtype=object)
    return draw(st.one_of(texts, not_texts))


labels = st.one_of(
    st.integers(-2, 2),
    st.sampled_from(["pos", "neg", "neutral", ""]),
    st.booleans(),
    st.none(),
    st.just(float("nan")),
    st.floats(-2, 2),
)
any_y = st.one_of(
    st.lists(st.sampled_from(["pos", "neg"]), min_size=1, max_size=6),
    st.lists(labels, min_size=1, max_size=6),
    st.none(),
)


def outcome(name: str, call):
    """`call()`'s result, or None when it raised a clear ValueError/TypeError."""
    try:
        result = call()
    except (ValueError, TypeError) as exc:
        message = str(exc)
        assert ARGUMENT.search(message), f"{name}: {exc!r} names no argument"
        assert "Traceback" not in message and "tensorflow" not in message.lower()
        event(f"{name}: {type(exc).__name__}")
        return None
    event(f"{name}: works")
    return result


@pytest.fixture(scope="session")
def fitted_pairs(toy):
    X, y, _, _ = toy
    pairs = [(a, b) for a, b in zip(X[:32], X[1:33])]
    return tiny_classifier(epochs=1).fit(pairs, y[:32])


@pytest.fixture(scope="session")
def vectorizer():
    from skbert import BertVectorizer

    return BertVectorizer(TINY, max_seq_length=16).fit(["a text"])


def materialize(X):
    """An iterator's items as a list (so its length is known); others as they are."""
    return list(X) if hasattr(X, "__next__") else X


@settings(max_examples=150, **SETTINGS)
@given(X=any_X())
def test_predict_works_or_names_X(fitted, fitted_pairs, X):
    X = materialize(X)
    for name, clf in (("single", fitted), ("pairs", fitted_pairs)):
        proba = outcome(f"predict_proba[{name}]", partial(clf.predict_proba, X))
        if proba is None:
            continue
        assert proba.shape == (len(X), 2)
        assert np.isfinite(proba).all()
        np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
        if sum(map(len, map(str, np.asarray(X, dtype=object).flat))) > 10_000:
            continue  # the 1 MB texts: once is enough
        predicted = clf.predict(X)
        np.testing.assert_array_equal(predicted, clf.classes_[proba.argmax(axis=1)])
        scores = clf.decision_function(X)
        assert scores.shape == (len(X),) and np.isfinite(scores).all()


@settings(max_examples=80, **SETTINGS)
@given(X=any_X())
def test_transform_works_or_names_X(vectorizer, X):
    X = materialize(X)
    vectors = outcome("transform", lambda: vectorizer.transform(X))
    if vectors is not None:
        assert vectors.shape == (len(X), vectorizer.n_features_out_)
        assert vectors.dtype == np.float32 and np.isfinite(vectors).all()


@st.composite
def fit_cases(draw):
    """``(X, y)``: mostly texts or pairs with as many labels, some anything at all."""
    if draw(st.booleans()):  # texts or pairs, labels of one type: must work
        X = draw(
            st.lists(good_texts, min_size=2, max_size=6)
            | st.lists(st.tuples(good_texts, good_texts), min_size=2, max_size=6)
        )
        kind = draw(
            st.sampled_from([["pos", "neg", "neutral"], [0, 1, 7], [True, False]])
        )
        y = draw(st.lists(st.sampled_from(kind), min_size=len(X), max_size=len(X)))
        return X, y if len(set(y)) > 1 else [kind[0], kind[1], *y[2:]]
    X = draw(any_X().map(materialize))
    if hasattr(X, "__len__") and draw(st.booleans()):
        y = draw(st.lists(labels, min_size=len(X), max_size=len(X)))
    else:
        y = draw(any_y)
    return X, y


@settings(max_examples=40, **SETTINGS)
@given(case=fit_cases(), early_stopping=st.booleans())
def test_fit_works_or_names_the_argument(case, early_stopping):
    X, y = case
    clf = tiny_classifier(
        train_encoder=False, epochs=1, batch_size=4, early_stopping=early_stopping
    )
    fitted = outcome("fit", lambda: clf.fit(X, y))
    if fitted is None:
        assert not hasattr(clf, "classes_")
        return
    assert clf.classes_.tolist() == sorted(set(clf.classes_.tolist()))
    assert set(np.asarray(y, dtype=object).tolist()) == set(clf.classes_.tolist())
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), len(clf.classes_)) and np.isfinite(proba).all()
    assert set(clf.predict(X)) <= set(clf.classes_)


@settings(max_examples=60, **SETTINGS)
@given(
    y=st.lists(labels, min_size=4, max_size=4),
    weights=st.none() | st.lists(st.floats(), min_size=3, max_size=5),
)
def test_score_with_any_labels(fitted, y, weights):
    X = ["the film was good", "the plot was bad", "a fine story", "dull"]
    score = outcome("score", lambda: fitted.score(X, y, sample_weight=weights))
    if score is not None:
        assert 0.0 <= score <= 1.0


def test_very_long_inputs_are_truncated_longest_first(fitted, fitted_pairs):
    import tensorflow as tf

    long, short = SPECIAL[-2], "the film was good"
    packer = fitted_pairs._network.packer  # max_seq_length=16

    def lengths(a, b):
        packed = packer({"text_a": tf.constant([a]), "text_b": tf.constant([b])})
        assert packed["input_word_ids"].shape[1] <= 16
        mask, types = packed["input_mask"].numpy()[0], packed["input_type_ids"][0]
        return int(mask.sum() - types.numpy().sum()), int(types.numpy().sum())

    a, b = lengths(short, short)  # [CLS] short [SEP] | short [SEP]
    assert a + b < 16
    assert lengths(long, short) == (16 - b, b)  # only the long segment loses tokens
    assert lengths(short, long) == (a, 16 - a)
    assert lengths(long, long) == (9, 7)  # 13 word pieces shared: 7 + 6
    for clf, X in ((fitted, [long, short]), (fitted_pairs, [(long, short)])):
        assert np.isfinite(clf.predict_proba(X)).all()
