"""An skbert plugin that adds the ``cnn`` head: n-gram filters over the tokens."""

import skbert


def cnn_head(outputs, task, n_outputs, filters=64, kernel_sizes=(2, 3, 4), dropout=0.1):
    """Conv1D n-gram filters over ``sequence_output``, max over real tokens, output."""
    import tf_keras

    from skbert.layers import MaskedPooling, task_output

    pooled = []
    for size in kernel_sizes:
        conv = tf_keras.layers.Conv1D(
            filters, size, padding="same", activation="relu", name=f"cnn_conv_{size}"
        )(outputs.sequence_output)
        pool = MaskedPooling("max", name=f"cnn_max_{size}")
        pooled.append(pool([conv, outputs.input_mask]))
    features = tf_keras.layers.Concatenate(name="cnn_features")(pooled)
    return task_output(features, task, n_outputs, dropout=dropout)


@skbert.hookimpl
def skbert_register_heads(register):
    register(skbert.HeadSpec("cnn", cnn_head.__doc__, cnn_head, skbert.specs.TASKS))
