"""BERT's optimizer: AdamW with linear warm-up, then linear decay to zero."""

from __future__ import annotations

import re

import numpy as np
import tensorflow as tf
import tf_keras

#: Weights excluded from weight decay, as in the original BERT recipe.
NO_DECAY = ("LayerNorm", "layer_norm", "bias")
#: A transformer block's weights (skbert's ``encoder/layer_3/``, TF Hub's
#: ``transformer/layer_3/``), and the embeddings below the first block.
_BLOCK = re.compile(r"/layer_(\d+)/")
_EMBEDDING = re.compile(r"embedding")


def layer_scales(names: list[str], decay: float) -> list[float]:
    """Learning-rate factors of layer-wise decay, by variable name.

    The weights above the encoder's blocks (the head, the pooler) get 1,
    the top block `decay`, the one below it ``decay**2``, and so on down to
    the embeddings, ``decay**(n_blocks + 1)``. Names with no block number
    and no embedding count as above the blocks.

    Examples
    --------
    >>> names = ["bert/embeddings/word_embeddings/embeddings:0",
    ...          "bert/encoder/layer_0/attention/query/kernel:0",
    ...          "bert/encoder/layer_1/output/dense/kernel:0", "head/kernel:0"]
    >>> layer_scales(names, 0.5)
    [0.125, 0.25, 0.5, 1.0]
    """
    blocks = [_BLOCK.search(name) for name in names]
    n_blocks = 1 + max((int(b[1]) for b in blocks if b), default=-1)
    depths = [
        int(block[1]) + 1 if block else 0 if _EMBEDDING.search(name) else n_blocks + 1
        for name, block in zip(names, blocks)
    ]
    return [decay ** (n_blocks + 1 - depth) for depth in depths]


class WarmupLinearDecay(tf_keras.optimizers.schedules.LearningRateSchedule):
    """Rise linearly from 0 to `peak` in `warmup_steps`, fall to 0 at `total_steps`.

    Examples
    --------
    >>> schedule = WarmupLinearDecay(1e-3, total_steps=10, warmup_steps=2)
    >>> [round(float(schedule(s)), 6) for s in (0, 1, 2, 6, 10)]
    [0.0, 0.0005, 0.001, 0.0005, 0.0]
    """

    def __init__(self, peak: float, total_steps: int, warmup_steps: int):
        self.peak = peak
        self.total_steps = total_steps
        self.warmup_steps = warmup_steps

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        warmup = tf.cast(max(self.warmup_steps, 1), tf.float32)
        decay = tf.cast(max(self.total_steps - self.warmup_steps, 1), tf.float32)
        rising = step / warmup
        falling = (tf.cast(self.total_steps, tf.float32) - step) / decay
        scale = tf.where(step < self.warmup_steps, rising, falling)
        return self.peak * tf.clip_by_value(scale, 0.0, 1.0)

    def get_config(self):
        return {
            "peak": self.peak,
            "total_steps": self.total_steps,
            "warmup_steps": self.warmup_steps,
        }


class AdamW(tf_keras.optimizers.AdamW):
    """tf_keras' AdamW with a fused update, summing over replicas only if several.

    The update of each variable is TensorFlow's fused Adam kernel (one pass
    over weight, moments and gradient) instead of tf_keras' dozen separate
    ops and temporaries: the same arithmetic (weights agree to float32
    rounding), and faster, most of all on the 11.7 M-weight word-embedding
    table of MiniLM (``benchmarks/finetune_phases.py`` measures a step).

    With one replica the sum changes nothing, yet tf_keras computes it with a
    `tf.custom_gradient`, which registers a gradient function for good at every
    trace of a train step: each fit's train graph stayed alive (about 2.5 MiB
    per fit of the tiny encoder's head, more with the encoder).
    """

    def __init__(self, *args, layer_decay: float = 1.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.layer_decay = layer_decay
        self._scales: dict = {}

    def build(self, var_list):
        super().build(var_list)
        names = [variable.name for variable in var_list]
        scales = layer_scales(names, self.layer_decay)
        self._scales = {self._var_key(v): scale for v, scale in zip(var_list, scales)}

    def _rate(self, variable):
        """The learning rate of `variable`: the schedule's, times its layer's scale."""
        scale = self._scales.get(self._var_key(variable), 1.0)
        return tf.cast(self.learning_rate, variable.dtype) * scale

    def _apply_weight_decay(self, variables):
        # tf_keras' decoupled decay, at each weight's own rate.
        def apply(distribution, variables):
            def decay(variable):
                if self._use_weight_decay(variable):
                    rate = tf.cast(self.weight_decay, variable.dtype)
                    variable.assign_sub(variable * rate * self._rate(variable))

            for variable in variables:
                distribution.extended.update(variable, decay, group=False)

        tf.__internal__.distribute.interim.maybe_merge_call(
            apply, self._distribution_strategy, variables
        )

    def aggregate_gradients(self, grads_and_vars):
        if tf.distribute.has_strategy():
            return super().aggregate_gradients(grads_and_vars)
        return grads_and_vars

    def update_step(self, gradient, variable):
        dtype = variable.dtype
        step = tf.cast(self.iterations + 1, dtype)
        beta_1, beta_2 = tf.cast(self.beta_1, dtype), tf.cast(self.beta_2, dtype)
        index = self._index_dict[self._var_key(variable)]
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle,
            m=self._momentums[index].handle,
            v=self._velocities[index].handle,
            beta1_power=tf.pow(beta_1, step),
            beta2_power=tf.pow(beta_2, step),
            lr=self._rate(variable),
            beta1=beta_1,
            beta2=beta_2,
            epsilon=tf.cast(self.epsilon, dtype),
            # An embedding's sparse gradient: the dense kernel updates every
            # row's moments, as tf_keras' AdamW does.
            grad=tf.convert_to_tensor(gradient),
            use_locking=False,
        )


def make_optimizer(
    learning_rate: float,
    weight_decay: float,
    total_steps: int | None = None,
    warmup_ratio: float = 0.0,
    layer_decay: float = 1.0,
):
    """AdamW with no decay on LayerNorm weights and biases.

    On the warm-up schedule over `total_steps`; at the constant
    `learning_rate` when `total_steps` is None (an incremental fit, whose end
    is not known). `layer_decay` below 1 gives lower blocks of the encoder
    lower rates (`layer_scales`).
    """
    if total_steps is not None:
        warmup_steps = int(round(warmup_ratio * total_steps))
        learning_rate = WarmupLinearDecay(learning_rate, total_steps, warmup_steps)
    optimizer = AdamW(
        learning_rate=learning_rate,
        weight_decay=weight_decay,
        epsilon=1e-6,
        layer_decay=layer_decay,
    )
    optimizer.exclude_from_weight_decay(var_names=list(NO_DECAY))
    return optimizer


def optimizer_state(optimizer) -> list[np.ndarray]:
    """The values of `optimizer`'s variables (step count, moments), in order."""
    return [variable.numpy() for variable in optimizer.variables]


def set_optimizer_state(optimizer, state: list[np.ndarray]) -> None:
    """Put `optimizer_state` values back into a built `optimizer` of the same kind."""
    variables = optimizer.variables
    shapes = [tuple(v.shape) for v in variables]
    if shapes != [value.shape for value in state]:
        raise ValueError(
            f"The optimizer state has {len(state)} arrays that do not fit the "
            f"network's {len(variables)} optimizer variables."
        )
    for variable, value in zip(variables, state):
        variable.assign(value)
