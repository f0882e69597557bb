"""What skbert's estimators share: text input, the network, training, pickling."""

from __future__ import annotations

import os
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from skbert.inputs import check_texts


class BertEstimator(BaseEstimator):
    """Base of skbert's estimators; not for direct use.

    Subclasses list their parameters in ``__init__``, turn targets into
    arrays for the head's loss, and call `_fit_network` with a *network
    config*: the plain-data description (encoder, head, shapes) from which
    the Keras model is rebuilt after unpickling.
    """

    _parameter_constraints: dict = {
        "encoder": [str, os.PathLike],
        "head": [str],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "max_seq_length": [Interval(Integral, 4, None, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "warmup_ratio": [Interval(Real, 0, 1, closed="both")],
        "train_encoder": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "early_stopping": ["boolean"],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags

    def _network_config(self, n_segments: int, n_outputs: int, head: str) -> dict:
        return {
            "encoder": os.fspath(self.encoder),
            "head": head,
            "n_segments": n_segments,
            "n_outputs": n_outputs,
            "max_seq_length": self.max_seq_length,
            "train_encoder": self.train_encoder,
            "head_params": {"dropout": self.dropout},
        }

    def _fit_network(self, config: dict, segments, targets, weights, stratify=None):
        """Build the network of `config` and train it; set the fitted attributes.

        The attributes are set only once training has finished, so an
        interrupted fit leaves the estimator as it was.
        """
        from skbert.encoders import resolve_encoder
        from skbert.model import build_from_config, text_dataset
        from skbert.training import seed_everything, train

        # Build a generated encoder before seeding, so a cold cache draws no numbers.
        resolve_encoder(config["encoder"]).handles()
        seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        if self.random_state is not None:
            seed_everything(seed)
        model, head = build_from_config(config)
        index = np.arange(len(targets))
        validation = None
        if self.early_stopping:
            index, held_out = _split(index, self.validation_fraction, stratify, seed)
            validation = text_dataset(
                [s[held_out] for s in segments],
                targets[held_out],
                weights[held_out],
                batch_size=self.batch_size,
            )
        data = text_dataset(
            [s[index] for s in segments],
            targets[index],
            weights[index],
            batch_size=self.batch_size,
            shuffle_seed=seed,
        )
        history = train(
            model,
            head.loss,
            data,
            validation,
            n_train=len(index),
            epochs=self.epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            weight_decay=self.weight_decay,
            warmup_ratio=self.warmup_ratio,
            patience=self.n_iter_no_change if self.early_stopping else None,
            verbose=self.verbose,
        )
        self.model_ = model
        self.activation_ = head.activation
        self.history_ = history
        self.n_iter_ = len(history["loss"])
        self.n_segments_ = config["n_segments"]
        self.network_config_ = config
        return self

    def _logits(self, X) -> np.ndarray:
        """Logits of the fitted network on `X`, in the order of `X`."""
        from skbert.model import text_dataset

        check_is_fitted(self, "model_")
        segments = check_texts(X, n_segments=self.n_segments_)
        data = text_dataset(segments, batch_size=self.batch_size)
        return np.asarray(self.model_.predict(data, verbose=0), dtype=np.float64)

    def __getstate__(self):
        state = dict(super().__getstate__())
        model = state.pop("model_", None)
        if model is not None:
            state["model_weights_"] = model.get_weights()
        return state

    def __setstate__(self, state):
        weights = state.pop("model_weights_", None)
        super().__setstate__(state)
        if weights is not None:
            from skbert.model import build_from_config

            self.model_, _ = build_from_config(self.network_config_)
            self.model_.set_weights(weights)


def _split(index, fraction, stratify, seed):
    """Hold out `fraction` of `index` for validation, stratified where possible."""
    n_held_out = max(1, round(fraction * len(index)))
    if n_held_out >= len(index):
        raise ValueError(
            f"early_stopping needs more data: validation_fraction={fraction} of "
            f"{len(index)} examples leaves none to train on."
        )
    if stratify is not None:
        _, counts = np.unique(stratify, return_counts=True)
        if counts.min() < 2 or n_held_out < len(counts):
            stratify = None
    return train_test_split(
        index, test_size=n_held_out, stratify=stratify, random_state=seed
    )
