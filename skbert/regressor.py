"""`BertRegressor`: a scikit-learn regressor on a TF Hub BERT encoder."""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin, _fit_context

from skbert.base import (
    ENCODER_PARAMETER,
    TRAINED_ATTRIBUTES,
    TRAINING_PARAMETERS,
    TRAINING_PARAMETERS_END,
    BertModelEstimator,
    TextData,
)
from skbert.inputs import about, check_sample_weight, check_targets, check_texts


class BertRegressor(RegressorMixin, BertModelEstimator):
    __doc__ = f"""Text regressor: a TF Hub BERT encoder fine-tuned with a linear head.

    The head (``head="auto"``: ``"linear"``, Dropout then one linear unit per
    target) is trained with mean squared error on standardized targets; the
    scaling is undone in `predict`, so predictions are in the units of ``y``.

    Parameters
    ----------
    {ENCODER_PARAMETER}
    head : str, default="auto"
        A registered head serving regression (``"linear"``, ``"mlp"``,
        ``"sequence"``, ...), or ``"auto"`` for ``"linear"``.
    {TRAINING_PARAMETERS}
    {TRAINING_PARAMETERS_END}

    Attributes
    ----------
    y_mean_, y_scale_ : ndarray of shape (n_outputs,)
        Mean and standard deviation of the training targets (scale 1 where
        a target is constant).
    n_outputs_ : int
        Number of targets.
    y_ndim_ : int
        Dimensions of ``y`` in `fit`; ``predict`` returns a 1-D array when it was 1.
    {TRAINED_ATTRIBUTES}

    Examples
    --------
    >>> from skbert import BertRegressor
    >>> reg = BertRegressor("tiny_random_en_uncased", epochs=20, batch_size=4,
    ...                     learning_rate=3e-3, random_state=0)
    >>> X = ["one star", "two stars", "four stars", "five stars"] * 4
    >>> y = [1.0, 2.0, 4.0, 5.0] * 4
    >>> reg.fit(X, y).predict(["one star", "five stars"]).round()
    array([1., 5.])
    """

    _auto_heads = {"regression": "linear"}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self,
        X,
        y,
        sample_weight=None,
        *,
        X_val=None,
        y_val=None,
        sample_weight_val=None,
    ):
        """Fine-tune the encoder and head on texts `X` and targets `y`.

        Parameters
        ----------
        X : sequence of str, or two-column array-like of str
            Texts, or sentence pairs (segment A, segment B).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Real-valued targets.
        sample_weight : array-like of shape (n_samples,), optional
            Per-example weights of the loss.
        X_val, y_val : texts and targets, optional
            A validation set, in the forms of `X` and `y`. It is evaluated
            after each epoch (``val_loss`` on the scaled targets, and
            ``val_score``, R², in ``history_``) and, with
            ``early_stopping=True``, decides when to stop, in place of the
            ``validation_fraction`` held out of `X`; the model never trains
            on it.
        sample_weight_val : array-like of shape (n_val,), optional
            Weights of the validation loss.

        Returns
        -------
        self : BertRegressor
        """
        return self._fit_targets(
            X, y, sample_weight, False, (X_val, y_val, sample_weight_val)
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Train one epoch on texts `X` and targets `y`, going on from the last call.

        The first call builds the network, as `fit` does, and scales targets
        by the mean and deviation of its `y`; later calls train further, with
        that scaling. Each call is one pass over its batch at the constant
        ``learning_rate`` (no warm-up, no early stopping), with AdamW's state
        kept from call to call (and through pickling). A call that fails or
        is interrupted leaves the estimator as it was.

        Parameters
        ----------
        X : sequence of str, or two-column array-like of str
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        self : BertRegressor
        """
        return self._fit_targets(X, y, sample_weight, incremental=True)

    def _fit_targets(
        self, X, y, sample_weight, incremental, validation=(None, None, None)
    ):
        segments = check_texts(X)
        n = len(segments[0])
        y = check_targets(y, n)
        weights = check_sample_weight(sample_weight, n)
        targets = y.reshape(n, -1)
        n_outputs = targets.shape[1]
        if self._continues(incremental):
            if n_outputs != self.n_outputs_:
                raise ValueError(
                    f"y has {n_outputs} target(s) per text; the fitted network "
                    f"predicts {self.n_outputs_}. "
                    + ("Call fit" if incremental else "Fit with warm_start=False")
                    + " to start over."
                )
            mean, scale = self.y_mean_, self.y_scale_  # the network's units
        else:
            mean = targets.mean(axis=0)
            scale = targets.std(axis=0)
            scale[scale == 0] = 1.0
        scaled = ((targets - mean) / scale).astype(np.float32)
        fitted = {
            "y_mean_": mean,
            "y_scale_": scale,
            "n_outputs_": n_outputs,
            "y_ndim_": y.ndim,
        }
        held_out = self._held_out(len(segments), *validation)
        if held_out is not None:
            val_segments, val_weights = held_out
            with about("y_val"):
                val_y = check_targets(validation[1], len(val_weights))
                val_y = val_y.reshape(len(val_y), -1)
                if val_y.shape[1] != n_outputs:
                    raise ValueError(
                        f"y_val has {val_y.shape[1]} target(s) per text, y has "
                        f"{n_outputs}; give it the same targets."
                    )
            val_targets = ((val_y - mean) / scale).astype(np.float32)
            held_out = TextData(val_segments, val_targets, val_weights)
        return self._fit_network(
            "regression",
            TextData(segments, scaled, weights),
            held_out,
            n_outputs=n_outputs,
            detail=f"{n_outputs} targets",
            fitted=fitted,
            incremental=incremental,
        )

    def predict(self, X) -> np.ndarray:
        """Predicted targets, in the units of ``y``.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs)
            1-D when ``y`` was 1-D in `fit`.
        """
        predicted = self._logits(X) * self.y_scale_ + self.y_mean_
        return predicted[:, 0] if self.y_ndim_ == 1 else predicted
