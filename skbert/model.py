"""The Keras model: text inputs, TF Hub preprocessor and encoder, then a head."""

from __future__ import annotations

import tensorflow as tf
import tensorflow_hub as hub
import tf_keras

from skbert.encoders import load_encoder_layer, load_preprocessor, resolve_encoder
from skbert.plugins import get_head
from skbert.specs import EncoderSpec, HeadOutput, HeadSpec

SEGMENT_NAMES = ("text_a", "text_b")


class TrimPadding(tf_keras.layers.Layer):
    """Cut packed inputs to the longest sequence in the batch.

    The preprocessor pads every batch to ``max_seq_length``; the encoder
    masks padding, so dropping the columns that are padding in every row
    changes no output and saves their compute.
    """

    def call(self, inputs):
        mask = tf.cast(inputs["input_mask"], tf.int32)
        length = tf.reduce_max(tf.reduce_sum(mask, axis=1))
        return {name: value[:, :length] for name, value in inputs.items()}


def build_model(
    encoder: EncoderSpec,
    head: HeadSpec,
    *,
    n_segments: int,
    n_outputs: int,
    max_seq_length: int,
    train_encoder: bool,
    head_params: dict,
) -> tuple[tf_keras.Model, HeadOutput]:
    """Build strings → logits as one tf_keras model.

    One string input per segment; each is tokenized by the preprocessor's
    ``tokenize``, the segments are packed by its ``bert_pack_inputs`` to
    `max_seq_length` and trimmed to the batch's longest, the encoder
    (``hub.KerasLayer``, trainable when `train_encoder`) runs on them, and
    `head` maps its outputs to logits.

    Returns
    -------
    model : tf_keras.Model
        Maps ``n_segments`` string tensors ``[batch]`` to logits.
    head : HeadOutput
        The head's activation and loss.
    """
    preprocessor_handle, encoder_handle = encoder.handles()
    preprocessor = load_preprocessor(preprocessor_handle)
    encoder_layer = load_encoder_layer(encoder_handle, trainable=train_encoder)
    inputs = [
        tf_keras.Input(shape=(), dtype=tf.string, name=SEGMENT_NAMES[i])
        for i in range(n_segments)
    ]
    tokenize = hub.KerasLayer(preprocessor.tokenize, name="tokenize")
    pack = hub.KerasLayer(
        preprocessor.bert_pack_inputs,
        arguments={"seq_length": max_seq_length},
        name="pack_inputs",
    )
    packed = TrimPadding(name="trim_padding")(pack([tokenize(x) for x in inputs]))
    outputs = encoder_layer(packed)
    head_output = head.build(
        outputs["pooled_output"], outputs["sequence_output"], n_outputs, **head_params
    )
    model = tf_keras.Model(inputs, head_output.logits)
    # The restored functions use the preprocessor's lookup table: keep it alive.
    model.preprocessor = preprocessor
    return model, head_output


def build_from_config(config: dict) -> tuple[tf_keras.Model, HeadOutput]:
    """Build the model that a network config describes (see `build_model`)."""
    encoder = resolve_encoder(config["encoder"])
    if config["max_seq_length"] > encoder.max_seq_length:
        raise ValueError(
            f"max_seq_length={config['max_seq_length']} is longer than encoder "
            f"{encoder.name!r} allows ({encoder.max_seq_length}); lower it."
        )
    return build_model(
        encoder,
        get_head(config["head"]),
        n_segments=config["n_segments"],
        n_outputs=config["n_outputs"],
        max_seq_length=config["max_seq_length"],
        train_encoder=config["train_encoder"],
        head_params=config["head_params"],
    )


def text_dataset(
    segments, *extra, batch_size: int, shuffle_seed: int | None = None
) -> tf.data.Dataset:
    """Batch the segments with `extra` arrays (e.g. targets and weights).

    In order, or reshuffled every epoch when `shuffle_seed` is given.
    """
    x = {
        name: tf.constant(list(s), dtype=tf.string)
        for name, s in zip(SEGMENT_NAMES, segments)
    }
    data = tf.data.Dataset.from_tensor_slices((x, *extra) if extra else x)
    if shuffle_seed is not None:
        data = data.shuffle(len(segments[0]), seed=shuffle_seed)
    return data.batch(batch_size).prefetch(tf.data.AUTOTUNE)
