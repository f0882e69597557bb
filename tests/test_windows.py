"""Long texts read whole: windows, their pooling, and fits that need them."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.utils._param_validation import InvalidParameterError

from conftest import TINY, sentiment, tiny_classifier
from skbert.windows import pool_windows, split_windows, window_stride

#: Words of the tiny vocabulary that say nothing about sentiment.
NEUTRAL = "of and to in is it that for on are with as at one have this from or".split()


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    from skbert.default_plugins.tiny_random import vocabulary
    from skbert.wordpiece import WordPieceTokenizer

    vocab_file = tmp_path_factory.mktemp("vocab") / "vocab.txt"
    vocab_file.write_text("\n".join(vocabulary()), encoding="utf-8")
    return WordPieceTokenizer(vocab_file, max_seq_length=512)


def pieces(tokenizer, text) -> list[int]:
    packed = tokenizer.pack(([text],))
    return packed.ids[1 : packed.lengths[0] - 1].tolist()  # no [CLS], [SEP]


def long_reviews(n, seed, n_filler=30):
    """Toy reviews whose sentiment comes after `n_filler` neutral words."""
    rng = np.random.default_rng(seed + 100)
    texts, labels = sentiment(n, seed)
    return [" ".join(rng.choice(NEUTRAL, n_filler)) + " " + t for t in texts], labels


#: Texts of distinct words (each ends in its own number), so a window's
#: place in its text is plain to see.
distinct_words = st.lists(
    st.sampled_from(["a", "film", "wonderful", "xyzzy", "dull", "über"]), max_size=60
).map(lambda drawn: " ".join(f"{w}{i}" for i, w in enumerate(drawn)))


@given(text=distinct_words, max_seq_length=st.integers(4, 20), data=st.data())
def test_windows_cover_the_text_in_order_within_the_length(
    tokenizer, text, max_seq_length, data
):
    size = max_seq_length - 2
    stride = data.draw(st.integers(0, size - 1))
    windows = split_windows([text], tokenizer, max_seq_length, stride)
    assert windows.counts.tolist() == [len(windows.texts)]
    assert windows.owner.tolist() == [0] * len(windows.texts)
    whole = pieces(tokenizer, text)
    if len(whole) <= size:
        assert windows.texts.tolist() == [text]
        return
    end = 0
    for k, window in enumerate(windows.texts):
        start = len(pieces(tokenizer, text[: text.index(window)]))
        own = pieces(tokenizer, window)
        assert whole[start : start + len(own)] == own
        assert len(own) <= size or len(tokenizer.words(window)) == 1
        assert 0 <= end - start <= stride if k else start == 0  # overlap, no gap
        end = start + len(own)
    assert end == len(whole)  # the last window ends with the text


@given(text=st.text(max_size=200), max_seq_length=st.integers(4, 20))
def test_any_text_is_cut_into_pieces_of_it_that_fit(tokenizer, text, max_seq_length):
    size = max_seq_length - 2
    windows = split_windows([text], tokenizer, max_seq_length, stride=1)
    found = tokenizer.words(text)
    if len(windows.texts) > 1:  # from the first word to the last
        first, last = found[0][1][0], found[-1][1][1]
        assert text[first:].startswith(windows.texts[0])
        assert text[:last].endswith(windows.texts[-1])
    longest = max(tokenizer.count_pieces([w for w, _ in found]), default=0)
    if longest <= size:
        assert len(windows.texts) >= -(-len(pieces(tokenizer, text)) // size)
    for window in windows.texts:
        assert window in text
        own = len(pieces(tokenizer, window))
        assert own <= size or len(tokenizer.words(window)) == 1


def test_short_texts_are_one_window_themselves(tokenizer):
    windows = split_windows(["a film", "", "the plot was dull"], tokenizer, 16, 2)
    assert windows.texts.tolist() == ["a film", "", "the plot was dull"]
    assert windows.counts.tolist() == [1, 1, 1]


def test_max_windows_keeps_evenly_spaced_windows_first_and_last(tokenizer):
    text = " ".join(f"w{i}" for i in range(400))  # "w" and "##0".. pieces
    every = split_windows([text], tokenizer, 10, stride=0)
    bounded = split_windows([text], tokenizer, 10, stride=0, max_windows=5)
    assert len(every.texts) > 20
    assert bounded.counts.tolist() == [5]
    kept = bounded.texts.tolist()
    assert kept[0] == every.texts[0] and kept[-1] == every.texts[-1]
    positions = [every.texts.tolist().index(w) for w in kept]
    assert np.ptp(np.diff(positions)) <= 1  # evenly spaced


def test_stride_must_leave_room_to_move_on():
    assert window_stride(None, 130) == 32
    assert window_stride(0, 16) == 0
    with pytest.raises(ValueError, match="stride=14 .* max_seq_length - 2 = 14"):
        window_stride(14, 16)


def test_pooling_is_per_text():
    from skbert.windows import Windows

    windows = Windows(
        np.array(["a", "b", "c"], dtype=object), np.array([0, 0, 1]), np.array([2, 1])
    )
    outputs = np.array([[1.0, 4.0], [3.0, 0.0], [5.0, 5.0]], dtype=np.float32)
    assert pool_windows(outputs, windows, "mean").tolist() == [[2, 2], [5, 5]]
    assert pool_windows(outputs, windows, "max").tolist() == [[3, 4], [5, 5]]
    assert pool_windows(outputs, windows, "mean").dtype == np.float32


@pytest.fixture(scope="module")
def reviews():
    return long_reviews(160, 0), long_reviews(60, 1)


@pytest.fixture(scope="module")
def chunked(reviews):
    (X, y), _ = reviews
    return tiny_classifier(long_texts="chunks", stride=2, window_pooling="max").fit(
        X, y
    )


def test_a_label_after_the_first_window_is_learned_with_chunks_only(reviews, chunked):
    (X, y), (X_test, y_test) = reviews
    truncated = tiny_classifier().fit(X, y)
    assert truncated.score(X_test, y_test) < 0.65
    assert chunked.score(X_test, y_test) > 0.9


def test_prediction_pools_the_logits_of_the_windows(reviews, chunked, tokenizer):
    _, (X_test, _) = reviews
    windows = split_windows(X_test[:5], tokenizer, 16, 2)
    assert windows.counts.min() > 1
    proba = chunked.predict_proba(X_test[:5])
    try:
        chunked.set_params(long_texts="truncate")
        window_logits = chunked.decision_function(list(windows.texts))[:, None]
        chunked.set_params(long_texts="chunks", inference_backend="tensorflow")
        tf_proba = chunked.predict_proba(X_test[:5])
    finally:
        chunked.set_params(long_texts="chunks", inference_backend="auto")
    expected = pool_windows(window_logits, windows, "max")[:, 0]
    scores = chunked.decision_function(X_test[:5])
    np.testing.assert_allclose(scores, expected, rtol=1e-5)
    np.testing.assert_allclose(tf_proba, proba, atol=1e-5)


def test_frozen_encoder_and_vectorizer_read_windows(reviews, tokenizer):
    from skbert import BertVectorizer

    (X, y), (X_test, _) = reviews
    clf = tiny_classifier(
        train_encoder=False, long_texts="chunks", stride=2, epochs=2
    ).fit(X, y)
    proba = clf.predict_proba(X_test)
    assert proba.shape == (60, 2) and np.isfinite(proba).all()
    vec = BertVectorizer(TINY, max_seq_length=16, long_texts="chunks", stride=2)
    embedded = vec.fit(X).transform(X_test[:3])
    windows = split_windows(X_test[:3], tokenizer, 16, 2)
    plain = BertVectorizer(TINY, max_seq_length=16).fit(X)
    expected = pool_windows(plain.transform(list(windows.texts)), windows, "mean")
    np.testing.assert_allclose(embedded, expected, rtol=1e-5, atol=1e-6)
    short = ["a good film"]
    np.testing.assert_allclose(vec.transform(short), plain.transform(short), atol=1e-6)


def test_a_megabyte_text_costs_max_windows(chunked):
    text = " ".join(["of and the film was good"] * 40_000)  # about 1 MB
    assert len(text) > 900_000
    proba = chunked.predict_proba([text, "the film was bad"])
    assert proba.shape == (2, 2) and np.isfinite(proba).all()


@pytest.mark.slow
def test_regressor_reads_windows_and_round_trips(reviews, tmp_path):
    import skbert
    from skbert import BertRegressor

    (X, y), (X_test, _) = reviews
    target = (y == "pos").astype(float)
    reg = BertRegressor(
        TINY, max_seq_length=16, epochs=1, long_texts="chunks", max_windows=3
    ).fit(X[:40], target[:40])
    reg.save(tmp_path / "reg")
    loaded = skbert.load(tmp_path / "reg")
    assert loaded.long_texts == "chunks" and loaded.max_windows == 3
    np.testing.assert_allclose(loaded.predict(X_test), reg.predict(X_test), atol=1e-5)


def test_chunks_refuse_pairs_bad_strides_and_exports(chunked, tmp_path):
    pairs = [("a good film", "the plot"), ("a bad film", "the actor")] * 4
    with pytest.raises(ValueError, match="sentence pairs; use long_texts='truncate'"):
        tiny_classifier(long_texts="chunks", epochs=1).fit(pairs, [0, 1] * 4)
    with pytest.raises(ValueError, match="stride=20"):
        tiny_classifier(long_texts="chunks", stride=20).fit(["a", "b"], [0, 1])
    with pytest.raises(InvalidParameterError, match="long_texts"):
        tiny_classifier(long_texts="whole").fit(["a", "b"], [0, 1])
    with pytest.raises(ValueError, match="export writes the truncating"):
        chunked.export(tmp_path / "model.onnx")
    assert not (tmp_path / "model.onnx").exists()


#: Long texts whose beginnings are hard to cut: spaces first, accents and
#: case (folded), punctuation, a run with no space, over-long words.
LONG = [
    " " * 20_000 + "the Film was GOOD, " * 9_000,
    "naïve Straße ﬁne café! " * 9_000,
    "x" * 3_000 + " and then " + "word" * 200 + " end. " * 30_000,
    "(a)[b]{c}" * 30_000,
]


@pytest.mark.parametrize("lower_case", [True, False])
def test_truncation_reads_a_long_text_only_as_far_as_it_keeps(
    tokenizer, monkeypatch, lower_case
):
    from skbert.wordpiece import WordPieceTokenizer

    cut = WordPieceTokenizer(tokenizer.vocab_file, lower_case, max_seq_length=64)
    packed = cut.pack((LONG,)), cut.pack((LONG, LONG[::-1]))
    heads = [cut.head(text, 62) for text in LONG]
    assert all(len(head) < len(text) / 2 for head, text in zip(heads, LONG))
    monkeypatch.setattr(WordPieceTokenizer, "head", lambda self, text, n: text)
    whole = cut.pack((LONG,)), cut.pack((LONG, LONG[::-1]))
    index = np.arange(len(LONG))
    for ours, theirs in zip(packed, whole):
        for name, value in ours.batch(index).items():
            np.testing.assert_array_equal(value, theirs.batch(index)[name], name)


def test_a_long_text_has_windows_spread_over_its_characters(tokenizer):
    from skbert.windows import LONG_TEXT

    text = " ".join(f"w{i}" for i in range(40_000))  # "w" and "##0".. pieces
    assert len(text) > LONG_TEXT
    every = split_windows([text], tokenizer, 18, stride=4)
    sampled = split_windows([text], tokenizer, 18, stride=4, max_windows=6)
    assert sampled.counts.tolist() == [6]
    kept = sampled.texts.tolist()
    assert kept[0] == every.texts[0] and kept[-1] == every.texts[-1]
    starts = [text.index(window) for window in kept]
    assert np.ptp(np.diff(starts[:-1])) < 20  # evenly spaced characters
    assert all(len(pieces(tokenizer, window)) <= 16 for window in kept)
    ends = [start + len(window) for start, window in zip(starts, kept)]
    assert all(text[s - 1] == " " for s in starts[1:])  # cut between words
    assert all(text[e] == " " for e in ends[:-1]) and ends[-1] == len(text)


@pytest.mark.parametrize("long_texts", ["chunks", "truncate"])
def test_an_8_mib_text_takes_the_memory_of_its_windows(fitted, tmp_path, long_texts):
    from conftest import run_python

    fitted.save(tmp_path / "model")
    # VmHWM, the peak RSS of this process image (ru_maxrss would count the
    # parent's, pytest's, from before the exec).
    code = f"""
import re, skbert
def peak():
    status = open("/proc/self/status").read()
    return int(re.search(r"VmHWM:\\s+(\\d+)", status).group(1)) // 1024
clf = skbert.load({str(tmp_path / "model")!r}, backend="onnxruntime")
clf.set_params(long_texts={long_texts!r}, max_windows=16)
clf.predict(["a first text"])
text = "the film was good and the plot was great but the acting was bad " * 140_000
text = text[: 8 << 20]
before = peak()
clf.predict([text])
print(peak() - before)
"""
    grown = int(run_python(code).stdout.split()[-1])
    # Before issue 27: +2,315 MiB (chunks), +836 MiB (truncate).
    assert grown < 64, f"predicting one 8 MiB text took {grown} MiB more"
