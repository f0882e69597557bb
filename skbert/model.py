"""The network: packing in tf.data, the TF Hub encoder, a head; and its data.

Texts never enter the Keras model. A `Packer` (the preprocessor's
``tokenize`` and ``bert_pack_inputs``) turns each batch of strings into
``input_word_ids``/``input_mask``/``input_type_ids`` inside the tf.data
pipeline, padded to the batch's longest sequence (traced functions relax
their shapes, so lengths cost no retracing); XLA-compiled runs pad further to
a multiple of `LENGTH_STEP`, so few shapes are compiled. Batches are sorted
by length for prediction and bucketed by length, with shuffling, for
training. The model maps those ids through the encoder network (the
``hub.KerasLayer`` and the masked poolings of its output) and the head
model to logits.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf
import tf_keras

from skbert.encoders import (
    ENCODER_LAYER,
    load_encoder_layer,
    load_preprocessor,
    resolve_encoder,
)
from skbert.layers import MaskedPooling
from skbert.plugins import get_head
from skbert.specs import EncoderOutputs, HeadOutput

SEGMENT_NAMES = ("text_a", "text_b")
INPUT_NAMES = ("input_word_ids", "input_mask", "input_type_ids")
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
#: Batches of one training window are sorted by length, then shuffled.
BUCKET_WINDOW = 50
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


@dataclasses.dataclass
class Network:
    """A built network and what feeding it needs.

    Attributes
    ----------
    model : tf_keras.Model
        Token ids in; logits (with a head) or the encoder network's outputs.
    packer : Packer
        Strings to the model's inputs.
    head : HeadOutput or None
        The head's activation and loss.
    head_model : tf_keras.Model or None
        The head alone: the encoder outputs it reads (``features``) in, logits out.
    features : tuple of str
        The encoder outputs ``head_model`` reads.
    encoder : skbert.features.SharedEncoder or None
        The process's shared encoder, when it is frozen.
    config : dict
        What the network was built from (`build_from_config`).
    """

    model: tf_keras.Model
    packer: Packer
    head: HeadOutput | None = None
    head_model: tf_keras.Model | None = None
    features: tuple[str, ...] = ()
    encoder: object = None
    config: dict = dataclasses.field(default_factory=dict)
    _runners: dict = dataclasses.field(default_factory=dict, repr=False)
    _onnx: object = dataclasses.field(default=None, repr=False)

    @property
    def onnx(self):
        """`skbert.runtime.OnnxVariants` of the whole network, built on first use.

        With a head the graph returns ``logits``; without, the encoder output
        of the config's ``pooling`` (a vectorizer's), or all of them.
        """
        if self._onnx is None:
            from skbert.onnx_graph import ENCODER_OUTPUTS, network_variants

            outputs = ENCODER_OUTPUTS
            if self.head is None and "pooling" in self.config:
                outputs = (POOLINGS[self.config["pooling"]],)
            self._onnx = network_variants(self, self.config, outputs)
        return self._onnx

    @property
    def predict_onnx(self):
        """The ONNX graphs prediction runs: the encoder's alone when it is frozen."""
        return self.onnx if self.encoder is None else self.encoder.onnx

    def run(self, model: tf_keras.Model, jit_compile: bool = False):
        """`model` in inference mode as a traced function, XLA-compiled if asked."""
        key = (id(model), jit_compile)
        if key not in self._runners:
            self._runners[key] = runner(model, self.packer.max_seq_length, jit_compile)
        return self._runners[key]


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


def build_head(config: dict, hidden: int) -> tuple[tf_keras.Model, HeadOutput]:
    """The head of `config` alone: the encoder outputs it reads in, logits out."""
    inputs = EncoderOutputs(
        tf_keras.Input(shape=(hidden,), name="pooled_output"),
        tf_keras.Input(shape=(None, hidden), name="sequence_output"),
        tf_keras.Input(shape=(None,), dtype=tf.int32, name="input_mask"),
    )
    head = get_head(config["head"]).build(
        inputs, config["task"], config["n_outputs"], **config.get("head_params", {})
    )
    used = {
        name: getattr(inputs, name)
        for name in HEAD_FEATURES
        if getattr(inputs, name)._keras_history.layer._outbound_nodes
    }
    return tf_keras.Model(used, head.logits, name=HEAD_LAYER), head


def load_encoder(config: dict, trainable: bool) -> tuple[Packer, tf_keras.Model]:
    """Load `config`'s preprocessor and encoder: its packer and `encoder_network`."""
    spec = resolve_encoder(config["encoder"])
    if config["max_seq_length"] > spec.max_seq_length:
        raise ValueError(
            f"max_seq_length={config['max_seq_length']} is longer than encoder "
            f"{spec.name!r} allows ({spec.max_seq_length}); lower it."
        )
    preprocessor_handle, encoder_handle = spec.handles()
    preprocessor = load_preprocessor(preprocessor_handle)
    layer = load_encoder_layer(encoder_handle, trainable=trainable)
    packer = Packer(preprocessor, config["n_segments"], config["max_seq_length"])
    return packer, encoder_network(layer)


def build_from_config(config: dict) -> Network:
    """Build the network a config describes.

    `config` has ``encoder``, ``n_segments``, ``max_seq_length``,
    ``train_encoder``, and for a head ``head``, ``task``, ``n_outputs``,
    ``head_params``. A frozen encoder is the
    process's `skbert.features.shared_encoder`; a trained one is loaded anew.
    """
    encoder = None
    if config["train_encoder"]:
        packer, body = load_encoder(config, trainable=True)
    else:
        from skbert.features import shared_encoder

        encoder = shared_encoder(config)
        packer, body = encoder.packer, encoder.model
    if not config.get("head"):
        return Network(body, packer, encoder=encoder, config=config)
    head_model, head = build_head(config, body.output["pooled_output"].shape[-1])
    if encoder is None:
        inputs = token_inputs()
        features = body(inputs)
        logits = head_model({name: features[name] for name in head_model.input})
        model = tf_keras.Model(inputs, logits)
    else:
        model = SharedEncoderNetwork(body, head_model)
    return Network(
        model, packer, head, head_model, tuple(head_model.input), encoder, config
    )


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


# --- data -------------------------------------------------------------------------


def text_lengths(segments) -> np.ndarray:
    """Characters per example (segments summed): the sort key of batching."""
    return sum(np.fromiter(map(len, s), dtype=np.int64, count=len(s)) for s in segments)


def text_gather(segments, packer: Packer):
    """``gather(index)``: the packed inputs of the examples at `index`.

    It runs eagerly (for prediction) and inside tf.data (for training).
    """
    strings = {
        name: tf.constant(list(s), dtype=tf.string)
        for name, s in zip(SEGMENT_NAMES, segments)
    }

    def gather(index):
        return packer({name: tf.gather(s, index) for name, s in strings.items()})

    return gather


def bucketed_order(lengths: np.ndarray, batch_size: int, rng) -> np.ndarray:
    """One epoch's order: windows of batches sorted by length, batches shuffled.

    A random permutation is cut into windows of ``BUCKET_WINDOW`` batches;
    each window is sorted by length and cut into batches, so a batch holds
    similar lengths; the full batches are then shuffled and a short one, if
    any, comes last (so that batching the order again gives these batches).
    """
    permutation = rng.permutation(len(lengths))
    window = batch_size * BUCKET_WINDOW
    batches = []
    for start in range(0, len(permutation), window):
        chunk = permutation[start : start + window]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    short = [b for b in batches if len(b) < batch_size]
    full = [b for b in batches if len(b) == batch_size]
    order = [full[i] for i in rng.permutation(len(full))] + short
    return np.concatenate(order)


def batches(gather, orders, batch_size: int, *arrays) -> tf.data.Dataset:
    """Batches of ``(gather(index), *arrays[index])``, epoch after epoch.

    `orders` is ``[epochs, n]`` (one order of example indices per epoch) or
    ``[n]`` (one pass); each epoch's order is batched by `batch_size`.
    """
    orders = np.atleast_2d(np.asarray(orders, dtype=np.int64))
    extra = [tf.constant(a) for a in arrays]

    def load(index):
        x = gather(index)
        return (x, *[tf.gather(a, index) for a in extra]) if extra else x

    data = tf.data.Dataset.from_tensor_slices(orders).flat_map(
        lambda order: tf.data.Dataset.from_tensor_slices(order).batch(batch_size)
    )
    return data.map(load, num_parallel_calls=tf.data.AUTOTUNE).prefetch(
        tf.data.AUTOTUNE
    )


def sorted_batches(lengths, batch_size: int):
    """Index arrays of batches in order of length (for prediction)."""
    order = np.argsort(lengths, kind="stable")
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def predict_sorted(run, gather, lengths, batch_size: int) -> np.ndarray:
    """`run` on all examples, batched in order of length; rows in input order.

    Traced functions on each batch, no tf.data pipeline: building one costs
    more than a short prediction.
    """
    index = sorted_batches(lengths, batch_size)
    outputs = np.concatenate([run(gather(i)).numpy() for i in index])
    result = np.empty_like(outputs)
    result[np.concatenate(index)] = outputs
    return result
