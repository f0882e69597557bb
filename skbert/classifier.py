"""`BertClassifier`: a scikit-learn classifier on a TF Hub BERT encoder."""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_sample_weight

from skbert.base import (
    DEFAULT_ENCODER,
    ENCODER_PARAMETER,
    TRAINED_ATTRIBUTES,
    TRAINING_PARAMETERS,
    TRAINING_PARAMETERS_END,
    BertModelEstimator,
    TextData,
)
from skbert.inputs import (
    about,
    check_classes,
    check_label_array,
    check_labels,
    check_multilabel,
    check_sample_weight,
    check_texts,
)


class BertClassifier(ClassifierMixin, BertModelEstimator):
    __doc__ = f"""Text classifier: a TF Hub BERT encoder fine-tuned with a head.

    Texts go through the encoder's TF Hub preprocessor and encoder
    (``hub.KerasLayer``); the head maps the encoder outputs to class scores.
    With ``head="auto"`` a binary ``y`` gets Dropout then one sigmoid unit
    (binary cross-entropy), a multi-class ``y`` Dropout then a softmax
    (sparse categorical cross-entropy), and a multi-label ``y`` (an indicator
    matrix or a list of label sets) one sigmoid per label (binary
    cross-entropy), as `sklearn.neural_network.MLPClassifier` does. Training
    uses AdamW with linear warm-up and linear decay, as BERT was fine-tuned.

    Parameters
    ----------
    {ENCODER_PARAMETER}
    head : str, default="auto"
        A registered head (``skbert.list_heads()``), or ``"auto"``:
        ``"sigmoid"`` for binary targets, ``"softmax"`` for multi-class,
        ``"multilabel"`` for multi-label ones.
    {TRAINING_PARAMETERS}
    class_weight : dict, "balanced" or None, default=None
        Weights by class label, multiplied into ``sample_weight`` (not for
        multi-label targets).
    {TRAINING_PARAMETERS_END}

    Attributes
    ----------
    classes_ : ndarray
        The class labels, in the order of ``predict_proba``'s columns; for
        multi-label targets the labels of the indicator columns (0 .. n-1
        for an indicator matrix).
    {TRAINED_ATTRIBUTES}

    Examples
    --------
    >>> from skbert import BertClassifier
    >>> clf = BertClassifier("tiny_random_en_uncased", epochs=10, batch_size=4,
    ...                      learning_rate=3e-3, random_state=0)
    >>> X = ["good film", "great fun", "bad film", "awful plot"] * 4
    >>> y = ["pos", "pos", "neg", "neg"] * 4
    >>> clf.fit(X, y).predict(["great film", "awful film"])
    array(['pos', 'neg'], dtype='<U3')
    >>> clf.predict_proba(["good fun"]).shape
    (1, 2)

    Multi-label targets, as label sets; ``predict`` gives an indicator matrix:

    >>> tags = [{{"film"}}, {{"film", "fun"}}, {{"film"}}, {{"plot"}}] * 4
    >>> clf.fit(X, tags).classes_
    array(['film', 'fun', 'plot'], dtype='<U4')
    >>> clf.predict(["great fun"]).shape
    (1, 3)
    """

    _parameter_constraints: dict = {
        **BertModelEstimator._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }
    _auto_heads = {
        "binary": "sigmoid",
        "multiclass": "softmax",
        "multilabel": "multilabel",
    }

    def __init__(
        self,
        encoder=DEFAULT_ENCODER,
        head="auto",
        *,
        max_seq_length=128,
        long_texts="truncate",
        stride=None,
        window_pooling="mean",
        max_windows=16,
        epochs=3,
        batch_size=32,
        learning_rate="auto",
        weight_decay=0.01,
        warmup_ratio=0.1,
        layer_decay=1.0,
        train_encoder=True,
        class_weight=None,
        validation_fraction=0.1,
        early_stopping=False,
        n_iter_no_change=2,
        warm_start=False,
        random_state=None,
        jit_compile=False,
        inference_backend="auto",
        distribute_strategy=None,
        callbacks=None,
        verbose=0,
        **head_params,
    ):
        super().__init__(
            encoder,
            head,
            max_seq_length=max_seq_length,
            long_texts=long_texts,
            stride=stride,
            window_pooling=window_pooling,
            max_windows=max_windows,
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            weight_decay=weight_decay,
            warmup_ratio=warmup_ratio,
            layer_decay=layer_decay,
            train_encoder=train_encoder,
            validation_fraction=validation_fraction,
            early_stopping=early_stopping,
            n_iter_no_change=n_iter_no_change,
            warm_start=warm_start,
            random_state=random_state,
            jit_compile=jit_compile,
            inference_backend=inference_backend,
            distribute_strategy=distribute_strategy,
            callbacks=callbacks,
            verbose=verbose,
            **head_params,
        )
        self.class_weight = class_weight

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
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
        """Fine-tune the encoder and head on texts `X` and labels `y`.

        Parameters
        ----------
        X : sequence of str, or two-column array-like of str
            Texts, or sentence pairs (segment A, segment B).
        y : array-like of shape (n_samples,), indicator matrix or label sets
            Class labels of any type (str, int, bool), at least two classes;
            or, for multi-label targets, a binary matrix of shape
            (n_samples, n_labels) or a list of sets (lists, tuples) of labels.
        sample_weight : array-like of shape (n_samples,), optional
            Per-example weights of the loss.
        X_val, y_val : texts and labels, optional
            A validation set, in the forms of `X` and `y`, with labels among
            those of `y`. It is evaluated after each epoch (``val_loss``
            and ``val_score`` in ``history_``) and, with
            ``early_stopping=True``, decides when to stop, in place of the
            ``validation_fraction`` held out of `X`; the model never trains
            on it. ``class_weight`` does not weigh it.
        sample_weight_val : array-like of shape (n_val,), optional
            Weights of the validation loss.

        Returns
        -------
        self : BertClassifier

        Examples
        --------
        >>> from skbert import BertClassifier
        >>> clf = BertClassifier("tiny_random_en_uncased", epochs=2, batch_size=4,
        ...                      learning_rate=3e-3, random_state=0)
        >>> X, y = ["good film", "bad film"] * 4, ["pos", "neg"] * 4
        >>> clf = clf.fit(X, y, X_val=["good", "bad"], y_val=["pos", "neg"])
        >>> sorted(clf.history_), len(clf.history_["val_score"])
        (['loss', 'score', 'val_loss', 'val_score'], 2)
        """
        return self._fit_labels(
            X, y, sample_weight, None, (X_val, y_val, sample_weight_val)
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train one epoch on texts `X` and labels `y`, going on from the last call.

        The first call builds the network, as `fit` does, for every class
        in `classes`; later calls train it further. Each call is one pass
        over its batch at the constant ``learning_rate`` (no warm-up, no
        early stopping), with AdamW's state kept from call to call (and
        through pickling, so it works in `dask_ml.model_selection`'s
        incremental searches). A call that fails or is interrupted leaves
        the estimator as it was. `fit` starts over (unless ``warm_start``).

        Parameters
        ----------
        X : sequence of str, or two-column array-like of str
            Texts, or sentence pairs.
        y : array-like of shape (n_samples,), indicator matrix or label sets
            Labels, all of them in `classes`; one class alone is fine.
        classes : array-like, optional
            Every class the classifier will learn; required on the first
            call (for multi-label targets: every label, or ``range(n)`` for
            an indicator matrix of ``n`` columns), and if given later, the
            same.
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        self : BertClassifier

        Examples
        --------
        >>> from skbert import BertClassifier
        >>> clf = BertClassifier("tiny_random_en_uncased", batch_size=4,
        ...                      learning_rate=3e-3, random_state=0)
        >>> X, y = ["good film", "bad film"] * 4, ["pos", "neg"] * 4
        >>> for _ in range(3):
        ...     clf = clf.partial_fit(X, y, classes=["neg", "pos"])
        >>> clf.n_iter_, clf.classes_.tolist()
        (3, ['neg', 'pos'])
        """
        fitted = "model_" in vars(self)
        if classes is None and not fitted:
            raise ValueError(
                "classes must be passed on the first call to partial_fit: every "
                "class the classifier will learn, e.g. classes=np.unique(y_all)."
            )
        known = self.classes_ if classes is None else check_classes(classes)
        if fitted and not _same(known, self.classes_):
            raise ValueError(
                f"classes={known.tolist()} differs from the classes of the first "
                f"call to partial_fit, {self.classes_.tolist()}; call fit to start "
                "over with new classes."
            )
        return self._fit_labels(X, y, sample_weight, known)

    def _fit_labels(self, X, y, sample_weight, known, validation=(None, None, None)):
        """Fit (`known` None) or train one more epoch (`partial_fit`'s classes).

        `validation` is `fit`'s ``(X_val, y_val, sample_weight_val)``.
        """
        incremental = known is not None
        segments = check_texts(X)
        n = len(segments[0])
        weights = check_sample_weight(sample_weight, n)
        indicator = check_multilabel(y, n, known)
        if indicator is not None:
            classes, targets = indicator
            if self.class_weight is not None:
                raise ValueError(
                    "class_weight is not supported for multi-label y; weigh the "
                    "texts with sample_weight instead."
                )
            task, stratify = "multilabel", None
            detail = f"{len(classes)} labels"
        else:
            classes, y_index = check_labels(y, n, known)
            if self.class_weight is not None:
                if incremental and self.class_weight == "balanced":
                    raise ValueError(
                        "class_weight='balanced' weighs classes by their counts in "
                        "all of y, which partial_fit does not see; pass a dict of "
                        "weights by class, or sample_weight."
                    )
                weights *= _class_weights(self.class_weight, classes, y_index)
            task = "binary" if len(classes) == 2 else "multiclass"
            targets, stratify = y_index.astype(np.float32), y_index
            detail = f"{len(classes)} classes"
        # partial_fit has held its classes to the fitted ones already.
        if self._continues(incremental) and not _same(classes, self.classes_):
            raise ValueError(
                "warm_start=True trains the fitted network further, which "
                f"predicts the classes {self.classes_.tolist()}, but y has "
                f"{classes.tolist()}; fit with warm_start=False to start over."
            )
        held_out = self._held_out(len(segments), *validation)
        if held_out is not None:
            val_segments, val_weights = held_out
            n_val, remedy = len(val_weights), "Validation labels must be among y's."
            with about("y_val"):
                if indicator is None:
                    _, val_index = check_labels(validation[1], n_val, classes, remedy)
                    val_targets = val_index.astype(np.float32)
                else:
                    found = check_multilabel(validation[1], n_val, classes, remedy)
                    if found is None:
                        raise ValueError(
                            "y is multi-label, so y_val must be too: label sets, "
                            "or an indicator matrix with y's columns."
                        )
                    val_targets = found[1]
            held_out = TextData(val_segments, val_targets, val_weights)
        return self._fit_network(
            task,
            TextData(segments, targets, weights),
            held_out,
            n_outputs=len(classes),
            detail=detail,
            fitted={"classes_": classes},
            stratify=stratify,
            incremental=incremental,
        )

    def decision_function(self, X) -> np.ndarray:
        """Class scores before the output activation (logits).

        Returns
        -------
        ndarray of shape (n_samples,) for binary targets, else (n_samples, n_classes)
            For binary targets, positive scores favour ``classes_[1]``.
        """
        logits = self._logits(X)  # checks that the estimator is fitted
        return self._output_task().decision(logits)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            For multi-label targets, each column is the probability of its
            label on its own (rows need not sum to 1).
        """
        logits = self._logits(X)
        return self._output_task().probabilities(logits)

    def _output_task(self):
        from skbert.tasks import output_task

        return output_task(self.network_config_.task, self.activation_)

    def predict(self, X) -> np.ndarray:
        """Most probable class label of each text (multi-label: each label > 0.5).

        Returns
        -------
        ndarray of shape (n_samples,), or (n_samples, n_labels) for multi-label
            Labels from ``classes_``, or a 0/1 indicator matrix whose columns
            are ``classes_``.
        """
        proba = self.predict_proba(X)
        if self.network_config_.task == "multilabel":
            return (proba > 0.5).astype(int)
        return self.classes_[np.argmax(proba, axis=1)]

    def score(self, X, y, sample_weight=None) -> float:
        """Mean accuracy of ``predict(X)`` against `y` (multi-label: exact match).

        Labels of `y` that are not in ``classes_`` count as errors.

        Parameters
        ----------
        X : sequence of str, or two-column array-like of str
            Texts or sentence pairs, as in `fit`.
        y : array-like of shape (n_samples,), or indicator matrix (multi-label)
            True labels.
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        float
        """
        if self.network_config_.task == "multilabel":
            return super().score(X, y, sample_weight)
        predicted = self.predict(X)
        y = check_label_array(y, len(predicted))
        weights = check_sample_weight(sample_weight, len(predicted))
        hits = y.astype(object) == predicted.astype(object)
        return float(np.average(hits, weights=weights))


def _class_weights(class_weight, classes, y_index) -> np.ndarray:
    """Per-example weights from ``class_weight`` ("balanced" or a dict by label)."""
    if class_weight == "balanced":
        return compute_sample_weight("balanced", y_index).astype(np.float32)
    unknown = set(class_weight) - set(classes.tolist())
    if unknown:
        raise ValueError(
            f"class_weight names labels not in y: {sorted(map(repr, unknown))}; "
            f"the classes are {classes.tolist()}."
        )
    by_class = np.array([class_weight.get(c, 1.0) for c in classes.tolist()])
    return by_class[y_index].astype(np.float32)


def _same(classes, other) -> bool:
    """Whether two arrays of class labels hold the same labels in the same order."""
    return classes.tolist() == other.tolist()
