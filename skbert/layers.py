"""Keras building blocks for heads: masked pooling and each task's output layer.

Heads, built-in or from plugins, end with `task_output`, so that the same
body (an MLP, a pooling over tokens) serves every task with the right
units, activation and loss.
"""

from __future__ import annotations

import tensorflow as tf
import tf_keras

from skbert.specs import HeadOutput
from skbert.tasks import get_task


def task_output(
    features, task: str, n_outputs: int, *, dropout: float = 0.0, name: str = "output"
) -> HeadOutput:
    """Dropout, then the output layer and loss that `task` calls for.

    Units, activation and loss are the task's, as `skbert.tasks` tabulates them.

    Parameters
    ----------
    features : tensor
        ``[batch, width]``.
    task : {"binary", "multiclass", "multilabel", "regression"}
    n_outputs : int
        Classes, labels or regression targets.
    dropout : float, default=0.0
        Rate of a Dropout layer before the output layer (none at 0).
    name : str, default="output"
        Name of the output Dense layer.

    Returns
    -------
    HeadOutput

    Examples
    --------
    >>> x = tf_keras.Input(shape=(8,))
    >>> out = task_output(x, "multilabel", 3, dropout=0.1)
    >>> out.logits.shape, out.activation
    (TensorShape([None, 3]), 'sigmoid')
    """
    spec = get_task(task)
    if dropout:
        features = tf_keras.layers.Dropout(dropout, name=f"{name}_dropout")(features)
    logits = tf_keras.layers.Dense(spec.units(n_outputs), name=name)(features)
    return HeadOutput(logits, spec.activation, spec.loss())


class MaskedPooling(tf_keras.layers.Layer):
    """Pool ``sequence_output`` over real tokens: ``"mean"``, ``"max"`` or ``"cls"``.

    Called on ``[sequence_output, input_mask]``; padding never counts.

    Examples
    --------
    >>> sequence = tf.constant([[[1.0], [3.0], [100.0]]])
    >>> mask = tf.constant([[1, 1, 0]])
    >>> float(MaskedPooling("mean")([sequence, mask])[0, 0])
    2.0
    >>> float(MaskedPooling("max")([sequence, mask])[0, 0])
    3.0
    """

    MODES = ("mean", "max", "cls")

    def __init__(self, mode: str = "mean", **kwargs):
        super().__init__(**kwargs)
        if mode not in self.MODES:
            raise ValueError(f"pooling={mode!r} is not one of {', '.join(self.MODES)}.")
        self.mode = mode

    def call(self, inputs):
        sequence, mask = inputs
        if self.mode == "cls":
            return sequence[:, 0]
        mask = tf.cast(mask, sequence.dtype)[:, :, None]
        if self.mode == "max":
            return tf.reduce_max(sequence + (mask - 1.0) * 1e9, axis=1)
        total = tf.reduce_sum(sequence * mask, axis=1)
        return total / tf.maximum(tf.reduce_sum(mask, axis=1), 1.0)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


class AttentionPooling(tf_keras.layers.Layer):
    """Pool ``sequence_output`` by a learned softmax attention over real tokens.

    A Dense(1) scores each token; padding gets no weight.

    Examples
    --------
    >>> sequence = tf.ones([2, 4, 8])
    >>> mask = tf.constant([[1, 1, 0, 0], [1, 1, 1, 1]])
    >>> AttentionPooling()([sequence, mask]).shape
    TensorShape([2, 8])
    """

    def build(self, input_shape):
        self.score = tf_keras.layers.Dense(1, name="score")
        self.score.build(input_shape[0])
        super().build(input_shape)

    def call(self, inputs):
        sequence, mask = inputs
        scores = self.score(sequence)[:, :, 0]
        scores += (1.0 - tf.cast(mask, scores.dtype)) * -1e9
        weights = tf.nn.softmax(scores, axis=1)[:, :, None]
        return tf.reduce_sum(sequence * weights, axis=1)


class WindowPooling(tf_keras.layers.Layer):
    """Pool the rows of each text's windows: ``"mean"`` or ``"max"``.

    Called on ``[values, owner]``: ``values`` ``[windows, width]``, ``owner``
    ``[windows]`` the position of each window's text in the batch (every
    position from 0 to the largest present). Returns ``[texts, width]``.

    Examples
    --------
    >>> values = tf.constant([[1.0], [3.0], [5.0]])
    >>> WindowPooling("mean")([values, tf.constant([0, 0, 1])]).numpy().tolist()
    [[2.0], [5.0]]
    """

    MODES = ("mean", "max")

    def __init__(self, mode: str = "mean", **kwargs):
        super().__init__(**kwargs)
        if mode not in self.MODES:
            raise ValueError(f"mode={mode!r}; expected one of {self.MODES}.")
        self.mode = mode

    def call(self, inputs):
        values, owner = inputs
        texts = tf.reduce_max(owner) + 1
        if self.mode == "max":
            return tf.math.unsorted_segment_max(values, owner, texts)
        return tf.math.unsorted_segment_mean(values, owner, texts)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}
