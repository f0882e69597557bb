"""An skbert plugin that adds the ``mlp`` head: a hidden layer before the softmax."""

import skbert


def mlp_head(pooled_output, sequence_output, n_outputs, dropout=0.1):
    """Dense(256, GELU), Dropout, then a softmax over the classes."""
    import tf_keras

    x = tf_keras.layers.Dense(256, activation="gelu", name="mlp_hidden")(pooled_output)
    x = tf_keras.layers.Dropout(dropout, name="mlp_dropout")(x)
    logits = tf_keras.layers.Dense(n_outputs, name="mlp_logits")(x)
    loss = tf_keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    return skbert.HeadOutput(logits, "softmax", loss)


@skbert.hookimpl
def skbert_register_heads(register):
    register(skbert.HeadSpec("mlp", mlp_head.__doc__, mlp_head))
