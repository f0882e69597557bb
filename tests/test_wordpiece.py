"""WordPieceTokenizer gives the ids of skbert's TF preprocessor, without TensorFlow.

Each comparison packs the same texts twice: with `skbert.model.Packer` on a
real preprocessor SavedModel built by skbert, and with `WordPieceTokenizer`
on the ``vocab.txt`` beside it; the whole batches must be equal (ids, mask,
type ids, shape). Three vocabularies: the tiny random preset's, MiniLM's
(uncased, 30k tokens) and a cased one converted from a test checkpoint.
"""

import dataclasses
import functools
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from checkpoints import TINY_CONFIG, TINY_VOCAB, tiny_weights, write_checkpoint
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import TINY, run_python
from skbert.inputs import INPUT_NAMES
from skbert.wordpiece import MAX_BYTES_PER_WORD, WordPieceTokenizer, fold

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
MINILM = "minilm_l6_en_uncased"
LENGTHS = [8, 16, 128, 512]

# A cased vocabulary in which what case folding, NFKC or the byte limit would
# change has ids of its own.
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
CASED_EXTRA = [
    *LETTERS,
    *(f"##{c}" for c in LETTERS),
    *"ß ẞ ς Σ ﬁ Ａ İ ı é É я ก 😀 ㋿".split(),
    *"##ß ##ς ##ı ##é ##я ##ก ##😀 ##\u0301 ##\u00a0 ##\u200d ##\ufe0f".split(" "),
]
CASED_VOCAB = list(dict.fromkeys(TINY_VOCAB + CASED_EXTRA))

#: Inputs where tensorflow_text and a plain BERT tokenizer part ways.
HARD = [
    "Straße STRASSE ẞ groß",
    "İstanbul ıstanbul I ı İ i̇",
    "ΣΊΣΥΦΟΣ σίσυφος ς ϲ Σ",
    "ﬁne ﬂow ﬀ ﬃ",
    "ＡＢＣ　ｄｅｆ１２３！",
    "café naïve façade Ångström",
    "e\u0301 a\u0308\u0304 \u0301alone \u20dd",
    "ᾳ ᾼ ᾀ \u0345 ͺ",
    "Ꭰ ꭰ ᏸ Ᏸ",
    "ᲀ ᲃ ᲈ",
    "µ Ω K Å ǅ ǆ Ǆ ŉ ǰ ΐ",
    "我爱北京天安门",
    "日本語のテキスト、カタカナ。",
    "한국어 텍스트 각",
    "ภาษาไทยไม่มีช่องว่างระหว่างคำเลยแม้แต่น้อยครับผม",
    "emoji 😀🎉 👍🏽 👨‍👩‍👧 🏳️‍🌈 ❤️ 1️⃣",
    "\x00\x07\x1b[31m\x7f\x85 ctrl",
    "zero\u200bwidth\u200cnon\u200djoiner\ufeffbom\u2060wj",
    "soft\u00adhyphen right\u202eto\u202cleft \u061c",
    "non\u00a0breaking\u2009thin\u3000ideo\u2028line\u2029para\u1680ogham",
    "tab\there\nnewline\r\nwin\x0bvt\x0cff",
    "Hangul\u3164filler\u115f\u1160 vs\ufe0f\U000e0041tag",
    "wait… “quotes” «guillemets» — dash ¿qué? ¡sí!",
    "3.14159 1,000,000 ½ ² ① Ⅻ ㋿ 🯰",
    "\ufdfa \u2474 \u33ff",
    "https://example.com/path?q=1&x=y#frag user@example.com",
    "[CLS] [SEP] [UNK] [PAD] [MASK] ##ing",
    "",
    " ",
    "\t\n \r",
    "a" * 100,
    "a" * 101,
    "é" * 50,
    "é" * 51,
    "я" * 50,
    "я" * 51,
    "ก" * 33,
    "ก" * 34,
    "😀" * 25,
    "😀" * 26,
    "x" * 99 + "é",
    "naïve" * 20,
    "Straße" * 17,
    "good " * 3000,
    "é ß " * 2000,
]


@dataclasses.dataclass(frozen=True)
class Encoder:
    preprocessor: str
    vocab_file: Path
    lower_case: bool


def built(name):
    from skbert.encoders import resolve_encoder

    spec = resolve_encoder(name)
    preprocessor, _ = spec.materialize()
    return Encoder(
        preprocessor, Path(preprocessor).parent / "vocab.txt", spec.lower_case
    )


@pytest.fixture(scope="module")
def tiny():
    return built(TINY)


@pytest.fixture(scope="module")
def minilm():
    return built(MINILM)


@pytest.fixture(scope="module")
def cased(tmp_path_factory):
    from skbert.convert import convert_checkpoint

    root = tmp_path_factory.mktemp("cased")
    config = {**TINY_CONFIG, "vocab_size": len(CASED_VOCAB), "num_hidden_layers": 1}
    checkpoint = write_checkpoint(
        root / "checkpoint",
        config,
        tiny_weights(config),
        CASED_VOCAB,
        tokenizer_config={"do_lower_case": False},
    )
    out = convert_checkpoint(checkpoint, root / "out")
    return Encoder(str(out / "preprocess"), out / "vocab.txt", lower_case=False)


@pytest.fixture(scope="module", params=["tiny", "minilm", "cased"])
def encoder(request):
    return request.getfixturevalue(request.param)


@functools.cache
def packer(preprocessor, n_segments, max_seq_length):
    from skbert.encoders import load_preprocessor
    from skbert.model import Packer

    return Packer(load_preprocessor(preprocessor), n_segments, max_seq_length)


@functools.cache
def tokenizer(encoder, max_seq_length):
    return WordPieceTokenizer(encoder.vocab_file, encoder.lower_case, max_seq_length)


def reference(encoder, segments, max_seq_length):
    """What skbert's TF path gives: `Packer` on the preprocessor SavedModel."""
    import tensorflow as tf

    from skbert.inputs import SEGMENT_NAMES

    texts = {
        name: tf.constant(list(segment), tf.string)
        for name, segment in zip(SEGMENT_NAMES, segments)
    }
    packed = packer(encoder.preprocessor, len(segments), max_seq_length)(texts)
    return {name: packed[name].numpy() for name in INPUT_NAMES}


def mismatched(encoder, segments, max_seq_length):
    """Indices of the examples that WordPieceTokenizer and Packer pack differently."""
    packed = tokenizer(encoder, max_seq_length).pack(segments)
    return differing(packed, reference(encoder, segments, max_seq_length))


def differing(packed, want):
    """Indices of the examples where `packed` is not `want`, Packer's batch."""
    got = packed.batch(np.arange(len(packed)))
    assert len(packed) == len(want["input_mask"])
    rows = packed.lengths != want["input_mask"].sum(axis=1)
    if not rows.any():
        for name in INPUT_NAMES:
            assert got[name].dtype == np.int64
            assert got[name].shape == want[name].shape, name
            rows |= (got[name] != want[name]).any(axis=1)
    return np.flatnonzero(rows).tolist()


def assert_same(encoder, segments, max_seq_length):
    rows = mismatched(encoder, segments, max_seq_length)
    examples = [tuple(segment[i] for segment in segments) for i in rows[:5]]
    assert not rows, f"{len(rows)} examples differ, e.g. {examples}"


def read_sst2():
    path = DATA / "sst2" / "dev.tsv"
    if not path.exists():
        pytest.skip(f"needs {path}")
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    return [line.rsplit("\t", 1)[0] for line in lines]


def read_mrpc():
    """MRPC pairs: columns ``Quality, #1 ID, #2 ID, #1 String, #2 String``."""
    path = DATA / "mrpc" / "dev.tsv"
    if not path.exists():
        pytest.skip(f"needs {path}")
    lines = path.read_text(encoding="utf-8-sig").splitlines()[1:]
    pairs = [line.split("\t")[3:5] for line in lines]
    return [a for a, _ in pairs], [b for _, b in pairs]


# --- real texts -------------------------------------------------------------


@pytest.mark.parametrize("max_seq_length", LENGTHS)
def test_sst2_dev_sentences(encoder, max_seq_length):
    texts = read_sst2()
    assert len(texts) == 872
    assert_same(encoder, (texts,), max_seq_length)


@pytest.mark.parametrize("max_seq_length", LENGTHS)
def test_mrpc_dev_pairs(encoder, max_seq_length):
    text_a, text_b = read_mrpc()
    assert len(text_a) == 408
    assert_same(encoder, (text_a, text_b), max_seq_length)


# --- hard cases ---------------------------------------------------------------


@pytest.mark.parametrize("max_seq_length", LENGTHS)
def test_hard_cases(encoder, max_seq_length):
    assert_same(encoder, (HARD,), max_seq_length)
    assert_same(encoder, (HARD, HARD[::-1]), max_seq_length)


def test_hard_cases_are_hard(minilm):
    """A plain BERT normalizer (lower, NFD, no marks) gets many of them wrong."""
    plain = [
        "".join(
            c
            for c in unicodedata.normalize("NFD", text.lower())
            if unicodedata.category(c) != "Mn"
        )
        for text in HARD
    ]
    packed = WordPieceTokenizer(minilm.vocab_file, lower_case=False).pack((plain,))
    assert len(differing(packed, reference(minilm, (HARD,), 128))) > 10
    assert fold(["ẞ ς ﬁ Ａ \u00ad ᾳ"]) == ["ss σ fi a  αι"]


def test_words_are_limited_in_bytes(cased):
    """100 bytes per word, not 100 characters: ``"я" * 51`` is [UNK]."""
    packed = tokenizer(cased, 128).pack((["я" * 50, "я" * 51, "😀" * 26],))
    unk = CASED_VOCAB.index("[UNK]")
    assert packed.lengths.tolist() == [52, 3, 3]
    assert packed.batch([1, 2])["input_word_ids"][:, 1].tolist() == [unk, unk]
    assert len(("я" * 51).encode()) > MAX_BYTES_PER_WORD >= len("я" * 51)


# --- trimming and batches -----------------------------------------------------


@pytest.mark.parametrize("max_seq_length", [4, 5, 6, 7, 8, 9, 16])
def test_pairs_trimmed_round_robin(tiny, max_seq_length):
    """Every split of the budget: odd and even, one or both segments too long."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    text_a, text_b = [], []
    for n_a in range(14):
        for n_b in range(14):
            text_a.append(" ".join(letters[:n_a]))
            text_b.append(" ".join(letters[::-1][:n_b]))
    assert_same(tiny, (text_a, text_b), max_seq_length)
    assert_same(tiny, (text_a,), max_seq_length)


def test_batch_gathers_any_subset_in_order(minilm):
    text_a, text_b = read_mrpc()
    packed = tokenizer(minilm, 64).pack((text_a, text_b))
    index = np.random.default_rng(0).permutation(len(text_a))[:37]
    got = packed.batch(index)
    want = reference(
        minilm, ([text_a[i] for i in index], [text_b[i] for i in index]), 64
    )
    for name in INPUT_NAMES:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)
    assert packed.batch([])["input_mask"].shape == (0, 0)


# --- every code point ---------------------------------------------------------


# What the module docstring lists as unmatched, uncased, on Python 3.11.
UNMATCHED_UNICODE_14 = [
    (0x1C89, 0x1C89), (0xA7CB, 0xA7CC), (0xA7DA, 0xA7DA), (0xA7DC, 0xA7DC),
    (0x105C9, 0x105C9), (0x105E4, 0x105E4), (0x10D50, 0x10D65), (0x11383, 0x11383),
    (0x11385, 0x11385), (0x1138E, 0x1138E), (0x11391, 0x11391), (0x113C5, 0x113C5),
    (0x113C7, 0x113C8), (0x16121, 0x16128), (0x16D68, 0x16D6A), (0x1CCD6, 0x1CCF9),
    (0x1E030, 0x1E06D),
]  # fmt: skip


def unmatched():
    """Code points the uncased tokenizer may get wrong: Python does not know them."""
    if unicodedata.unidata_version == "14.0.0":
        return {c for a, b in UNMATCHED_UNICODE_14 for c in range(a, b + 1)}
    return {c for c in range(0x110000) if unicodedata.category(chr(c)) == "Cn"}


@pytest.mark.slow
def test_every_code_point(encoder):
    """Each code point alone, inside a word and beside capitals.

    Planes 0 to 3 and 14 (planes 4 to 13 are unassigned, 15 and 16 private
    use, like U+E000). Uncased, the code points the module docstring lists as
    unmatched may differ, and no other.
    """
    points = [
        c
        for c in [*range(0x40000), *range(0xE0000, 0xE1000)]
        if not 0xD800 <= c < 0xE000
    ]
    texts = [f"a{chr(c)}b {chr(c)} A{chr(c)}B" for c in points]
    bad = set()
    for start in range(0, len(texts), 1 << 15):
        chunk = texts[start : start + (1 << 15)]
        bad |= {points[start + i] for i in mismatched(encoder, (chunk,), 32)}
    if encoder.lower_case:
        bad -= unmatched()
    assert not bad, [f"U+{c:04X}" for c in sorted(bad)[:20]]


# --- arbitrary texts ----------------------------------------------------------

SCRIPTS = [
    (0x20, 0x7E),  # ASCII
    (0x80, 0x24F),  # Latin-1, Latin extended
    (0x300, 0x36F),  # combining diacritics
    (0x370, 0x52F),  # Greek, Cyrillic
    (0x590, 0x6FF),  # Hebrew, Arabic
    (0x900, 0x97F),  # Devanagari
    (0xE00, 0xE7F),  # Thai
    (0x1100, 0x11FF),  # Hangul jamo
    (0x13A0, 0x13FF),  # Cherokee
    (0x1F00, 0x1FFF),  # Greek extended
    (0x2000, 0x206F),  # spaces, punctuation, format characters
    (0x2100, 0x24FF),  # letterlike, numbers, enclosed
    (0x3000, 0x30FF),  # CJK punctuation, kana
    (0x4E00, 0x4FFF),  # CJK ideographs
    (0xAC00, 0xAD00),  # Hangul syllables
    (0xFB00, 0xFB4F),  # ligatures
    (0xFE00, 0xFE0F),  # variation selectors
    (0xFF00, 0xFFEF),  # full-width forms
    (0x1F300, 0x1FAFF),  # emoji
]
WORDS = ["the", "film", "hello", "world", "unaffable", "Straße", "ÉCOLE", "ﬁ"]
characters = st.one_of(
    *(st.characters(min_codepoint=a, max_codepoint=b) for a, b in SCRIPTS),
    # Any code point Python knows (see test_every_code_point for the others).
    st.characters(exclude_categories=("Cs", "Cn")),
    st.sampled_from(["\u200d", "\U0001f3fd", "\ufe0f", " ", "\t", "\x00"]),
)
texts = st.lists(
    st.one_of(st.text(characters, max_size=12), st.sampled_from(WORDS)), max_size=8
).map("".join)


@pytest.mark.slow
@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    examples=st.lists(st.tuples(texts, texts), min_size=1, max_size=6),
    pairs=st.booleans(),
    max_seq_length=st.sampled_from([5, 8, 16, 64]),
)
def test_arbitrary_texts(encoder, examples, pairs, max_seq_length):
    segments = tuple(zip(*examples))[: 2 if pairs else 1]
    assert_same(encoder, segments, max_seq_length)


# --- vocabularies, errors, imports ----------------------------------------------


@pytest.fixture(scope="module")
def odd_vocabulary(tmp_path_factory):
    """CRLF line ends, no final newline, [PAD] last, no [UNK] (TF's OOV bucket)."""
    from skbert.modeling.preprocess import BertPreprocessor, save_preprocessor

    root = tmp_path_factory.mktemp("odd")
    tokens = [t for t in TINY_VOCAB if t not in ("[PAD]", "[UNK]")] + ["[PAD]"]
    vocab_file = root / "vocab.txt"
    vocab_file.write_bytes("\r\n".join(tokens).encode())
    save_preprocessor(BertPreprocessor(vocab_file, lower_case=True), root / "pre")
    return Encoder(str(root / "pre"), vocab_file, lower_case=True)


def test_odd_vocabulary_file(odd_vocabulary):
    odd = tokenizer(odd_vocabulary, 16)
    assert (odd.unk_id, odd.pad_id) == (len(TINY_VOCAB) - 1, len(TINY_VOCAB) - 2)
    assert_same(odd_vocabulary, (["hello wörld", "zzz 我 ?", ""],), 16)


@pytest.mark.parametrize(
    "content, message",
    [
        ("[PAD]\n[CLS]\n\n[SEP]\n", "empty line"),
        ("[PAD]\n[CLS]\n[SEP]\n[CLS]\n", "'[CLS]' twice"),
        ("[PAD]\n[UNK]\n[SEP]\n", "no [CLS]"),
    ],
)
def test_bad_vocabulary_file(tmp_path, content, message):
    vocab_file = tmp_path / "vocab.txt"
    vocab_file.write_text(content, encoding="utf-8")
    with pytest.raises(
        ValueError, match=r"vocab_file .*" + message.replace("[", r"\[")
    ):
        WordPieceTokenizer(vocab_file)


@pytest.mark.parametrize(
    "segments, max_seq_length, message",
    [
        ((["a"], ["b"], ["c"]), 8, "3 sequences"),
        ((["a", "b"], ["c"]), 8, r"different lengths \[2, 1\]"),
        ((["a"], ["b"]), 2, "max_seq_length=2"),
    ],
)
def test_bad_segments(tiny, segments, max_seq_length, message):
    with pytest.raises(ValueError, match=message):
        tokenizer(tiny, max_seq_length).pack(segments)


def test_import_and_pack_without_tensorflow(tiny):
    code = f"""
import sys
import skbert.wordpiece
tok = skbert.wordpiece.WordPieceTokenizer({str(tiny.vocab_file)!r})
print(tok.pack((["Hello, world!"], ["again"])).lengths.tolist())
print(sorted({{m.split(".")[0] for m in sys.modules}} & {{
    "tensorflow", "tensorflow_text", "tensorflow_hub", "tf_keras", "keras"}}))
"""
    assert run_python(code).stdout.split("\n")[:2] == ["[11]", "[]"]
