"""`BertFewShotClassifier`: contrastive fine-tuning, then a scikit-learn head.

With a few labeled texts per class, `fit` first trains the encoder on pairs
of them (`Contrastive`): in each batch every pair of texts is a pair, texts
of one class are pulled together (cosine towards 1), texts of different
classes pushed apart (towards 0). Then a scikit-learn classifier (``head``)
is fitted on the tuned encoder's embeddings. SetFit (Tunstall et al., 2022)
is the model; the pairs differ: SetFit draws pairs of two texts each and runs
both through the encoder, skbert takes every pair within a batch of texts, so
a batch of 16 texts gives 120 pairs for 16 passes through the encoder.
"""

from __future__ import annotations

import math
import os
from numbers import Integral, Real

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context, clone
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.utils._available_if import available_if
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, has_fit_parameter

from skbert import progress
from skbert.base import (
    DEFAULT_ENCODER,
    ENCODER_PARAMETER,
    INFERENCE_BACKEND,
    LONG_TEXTS_PARAMETERS,
    BertEstimator,
    TextData,
    unit_rows,
)
from skbert.config import NetworkConfig
from skbert.inputs import (
    about,
    check_labels,
    check_multilabel,
    check_sample_weight,
    check_texts,
)


def _head_has(method: str):
    """Whether the fitted head (or, unfitted, the ``head`` given) has `method`."""

    def check(self):
        head = getattr(self, "head_", None)
        head = self.head if head is None else head
        if isinstance(head, OneVsRestClassifier):
            head = head.estimator
        return hasattr(head, method)

    return check


class BertFewShotClassifier(ClassifierMixin, BertEstimator):
    __doc__ = f"""Few-shot text classifier: contrastive fine-tuning, then a head.

    `fit` runs two stages. First the encoder is fine-tuned on pairs of the
    labeled texts: each training batch holds ``batch_size`` texts drawn
    class by class (so that each class present has at least two), and each
    pair of texts in it is a pair: the cosine of the two embeddings is
    pulled towards 1 for texts of the same class and towards 0 for texts of
    different classes (the squared error, positives and negatives weighed
    equally; for multi-label targets towards the Jaccard overlap of the two
    label sets). Training stops after ``max_pairs`` pairs, so the time is
    bounded whatever the number of texts, and memory is that of one batch.
    With ``long_texts="chunks"`` the pairs are of windows, each window an
    example with its text's labels (a step costs ``batch_size`` windows).
    Then ``head``, a scikit-learn classifier, is fitted on the tuned
    encoder's embeddings (L2-normalized with ``normalize=True``; with
    chunks, the mean of each text's windows) of the same texts. Predictions
    embed texts with the tuned encoder (on ONNX Runtime by default) and ask
    the head.

    Parameters
    ----------
    {ENCODER_PARAMETER}
    head : scikit-learn classifier, default=LogisticRegression()
        Fitted on the embeddings (a clone of it; ``head_`` is the fitted
        one). Its options are parameters, ``head__C``, so a grid search
        reaches them. Multi-label targets get one head per label
        (`sklearn.multiclass.OneVsRestClassifier`).
    label_descriptions : dict, optional
        Label -> a text describing it, or a list of such texts. Each is an
        extra labeled example, in both stages: with one or two texts per
        class, a description gives a class its positive pairs.
    pooling : {{"pooled", "mean", "cls", "max"}}, default="pooled"
        The embedding, as in `BertVectorizer` (the default MiniLM encoder's
        ``pooled_output`` is the mean over tokens).
    normalize : bool, default=True
        L2-normalize the embeddings the head reads.
    max_seq_length : int, default=128
        Tokens per text (or window) after packing.
    {LONG_TEXTS_PARAMETERS}
    max_pairs : int, default=6000
        The pairs the contrastive stage trains on (each batch of ``b`` texts
        gives ``b * (b - 1) / 2``): the time of the stage grows with it, not
        with the number of texts. 0 skips the stage (the head is fitted on
        the encoder as it is).
    batch_size : int, default=16
        Texts per contrastive batch (fewer if there are fewer texts), and
        per prediction batch.
    learning_rate : float, default=1e-4
        Peak learning rate of AdamW in the contrastive stage.
    weight_decay : float, default=0.01
        Decoupled weight decay of AdamW.
    warmup_ratio : float, default=0.1
        Share of the contrastive steps over which the rate rises from 0.
    random_state : int, RandomState or None, default=None
        Seed of the batches, dropout and the head (if it takes one): an int
        makes fits repeatable.
    jit_compile : bool, default=False
        Run the encoder through XLA with the ``"tensorflow"`` backend.
    {INFERENCE_BACKEND}
    callbacks : list of tf_keras.callbacks.Callback, optional
        Keras callbacks of the contrastive stage (its logs: ``loss``), as in
        `BertClassifier`.
    verbose : int, default=0
        0 is silent; 1 or 2 show the contrastive stage's progress and the
        encoding of texts on stderr.

    Attributes
    ----------
    classes_ : ndarray
        The class labels (for multi-label targets, the labels of the
        indicator columns).
    head_ : scikit-learn classifier
        The fitted head.
    history_ : dict
        ``loss`` of the contrastive stage (one value: it is one pass).
    n_pairs_ : int
        Pairs the contrastive stage trained on.
    learning_rate_ : float
        The peak learning rate used.
    model_ : tf_keras.Model
        The tuned encoder: token ids in, embeddings out (None when loaded
        with ``skbert.load(path, backend="onnxruntime")``).
    inference_backend_ : str
        The backend embeddings are computed on.
    n_segments_ : int
        1: single texts.

    Examples
    --------
    >>> from skbert import BertFewShotClassifier
    >>> X = ["good film", "great fun", "bad film", "awful plot"] * 2
    >>> y = ["pos", "pos", "neg", "neg"] * 2
    >>> clf = BertFewShotClassifier("tiny_random_en_uncased", max_pairs=200,
    ...                             learning_rate=1e-3, random_state=0)
    >>> clf.fit(X, y).predict(["great film", "awful film"]).shape
    (2,)
    >>> clf.set_params(head__C=10.0).head.C
    10.0
    """

    _parameter_constraints: dict = {
        **BertEstimator._parameter_constraints,
        "head": [HasMethods(["fit", "predict"])],
        "label_descriptions": [dict, None],
        "pooling": [StrOptions({"pooled", "mean", "cls", "max"})],
        "normalize": ["boolean"],
        "max_pairs": [Interval(Integral, 0, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "warmup_ratio": [Interval(Real, 0, 1, closed="both")],
        "random_state": ["random_state"],
        "callbacks": [list, tuple, None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        encoder=DEFAULT_ENCODER,
        head=LogisticRegression(),  # noqa: B008  (cloned, never fitted itself)
        *,
        label_descriptions=None,
        pooling="pooled",
        normalize=True,
        max_seq_length=128,
        long_texts="truncate",
        stride=None,
        window_pooling="mean",
        max_windows=16,
        max_pairs=6000,
        batch_size=16,
        learning_rate=1e-4,
        weight_decay=0.01,
        warmup_ratio=0.1,
        random_state=None,
        jit_compile=False,
        inference_backend="auto",
        callbacks=None,
        verbose=0,
    ):
        self.encoder = encoder
        self.head = head
        self.label_descriptions = label_descriptions
        self.pooling = pooling
        self.normalize = normalize
        self.max_seq_length = max_seq_length
        self.long_texts = long_texts
        self.stride = stride
        self.window_pooling = window_pooling
        self.max_windows = max_windows
        self.max_pairs = max_pairs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.warmup_ratio = warmup_ratio
        self.random_state = random_state
        self.jit_compile = jit_compile
        self.inference_backend = inference_backend
        self.callbacks = callbacks
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None):
        """Tune the encoder on pairs of `X`'s texts, then fit the head.

        Parameters
        ----------
        X : sequence of str
            Texts (single texts; sentence pairs are refused).
        y : array-like of shape (n_samples,), indicator matrix or label sets
            Class labels, at least two classes (a class may have a single
            text); or multi-label targets as in `BertClassifier`.
        sample_weight : array-like of shape (n_samples,), optional
            Weights of each text's pairs in the contrastive loss, and of its
            row in the head's fit (single-label targets: the head must take
            ``sample_weight``; multi-label: the contrastive loss only).

        Returns
        -------
        self : BertFewShotClassifier
        """
        from skbert.network import build_network

        segments = check_texts(X, n_segments=None)
        if len(segments) != 1:
            raise ValueError(
                "BertFewShotClassifier classifies single texts, and X holds "
                "sentence pairs; join each pair into one text, or use "
                "BertClassifier, which reads pairs."
            )
        n = len(segments[0])
        weights = check_sample_weight(sample_weight, n)
        indicator = check_multilabel(y, n, None)
        if indicator is not None:
            classes, targets = indicator
            labels = targets
        else:
            classes, labels = check_labels(y, n)
            targets = np.eye(len(classes), dtype=np.float32)[labels]
        head = clone(self.head)
        if indicator is not None:
            head = OneVsRestClassifier(head)
        weigh_head = sample_weight is not None and indicator is None
        if weigh_head:  # checked before the long stage, not after
            if not has_fit_parameter(head, "sample_weight"):
                raise ValueError(
                    f"sample_weight weighs the head's fit too, and "
                    f"{type(head).__name__}.fit takes no sample_weight; drop it, "
                    "or use a head that takes it (e.g. LogisticRegression)."
                )
        texts, targets, labels, weights = self._with_descriptions(
            segments[0], classes, targets, labels, weights, indicator is not None
        )
        config = NetworkConfig(
            encoder=os.fspath(self.encoder),
            n_segments=1,
            max_seq_length=self.max_seq_length,
            train_encoder=True,
            pooling=self.pooling,
        )
        data = TextData((texts,), targets, weights)
        with progress.reporting(self.verbose > 0):
            self._prepare_encoder(config)
            _, seed = self._seeds()
            network = build_network(config)
            if self.long_texts == "chunks":
                self._window_reader(network, 1)
            history, n_pairs = self._tune(network, data, seed)
            features = self._features(texts, network)
        if "random_state" in head.get_params() and self.random_state is not None:
            head.set_params(random_state=seed)
        fit_params = {"sample_weight": weights} if weigh_head else {}
        head.fit(features, labels, **fit_params)
        self._set_network(
            network,
            classes_=classes,
            head_=head,
            history_=history,
            n_pairs_=n_pairs,
            learning_rate_=float(self.learning_rate),
            multilabel_=indicator is not None,
            n_segments_=1,
            network_config_=config,
        )
        return self

    def _with_descriptions(self, texts, classes, targets, labels, weights, multilabel):
        """The texts with ``label_descriptions`` added as labeled examples."""
        if not self.label_descriptions:
            return texts, targets, labels, weights
        known = {c: i for i, c in enumerate(classes.tolist())}
        extra_texts, extra_index = [], []
        with about("label_descriptions"):
            for label, described in self.label_descriptions.items():
                if label not in known:
                    raise ValueError(
                        f"label_descriptions describes {label!r}, which is not a "
                        f"class of y ({classes.tolist()}); describe y's labels."
                    )
                described = [described] if isinstance(described, str) else described
                for text in described:
                    if not isinstance(text, str) or not text.strip():
                        raise ValueError(
                            f"the description of {label!r} must be a non-empty "
                            f"string or a list of them, not {text!r}."
                        )
                    extra_texts.append(text)
                    extra_index.append(known[label])
        extra_index = np.asarray(extra_index)
        extra_targets = np.eye(len(classes), dtype=np.float32)[extra_index]
        extra_labels = extra_targets.astype(labels.dtype) if multilabel else extra_index
        return (
            np.concatenate([texts, np.asarray(extra_texts, dtype=object)]),
            np.concatenate([targets, extra_targets]),
            np.concatenate([labels, extra_labels]),
            np.concatenate([weights, np.ones(len(extra_texts), np.float32)]),
        )

    def _tune(self, network, data: TextData, seed: int):
        """The contrastive stage: the history and the pairs trained on."""
        from skbert.training import check_callbacks, fit_mode

        if self.max_pairs == 0:
            return {"loss": []}, 0
        # With chunks, windows are paired as texts of their own: a step costs
        # `batch_size` windows, not all the windows of `batch_size` texts.
        model, examples = self._training_examples(network, data, pooled=False)
        history, plan = fit_mode(
            model,
            Contrastive(self.max_pairs),
            examples,
            batch_size=self.batch_size,
            epochs=1,
            seed=seed,
            learning_rate=self.learning_rate,
            weight_decay=self.weight_decay,
            warmup_ratio=self.warmup_ratio,
            callbacks=check_callbacks(self.callbacks),
            verbose=self.verbose,
        )
        pairs = plan.batch_size * (plan.batch_size - 1) // 2
        return history, pairs * plan.total_steps

    def _features(self, X, network=None) -> np.ndarray:
        """The embeddings the head reads."""
        features = self._outputs(X, network).astype(np.float64)
        return unit_rows(features) if self.normalize else features

    def _head_features(self, X) -> np.ndarray:
        check_is_fitted(self, "head_")
        return self._features(X)

    def predict(self, X) -> np.ndarray:
        """The head's prediction on each text's embedding.

        Returns
        -------
        ndarray of shape (n_samples,), or (n_samples, n_labels) for multi-label
        """
        features = self._head_features(X)  # checks that it is fitted
        predicted = self.head_.predict(features)
        if self.multilabel_:
            return np.asarray(predicted).astype(int)
        return self.classes_[np.asarray(predicted, dtype=int)]

    @available_if(_head_has("predict_proba"))
    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities from the head, columns in the order of ``classes_``.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        features = self._head_features(X)
        return self.head_.predict_proba(features)

    @available_if(_head_has("decision_function"))
    def decision_function(self, X) -> np.ndarray:
        """The head's decision function on each text's embedding."""
        features = self._head_features(X)
        return self.head_.decision_function(features)

    def _export_head(self):
        """The head for `export`: linear heads only (`sklearn_linear_head`)."""
        from skbert.onnx_export import sklearn_linear_head

        check_is_fitted(self, "head_")
        return sklearn_linear_head(
            self.head_, self.classes_, self.multilabel_, self.normalize
        )

    def embed(self, X) -> np.ndarray:
        """The embeddings the head reads (tuned, normalized if ``normalize``).

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        return self._head_features(X)


class Contrastive:
    """The contrastive `skbert.training.Mode`: every pair of a batch is a pair.

    (It follows the protocol without subclassing it: `skbert.training`
    imports TensorFlow, which importing skbert does not.)

    Its targets are label indicator rows; its loss (`pair_loss`) compares
    the cosines of the embeddings in a batch with the label overlaps.
    Single-label batches are drawn class by class: the classes in a shuffled
    cycle, at least two texts of each class taken (all of a class with
    fewer), each class's texts in a shuffled cycle of their own, so every
    text is seen about equally often. Multi-label batches are drawn at
    random.
    """

    metric = None

    def __init__(self, max_pairs: int):
        self.max_pairs = max_pairs

    @staticmethod
    def loss(targets, embeddings):
        return pair_loss(targets, embeddings)

    def plan(self, examples, batch_size, epochs, seed):
        from skbert.training import Plan

        size = min(batch_size, len(examples))
        if size < 2:
            raise ValueError(
                "The contrastive stage needs at least two texts; give more, or "
                "max_pairs=0 to fit the head alone."
            )
        steps = max(1, math.ceil(self.max_pairs / (size * (size - 1) // 2)))
        rng = np.random.default_rng(seed)
        targets = examples.targets[examples.index]
        single = bool(np.all(targets.sum(axis=1) == 1))
        order = (
            _balanced_order(targets.argmax(axis=1), size, steps, rng)
            if single
            else _random_order(len(targets), size, steps, rng)
        )
        return Plan(examples.index[order][None, :], steps, size)


def _random_order(n: int, size: int, steps: int, rng) -> np.ndarray:
    """`steps` batches of `size` distinct rows of `n`, each drawn at random."""
    return np.concatenate([rng.choice(n, size, replace=False) for _ in range(steps)])


def _balanced_order(labels: np.ndarray, size: int, steps: int, rng) -> np.ndarray:
    """`steps` batches of `size` distinct rows, class by class (see `Contrastive`).

    A batch takes consecutive classes of one shuffled cycle of them, so no
    class comes twice in a batch; the next batch goes on from there.
    """
    classes = np.unique(labels)
    per_class = max(2, size // len(classes))
    members = {c: np.flatnonzero(labels == c) for c in classes}
    queues = {c: rng.permutation(members[c]) for c in classes}
    cycle, at = rng.permutation(classes), 0
    batches = []
    for _ in range(steps):
        if at >= len(cycle):
            cycle, at = rng.permutation(classes), 0
        batch = []
        for k in range(len(classes)):
            if len(batch) == size:
                break
            c = cycle[(at + k) % len(cycle)]
            take = min(per_class, len(members[c]), size - len(batch))
            if len(queues[c]) < take:
                queues[c] = np.concatenate([queues[c], rng.permutation(members[c])])
            batch.extend(queues[c][:take].tolist())
            queues[c] = queues[c][take:]
        at += k + 1 if len(batch) < size else k
        batches.append(batch)
    return np.asarray(batches, dtype=np.int64).ravel()


def pair_loss(targets, embeddings):
    """Per text, the squared error of its cosines to the batch's other texts.

    The target of a pair is the Jaccard overlap of the two label rows (1 for
    the same class, 0 for different ones). The pairs that share a label and
    those that share none weigh half each, where a text has both.
    """
    import tensorflow as tf

    unit = tf.math.l2_normalize(embeddings, axis=1)
    cosine = tf.matmul(unit, unit, transpose_b=True)
    targets = tf.cast(targets, cosine.dtype)
    shared = tf.matmul(targets, targets, transpose_b=True)
    sizes = tf.reduce_sum(targets, axis=1)
    union = sizes[:, None] + sizes[None, :] - shared
    overlap = shared / tf.maximum(union, 1.0)
    others = 1.0 - tf.eye(tf.shape(unit)[0], dtype=cosine.dtype)
    positive = tf.cast(overlap > 0, cosine.dtype) * others
    negative = others - positive
    error = tf.square(cosine - overlap)
    n_positive = tf.reduce_sum(positive, axis=1)
    n_negative = tf.reduce_sum(negative, axis=1)
    on_positive = tf.reduce_sum(error * positive, axis=1) / tf.maximum(n_positive, 1.0)
    on_negative = tf.reduce_sum(error * negative, axis=1) / tf.maximum(n_negative, 1.0)
    both = tf.logical_and(n_positive > 0, n_negative > 0)
    return tf.where(both, 0.5 * (on_positive + on_negative), on_positive + on_negative)
