"""skbert's AdamW: the fused update does tf_keras' AdamW arithmetic."""

import numpy as np
import tensorflow as tf
import tf_keras

from skbert.optimization import NO_DECAY, AdamW, WarmupLinearDecay


def three_steps(optimizer):
    """Weights after three steps of `optimizer` on a dense and an embedding table.

    The table's gradients are sparse (`tf.IndexedSlices`) with a repeated
    row, as an embedding lookup gives; a bias is exempt from weight decay.
    """
    rng = np.random.default_rng(0)
    table = tf.Variable(rng.normal(size=(50, 8)).astype(np.float32), name="table")
    kernel = tf.Variable(rng.normal(size=(8, 3)).astype(np.float32), name="kernel")
    bias = tf.Variable(rng.normal(size=(3,)).astype(np.float32), name="bias")
    variables = [table, kernel, bias]
    optimizer.exclude_from_weight_decay(var_names=list(NO_DECAY))
    for step in range(3):
        ids = tf.constant([[1, 4, 4, 7], [7, 2, 9, 1 + step]])
        with tf.GradientTape() as tape:
            pooled = tf.reduce_mean(tf.gather(table, ids), axis=1)
            loss = tf.reduce_sum(tf.square(pooled @ kernel + bias - 1.0))
        grads = tape.gradient(loss, variables)
        assert isinstance(grads[0], tf.IndexedSlices)
        optimizer.apply_gradients(zip(grads, variables))
    return [v.numpy() for v in variables]


def test_fused_update_matches_tf_keras_adamw():
    def schedule():
        return WarmupLinearDecay(1e-2, total_steps=4, warmup_steps=1)

    options = dict(weight_decay=0.1, epsilon=1e-6)
    ours = three_steps(AdamW(learning_rate=schedule(), **options))
    reference = three_steps(
        tf_keras.optimizers.AdamW(learning_rate=schedule(), **options)
    )
    start = three_steps(AdamW(learning_rate=0.0, **options))
    for mine, theirs, before in zip(ours, reference, start):
        assert np.abs(theirs - before).max() > 1e-3  # the steps moved every weight
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)
