"""What each kind of target asks of a network's output layer, and what its logits mean.

===========  =============================  ==========================
task         units and activation           loss (on logits)
===========  =============================  ==========================
binary       1, sigmoid                     binary cross-entropy
multiclass   ``n_outputs``, softmax         sparse categorical CE
multilabel   ``n_outputs``, sigmoid each    binary cross-entropy
regression   ``n_outputs``, linear          mean squared error
===========  =============================  ==========================

A head serves the task asked of it or, like the built-in ``softmax`` head
on two classes, its own: `output_task` tells the task of a fitted output
layer from the task asked and the head's activation. This module imports no
TensorFlow (the Keras loss is built on demand).
"""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class Task:
    """One row of the table above.

    Examples
    --------
    >>> task = TASKS["binary"]
    >>> task.units(2), task.activation
    (1, 'sigmoid')
    >>> task.probabilities(np.array([[0.0], [2.0]])).round(3).tolist()
    [[0.5, 0.5], [0.119, 0.881]]
    """

    name: str
    activation: str
    loss_class: str

    def units(self, n_outputs: int) -> int:
        """Width of the output layer for `n_outputs` classes, labels or targets."""
        return 1 if self.name == "binary" else n_outputs

    def loss(self):
        """A new Keras loss on logits."""
        import tf_keras

        loss = getattr(tf_keras.losses, self.loss_class)
        return loss() if self.name == "regression" else loss(from_logits=True)

    def score_metric(self):
        """A new Keras metric on logits named ``score``: the estimator's `score`.

        Accuracy (of whole label sets, for multi-label targets), or R²
        averaged over the targets for regression (the same on scaled
        targets). Unweighted, like scikit-learn's `score` without weights.
        """
        import tensorflow as tf
        import tf_keras

        if self.name == "regression":
            return tf_keras.metrics.R2Score(name="score")

        def hits(y_true, logits):
            if self.name == "multiclass":
                labels = tf.cast(tf.reshape(y_true, [-1]), tf.int64)
                right = tf.equal(labels, tf.argmax(logits, axis=-1))
            elif self.name == "binary":
                right = tf.equal(
                    tf.reshape(y_true, [-1]) > 0.5, tf.reshape(logits, [-1]) > 0
                )
            else:
                right = tf.reduce_all(tf.equal(y_true > 0.5, logits > 0), axis=-1)
            return tf.cast(right, tf.float32)

        return tf_keras.metrics.MeanMetricWrapper(hits, name="score")

    def decision(self, logits: np.ndarray) -> np.ndarray:
        """Scores as scikit-learn's ``decision_function`` gives them.

        One column for two classes: positive favours the second.
        """
        if self.name == "binary":
            return logits[:, 0]
        if self.name == "multiclass" and logits.shape[1] == 2:
            return logits[:, 1] - logits[:, 0]
        return logits

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        """Class (or, multi-label, per-label) probabilities from logits."""
        if self.activation == "sigmoid":
            positive = 1.0 / (1.0 + np.exp(-logits))
            if self.name == "multilabel":
                return positive
            return np.column_stack([1.0 - positive[:, 0], positive[:, 0]])
        if self.activation == "softmax":
            shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
            return shifted / shifted.sum(axis=1, keepdims=True)
        return logits


TASKS = {
    task.name: task
    for task in (
        Task("binary", "sigmoid", "BinaryCrossentropy"),
        Task("multiclass", "softmax", "SparseCategoricalCrossentropy"),
        Task("multilabel", "sigmoid", "BinaryCrossentropy"),
        Task("regression", "linear", "MeanSquaredError"),
    )
}


def get_task(name: str) -> Task:
    """The `Task` called `name`; `ValueError` lists the known ones."""
    if name not in TASKS:
        raise ValueError(f"Unknown task {name!r}; expected {', '.join(TASKS)}.")
    return TASKS[name]


def output_task(asked: str, activation: str) -> Task:
    """The task of a fitted output layer: `asked` of the head, `activation` its own.

    Examples
    --------
    >>> output_task("binary", "softmax").name  # the softmax head on two classes
    'multiclass'
    """
    if activation == TASKS[asked].activation:
        return TASKS[asked]
    own = {"sigmoid": "binary", "softmax": "multiclass", "linear": "regression"}
    return TASKS[own[activation]]
