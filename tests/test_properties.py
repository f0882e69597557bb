"""Property tests of the input checks: valid input works, invalid input is refused.

Hypothesis draws the inputs, derandomized; the profile registered in
conftest sets how many (``HYPOTHESIS_PROFILE=large`` in ``make test-all``).
Valid X (texts or sentence pairs, in every container a caller might use)
must give correct results. X or y with one thing wrong must raise ValueError
or TypeError whose message names the argument, and leave an estimator
unfitted.
"""

import re
from functools import partial

import numpy as np
import pandas as pd
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from conftest import TINY, tiny_classifier

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
    "good " * (MEGABYTE // 5),  # 1 MB of words
    "x" * MEGABYTE,  # one 1 MB word
]
#: Any Unicode text that UTF-8 can encode (hypothesis' text() draws no surrogates).
texts = st.one_of(st.text(max_size=30), st.sampled_from(SPECIAL))
not_texts = st.one_of(
    st.binary(max_size=8),
    st.integers(),
    st.floats(allow_nan=True),
    st.none(),
    # A list of one or two texts would be a row of a column or of pairs: valid.
    st.just([]),
    st.lists(texts, min_size=3, max_size=3),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
)


def _column(rows):
    array = np.empty(len(rows), dtype=object)
    for i, text in enumerate(rows):
        array[i] = text
    return array


def _table(rows):
    array = np.empty((len(rows), 2), dtype=object)
    for i, (a, b) in enumerate(rows):
        array[i, 0], array[i, 1] = a, b
    return array


#: The containers X may come in, by number of segments: rows -> X.
FORMS = {
    1: {
        "list": list,
        "tuple": tuple,
        "array": _column,
        "column": lambda rows: _column(rows).reshape(-1, 1),
        "iterator": lambda rows: (text for text in rows),
        "series": lambda rows: pd.Series(_column(rows), dtype=object),
        "frame": lambda rows: pd.DataFrame({"text": _column(rows)}, dtype=object),
    },
    2: {
        "tuples": lambda rows: [tuple(r) for r in rows],
        "lists": lambda rows: [list(r) for r in rows],
        "array": _table,
        "frame": lambda rows: pd.DataFrame(
            _table(rows), columns=["a", "b"], dtype=object
        ),
        "iterator": lambda rows: (tuple(r) for r in rows),
    },
}


@st.composite
def rows(draw, n_segments, min_size=1):
    """Up to 5 valid rows: texts, or 2-tuples of texts."""
    row = texts if n_segments == 1 else st.tuples(texts, texts)
    return draw(st.lists(row, min_size=min_size, max_size=5))


@st.composite
def valid_X(draw, n_segments, min_size=1):
    """``(X, n)``: `n` valid rows in one of the containers of `FORMS`."""
    drawn = draw(rows(n_segments, min_size))
    form = draw(st.sampled_from(sorted(FORMS[n_segments])))
    event(f"valid X: {form}")
    return FORMS[n_segments][form](drawn), len(drawn)


#: The ways X can be wrong at fit; at predict, also the other number of segments.
X_MISTAKES = [
    "not a text",
    "lone surrogate",
    "empty",
    "one string",
    "bytes",
    "scalar",
    "3-D",
    "three columns",
    "no columns",
]


@st.composite
def invalid_X(draw, n_segments, mistake):
    """X for an estimator of `n_segments` with `mistake`, in any container."""
    drawn = [list(r) if n_segments == 2 else r for r in draw(rows(n_segments))]
    if mistake in ("not a text", "lone surrogate"):
        bad = draw(not_texts) if mistake == "not a text" else "lone \udcff surrogate"
        where = draw(st.integers(0, len(drawn) - 1))
        if n_segments == 1:
            drawn[where] = bad
        else:
            drawn[where][draw(st.integers(0, 1))] = bad
        form = draw(st.sampled_from(sorted(FORMS[n_segments])))
        return FORMS[n_segments][form](drawn)
    if mistake == "empty":
        return draw(st.sampled_from([[], (), np.array([], dtype=object), iter([])]))
    if mistake == "one string":
        return draw(texts)
    if mistake == "bytes":
        return draw(st.binary(max_size=8))
    if mistake == "scalar":
        return draw(st.one_of(st.integers(), st.none(), st.floats()))
    if mistake == "3-D":
        return np.full((len(drawn), 2, 2), "a", dtype=object)
    if mistake == "no columns":
        n = len(drawn)
        return draw(
            st.sampled_from(
                [
                    np.empty((n, 0)),
                    np.empty((n, 0), dtype=object),
                    [[]] * n,
                    pd.DataFrame(index=range(n)),
                ]
            )
        )
    if mistake == "three columns":
        return [(t, t, t) for t in draw(st.lists(texts, min_size=1, max_size=4))]
    assert mistake == "other form", mistake
    other, _ = draw(valid_X(3 - n_segments))
    return other


def refused(call, *arguments):
    """Assert `call()` raises ValueError/TypeError naming one of `arguments`."""
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    message = str(info.value)
    assert re.search(rf"\b({'|'.join(arguments)})\b", message), message
    assert "Traceback" not in message and "tensorflow" not in message.lower()


def materialized(X):
    """An iterator's items as a list, so that X can be read twice."""
    return list(X) if hasattr(X, "__next__") else X


def length(X):
    return sum(len(str(v)) for v in np.asarray(X, dtype=object).flat)


@pytest.fixture(scope="session")
def fitted_pairs(toy):
    X, y, _, _ = toy
    pairs = [(a, b) for a, b in zip(X[:32], X[1:33])]
    return tiny_classifier(epochs=1).fit(pairs, y[:32])


@pytest.fixture(scope="session")
def vectorizer():
    from skbert import BertVectorizer

    return BertVectorizer(TINY, max_seq_length=16).fit(["a text"])


@pytest.mark.parametrize("n_segments", [1, 2])
@given(data=st.data())
def test_valid_X_predicts(fitted, fitted_pairs, data, n_segments):
    clf = fitted if n_segments == 1 else fitted_pairs
    X, n = data.draw(valid_X(n_segments))
    proba = clf.predict_proba(X)  # an iterator as it is
    assert proba.shape == (n, 2) and np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    X, _ = data.draw(valid_X(n_segments))
    X = materialized(X)
    if length(X) < 10_000:  # the 1 MB texts: once is enough
        proba = clf.predict_proba(X)
        np.testing.assert_array_equal(
            clf.predict(X), clf.classes_[proba.argmax(axis=1)]
        )
        scores = clf.decision_function(X)
        assert scores.shape == (len(proba),) and np.isfinite(scores).all()


@pytest.mark.parametrize("mistake", [*X_MISTAKES, "other form"])
@pytest.mark.parametrize("n_segments", [1, 2])
@given(data=st.data())
def test_invalid_X_is_refused_at_predict(
    fitted, fitted_pairs, data, n_segments, mistake
):
    clf = fitted if n_segments == 1 else fitted_pairs
    for method in (clf.predict_proba, clf.predict, clf.decision_function):
        X = data.draw(invalid_X(n_segments, mistake))
        refused(partial(method, X), "X")


@pytest.mark.parametrize("mistake", [None, *X_MISTAKES, "other form"])
@given(data=st.data())
def test_transform_valid_and_invalid_X(vectorizer, data, mistake):
    if mistake is None:
        X, n = data.draw(valid_X(1))
        vectors = vectorizer.transform(X)
        assert vectors.shape == (n, vectorizer.n_features_out_)
        assert vectors.dtype == np.float32 and np.isfinite(vectors).all()
    else:
        X = data.draw(invalid_X(1, mistake))
        refused(partial(vectorizer.transform, X), "X")


LABEL_KINDS = [["pos", "neg", "neutral"], [0, 1, 7], [True, False]]


@st.composite
def labels_for(draw, n):
    """`n` labels of one kind, at least two classes among them if n > 1."""
    kind = draw(st.sampled_from(LABEL_KINDS))
    y = draw(st.lists(st.sampled_from(kind), min_size=n, max_size=n))
    return y if len(set(y)) > 1 or n == 1 else [kind[0], kind[1], *y[2:]]


@settings(max_examples=max(4, settings.default.max_examples // 3))
@pytest.mark.parametrize("n_segments", [1, 2])
@given(data=st.data(), early_stopping=st.booleans())
def test_valid_X_and_y_fit(data, n_segments, early_stopping):
    X, n = data.draw(valid_X(n_segments, min_size=2))
    y = data.draw(labels_for(n))
    clf = tiny_classifier(
        train_encoder=False, epochs=1, batch_size=4, early_stopping=early_stopping
    ).fit(X, y)  # an iterator as it is
    assert clf.classes_.tolist() == sorted(set(y))
    assert clf.n_segments_ == n_segments
    X, n = data.draw(valid_X(n_segments))
    proba = clf.predict_proba(X)
    assert proba.shape == (n, len(clf.classes_)) and np.isfinite(proba).all()


Y_MISTAKES = ["None", "missing", "NaN", "mixed", "one class", "length", "continuous"]


@st.composite
def invalid_y(draw, n, mistake):
    """Labels for `n` texts with `mistake`."""
    y = draw(labels_for(n))
    where = draw(st.integers(0, n - 1))
    if mistake == "None":
        return None
    if mistake == "missing":
        y[where] = None
    elif mistake == "NaN":
        y[where] = float("nan")
    elif mistake == "mixed":
        y[where] = 3 if isinstance(y[where], str) else "pos"
    elif mistake == "one class":
        y = [y[0]] * n
    elif mistake == "length":
        y = y + y[:1] if draw(st.booleans()) or n == 1 else y[1:]
    else:
        assert mistake == "continuous", mistake
        y = [0.5 + i for i in range(n)]
    return y


@pytest.mark.parametrize(
    "argument, mistake", [("X", m) for m in X_MISTAKES] + [("y", m) for m in Y_MISTAKES]
)
@pytest.mark.parametrize("n_segments", [1, 2])
@given(data=st.data())
def test_invalid_X_or_y_is_refused_at_fit(data, n_segments, argument, mistake):
    clf = tiny_classifier(train_encoder=False, epochs=1)
    if argument == "X":
        X, y = data.draw(invalid_X(n_segments, mistake)), ["pos", "neg"]
    else:
        X, n = data.draw(valid_X(n_segments, min_size=2))
        X = materialized(X)
        y = data.draw(invalid_y(n, mistake))
    refused(partial(clf.fit, X, y), argument)
    assert not hasattr(clf, "classes_") and not hasattr(clf, "model_")


SCORE_X = ["the film was good", "the plot was bad", "a fine story", "dull"]


@given(
    y=st.lists(st.sampled_from(["pos", "neg", "neutral", ""]), min_size=4, max_size=4),
    weights=st.none()
    | st.lists(st.floats(0, 10), min_size=4, max_size=4).filter(lambda w: sum(w) > 0),
)
def test_score_is_the_weighted_accuracy(fitted, y, weights):
    hits = fitted.predict(SCORE_X) == np.array(y, dtype=object)
    expected = np.average(hits, weights=weights)
    assert fitted.score(SCORE_X, y, sample_weight=weights) == pytest.approx(expected)


@pytest.mark.parametrize(
    "y, weights, argument",
    [
        (None, None, "y"),
        (["pos", "neg", "pos"], None, "y"),
        (["pos", None, "pos", "neg"], None, "y"),
        (["pos", "neg", "pos", float("nan")], None, "y"),
        (["pos", "neg", "pos", "neg"], [1.0] * 5, "sample_weight"),
        (["pos", "neg", "pos", "neg"], [1.0, -1.0, 1.0, 1.0], "sample_weight"),
        (["pos", "neg", "pos", "neg"], [1.0, float("nan"), 1.0, 1.0], "sample_weight"),
        (["pos", "neg", "pos", "neg"], [0.0] * 4, "sample_weight"),
    ],
)
def test_invalid_y_or_weights_are_refused_at_score(fitted, y, weights, argument):
    refused(partial(fitted.score, SCORE_X, y, sample_weight=weights), argument)


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
