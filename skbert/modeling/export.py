"""Write a BERT network and its vocabulary as a TF Hub-format pair of SavedModels."""

from __future__ import annotations

import shutil
from pathlib import Path

import tensorflow as tf
import tf_keras

from skbert.modeling.bert import BertNetwork
from skbert.modeling.preprocess import BertPreprocessor, save_preprocessor
from skbert.specs import ENCODER_DIR, PREPROCESS_DIR

INPUT_NAMES = ("input_word_ids", "input_mask", "input_type_ids")


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
    # A functional wrapper saves the call for any batch size and sequence length.
    inputs = {
        name: tf_keras.Input(shape=(None,), dtype=tf.int32, name=name)
        for name in INPUT_NAMES
    }
    hub_model = tf_keras.Model(inputs, network(inputs))
    hub_model.save(out / ENCODER_DIR, include_optimizer=False, save_format="tf")
