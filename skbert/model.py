"""The Keras model: text inputs, TF Hub preprocessor and encoder, then a head."""

from __future__ import annotations

import numpy as np
import tensorflow as tf
import tensorflow_hub as hub
import tf_keras

from skbert.encoders import (
    ENCODER_LAYER,
    load_encoder_layer,
    load_preprocessor,
    resolve_encoder,
)
from skbert.layers import MaskedPooling
from skbert.plugins import get_head
from skbert.specs import EncoderOutputs, EncoderSpec, HeadOutput, HeadSpec

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
    head: HeadSpec | None,
    *,
    n_segments: int,
    max_seq_length: int,
    train_encoder: bool,
    task: str | None = None,
    n_outputs: int | None = None,
    head_params: dict | None = None,
    pooling: str = "pooled",
) -> tuple[tf_keras.Model, HeadOutput | None]:
    """Build strings → logits (or → embeddings) as one tf_keras model.

    One string input per segment; each is tokenized by the preprocessor's
    ``tokenize``, the segments are packed by its ``bert_pack_inputs`` to
    `max_seq_length` and trimmed to the batch's longest, and the encoder
    (``hub.KerasLayer``, trainable when `train_encoder`) runs on them. With a
    `head`, the head maps the encoder outputs to logits for `task`; without
    one, the model outputs embeddings pooled as `pooling` says
    (``"pooled"``: the encoder's ``pooled_output``; ``"mean"``, ``"max"``,
    ``"cls"``: over ``sequence_output``).

    Returns
    -------
    model : tf_keras.Model
        Maps ``n_segments`` string tensors ``[batch]`` to ``[batch, units]``.
    head : HeadOutput or None
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
    raw = encoder_layer(packed)
    outputs = EncoderOutputs(
        raw["pooled_output"], raw["sequence_output"], packed["input_mask"]
    )
    head_output = None
    if head is not None:
        head_output = head.build(outputs, task, n_outputs, **(head_params or {}))
        result = head_output.logits
    elif pooling == "pooled":
        result = outputs.pooled_output
    else:
        result = MaskedPooling(pooling, name=f"{pooling}_pooling")(
            [outputs.sequence_output, outputs.input_mask]
        )
    model = tf_keras.Model(inputs, result)
    # The restored functions use the preprocessor's lookup table: keep it alive.
    model.preprocessor = preprocessor
    return model, head_output


def build_from_config(config: dict) -> tuple[tf_keras.Model, HeadOutput | None]:
    """Build the model that a network config describes (see `build_model`)."""
    encoder = resolve_encoder(config["encoder"])
    if config["max_seq_length"] > encoder.max_seq_length:
        raise ValueError(
            f"max_seq_length={config['max_seq_length']} is longer than encoder "
            f"{encoder.name!r} allows ({encoder.max_seq_length}); lower it."
        )
    head = config.get("head")
    return build_model(
        encoder,
        get_head(head) if head else None,
        n_segments=config["n_segments"],
        max_seq_length=config["max_seq_length"],
        train_encoder=config["train_encoder"],
        task=config.get("task"),
        n_outputs=config.get("n_outputs"),
        head_params=config.get("head_params"),
        pooling=config.get("pooling", "pooled"),
    )


def _trained_layers(model: tf_keras.Model, config: dict):
    """The layers a fit changes: all with weights, less a frozen encoder.

    A frozen encoder's weights are those of its SavedModel, so they are left
    out and come back from it when the model is rebuilt.
    """
    for layer in model.layers:
        frozen = layer.name == ENCODER_LAYER and not config["train_encoder"]
        if layer.weights and not frozen:
            yield layer


def trained_weights(model: tf_keras.Model, config: dict) -> dict[str, np.ndarray]:
    """The weights a fit changed, by ``layer/index`` name (see `_trained_layers`)."""
    return {
        f"{layer.name}/{i}": value
        for layer in _trained_layers(model, config)
        for i, value in enumerate(layer.get_weights())
    }


def set_trained_weights(
    model: tf_keras.Model, config: dict, weights: dict[str, np.ndarray]
) -> None:
    """Put `trained_weights` back; `ValueError` names the first that does not fit."""
    layers = list(_trained_layers(model, config))
    shapes = {
        f"{layer.name}/{i}": tuple(variable.shape)
        for layer in layers
        for i, variable in enumerate(layer.weights)
    }
    if set(shapes) != set(weights):
        missing = sorted(set(shapes) - set(weights))
        extra = sorted(set(weights) - set(shapes))
        raise ValueError(
            "The saved weights do not match the network: "
            f"missing {missing[:3]}, unexpected {extra[:3]}."
        )
    for name, shape in shapes.items():
        if weights[name].shape != shape:
            raise ValueError(
                f"Saved weight {name!r} has shape {weights[name].shape}; the network "
                f"needs {shape}."
            )
    for layer in layers:
        layer.set_weights(
            [weights[f"{layer.name}/{i}"] for i in range(len(layer.weights))]
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
