"""The classic classification heads over ``pooled_output``."""

from __future__ import annotations

from skbert.hookspecs import hookimpl
from skbert.specs import HeadOutput, HeadSpec


def sigmoid_head(pooled_output, sequence_output, n_outputs, dropout=0.1):
    """Dropout, then one sigmoid unit with binary cross-entropy (TF Hub's tutorial)."""
    import tf_keras

    x = tf_keras.layers.Dropout(dropout, name="head_dropout")(pooled_output)
    logits = tf_keras.layers.Dense(1, name="classifier")(x)
    loss = tf_keras.losses.BinaryCrossentropy(from_logits=True)
    return HeadOutput(logits, "sigmoid", loss)


def softmax_head(pooled_output, sequence_output, n_outputs, dropout=0.1):
    """Dropout, then a softmax over the classes; sparse categorical cross-entropy."""
    import tf_keras

    x = tf_keras.layers.Dropout(dropout, name="head_dropout")(pooled_output)
    logits = tf_keras.layers.Dense(n_outputs, name="classifier")(x)
    loss = tf_keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    return HeadOutput(logits, "softmax", loss)


@hookimpl
def skbert_register_heads(register):
    register(HeadSpec("sigmoid", sigmoid_head.__doc__, sigmoid_head, ("binary",)))
    register(
        HeadSpec(
            "softmax", softmax_head.__doc__, softmax_head, ("binary", "multiclass")
        )
    )
