"""`BertVectorizer`: texts to fixed-size embeddings from a TF Hub BERT encoder."""

from __future__ import annotations

import os

import numpy as np
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin, _fit_context
from sklearn.utils._param_validation import StrOptions

from skbert import progress
from skbert.base import (
    DEFAULT_ENCODER,
    ENCODER_PARAMETER,
    INFERENCE_BACKEND,
    LONG_TEXTS_PARAMETERS,
    BertEstimator,
)
from skbert.config import NetworkConfig
from skbert.inputs import check_texts


class BertVectorizer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BertEstimator):
    __doc__ = f"""Embed texts (or sentence pairs) with a frozen TF Hub BERT encoder.

    `fit` only loads the encoder (nothing is learned), so
    ``make_pipeline(BertVectorizer(), LogisticRegression())`` trains the
    scikit-learn model on fixed features: the fast path for grid searches
    over scikit-learn heads.

    Parameters
    ----------
    {ENCODER_PARAMETER}
    pooling : {{"pooled", "mean", "cls", "max"}}, default="pooled"
        ``"pooled"`` is the encoder's ``pooled_output`` (for the default
        MiniLM preset, the mean over tokens it was trained with; for BERT,
        the tanh pooler over ``[CLS]``); the others pool ``sequence_output``
        over real tokens (mean, max) or take the ``[CLS]`` vector.
    max_seq_length : int, default=128
        Tokens per text after packing; longer texts are truncated unless
        read in chunks.
    {LONG_TEXTS_PARAMETERS}
    batch_size : int, default=32
        Texts per encoder batch.
    jit_compile : bool, default=False
        Run the encoder through XLA (see `BertClassifier`).
    {INFERENCE_BACKEND}
    verbose : int, default=0
        0 is silent; more shows the progress of encoding (and of building
        the encoder on first use) on stderr.

    Attributes
    ----------
    n_features_out_ : int
        Width of the embeddings.
    n_segments_ : int
        1 when fitted on single texts, 2 on sentence pairs.
    model_ : tf_keras.Model
        The encoder network: token ids in, its outputs and poolings out. It is
        shared by every frozen use of the encoder in the process, and texts it
        embedded are kept (see `skbert.feature_cache_info`).
    inference_backend_ : str
        The backend embeddings are computed on.

    Examples
    --------
    >>> from skbert import BertVectorizer
    >>> vec = BertVectorizer("tiny_random_en_uncased", pooling="mean")
    >>> vec.fit_transform(["a good film", "a bad film"]).shape
    (2, 32)
    >>> vec.get_feature_names_out()[:2]
    array(['bertvectorizer0', 'bertvectorizer1'], dtype=object)
    """

    _parameter_constraints: dict = {
        **BertEstimator._parameter_constraints,
        "pooling": [StrOptions({"pooled", "mean", "cls", "max"})],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        encoder=DEFAULT_ENCODER,
        *,
        pooling="pooled",
        max_seq_length=128,
        long_texts="truncate",
        stride=None,
        window_pooling="mean",
        max_windows=16,
        batch_size=32,
        jit_compile=False,
        inference_backend="auto",
        verbose=0,
    ):
        self.encoder = encoder
        self.pooling = pooling
        self.max_seq_length = max_seq_length
        self.long_texts = long_texts
        self.stride = stride
        self.window_pooling = window_pooling
        self.max_windows = max_windows
        self.batch_size = batch_size
        self.jit_compile = jit_compile
        self.inference_backend = inference_backend
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []  # float32 whatever X is
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Load the encoder; `X` sets whether texts or pairs are expected.

        Parameters
        ----------
        X : sequence of str, or two-column array-like of str
            Texts, or sentence pairs (segment A, segment B).
        y : ignored

        Returns
        -------
        self : BertVectorizer
        """
        from skbert.network import build_network

        segments = check_texts(X)
        config = NetworkConfig(
            encoder=os.fspath(self.encoder),
            n_segments=len(segments),
            max_seq_length=self.max_seq_length,
            pooling=self.pooling,
        )
        with progress.reporting(self.verbose > 0):
            network = build_network(config)
        if self.long_texts == "chunks":
            self._window_reader(network, len(segments))
        self._set_network(
            network,
            network_config_=config,
            n_segments_=len(segments),
            n_features_out_=int(network.model.output["pooled_output"].shape[-1]),
        )
        return self

    def transform(self, X) -> np.ndarray:
        """Embed `X`.

        Returns
        -------
        ndarray of shape (n_samples, n_features_out_), float32
        """
        return self._outputs(X)

    @property
    def _n_features_out(self):
        return self.n_features_out_
