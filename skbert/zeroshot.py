"""`BertZeroShotClassifier`: classify texts by their likeness to label sentences."""

from __future__ import annotations

import os
from numbers import Integral, Real

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from skbert.base import (
    DEFAULT_ENCODER,
    ENCODER_PARAMETER,
    INFERENCE_BACKEND,
    LONG_TEXTS_PARAMETERS,
    BertEstimator,
    unit_rows,
)
from skbert.inputs import check_texts

#: The default ``temperature``: the lowest mean log-loss of the embedded MiniLM
#: over benchmarks/zero_shot.py's six runs (see the class docstring).
DEFAULT_TEMPERATURE = 0.05
#: Two labels whose embeddings have a cosine above this are the same to the model.
_SAME = 1 - 1e-9


class BertZeroShotClassifier(ClassifierMixin, BertEstimator):
    __doc__ = f"""Zero-shot text classifier: no labeled texts, only the labels.

    Each label becomes a sentence (its name put into ``template``, or the
    description given for it), the frozen encoder embeds the label
    sentences and the texts, and a text's class probabilities are the
    softmax of its cosine similarities to the labels, divided by
    ``temperature``. Nothing is trained: `fit` embeds the labels, and it
    needs neither texts nor labels for them.

    Parameters
    ----------
    candidate_labels : list of str, or dict of str to str
        The labels to choose among, at least two. A list of names: each
        name goes into ``template`` (``"sport"`` becomes ``"This text is
        about sport."``). A dict label -> description: the description is
        the label's sentence as it is (``template`` is not applied), e.g.
        ``{{"sport": "Football, tennis and the Olympics."}}``; its labels
        may be integers too (all of one kind), as ``y``'s often are. Names
        and descriptions are non-empty strings, all different. Their order
        does not matter: ``classes_`` holds the labels sorted.
    template : str, default="This text is about {{}}."
        The sentence a label name goes into: the one ``{{}}`` in it is
        replaced by the name.
    temperature : float, default={DEFAULT_TEMPERATURE}
        Divides the cosine similarities before the softmax of
        `predict_proba`; smaller is more confident. It changes the
        probabilities, never which label is predicted. The default had the
        lowest log-loss of the default encoder, averaged over
        ``benchmarks/zero_shot.py``'s six runs (BBC News, TREC's test
        questions and 20 CLINC150 intents; label names, and descriptions):
        0.7196, against 0.7203 at 0.04, 0.7751 at 0.03 and 0.7824 at 0.07. Each
        run alone was best between 0.03 and 0.07. Another encoder, or
        ``pooling``, may want another: search it with ``GridSearchCV`` and
        ``scoring="neg_log_loss"`` on a few labeled texts.
    {ENCODER_PARAMETER}
    pooling : {{"pooled", "mean", "cls", "max"}}, default="pooled"
        The embedding of a text, as in `BertVectorizer`: ``"pooled"`` is
        the encoder's ``pooled_output`` (for the default MiniLM, the mean
        over tokens it was trained to compare texts with).
    max_seq_length : int, default=128
        Word pieces per text (and per label sentence) after packing.
    {LONG_TEXTS_PARAMETERS}
    batch_size : int, default=32
        Texts per encoder batch.
    {INFERENCE_BACKEND}
    verbose : int, default=0
        0 is silent; more shows the progress of encoding on stderr.

    Attributes
    ----------
    classes_ : ndarray of str (or int)
        The labels, sorted, in the order of ``predict_proba``'s columns (as
        scikit-learn's classifiers keep them, so that ``log_loss`` and
        ``roc_auc_score`` read the columns right).
    label_sentences_ : ndarray of str
        The sentence embedded for each of ``classes_``.
    label_embeddings_ : ndarray of shape (n_classes, n_features), float32
        The label sentences' embeddings, L2-normalized.
    n_segments_ : int
        1: single texts.
    model_ : tf_keras.Model
        The encoder network (shared with `BertVectorizer`), as in
        `BertVectorizer`; None when loaded with
        ``skbert.load(path, backend="onnxruntime")``.
    inference_backend_ : str
        The backend embeddings are computed on.

    See Also
    --------
    BertVectorizer : the embeddings compared here.

    Examples
    --------
    >>> from skbert import BertZeroShotClassifier
    >>> clf = BertZeroShotClassifier(["sport", "politics"],
    ...     encoder="tiny_random_en_uncased", pooling="mean").fit()
    >>> clf.classes_
    array(['politics', 'sport'], dtype='<U8')
    >>> clf.label_sentences_
    array(['This text is about politics.', 'This text is about sport.'],
          dtype='<U28')
    >>> clf.predict(["This text is about sport."])
    array(['sport'], dtype='<U8')
    >>> clf.predict_proba(["a match", "an election"]).shape
    (2, 2)

    Descriptions instead of names:

    >>> clf = BertZeroShotClassifier(
    ...     {{"sport": "Football and tennis.", "politics": "Elections and laws."}},
    ...     encoder="tiny_random_en_uncased", pooling="mean").fit()
    >>> clf.label_sentences_.tolist()
    ['Elections and laws.', 'Football and tennis.']
    """

    _parameter_constraints: dict = {
        **{
            name: constraint
            for name, constraint in BertEstimator._parameter_constraints.items()
            if name != "jit_compile"
        },
        "candidate_labels": [dict, "array-like", str, None],
        "template": [str],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "pooling": [StrOptions({"pooled", "mean", "cls", "max"})],
        "verbose": ["verbose"],
    }
    #: The TensorFlow backend runs the encoder without XLA.
    jit_compile = False

    def __init__(
        self,
        candidate_labels=None,
        *,
        template="This text is about {}.",
        temperature=DEFAULT_TEMPERATURE,
        encoder=DEFAULT_ENCODER,
        pooling="pooled",
        max_seq_length=128,
        long_texts="truncate",
        stride=None,
        window_pooling="mean",
        max_windows=16,
        batch_size=32,
        inference_backend="auto",
        verbose=0,
    ):
        self.candidate_labels = candidate_labels
        self.template = template
        self.temperature = temperature
        self.encoder = encoder
        self.pooling = pooling
        self.max_seq_length = max_seq_length
        self.long_texts = long_texts
        self.stride = stride
        self.window_pooling = window_pooling
        self.max_windows = max_windows
        self.batch_size = batch_size
        self.inference_backend = inference_backend
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False  # y is never used
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X=None, y=None):
        """Embed the label sentences; no labeled texts are needed.

        Parameters
        ----------
        X : sequence of str, optional
            Texts; if given, only checked to be single texts (they are not
            used, and give no labels).
        y : ignored
            Present for scikit-learn's API: in a `Pipeline`, `GridSearchCV`
            or ``cross_val_score``, fitting ignores the labels, and the
            scores are the zero-shot accuracy on each fold.

        Returns
        -------
        self : BertZeroShotClassifier
        """
        from skbert.vectorizer import BertVectorizer

        classes, sentences = self._label_sentences()
        if X is not None and len(check_texts(X)) != 1:
            raise ValueError(
                "BertZeroShotClassifier reads single texts, and X holds sentence "
                "pairs (two columns); give one text per row, e.g. the two joined "
                "with a space."
            )
        vectorizer = BertVectorizer(
            os.fspath(self.encoder),
            pooling=self.pooling,
            max_seq_length=self.max_seq_length,
            long_texts=self.long_texts,
            stride=self.stride,
            window_pooling=self.window_pooling,
            max_windows=self.max_windows,
            batch_size=self.batch_size,
            inference_backend=self.inference_backend,
            verbose=self.verbose,
        )
        embeddings = unit_rows(vectorizer.fit_transform(sentences))
        _check_distinct(classes, embeddings)
        self._set_network(
            vectorizer._network,
            network_config_=vectorizer.network_config_,
            n_segments_=1,
            classes_=classes,
            label_sentences_=sentences,
            label_embeddings_=embeddings.astype(np.float32),
        )
        return self

    def _label_sentences(self) -> tuple[np.ndarray, np.ndarray]:
        """``(classes, sentences)`` of ``candidate_labels``, sorted by label.

        `ValueError` or `TypeError` say what is wrong with the labels or
        the template.
        """
        labels = self.candidate_labels
        example = "e.g. candidate_labels=['sport', 'politics']"
        if labels is None:
            raise ValueError(
                "candidate_labels is required: the labels to choose among, as a "
                "list of names or a dict label -> description; " + example + "."
            )
        if isinstance(labels, str):
            raise TypeError(
                f"candidate_labels is the single string {labels!r}; give a list "
                "of at least two label names, " + example + "."
            )
        _check_template(self.template)
        if isinstance(labels, dict):
            names, descriptions = list(labels), list(labels.values())
        else:
            if np.ndim(labels) != 1:
                raise ValueError(
                    f"candidate_labels has shape {np.shape(labels)}; give a flat "
                    "list of label names, " + example + "."
                )
            names, descriptions = list(labels), None
        if len(names) < 2:
            raise ValueError(
                f"candidate_labels has {len(names)} label(s) ({names!r}); a "
                "zero-shot classifier chooses among at least two, " + example + "."
            )
        if descriptions is None:
            _check_strings("candidate_labels", names, "label names")
            _check_unique("candidate_labels", names, names, "label")
            sentences = [self.template.replace("{}", name) for name in names]
        else:
            _check_keys(names)
            _check_strings("candidate_labels", descriptions, "descriptions", names)
            _check_unique("candidate_labels", descriptions, names, "description")
            sentences = descriptions
        classes = np.asarray(names, dtype=str if isinstance(names[0], str) else None)
        order = np.argsort(classes, kind="stable")
        return classes[order], np.asarray(sentences, dtype=str)[order]

    def decision_function(self, X) -> np.ndarray:
        """Cosine similarity of each text to each label.

        Parameters
        ----------
        X : sequence of str
            Texts.

        Returns
        -------
        ndarray of shape (n_samples, n_classes), or (n_samples,) for two labels
            Columns in the order of ``classes_``. With two labels, as
            scikit-learn's binary classifiers do, one score per text: the
            cosine to ``classes_[1]`` less the cosine to ``classes_[0]``
            (positive favours ``classes_[1]``).
        """
        cosines = self._cosines(X)
        if len(self.classes_) == 2:
            return cosines[:, 1] - cosines[:, 0]
        return cosines

    def _cosines(self, X) -> np.ndarray:
        check_is_fitted(self, "label_embeddings_")
        texts = unit_rows(self._outputs(X))
        return texts @ self.label_embeddings_.T.astype(np.float64)

    def predict_proba(self, X) -> np.ndarray:
        """Softmax over the labels of the cosines divided by ``temperature``.

        Parameters
        ----------
        X : sequence of str
            Texts.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``; rows sum to 1.
        """
        scaled = self._cosines(X) / self.temperature
        scaled -= scaled.max(axis=1, keepdims=True)
        exp = np.exp(scaled)
        return exp / exp.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        """The label each text is most like.

        Parameters
        ----------
        X : sequence of str
            Texts.

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        cosines = self._cosines(X)  # checks that the estimator is fitted
        return self.classes_[np.argmax(cosines, axis=1)]

    def _export_head(self):
        """`export`'s last step: cosines over ``temperature``, then the softmax."""
        from skbert.onnx_export import LinearHead

        check_is_fitted(self, "label_embeddings_")
        return LinearHead(
            weight=self.label_embeddings_ / np.float32(self.temperature),
            bias=np.zeros(len(self.classes_), np.float32),
            normalize=True,
            task="binary" if len(self.classes_) == 2 else "multiclass",
            activation="softmax",
            classes=self.classes_,
        )


def _check_template(template: str) -> None:
    count = template.count("{}")
    if count != 1:
        raise ValueError(
            f"template={template!r} has {count} '{{}}'; it needs exactly one, "
            "where each label name goes, e.g. template='This text is about {}.'."
        )


def _check_strings(argument, values, what, names=None) -> None:
    """`TypeError` or `ValueError` unless every one of `values` is a non-empty str."""
    for i, value in enumerate(values):
        where = f"label {names[i]!r}" if names is not None else f"item {i}"
        if not isinstance(value, str):
            raise TypeError(
                f"{argument}: the {what} must be strings, and {where} is "
                f"{value!r} of type {type(value).__name__}; convert them, e.g. "
                "with str()."
            )
        if not value.strip():
            raise ValueError(
                f"{argument}: {where} is {value!r}; the {what} must say "
                "something (non-empty, not blank)."
            )


def _check_keys(labels: list) -> None:
    """`TypeError` unless a dict's labels are all strings or all integers."""
    kinds = {
        str if isinstance(label, str) else int
        for label in labels
        if isinstance(label, str)
        or (isinstance(label, Integral) and not isinstance(label, bool))
    }
    odd = [label for label in labels if not isinstance(label, (str, Integral))]
    odd += [label for label in labels if isinstance(label, bool)]
    if odd or len(kinds) > 1:
        what = f"{odd[0]!r} of type {type(odd[0]).__name__}" if odd else "mixed"
        raise TypeError(
            "candidate_labels: a dict's labels (its keys) must be all strings or "
            f"all integers, like the y they are compared with; they are {what}. "
            "Convert them, e.g. with str()."
        )


def _check_unique(argument, values, names, what) -> None:
    """`ValueError` naming the labels whose `values` (names, descriptions) repeat."""
    first = {}
    for name, value in zip(names, values):
        if value in first:
            if what == "label":
                raise ValueError(
                    f"{argument} names the label {name!r} twice; each label "
                    "once, please."
                )
            raise ValueError(
                f"{argument}: labels {first[value]!r} and {name!r} have the same "
                f"description {value!r}; a classifier cannot tell them apart. "
                "Merge them into one label or describe each differently."
            )
        first[value] = name


def _check_distinct(classes: np.ndarray, embeddings: np.ndarray) -> None:
    """`ValueError` if two labels' embeddings are the same: no text could choose."""
    same = np.argwhere(np.triu(embeddings @ embeddings.T > _SAME, k=1))
    if len(same):
        a, b = (str(classes[i]) for i in same[0])
        raise ValueError(
            f"candidate_labels: labels {a!r} and {b!r} get the same embedding "
            "(their sentences read the same to the encoder: it may ignore case, "
            "or they share their first max_seq_length word pieces), so no text "
            "could be told from one to the other. Name or describe them "
            "differently."
        )
