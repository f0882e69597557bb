"""`BertClassifier`: a scikit-learn classifier on a TF Hub BERT encoder."""

from __future__ import annotations

import math

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets

from skbert.base import BertEstimator
from skbert.inputs import check_sample_weight, check_texts
from skbert.plugins import get_head, list_heads

DEFAULT_ENCODER = "minilm_l6_en_uncased"


class BertClassifier(ClassifierMixin, BertEstimator):
    """Text classifier: a TF Hub BERT encoder fine-tuned with a classification head.

    Texts go through the encoder's TF Hub preprocessor and encoder
    (``hub.KerasLayer``); the head maps ``pooled_output`` to class scores.
    With ``head="auto"`` a binary ``y`` gets Dropout then one sigmoid unit
    (binary cross-entropy) and a multi-class ``y`` Dropout then a softmax
    (sparse categorical cross-entropy). Training uses AdamW with linear
    warm-up and linear decay, as BERT was fine-tuned.

    Parameters
    ----------
    encoder : str or path, default="minilm_l6_en_uncased"
        A preset name (``skbert.list_encoders()``), the TF Hub handle of a
        preset, or a local directory with ``preprocess/`` and ``encoder/``
        SavedModels. The default, all-MiniLM-L6-v2, ships with skbert's
        dependencies and needs no network; so does ``"tiny_random_en_uncased"``.
    head : str, default="auto"
        A registered head (``skbert.list_heads()``), or ``"auto"``:
        ``"sigmoid"`` for binary targets, ``"softmax"`` otherwise.
    dropout : float, default=0.1
        Dropout rate before the head's output layer.
    max_seq_length : int, default=128
        Tokens per example after packing, ``[CLS]`` and ``[SEP]`` included;
        longer texts are truncated (pairs: the longer segment first).
    epochs : int, default=3
        Passes over the training data.
    batch_size : int, default=32
        Examples per training step and per prediction batch.
    learning_rate : float, default=3e-5
        Peak learning rate of AdamW (BERT fine-tuning uses 2e-5 to 5e-5; a
        frozen encoder wants more, e.g. 1e-3).
    weight_decay : float, default=0.01
        Decoupled weight decay of AdamW; LayerNorm weights and biases are exempt.
    warmup_ratio : float, default=0.1
        Share of the training steps over which the learning rate rises from 0.
    train_encoder : bool, default=True
        Fine-tune the encoder's weights too; False trains the head only.
    class_weight : dict, "balanced" or None, default=None
        Weights by class label, multiplied into ``sample_weight``.
    validation_fraction : float, default=0.1
        Share of the training data held out to decide early stopping.
    early_stopping : bool, default=False
        Stop when the validation loss has not improved for
        ``n_iter_no_change`` epochs, and keep the best epoch's weights.
    n_iter_no_change : int, default=2
        Patience of early stopping, in epochs.
    random_state : int, RandomState or None, default=None
        Seed for weight initialisation, dropout and shuffling. An int makes
        fits repeatable: it also seeds Python's, NumPy's and TensorFlow's
        global generators (``tf_keras.utils.set_random_seed``).
    verbose : int, default=0
        0 is silent; 1 shows a Keras progress bar per epoch, 2 a line per epoch.

    Attributes
    ----------
    classes_ : ndarray
        The class labels, in the order of ``predict_proba``'s columns.
    model_ : tf_keras.Model
        The fitted network, strings in, logits out.
    history_ : dict
        Per-epoch ``loss`` (and ``val_loss`` with early stopping).
    n_iter_ : int
        Epochs run.
    n_segments_ : int
        1 when fitted on single texts, 2 on sentence pairs.

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
    """

    _parameter_constraints: dict = {
        **BertEstimator._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        encoder=DEFAULT_ENCODER,
        head="auto",
        *,
        dropout=0.1,
        max_seq_length=128,
        epochs=3,
        batch_size=32,
        learning_rate=3e-5,
        weight_decay=0.01,
        warmup_ratio=0.1,
        train_encoder=True,
        class_weight=None,
        validation_fraction=0.1,
        early_stopping=False,
        n_iter_no_change=2,
        random_state=None,
        verbose=0,
    ):
        self.encoder = encoder
        self.head = head
        self.dropout = dropout
        self.max_seq_length = max_seq_length
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.warmup_ratio = warmup_ratio
        self.train_encoder = train_encoder
        self.class_weight = class_weight
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fine-tune the encoder and head on texts `X` and labels `y`.

        Parameters
        ----------
        X : sequence of str, or two-column array-like of str
            Texts, or sentence pairs (segment A, segment B).
        y : array-like of shape (n_samples,)
            Class labels of any type (str, int, bool); at least two classes.
        sample_weight : array-like of shape (n_samples,), optional
            Per-example weights of the loss.

        Returns
        -------
        self : BertClassifier
        """
        segments = check_texts(X)
        n = len(segments[0])
        classes, y_index = _check_labels(y, n)
        weights = check_sample_weight(sample_weight, n)
        if self.class_weight is not None:
            weights *= _class_weights(self.class_weight, classes, y_index)
        config = self._network_config(
            len(segments), len(classes), self._head_name(len(classes))
        )
        targets = y_index.astype(np.float32)
        self._fit_network(config, segments, targets, weights, stratify=y_index)
        self.classes_ = classes
        return self

    def _head_name(self, n_classes: int) -> str:
        task = "binary" if n_classes == 2 else "multiclass"
        if self.head == "auto":
            return "sigmoid" if task == "binary" else "softmax"
        spec = get_head(self.head)
        if task not in spec.tasks:
            raise ValueError(
                f"head={self.head!r} serves {', '.join(spec.tasks)} targets, but y is "
                f"{task} ({n_classes} classes); use head='auto' or one of: "
                + ", ".join(h.name for h in list_heads() if task in h.tasks)
            )
        return self.head

    def decision_function(self, X) -> np.ndarray:
        """Class scores before the output activation (logits).

        Returns
        -------
        ndarray of shape (n_samples,) for binary targets, else (n_samples, n_classes)
            For binary targets, positive scores favour ``classes_[1]``.
        """
        logits = self._logits(X)
        if logits.shape[1] == 1:
            return logits[:, 0]
        if len(self.classes_) == 2:
            return logits[:, 1] - logits[:, 0]
        return logits

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        logits = self._logits(X)
        if self.activation_ == "sigmoid":
            positive = 1.0 / (1.0 + np.exp(-logits[:, 0]))
            return np.column_stack([1.0 - positive, positive])
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        """Most probable class label of each text.

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


def _check_labels(y, n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(classes, index of each label in classes)``, or raise a clear error."""
    if y is None:
        raise ValueError("y is None; BertClassifier.fit needs one label per text.")
    y = np.asarray(y, dtype=object if _has_mixed_or_none(y) else None)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(
            f"y has shape {y.shape}; BertClassifier takes one label per text, a 1-D "
            "array of class labels."
        )
    if len(y) != n_samples:
        raise ValueError(
            f"X has {n_samples} texts but y has {len(y)} labels; pass one label per "
            "text."
        )
    for i, label in enumerate(y):
        if label is None or (isinstance(label, float) and math.isnan(label)):
            raise ValueError(
                f"y[{i}] is {label}: a missing label. Drop those texts or give them "
                "a class."
            )
    try:
        classes, index = np.unique(y, return_inverse=True)
    except TypeError:
        kinds = sorted({type(v).__name__ for v in y})
        raise ValueError(
            f"y mixes label types ({', '.join(kinds)}); use one type for all labels."
        ) from None
    check_classification_targets(y)
    if len(classes) < 2:
        raise ValueError(
            f"y has a single class ({classes[0]!r}); a classifier needs at least two."
        )
    return classes, index


def _has_mixed_or_none(y) -> bool:
    if isinstance(y, np.ndarray):
        return False
    return len({type(v) for v in y}) > 1


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
