"""A BERT encoder written in tf_keras.

Embeddings (word, absolute position, token type), post-LayerNorm transformer
blocks with GELU, and a tanh pooler over the first token. Inputs and outputs
follow the TF Hub BERT contract. Layer names follow the Hugging Face layout
(``embeddings``, ``encoder/layer_0/attention/...``, ``pooler``) so that
checkpoint weights map onto them by name.
"""

from __future__ import annotations

import dataclasses
import math

import tensorflow as tf
import tf_keras

from skbert.modeling.config import BertConfig


def _init(config: BertConfig):
    return tf_keras.initializers.TruncatedNormal(stddev=config.initializer_range)


def _dense(units: int, config: BertConfig, name: str, activation=None):
    return tf_keras.layers.Dense(
        units, activation=activation, kernel_initializer=_init(config), name=name
    )


def _layer_norm(config: BertConfig, name: str):
    return tf_keras.layers.LayerNormalization(epsilon=config.layer_norm_eps, name=name)


class _ConfiguredLayer(tf_keras.layers.Layer):
    """A layer built from a `BertConfig`, which it reports as its config."""

    def __init__(self, config: BertConfig, **kwargs):
        super().__init__(**kwargs)
        self.config = config

    def get_config(self):
        return {**super().get_config(), **dataclasses.asdict(self.config)}


class BertEmbeddings(_ConfiguredLayer):
    """Sum of word, position and token-type embeddings, normalised."""

    def __init__(self, config: BertConfig, **kwargs):
        super().__init__(config, **kwargs)
        self.layer_norm = _layer_norm(config, "LayerNorm")
        self.dropout = tf_keras.layers.Dropout(config.hidden_dropout_prob, seed=1)

    def build(self, input_shape):
        c = self.config
        with tf.name_scope("word_embeddings"):
            self.word_embeddings = self.add_weight(
                "embeddings", shape=(c.vocab_size, c.hidden_size), initializer=_init(c)
            )
        with tf.name_scope("position_embeddings"):
            self.position_embeddings = self.add_weight(
                "embeddings",
                shape=(c.max_position_embeddings, c.hidden_size),
                initializer=_init(c),
            )
        with tf.name_scope("token_type_embeddings"):
            self.token_type_embeddings = self.add_weight(
                "embeddings",
                shape=(c.type_vocab_size, c.hidden_size),
                initializer=_init(c),
            )
        super().build(input_shape)

    def call(self, word_ids, type_ids, training=None):
        seq_length = tf.shape(word_ids)[1]
        x = tf.gather(self.word_embeddings, word_ids)
        x += tf.gather(self.token_type_embeddings, type_ids)
        x += self.position_embeddings[tf.newaxis, :seq_length]
        return self.dropout(self.layer_norm(x), training=training)


class BertLayer(_ConfiguredLayer):
    """One post-LayerNorm transformer block: self-attention, then a GELU MLP.

    Dropout ops carry fixed seeds (distinct per block `index`), so that a
    SavedModel of the network trains repeatably once global seeds are set.
    """

    def __init__(self, config: BertConfig, index: int = 0, **kwargs):
        super().__init__(config, **kwargs)
        c = config
        self.head_size = c.hidden_size // c.num_attention_heads
        self.query = _dense(c.hidden_size, c, "attention/self/query")
        self.key = _dense(c.hidden_size, c, "attention/self/key")
        self.value = _dense(c.hidden_size, c, "attention/self/value")
        self.attention_output = _dense(c.hidden_size, c, "attention/output/dense")
        self.attention_norm = _layer_norm(c, "attention/output/LayerNorm")
        self.intermediate = _dense(c.intermediate_size, c, "intermediate/dense")
        self.output_dense = _dense(c.hidden_size, c, "output/dense")
        self.output_norm = _layer_norm(c, "output/LayerNorm")
        self.attention_dropout = tf_keras.layers.Dropout(
            c.attention_probs_dropout_prob, seed=2 * index + 2
        )
        self.hidden_dropout = tf_keras.layers.Dropout(
            c.hidden_dropout_prob, seed=2 * index + 3
        )

    def _split_heads(self, x):
        batch, length = tf.shape(x)[0], tf.shape(x)[1]
        x = tf.reshape(
            x, [batch, length, self.config.num_attention_heads, self.head_size]
        )
        return tf.transpose(x, [0, 2, 1, 3])

    def call(self, x, attention_bias, training=None):
        q = self._split_heads(self.query(x))
        k = self._split_heads(self.key(x))
        v = self._split_heads(self.value(x))
        scores = tf.matmul(q, k, transpose_b=True) / math.sqrt(self.head_size)
        probs = tf.nn.softmax(scores + attention_bias, axis=-1)
        probs = self.attention_dropout(probs, training=training)
        context = tf.transpose(tf.matmul(probs, v), [0, 2, 1, 3])
        context = tf.reshape(
            context, [tf.shape(x)[0], tf.shape(x)[1], self.config.hidden_size]
        )
        attended = self.attention_output(context)
        x = self.attention_norm(x + self.hidden_dropout(attended, training=training))
        hidden = tf.nn.gelu(self.intermediate(x), approximate=False)
        out = self.hidden_dropout(self.output_dense(hidden), training=training)
        return self.output_norm(x + out)


#: How ``pooled_output`` is made: BERT's pooler (tanh dense on the first token),
#: or the mean of ``sequence_output`` over the unmasked tokens.
POOLINGS = ("pooler", "mean")


class BertNetwork(tf_keras.Model):
    """BERT with the TF Hub encoder signature.

    With ``pooling="mean"`` the pooler is not used (nor built), and
    ``pooled_output`` is the masked mean of ``sequence_output``, as in
    sentence-embedding models.

    Called on a dict of ``input_word_ids``, ``input_mask`` and
    ``input_type_ids`` (int32, shape ``[batch, seq_length]``), it returns
    ``sequence_output`` ``[batch, seq_length, hidden]``, ``pooled_output``
    ``[batch, hidden]``, ``encoder_outputs`` (one sequence output per layer)
    and ``default`` (the pooled output).

    Examples
    --------
    >>> import tensorflow as tf
    >>> net = BertNetwork(BertConfig(vocab_size=30, hidden_size=8,
    ...     num_hidden_layers=1, num_attention_heads=2, intermediate_size=16))
    >>> ids = tf.constant([[2, 5, 3, 0]])
    >>> out = net({"input_word_ids": ids, "input_mask": tf.sign(ids),
    ...            "input_type_ids": tf.zeros_like(ids)})
    >>> out["sequence_output"].shape, out["pooled_output"].shape
    (TensorShape([1, 4, 8]), TensorShape([1, 8]))
    """

    def __init__(self, config: BertConfig, pooling: str = "pooler", **kwargs):
        super().__init__(**kwargs)
        if pooling not in POOLINGS:
            raise ValueError(f"pooling={pooling!r}; expected one of {POOLINGS}.")
        self.config = config
        self.pooling = pooling
        self.embeddings = BertEmbeddings(config, name="embeddings")
        self.blocks = [
            BertLayer(config, index=i, name=f"encoder/layer_{i}")
            for i in range(config.num_hidden_layers)
        ]
        self.pooler = _dense(config.hidden_size, config, "pooler/dense", "tanh")

    def call(self, inputs, training=None):
        word_ids = tf.cast(inputs["input_word_ids"], tf.int32)
        mask = tf.cast(inputs["input_mask"], tf.float32)
        type_ids = tf.cast(inputs["input_type_ids"], tf.int32)
        attention_bias = (1.0 - mask[:, tf.newaxis, tf.newaxis, :]) * -1e9
        x = self.embeddings(word_ids, type_ids, training=training)
        layer_outputs = []
        for block in self.blocks:
            x = block(x, attention_bias, training=training)
            layer_outputs.append(x)
        if self.pooling == "mean":
            weights = mask[:, :, tf.newaxis]
            pooled = tf.reduce_sum(x * weights, 1) / tf.reduce_sum(weights, 1)
        else:
            pooled = self.pooler(x[:, 0])
        return {
            "sequence_output": x,
            "pooled_output": pooled,
            "encoder_outputs": layer_outputs,
            "default": pooled,
        }

    def get_config(self):
        return {**dataclasses.asdict(self.config), "pooling": self.pooling}
