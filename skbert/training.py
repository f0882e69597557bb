"""The training loop of skbert's estimators: Keras ``fit`` with BERT's recipe."""

from __future__ import annotations

import tf_keras


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


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and TensorFlow's global generators."""
    tf_keras.utils.set_random_seed(seed)


def train(
    model,
    loss,
    optimizer,
    data,
    validation,
    metric,
    *,
    steps_per_epoch: int,
    epochs: int,
    patience: int | None,
    verbose: int,
) -> dict[str, list[float]]:
    """Fit `model` on `data` with `optimizer` (`make_optimizer`).

    `data` yields `steps_per_epoch` batches per epoch, epoch after epoch.
    `validation` (a dataset, or None) is evaluated after each epoch, and
    drives early stopping when `patience` is set. `metric` (a Keras metric
    named ``score``, or None) is tracked on both. A model already compiled
    with `optimizer` (the previous call of an incremental fit) keeps its
    traced train step. Returns the per-epoch history as plain floats.
    """
    if getattr(model, "optimizer", None) is not optimizer:
        model.compile(
            optimizer=optimizer, loss=loss, metrics=None if metric is None else [metric]
        )
    # Slots made now are not made inside the first step, which then traces once.
    optimizer.build(model.trainable_variables)
    callbacks = [EarlyStopping(patience)] if patience is not None else []
    history = model.fit(
        data,
        validation_data=validation,
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        callbacks=callbacks,
        verbose=verbose,
    )
    return {k: [float(v) for v in values] for k, values in history.history.items()}
