"""Write a BERT network and its vocabulary as a TF Hub-format pair of SavedModels."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import tempfile
from pathlib import Path

import tensorflow as tf

from skbert.inputs import INPUT_NAMES
from skbert.modeling.bert import BertNetwork
from skbert.modeling.config import CONFIG_ASSET, bert_name
from skbert.modeling.preprocess import BertPreprocessor, save_preprocessor
from skbert.specs import ENCODER_DIR, PREPROCESS_DIR


def export_hub_models(
    out_dir: str | Path, network: BertNetwork, vocab_file: str | Path, lower_case: bool
) -> None:
    """Save ``out_dir/preprocess`` and ``out_dir/encoder``.

    Both load with plain ``hub.KerasLayer`` (the preprocessor needs
    ``import tensorflow_text`` first); the encoder is trainable.

    Parameters
    ----------
    out_dir : path
        Directory to write; it is created, and must not hold an export already.
    network : BertNetwork
        The encoder.
    vocab_file : path
        WordPiece vocabulary of the network, copied into the preprocessor.
    lower_case : bool
        Whether the preprocessor lower-cases and strips accents.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    vocab = out / "vocab.txt"
    shutil.copyfile(vocab_file, vocab)
    preprocessor = BertPreprocessor(vocab, lower_case=lower_case)
    save_preprocessor(preprocessor, out / PREPROCESS_DIR)
    save_encoder(network, out / ENCODER_DIR)


def save_encoder(network: BertNetwork, path: Path) -> None:
    """Save `network` as a TF Hub reusable SavedModel at `path`.

    It holds what ``hub.KerasLayer`` uses and nothing else: ``__call__``
    (inputs of any batch size and length, ``training`` True or False), the
    variables (named as in `network`), no regularization losses, and the
    config as the asset `CONFIG_ASSET`. Keras' own save would add every
    layer's functions, which a load then spends seconds restoring.
    """
    spec = {name: tf.TensorSpec([None, None], tf.int32, name) for name in INPUT_NAMES}
    network({name: tf.zeros([1, 1], tf.int32) for name in INPUT_NAMES})  # build

    @tf.function
    def call(inputs, training=False):
        return network(inputs, training=training)

    for training in (False, True):
        call.get_concrete_function(spec, training=training)
    config = {**dataclasses.asdict(network.config), "pooling": network.pooling}
    with tempfile.TemporaryDirectory() as tmp:
        asset = Path(tmp) / CONFIG_ASSET
        asset.write_text(json.dumps(config, indent=1))
        module = tf.__internal__.tracking.AutoTrackable()
        module.variables = list(network.variables)
        module.trainable_variables = list(network.trainable_variables)
        module.regularization_losses = []
        module.config = tf.saved_model.Asset(str(asset))
        module.__call__ = call
        tf.saved_model.save(module, str(path))


def save_shallow_encoder(
    preprocessor_dir: str | Path,
    encoder_dir: str | Path,
    layers: tuple[int, ...],
    out_dir: str | Path,
) -> None:
    """Write ``out_dir/preprocess`` and ``out_dir/encoder``: an encoder of fewer blocks.

    The new encoder keeps the transformer blocks `layers` (indices into the
    source encoder's, in order) and everything around them (embeddings,
    pooler); its block ``j`` starts as block ``layers[j]`` of the source.
    The preprocessor is copied as it is.

    Parameters
    ----------
    preprocessor_dir, encoder_dir : path
        A preprocessor and an encoder SavedModel that skbert wrote (the
        encoder carries its `BertConfig`).
    layers : tuple of int
        Distinct block indices, ascending.
    out_dir : path
        An empty directory.
    """
    from skbert.modeling.config import encoder_config

    config, pooling = encoder_config(encoder_dir)
    source = {
        bert_name(v.name): v.numpy()
        for v in tf.saved_model.load(str(encoder_dir)).variables
    }
    config = dataclasses.replace(config, num_hidden_layers=len(layers))
    network = BertNetwork(config, pooling=pooling)
    network({name: tf.zeros([1, 1], tf.int32) for name in INPUT_NAMES})  # build
    for variable in network.variables:
        variable.assign(source[block_source(bert_name(variable.name), layers)])
    out = Path(out_dir)
    shutil.copytree(preprocessor_dir, out / PREPROCESS_DIR)
    save_encoder(network, out / ENCODER_DIR)


def block_source(name: str, layers) -> str:
    """The weight a shallow encoder's weight `name` starts as (see `bert_name`).

    Block ``j`` of the shallow encoder is block ``layers[j]`` of its source;
    the weights outside the blocks keep their names.

    Examples
    --------
    >>> block_source("encoder/layer_1/output/dense/bias", (0, 2, 4))
    'encoder/layer_2/output/dense/bias'
    """
    block = re.fullmatch(r"encoder/layer_(\d+)/(.+)", name)
    if block is None:
        return name
    return f"encoder/layer_{layers[int(block[1])]}/{block[2]}"
