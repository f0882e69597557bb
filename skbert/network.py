"""An estimator's network: what it is built from, its three kinds, building one.

`build_network` turns a `skbert.config.NetworkConfig` (the plain data a
fitted estimator keeps as ``network_config_``) into one of:

- `TunedNetwork`: encoder and head trained together, token ids to logits;
- `FrozenHeadNetwork`: the process's shared frozen encoder, then a head
  trained on its stored features;
- `EncoderNetwork`: the shared frozen encoder alone (`BertVectorizer`);
- `TunedEncoderNetwork`: an encoder trained alone, token ids to its
  pooling (`BertFewShotClassifier`).

Each kind knows how it predicts and what a fit trains, so the estimators do
not ask which fields are set.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
import tf_keras

from skbert.batching import (
    feature_gather,
    predict_sorted,
    text_gather,
    text_lengths,
)
from skbert.config import NetworkConfig
from skbert.encoders import ENCODER_LAYER
from skbert.features import shared_encoder, stored_names
from skbert.model import (
    POOLINGS,
    SharedEncoderNetwork,
    build_head,
    load_encoder,
    runner,
    token_inputs,
)
from skbert.runtime import choose_backend, onnx_outputs


class Network:
    """What the kinds share: the config, the packer, the Keras model, ONNX graphs.

    Attributes
    ----------
    config : NetworkConfig
    packer : skbert.model.Packer
        Strings to the model's inputs.
    model : tf_keras.Model
        Token ids in; logits, or the encoder network's outputs. It is the
        estimator's ``model_``.
    """

    #: The head's activation and loss (`HeadOutput`), None without a head.
    head = None

    def __init__(self, config: NetworkConfig, packer, model: tf_keras.Model):
        self.config, self.packer, self.model = config, packer, model
        self._runners: dict = {}
        self._onnx = None

    @property
    def onnx(self):
        """`skbert.runtime.OnnxVariants` of the whole network, built on first use.

        With a head the graph returns ``logits``; without, the encoder output
        of the config's ``pooling``.
        """
        if self._onnx is None:
            from skbert.onnx_graph import ENCODER_OUTPUTS, network_variants

            pooling = self.config.pooling
            outputs = (POOLINGS[pooling],) if pooling else ENCODER_OUTPUTS
            self._onnx = network_variants(self, self.config, outputs)
        return self._onnx

    @property
    def predict_onnx(self):
        """The ONNX graphs that prediction runs."""
        return self.onnx

    def weights_changed(self) -> None:
        """Forget the ONNX graphs: they hold the weights as they were."""
        self._onnx = None

    def backend(self, requested: str) -> str:
        """The backend that runs predictions when `requested` is asked for."""
        return choose_backend(self, requested)

    def run(self, model: tf_keras.Model, jit_compile: bool = False):
        """`model` in inference mode as a traced function, XLA-compiled if asked."""
        key = (id(model), jit_compile)
        if key not in self._runners:
            self._runners[key] = runner(model, self.packer.max_seq_length, jit_compile)
        return self._runners[key]

    def outputs(self, segments, batch_size: int, jit_compile, backend) -> np.ndarray:
        """The network's outputs on `segments` (float32), in their order.

        `backend` is an ``inference_backend`` value (`backend` resolves it).
        """
        raise NotImplementedError

    def serve(self, ids: dict):
        """The outputs on packed `ids` in a TF graph, as prediction computes them."""
        return self.model(ids, training=False)

    def _trained_layers(self):
        """The layers a fit changes: all with weights, less a frozen encoder.

        A frozen encoder's weights are those of its SavedModel, so they are
        left out and come back from it when the network is rebuilt.
        """
        for layer in self.model.layers:
            frozen = layer.name == ENCODER_LAYER and not self.config.train_encoder
            if layer.weights and not frozen:
                yield layer

    def trained_weights(self) -> dict[str, np.ndarray]:
        """The weights a fit changed, by ``layer/index`` name."""
        return {
            f"{layer.name}/{i}": value
            for layer in self._trained_layers()
            for i, value in enumerate(layer.get_weights())
        }

    def set_trained_weights(self, weights: dict[str, np.ndarray]) -> None:
        """Put `trained_weights` back; `ValueError` names the first that misfits."""
        layers = list(self._trained_layers())
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
                    f"Saved weight {name!r} has shape {weights[name].shape}; the "
                    f"network needs {shape}."
                )
        for layer in layers:
            layer.set_weights(
                [weights[f"{layer.name}/{i}"] for i in range(len(layer.weights))]
            )


class TunedEncoderNetwork(Network):
    """An encoder trained without a head: token ids to the config's ``pooling``.

    `skbert.BertFewShotClassifier` trains it contrastively, then fits a
    scikit-learn head on its outputs.
    """

    def outputs(self, segments, batch_size, jit_compile, backend):
        backend = self.backend(backend)
        if backend != "tensorflow":
            return onnx_outputs(self.onnx, backend, segments, batch_size)
        run = self.run(self.model, jit_compile)
        gather = text_gather(segments, self.packer)
        return predict_sorted(run, gather, text_lengths(segments), batch_size)

    @property
    def trained_model(self) -> tf_keras.Model:
        """The model a fit trains: the whole network."""
        return self.model

    def training_data(self, segments, batch_size, jit_compile, backend):
        """The ``gather`` of the inputs of `trained_model` on `segments`."""
        return text_gather(segments, self.packer)


class TunedNetwork(TunedEncoderNetwork):
    """Encoder and head trained together: token ids to logits.

    Attributes
    ----------
    head : HeadOutput
        The head's activation and loss.
    head_model : tf_keras.Model
        The head alone (a part of `model`): encoder outputs in, logits out.
    """

    def __init__(self, config, packer, model, head_model, head):
        super().__init__(config, packer, model)
        self.head_model, self.head = head_model, head


class _FrozenEncoder(Network):
    """A network on the process's shared frozen encoder (`SharedEncoder`)."""

    def __init__(self, config, encoder, model):
        super().__init__(config, encoder.packer, model)
        self.encoder = encoder

    def _features(self, segments, names, batch_size, jit_compile, backend):
        return self.encoder.features(
            segments, names, batch_size, jit_compile, self.backend(backend)
        )

    @property
    def predict_onnx(self):
        """Prediction runs only the encoder as ONNX (the head reads its features)."""
        return self.encoder.onnx


class FrozenHeadNetwork(_FrozenEncoder):
    """The shared frozen encoder, then a head trained on its stored features.

    Attributes
    ----------
    head : HeadOutput
    head_model : tf_keras.Model
        The head alone: the encoder outputs it reads in, logits out.
    """

    def __init__(self, config, encoder, head_model, head):
        model = SharedEncoderNetwork(encoder.model, head_model)
        super().__init__(config, encoder, model)
        self.head_model, self.head = head_model, head

    def _head_features(self, segments, batch_size, jit_compile, backend):
        names = stored_names(self.head_model.input)
        features = self._features(segments, names, batch_size, jit_compile, backend)
        return feature_gather(features, tuple(self.head_model.input))

    def outputs(self, segments, batch_size, jit_compile, backend):
        gather = self._head_features(segments, batch_size, jit_compile, backend)
        run = self.run(self.head_model)
        lengths = text_lengths(segments)
        return predict_sorted(run, gather, lengths, batch_size, counted=False)

    @property
    def trained_model(self) -> tf_keras.Model:
        """The model a fit trains: the head alone."""
        return self.head_model

    def training_data(self, segments, batch_size, jit_compile, backend):
        """The ``gather`` of the stored features the head reads on `segments`."""
        return self._head_features(segments, batch_size, jit_compile, backend)

    def serve(self, ids):
        # The head reads features as the feature store keeps them: the
        # sequence is zero past each text's real tokens.
        features = self.encoder.model(ids, training=False)
        inputs = {name: features[name] for name in self.head_model.input}
        if "sequence_output" in inputs:
            mask = tf.cast(features["input_mask"], inputs["sequence_output"].dtype)
            inputs["sequence_output"] *= mask[:, :, None]
        return self.head_model(inputs, training=False)


class EncoderNetwork(_FrozenEncoder):
    """The shared frozen encoder alone: texts to the config's ``pooling``."""

    def __init__(self, config, encoder):
        super().__init__(config, encoder, encoder.model)

    def outputs(self, segments, batch_size, jit_compile, backend):
        name = POOLINGS[self.config.pooling]
        return self._features(segments, [name], batch_size, jit_compile, backend)[name]


def build_network(config: NetworkConfig) -> Network:
    """Build the network `config` describes, with new (untrained) head weights.

    A frozen encoder is the process's `skbert.features.shared_encoder`; a
    trained one is loaded anew.
    """
    if config.train_encoder and config.head is None:
        packer, body = load_encoder(config, trainable=True)
        inputs = token_inputs()
        model = tf_keras.Model(inputs, body(inputs)[POOLINGS[config.pooling]])
        return TunedEncoderNetwork(config, packer, model)
    if config.train_encoder:
        packer, body = load_encoder(config, trainable=True)
        head_model, head = build_head(config, body.output["pooled_output"].shape[-1])
        inputs = token_inputs()
        features = body(inputs)
        logits = head_model({name: features[name] for name in head_model.input})
        model = tf_keras.Model(inputs, logits)
        return TunedNetwork(config, packer, model, head_model, head)
    encoder = shared_encoder(config)
    if config.head is None:
        return EncoderNetwork(config, encoder)
    hidden = encoder.model.output["pooled_output"].shape[-1]
    head_model, head = build_head(config, hidden)
    return FrozenHeadNetwork(config, encoder, head_model, head)
