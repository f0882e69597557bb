"""skbert's AdamW: the fused update does tf_keras' AdamW arithmetic."""

import numpy as np
import tensorflow as tf
import tf_keras

from skbert.optimization import NO_DECAY, AdamW, WarmupLinearDecay

NAMES = ("table", "kernel", "bias")


def three_steps(*optimizers, names=NAMES):
    """Weights after three steps of `optimizers` on a dense and an embedding table.

    One optimizer updates all three weights; three update one each. The
    table's gradients are sparse (`tf.IndexedSlices`) with a repeated row,
    as an embedding lookup gives; a bias is exempt from weight decay.
    """
    rng = np.random.default_rng(0)
    shapes = [(50, 8), (8, 3), (3,)]
    variables = [
        tf.Variable(rng.normal(size=shape).astype(np.float32), name=name)
        for shape, name in zip(shapes, names)
    ]
    table, kernel, bias = variables
    for optimizer in optimizers:
        optimizer.exclude_from_weight_decay(var_names=list(NO_DECAY))
    for step in range(3):
        ids = tf.constant([[1, 4, 4, 7], [7, 2, 9, 1 + step]])
        with tf.GradientTape() as tape:
            pooled = tf.reduce_mean(tf.gather(table, ids), axis=1)
            loss = tf.reduce_sum(tf.square(pooled @ kernel + bias - 1.0))
        grads = tape.gradient(loss, variables)
        assert isinstance(grads[0], tf.IndexedSlices)
        if len(optimizers) == 1:
            optimizers[0].apply_gradients(zip(grads, variables))
        else:
            for optimizer, grad, variable in zip(optimizers, grads, variables):
                optimizer.apply_gradients([(grad, variable)])
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


def test_layer_decay_scales_each_weights_rate_by_its_depth():
    def schedule(scale=1.0):
        return WarmupLinearDecay(1e-2 * scale, total_steps=4, warmup_steps=1)

    options = dict(weight_decay=0.1, epsilon=1e-6)
    # One block: the embeddings train at decay**2, the block at decay, the head at 1.
    names = ("bert/embeddings/table", "bert/encoder/layer_0/kernel", "head/bias")
    ours = three_steps(
        AdamW(learning_rate=schedule(), layer_decay=0.5, **options), names=names
    )
    reference = three_steps(
        *[
            tf_keras.optimizers.AdamW(learning_rate=schedule(scale), **options)
            for scale in (0.25, 0.5, 1.0)
        ]
    )
    undecayed = three_steps(AdamW(learning_rate=schedule(), **options), names=names)
    for mine, plain in zip(ours[:2], undecayed):
        assert np.abs(plain - mine).max() > 1e-3  # the decay changed these weights
    for mine, theirs in zip(ours, reference):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)
