"""``tiny_random_en_uncased``: a small random BERT made locally, for tests and examples.

Its weights are random (a fixed seed), so it carries no knowledge of
language, but it is a real TF Hub-format pair of SavedModels, trains, and
needs no network. The vocabulary holds the special tokens, characters and
their ``##`` continuations (so any English text tokenizes) and a few hundred
common words.
"""

from __future__ import annotations

import string
import tempfile
from pathlib import Path

import numpy as np

from skbert.hookspecs import hookimpl
from skbert.modeling.config import BertConfig
from skbert.specs import EncoderSpec

NAME = "tiny_random_en_uncased"
_SEED = 0

_WORDS = """
the of and to a in is it you that he was for on are with as i his they be at one
have this from or had by not word but what some we can out other were all there
when up use your how said an each she which do their time if will way about many
then them write would like so these her long make thing see him two has look more
day could go come did number sound no most people my over know water than call
first who may down side been now find any new work part take get place made live
where after back little only round man year came show every good me give our under
name very through just form great think say help low line differ turn cause much
mean before move right boy old too same tell does set three want air well also play
small end put home read hand port large spell add even land here must big high such
follow act why ask men change went light kind off need house picture try us again
animal point mother world near build self earth father bad awful terrible poor
worst boring dull love loved best fine nice excellent wonderful happy sad hate
movie film story plot actor acting fun funny beautiful ugly great not never
""".split()
_PUNCTUATION = list(string.punctuation)


def vocabulary() -> list[str]:
    """Return the WordPiece vocabulary of the tiny model, special tokens first."""
    chars = list(string.ascii_lowercase + string.digits)
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokens += chars + _PUNCTUATION + [f"##{c}" for c in chars]
    tokens += [w for w in dict.fromkeys(_WORDS) if w not in tokens]
    return tokens


def build(out_dir: Path) -> None:
    """Write the tiny model's ``preprocess/`` and ``encoder/`` into `out_dir`."""
    from skbert.inputs import INPUT_NAMES
    from skbert.modeling.bert import BertNetwork
    from skbert.modeling.export import export_hub_models

    vocab = vocabulary()
    config = _config()
    network = BertNetwork(config)
    with tempfile.TemporaryDirectory() as tmp:
        vocab_file = Path(tmp) / "vocab.txt"
        vocab_file.write_text("\n".join(vocab) + "\n", encoding="utf-8")
        network({k: np.zeros((1, 4), np.int32) for k in INPUT_NAMES})
        rng = np.random.default_rng(_SEED)
        for weight in network.weights:
            if "gamma" in weight.name:
                value = np.ones(weight.shape)
            elif "beta" in weight.name or "bias" in weight.name:
                value = np.zeros(weight.shape)
            else:
                value = rng.normal(0.0, config.initializer_range, weight.shape)
            weight.assign(value.astype(np.float32))
        export_hub_models(out_dir, network, vocab_file, lower_case=True)


def _config():
    return BertConfig(
        vocab_size=len(vocabulary()),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
    )


@hookimpl
def skbert_register_encoders(register):
    register(
        EncoderSpec(
            name=NAME,
            description="Random 2-layer BERT, hidden 32, built locally, for tests",
            hidden_size=32,
            lower_case=True,
            max_seq_length=512,
            parameters=_config().parameter_count(),
            build=build,
        )
    )
