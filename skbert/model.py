"""The network's Keras parts: packing in tf.data, the TF Hub encoder, a head.

Texts never enter the Keras model. A `Packer` (the preprocessor's
``tokenize`` and ``bert_pack_inputs``) turns each batch of strings into
``input_word_ids``/``input_mask``/``input_type_ids`` inside the tf.data
pipeline, padded to the batch's longest sequence (traced functions relax
their shapes, so lengths cost no retracing); XLA-compiled runs pad further to
a multiple of `LENGTH_STEP`, so few shapes are compiled. The encoder
network is the ``hub.KerasLayer`` and the masked poolings of its output;
the head model maps the encoder outputs it reads to logits.
`skbert.network` puts these together; `skbert.batching` feeds them.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import tensorflow as tf
import tf_keras

from skbert.encoders import (
    ENCODER_LAYER,
    load_encoder_layer,
    load_preprocessor,
    resolve_encoder,
)
from skbert.inputs import INPUT_NAMES, SEGMENT_NAMES
from skbert.layers import MaskedPooling, WindowPooling
from skbert.plugins import get_head
from skbert.specs import EncoderOutputs, HeadOutput
from skbert.windows import WINDOW_OWNER

if TYPE_CHECKING:
    from skbert.config import NetworkConfig

#: Encoder outputs a head can read, as `EncoderOutputs` names them.
HEAD_FEATURES = tuple(f.name for f in dataclasses.fields(EncoderOutputs))
#: ``BertVectorizer`` poolings and the encoder network outputs they are.
POOLINGS = {
    "pooled": "pooled_output",
    "mean": "mean_pooling",
    "max": "max_pooling",
    "cls": "cls_pooling",
}
#: XLA-compiled batches are padded to multiples of this (or ``max_seq_length``).
LENGTH_STEP = 16
HEAD_LAYER = "head"


class Packer:
    """Batches of strings to BERT inputs: tokenize, pack, cut to the longest.

    Parameters
    ----------
    preprocessor : restored TF Hub preprocessor
        Has ``tokenize`` and ``bert_pack_inputs``.
    n_segments : int
        1 for single texts, 2 for pairs (``text_a``, ``text_b``).
    max_seq_length : int
        Longest packed sequence; longer inputs are trimmed (pairs:
        round-robin, the longer segment loses tokens first).
    """

    def __init__(self, preprocessor, n_segments: int, max_seq_length: int):
        self.preprocessor = preprocessor
        self.n_segments = n_segments
        self.max_seq_length = max_seq_length
        spec = {
            name: tf.TensorSpec([None], tf.string)
            for name in SEGMENT_NAMES[:n_segments]
        }
        self.pack = tf.function(self._pack, input_signature=[spec])

    def __call__(self, texts: dict) -> dict:
        """``{"text_a": strings[, "text_b": strings]}`` to the model's inputs."""
        return self.pack(texts)

    def _pack(self, texts: dict) -> dict:
        tokens = [
            self.preprocessor.tokenize(texts[name])
            for name in SEGMENT_NAMES[: self.n_segments]
        ]
        packed = self.preprocessor.bert_pack_inputs(
            tokens, seq_length=self.max_seq_length
        )
        mask = tf.cast(packed["input_mask"], tf.int32)
        longest = tf.reduce_max(tf.reduce_sum(mask, axis=1))
        return {n: tf.cast(packed[n][:, :longest], tf.int32) for n in INPUT_NAMES}


def runner(model: tf_keras.Model, max_seq_length: int, jit_compile: bool = False):
    """``model(batch, training=False)`` as one `tf.function` for all batch shapes.

    XLA compiles every shape anew, so with `jit_compile` each batch is first
    padded to a multiple of `LENGTH_STEP` tokens (at most `max_seq_length`).
    """
    call = tf.function(
        lambda batch: model(batch, training=False),
        jit_compile=jit_compile,
        reduce_retracing=True,
    )
    if not jit_compile:
        return call

    def padded_call(batch):
        length = batch["input_word_ids"].shape[1]
        target = min(
            -(-length // LENGTH_STEP) * LENGTH_STEP, max(length, max_seq_length)
        )
        pad = [[0, 0], [0, target - length]]
        return call({name: tf.pad(ids, pad) for name, ids in batch.items()})

    return padded_call


def token_inputs() -> dict:
    """Keras inputs for packed batches: one ``[batch, length]`` int32 per name."""
    return {
        name: tf_keras.Input(shape=(None,), dtype=tf.int32, name=name)
        for name in INPUT_NAMES
    }


def encoder_network(encoder_layer) -> tf_keras.Model:
    """Token ids → the encoder's outputs and masked poolings of them, by name.

    Outputs: ``pooled_output``, ``sequence_output``, ``input_mask`` (what a
    head reads) and ``mean_pooling``, ``max_pooling``, ``cls_pooling``.
    """
    inputs = token_inputs()
    raw = encoder_layer(inputs)
    sequence, mask = raw["sequence_output"], inputs["input_mask"]
    outputs = {
        "pooled_output": raw["pooled_output"],
        "sequence_output": sequence,
        "input_mask": tf_keras.layers.Identity(name="mask")(mask),
    }
    for mode in MaskedPooling.MODES:
        name = f"{mode}_pooling"
        outputs[name] = MaskedPooling(mode, name=name)([sequence, mask])
    return tf_keras.Model(inputs, outputs, name=ENCODER_LAYER)


def build_head(config: NetworkConfig, hidden: int) -> tuple[tf_keras.Model, HeadOutput]:
    """The head of `config` alone: the encoder outputs it reads in, logits out."""
    inputs = EncoderOutputs(
        tf_keras.Input(shape=(hidden,), name="pooled_output"),
        tf_keras.Input(shape=(None, hidden), name="sequence_output"),
        tf_keras.Input(shape=(None,), dtype=tf.int32, name="input_mask"),
    )
    head = get_head(config.head).build(
        inputs, config.task, config.n_outputs, **config.head_params
    )
    used = {
        name: getattr(inputs, name)
        for name in HEAD_FEATURES
        if getattr(inputs, name)._keras_history.layer._outbound_nodes
    }
    return tf_keras.Model(used, head.logits, name=HEAD_LAYER), head


def load_encoder(
    config: NetworkConfig, trainable: bool
) -> tuple[Packer, tf_keras.Model]:
    """Load `config`'s preprocessor and encoder: its packer and `encoder_network`."""
    spec = resolve_encoder(config.encoder)
    if config.max_seq_length > spec.max_seq_length:
        raise ValueError(
            f"max_seq_length={config.max_seq_length} is longer than encoder "
            f"{spec.name!r} allows ({spec.max_seq_length}); lower it."
        )
    preprocessor_handle, encoder_handle = spec.materialize()
    preprocessor = load_preprocessor(preprocessor_handle)
    layer = load_encoder_layer(encoder_handle, trainable=trainable)
    packer = Packer(preprocessor, config.n_segments, config.max_seq_length)
    return packer, encoder_network(layer)


class SharedEncoderNetwork(tf_keras.Model):
    """The process's shared frozen encoder network, then a head: ids in, logits out.

    Not a functional model: calling the shared encoder on new Keras inputs
    would leave a node on it pointing to the new head, so no head built on a
    shared encoder could ever be freed.
    """

    def __init__(self, encoder: tf_keras.Model, head: tf_keras.Model):
        super().__init__(name="network")
        self.encoder, self.head = encoder, head

    def call(self, inputs, training=False):
        features = self.encoder(inputs, training=False)
        return self.head({name: features[name] for name in self.head.input}, training)


def window_model(model: tf_keras.Model, mode: str) -> tf_keras.Model:
    """`model` on each window of a batch, its outputs pooled per text.

    Inputs are `model`'s, one row per window, and `WINDOW_OWNER`; the output
    has one row per text (`WindowPooling` in `mode`). It shares `model`'s
    weights, so training it trains `model`.
    """
    inputs = {
        name: tf_keras.Input(shape=tensor.shape[1:], dtype=tensor.dtype, name=name)
        for name, tensor in model.input.items()
    }
    owner = tf_keras.Input(shape=(), dtype=tf.int32, name=WINDOW_OWNER)
    pooled = WindowPooling(mode, name="window_pooling")([model(inputs), owner])
    return tf_keras.Model({**inputs, WINDOW_OWNER: owner}, pooled)
