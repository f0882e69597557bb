"""skbert's training loop and the ways of training that plug into it.

A fit is a list of stages on plain objects: the estimator builds (or
continues) its network, turns its data into `Examples` (and, if it has
one, a validation set), asks its `Mode` for a `Plan` of batches, makes the
optimizer for that many steps (`skbert.optimization.make_optimizer`), and
runs `fit_loop`. A way of training is a `Mode`: a loss and the orders in
which it reads the examples. `Supervised` trains a head on targets;
`skbert.fewshot.Contrastive` pulls texts of a class together;
`Distillation` teaches a student its teacher's outputs. The loop,
the optimizer, early stopping and the user's ``callbacks`` are the same for
every mode.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import tf_keras

from skbert.batching import batches, training_orders


@dataclasses.dataclass(frozen=True)
class Examples:
    """Examples a fit trains or validates on.

    Attributes
    ----------
    gather : callable
        ``gather(index)``: the trained model's inputs for rows `index`.
    targets : ndarray
        What the loss compares the model's outputs with, one row per example.
    weights : ndarray
        Per-example weights of the loss.
    lengths : ndarray
        Word pieces per example (batches group similar lengths).
    index : ndarray
        The rows in use: all of them, or a part of them (`split`).
    """

    gather: Callable
    targets: np.ndarray
    weights: np.ndarray
    lengths: np.ndarray
    index: np.ndarray

    @classmethod
    def of(cls, gather, targets, weights, lengths) -> Examples:
        """All rows of `targets` (float32), weighed by `weights`."""
        targets = np.asarray(targets, dtype=np.float32)
        weights = np.asarray(weights, dtype=np.float32)
        return cls(gather, targets, weights, lengths, np.arange(len(targets)))

    def __len__(self) -> int:
        return len(self.index)

    def subset(self, index: np.ndarray) -> Examples:
        """The rows `index` (numbers into the arrays, as `index` holds them)."""
        return dataclasses.replace(self, index=np.asarray(index))

    def dataset(self, batch_size: int):
        """One pass in order of length, as evaluation reads it."""
        order = self.index[np.argsort(self.lengths[self.index], kind="stable")]
        return batches(self.gather, order, batch_size, self.targets, self.weights)


@dataclasses.dataclass(frozen=True)
class Plan:
    """The batches of a fit: one order of example rows per epoch, all as long.

    Each order is cut into batches of `batch_size` rows, the last maybe
    shorter.
    """

    orders: np.ndarray
    steps_per_epoch: int
    batch_size: int

    @property
    def total_steps(self) -> int:
        return self.steps_per_epoch * len(self.orders)


class Mode:
    """A way of training: a loss, a metric and the order examples are read in.

    A new mode overrides `plan` (which rows make each batch) and sets
    `loss` and `metric`; the loop, the optimizer and the callbacks stay.
    """

    #: ``loss(targets, outputs)`` per example, a Keras loss.
    loss: Any = None
    #: A Keras metric named ``score``, or None.
    metric: Any = None

    def plan(self, examples: Examples, batch_size: int, epochs: int, seed: int) -> Plan:
        raise NotImplementedError


class Supervised(Mode):
    """Each example's targets through the head's loss, epoch after epoch.

    Every epoch reads every example once, in batches of similar lengths
    (`skbert.batching.training_orders`).
    """

    def __init__(self, loss, metric=None):
        self.loss, self.metric = loss, metric

    def plan(self, examples, batch_size, epochs, seed):
        orders = training_orders(
            examples.index, examples.lengths, batch_size, epochs, seed
        )
        steps = math.ceil(len(examples) / batch_size)
        return Plan(np.stack(orders), steps, batch_size)


class Distillation(Supervised):
    """The `Mode` of a student (`skbert.distill`): the teacher's outputs as targets.

    The loss is the squared error between the student's outputs and the
    teacher's: logits before the activation for a classifier or regressor,
    embeddings for an encoder. Examples are read as `Supervised` reads
    them, epoch after epoch.
    """

    def __init__(self):
        super().__init__("mean_squared_error")


class EarlyStopping(tf_keras.callbacks.EarlyStopping):
    """Early stopping on ``val_loss`` that always ends on the best epoch's weights."""

    def __init__(self, patience: int):
        super().__init__(
            monitor="val_loss", patience=patience, restore_best_weights=True
        )

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)
        super().on_train_end(logs)


def check_callbacks(callbacks) -> list:
    """``callbacks`` as a list of `tf_keras.callbacks.Callback`; `TypeError` if not."""
    if callbacks is None:
        return []
    if isinstance(callbacks, tf_keras.callbacks.Callback):
        callbacks = [callbacks]
    callbacks = list(callbacks)
    for callback in callbacks:
        if not isinstance(callback, tf_keras.callbacks.Callback):
            raise TypeError(
                "callbacks must be tf_keras callbacks (tf_keras.callbacks.Callback, "
                "e.g. tf_keras.callbacks.CSVLogger(path)), not "
                f"{type(callback).__name__}; Keras 3 callbacks (keras.callbacks) "
                "do not work with tf_keras models."
            )
    return callbacks


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and TensorFlow's global generators."""
    tf_keras.utils.set_random_seed(seed)


def fit_loop(
    model,
    mode: Mode,
    optimizer,
    plan: Plan,
    examples: Examples,
    validation: Examples | None = None,
    *,
    patience: int | None = None,
    callbacks=(),
    verbose: int = 0,
) -> dict[str, list[float]]:
    """Train `model` on the batches of `plan` with `mode`'s loss and `optimizer`.

    `validation` is evaluated after each epoch (``val_loss``, and
    ``val_score`` with a metric) and drives early stopping when `patience`
    is set. `callbacks` (the user's `tf_keras` callbacks) get Keras' epoch
    and batch events with these logs, after skbert's early stopping; they
    are detached from the model when training ends. A model already
    compiled with `optimizer` (the previous call of an incremental fit)
    keeps its traced train step. Returns the per-epoch history as plain
    floats.
    """
    if getattr(model, "optimizer", None) is not optimizer:
        metrics = None if mode.metric is None else [mode.metric]
        model.compile(optimizer=optimizer, loss=mode.loss, metrics=metrics)
    # Slots made now are not made inside the first step, which then traces once.
    optimizer.build(model.trainable_variables)
    data = batches(
        examples.gather,
        plan.orders,
        plan.batch_size,
        examples.targets,
        examples.weights,
    )
    own = [EarlyStopping(patience)] if patience is not None else []
    try:
        history = model.fit(
            data,
            validation_data=(
                None if validation is None else validation.dataset(plan.batch_size)
            ),
            epochs=len(plan.orders),
            steps_per_epoch=plan.steps_per_epoch,
            callbacks=[*own, *callbacks],
            verbose=verbose,
        )
    finally:
        for callback in callbacks:  # so that the user's callbacks pickle
            callback.model = None
            if isinstance(callback, tf_keras.callbacks.TensorBoard):
                callback._writers = {}  # closed at the end, made anew on use
    return {k: [float(v) for v in values] for k, values in history.history.items()}


def fit_mode(
    model,
    mode: Mode,
    examples: Examples,
    *,
    batch_size: int,
    epochs: int,
    seed: int,
    learning_rate: float,
    weight_decay: float,
    warmup_ratio: float,
    callbacks=(),
    verbose: int = 0,
) -> tuple[dict[str, list[float]], Plan]:
    """Train `model` with `mode` on `examples`: plan, AdamW for it, `fit_loop`.

    The stages of a fit without a validation set or a kept optimizer (the
    few-shot classifier's contrastive stage, a student's distillation).
    Returns the history and the plan.
    """
    from skbert.optimization import make_optimizer

    plan = mode.plan(examples, batch_size, epochs, seed)
    optimizer = make_optimizer(
        learning_rate, weight_decay, plan.total_steps, warmup_ratio
    )
    history = fit_loop(
        model, mode, optimizer, plan, examples, callbacks=callbacks, verbose=verbose
    )
    return history, plan
