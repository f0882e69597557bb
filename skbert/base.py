"""What skbert's estimators share: text input, the network, training, pickling.

`BertEstimator` holds what every estimator does (encoder outputs on texts,
pickling, `save`, `export`); `BertModelEstimator` adds what the trained ones do
(heads with their ``head__*`` options, the training loop).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
from numbers import Integral, Real
from pathlib import Path
from typing import NamedTuple

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from skbert import progress
from skbert.config import NetworkConfig
from skbert.inputs import about, check_sample_weight, check_texts
from skbert.plugins import get_head, list_heads
from skbert.runtime import BACKENDS
from skbert.windows import LONG_TEXTS, WINDOW_POOLINGS


class TextData(NamedTuple):
    """Texts a fit reads, with the targets its loss compares outputs with."""

    segments: tuple
    targets: np.ndarray
    weights: np.ndarray


HEAD_PREFIX = "head__"
#: The encoder estimators use unless told otherwise: it needs no network.
DEFAULT_ENCODER = "minilm_l6_en_uncased"

#: Doc of the ``encoder`` parameter, shared by the estimators' docstrings.
ENCODER_PARAMETER = """\
encoder : str or path, default="minilm_l6_en_uncased"
        A preset name (``skbert.list_encoders()``), the TF Hub handle of a
        preset, or a local directory with ``preprocess/`` and ``encoder/``
        SavedModels. The default, all-MiniLM-L6-v2, ships with skbert's
        dependencies and needs no network; so does ``"tiny_random_en_uncased"``."""

#: Docs of the long-text parameters, shared by the estimators.
LONG_TEXTS_PARAMETERS = """\
long_texts : {"truncate", "chunks"}, default="truncate"
        How a text longer than ``max_seq_length`` word pieces is read.
        ``"truncate"`` reads its beginning. ``"chunks"`` reads it whole, in
        windows of ``max_seq_length - 2`` word pieces (`skbert.windows`):
        each window runs through the network and the outputs of a text's
        windows (logits, embeddings) are pooled by ``window_pooling``, in
        training (the loss is on the pooled logits) as in prediction. A
        training batch is ``batch_size`` texts with all their windows. Single
        texts only: `fit` refuses sentence pairs with it.
    stride : int, optional
        With ``"chunks"``, the word pieces consecutive windows share; None
        is a quarter of a window.
    window_pooling : {"mean", "max"}, default="mean"
        With ``"chunks"``, how a text's window outputs become its own.
    max_windows : int or None, default=16
        With ``"chunks"``, the most windows read of one text: a longer text
        is read in this many windows, evenly spaced over it, so that a
        megabyte of text costs no more than 16 windows. None reads all."""

#: Parameter docs shared by the trained estimators' docstrings.
TRAINING_PARAMETERS = f"""\
max_seq_length : int, default=128
        Tokens per example after packing, ``[CLS]`` and ``[SEP]`` included;
        longer texts are truncated (pairs: the longer segment first) unless
        read in chunks.
    {LONG_TEXTS_PARAMETERS}
    epochs : int, default=3
        Passes over the training data.
    batch_size : int, default=32
        Examples per training step and per prediction batch.
    learning_rate : float or "auto", default="auto"
        Peak learning rate of AdamW. ``"auto"``: 1e-3 with
        ``train_encoder=False`` (the head alone), else the rate the
        encoder's preset recommends (1e-4 for the MiniLM presets), else
        BERT's 3e-5. ``learning_rate_`` tells which was used.
    weight_decay : float, default=0.01
        Decoupled weight decay of AdamW; LayerNorm weights and biases are exempt.
    warmup_ratio : float, default=0.1
        Share of the training steps over which the learning rate rises from 0.
    layer_decay : float, default=1.0
        Layer-wise learning-rate decay: the head (and pooler) train at
        ``learning_rate``, the encoder's top block at ``learning_rate *
        layer_decay``, each block below at ``layer_decay`` times the rate of
        the one above, the embeddings lowest. 1 trains all at one rate.
    train_encoder : bool, default=True
        Fine-tune the encoder's weights too; False trains the head only."""

#: Doc of the ``inference_backend`` parameter, shared by the estimators.
INFERENCE_BACKEND = """\
inference_backend : {"auto", "onnxruntime", "onnxruntime-int8", "tensorflow"}, \
default="auto"
        What runs the fitted network for predictions, embeddings and a
        frozen encoder's features: ``"onnxruntime"`` runs it as an ONNX
        graph (texts tokenized by WordPiece outside TensorFlow, same
        results to float rounding), ``"onnxruntime-int8"`` the same graph
        with int8 matmul weights (faster, slightly different results),
        ``"tensorflow"`` the Keras model. ``"auto"`` is ONNX Runtime
        whenever the encoder and head can be written as ONNX (encoders
        skbert builds or converts, the built-in heads) and TensorFlow
        otherwise, with an `InferenceBackendWarning` saying why.
        ``inference_backend_`` tells which one runs. Training always runs on
        TensorFlow."""

TRAINING_PARAMETERS_END = f"""\
validation_fraction : float, default=0.1
        Share of the training data held out to decide early stopping
        (unless `fit` is given ``X_val`` and ``y_val``).
    early_stopping : bool, default=False
        Stop when the validation loss has not improved for
        ``n_iter_no_change`` epochs, and keep the best epoch's weights.
    n_iter_no_change : int, default=2
        Patience of early stopping, in epochs.
    warm_start : bool, default=False
        When fitted, `fit` trains the fitted network further (``epochs``
        more, on a new warm-up schedule) instead of starting over, as
        scikit-learn's MLP estimators do. The targets must fit the network
        (a classifier: the same ``classes_``; a regressor: the same number
        of outputs, and ``y`` is scaled as in the first fit), and the
        network's settings (encoder, ``max_seq_length``, head and its
        options, ``train_encoder``) the same; `ValueError` otherwise.
    random_state : int, RandomState or None, default=None
        Seed for weight initialisation, dropout and shuffling. An int makes
        fits repeatable: it also seeds Python's, NumPy's and TensorFlow's
        global generators (``tf_keras.utils.set_random_seed``).
    jit_compile : bool, default=False
        With the ``"tensorflow"`` inference backend, run the encoder through
        XLA when predicting (and when a frozen encoder computes features);
        each new batch shape costs a compilation. Whether it is faster
        depends on the hardware: XLA does not use oneDNN kernels. Training
        is not XLA-compiled.
    {INFERENCE_BACKEND}
    distribute_strategy : tf.distribute.Strategy, optional
        Build and train the network in this strategy's scope, e.g.
        ``tf.distribute.MirroredStrategy()`` over the GPUs of a machine or
        ``MultiWorkerMirroredStrategy()`` over a cluster; ``batch_size`` is
        then the global batch, split among the replicas. A strategy belongs
        to its process, so it is not pickled or saved: an unpickled or loaded
        estimator has None.
    callbacks : list of tf_keras.callbacks.Callback, optional
        Keras callbacks (``tf_keras.callbacks.CSVLogger``, ``TensorBoard``,
        ``ModelCheckpoint``, your own) for every fit, `partial_fit` call and
        continued fit: they get Keras' epoch and batch events with the logs
        ``loss`` and, with a validation set, ``val_loss``, ``score`` and
        ``val_score``, after skbert's early stopping has seen them. A fit
        uses the objects given and detaches them from the Keras model when
        it ends, so they pickle with the estimator. `clone` (and so
        `GridSearchCV` and `cross_val_score`) deep-copies them, as it copies
        every parameter: each clone's fits go to its own copies, which write
        to the same paths (a ``CSVLogger`` file is rewritten by each fit).
    verbose : int, default=0
        0 is silent; 1 shows a Keras progress bar per epoch, 2 a line per epoch;
        both show the progress of encoding texts (frozen features,
        predictions) and of building the encoder on first use, on stderr.
    **head_params
        Options of the head, prefixed ``head__`` (``head__dropout=0.2``,
        ``head__hidden_units=(128,)``); ``skbert.get_head(name).params()``
        lists a head's options and defaults. They are parameters like the
        others, so ``GridSearchCV`` can search them."""

TRAINED_ATTRIBUTES = """\
model_ : tf_keras.Model
        The fitted network, token ids in, head outputs before the activation
        out (an `skbert.runtime.OnnxModel` when loaded with
        ``skbert.load(path, backend="onnxruntime")``).
    inference_backend_ : str
        The backend predictions run on: ``"onnxruntime"``,
        ``"onnxruntime-int8"`` or ``"tensorflow"``.
    history_ : dict
        Per-epoch ``loss``; with a validation set (``X_val`` and ``y_val``
        given to `fit`, or early stopping's held-out share) also
        ``val_loss``, and ``score`` and ``val_score``: the estimator's
        `score` (accuracy, or R²) on the training batches (as trained,
        dropout on) and on the validation set.
    n_iter_ : int
        Epochs run.
    learning_rate_ : float
        The peak learning rate of the last fit (``learning_rate`` with
        ``"auto"`` resolved).
    n_segments_ : int
        1 when fitted on single texts, 2 on sentence pairs."""


class BertEstimator(BaseEstimator):
    """Base of skbert's estimators; not for direct use.

    A fitted estimator has ``model_`` (strings in, an array per text out)
    and ``network_config_``, the plain data from which `model_` is rebuilt
    after unpickling or `skbert.load`.
    """

    _parameter_constraints: dict = {
        "encoder": [str, os.PathLike],
        "max_seq_length": [Interval(Integral, 4, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "jit_compile": ["boolean"],
        "inference_backend": [StrOptions({"auto", *BACKENDS})],
        "long_texts": [StrOptions(set(LONG_TEXTS))],
        "stride": [Interval(Integral, 0, None, closed="left"), None],
        "window_pooling": [StrOptions(set(WINDOW_POOLINGS))],
        "max_windows": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags

    def _outputs(self, X, network=None) -> np.ndarray:
        """Outputs of the fitted network (or `network`) on `X` (float32), in order.

        `X` may be an iterator (e.g. a generator of texts): it is read
        ``skbert.batching.CHUNK_SIZE`` texts at a time.
        """
        from skbert.batching import chunks
        from skbert.windows import pool_windows

        if network is None:
            check_is_fitted(self, "model_")
            network, n_segments = self._network, self.n_segments_
        else:
            n_segments = network.config.n_segments
        backend, jit, outputs = self.inference_backend, self.jit_compile, []
        with progress.reporting(self.verbose > 0):
            for segments in chunks(X, n_segments):
                windows = self._windows(network, segments)
                if windows is not None:
                    segments = (windows.texts,)
                what = "encoding " + ("windows" if windows else "texts")
                with progress.task(what, len(segments[0])):
                    batch = network.outputs(segments, self.batch_size, jit, backend)
                if windows is not None:
                    batch = pool_windows(batch, windows, self.window_pooling)
                outputs.append(batch)
        return np.concatenate(outputs)

    def _windows(self, network, segments):
        """The windows of `segments` with ``long_texts="chunks"``, else None."""
        if self.long_texts != "chunks":
            return None
        from skbert.windows import split_windows

        tokenizer, stride = self._window_reader(network, len(segments))
        return split_windows(
            segments[0], tokenizer, self.max_seq_length, stride, self.max_windows
        )

    def _window_reader(self, network, n_segments: int):
        """The tokenizer and stride that cut texts into windows; errors say why not."""
        from skbert.runtime import NotExportable
        from skbert.windows import window_stride

        if n_segments != 1:
            raise ValueError(
                "long_texts='chunks' reads single texts, and X holds sentence "
                "pairs; use long_texts='truncate' for pairs (the longer segment "
                "loses word pieces first)."
            )
        stride = window_stride(self.stride, self.max_seq_length)
        try:
            return network.predict_onnx.tokenizer(), stride
        except NotExportable as exc:
            raise ValueError(
                "long_texts='chunks' cuts texts with the encoder's WordPiece "
                f"vocabulary, which skbert cannot read here: {exc} Use "
                "long_texts='truncate'."
            ) from None

    def _prepare_encoder(self, config) -> None:
        """Build a generated encoder (before seeding: a cold cache draws no numbers).

        A frozen one is loaded as the process's shared encoder, outside any
        distribution strategy, so that estimators share it.
        """
        from skbert.encoders import resolve_encoder
        from skbert.features import shared_encoder

        resolve_encoder(config.encoder).materialize()
        if not config.train_encoder:
            shared_encoder(config)

    def _seeds(self, continued: bool = False) -> tuple[int, int]:
        """``(split, order)`` seeds of a fit, the global generators seeded.

        The validation split's seed stays the same from fit to continued fit,
        so early stopping never validates on texts an earlier fit trained
        on; the order's (shuffling, dropout) is new for each continuation.
        """
        from skbert.training import seed_everything

        split = int(check_random_state(self.random_state).randint(2**31 - 1))
        order = (split + self.n_iter_) % (2**31 - 1) if continued else split
        if self.random_state is not None:
            seed_everything(order)
        return split, order

    def _training_examples(self, network, data: TextData, pooled: bool = True):
        """The model a fit trains on `data`, and `data` as its `Examples`.

        With ``long_texts="chunks"`` the model reads all windows of a batch's
        texts and pools their outputs per text (the loss is on pooled
        outputs); unless not `pooled`: then each window is an example of its
        own, with its text's targets and weight.
        """
        from skbert.batching import text_lengths, window_gather
        from skbert.model import window_model
        from skbert.training import Examples

        windows = self._windows(network, data.segments)
        if windows is not None and not pooled:
            data = TextData(
                (windows.texts,),
                np.repeat(data.targets, windows.counts, axis=0),
                np.repeat(data.weights, windows.counts),
            )
            windows = None
        examples = data.segments if windows is None else (windows.texts,)
        what = "encoding " + ("windows" if windows else "texts") + " for training"
        with progress.task(what, len(examples[0])):
            gather = network.training_data(
                examples, self.batch_size, self.jit_compile, self.inference_backend
            )
        model, lengths = network.trained_model, text_lengths(examples)
        if windows is not None:
            model = window_model(model, self.window_pooling)
            gather = window_gather(gather, windows)
            lengths = np.add.reduceat(lengths, windows.starts)
        return model, Examples.of(gather, data.targets, data.weights, lengths)

    @property
    def inference_backend_(self) -> str:
        """The backend predictions run on (see ``inference_backend``)."""
        check_is_fitted(self, "model_")
        return self._network.backend(self.inference_backend)

    def _set_network(self, network, **fitted) -> None:
        """Set the network and the fitted attributes `fitted` in one step.

        One ``dict.update`` call: no signal (KeyboardInterrupt) can land
        between two of the attributes, so the estimator is never half-fitted.
        """
        self.__dict__.update(_network=network, model_=network.model, **fitted)

    def save(self, path, overwrite: bool = False) -> None:
        """Save the fitted estimator to directory `path`, in a format safe to load.

        JSON for the parameters and fitted attributes, safetensors for the
        weights: `skbert.load` reads them back without unpickling or running
        anything from the directory. The directory is written beside `path`
        and renamed into place: an interrupted or failed save leaves what
        was there before (user guide: "Reliability").

        Parameters
        ----------
        path : str or path
            A directory to create (or an empty one).
        overwrite : bool, default=False
            Replace `path` if it holds an estimator skbert saved. A directory
            holding anything else is never replaced (`FileExistsError`).

        Examples
        --------
        >>> import tempfile, skbert
        >>> vec = skbert.BertVectorizer("tiny_random_en_uncased").fit(["a text"])
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     vec.save(f"{tmp}/vec")
        ...     type(skbert.load(f"{tmp}/vec")).__name__
        'BertVectorizer'
        """
        from skbert.persistence import save

        save(self, path, overwrite)

    def export(self, path, format="onnx", overwrite: bool = False) -> Path:
        """Export the fitted estimator for serving: texts in, predictions out.

        Both formats hold the whole prediction path, tokenizer included, and
        load without skbert.

        Parameters
        ----------
        path : str or path
            Where to write. For ``"saved_model"``, the model's base
            directory in TF Serving's layout: new, empty, or holding numbered
            version folders; the model goes to version 1, or one past the
            highest there.
        format : {"onnx", "saved_model"}, default="onnx"
            ``"onnx"``: an ONNX model (`skbert.onnx_export.export_onnx`).
            ``"saved_model"``: a TF SavedModel whose ``serving_default``
            signature takes strings ``text`` (and ``text_pair`` for pairs);
            loading it needs TensorFlow and ``tensorflow_text``
            (`skbert.serving.export_saved_model` lists its outputs).
        overwrite : bool, default=False
            With ``"onnx"``, replace `path` if it holds an ONNX export of
            skbert's. ``"saved_model"`` never replaces: it adds a version.

        Returns
        -------
        Path
            What was written; for ``"saved_model"``, the version folder.

        Examples
        --------
        >>> import tempfile, skbert
        >>> import tensorflow as tf
        >>> vec = skbert.BertVectorizer("tiny_random_en_uncased").fit(["a text"])
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     version = vec.export(f"{tmp}/vec", format="saved_model")
        ...     served = tf.saved_model.load(str(version))
        ...     serve = served.signatures["serving_default"]
        ...     version.name, serve(text=tf.constant(["a text"]))["embeddings"].shape
        ('1', TensorShape([1, 32]))
        """
        if self.long_texts == "chunks":
            raise ValueError(
                "export writes the truncating prediction path, and this estimator "
                "reads long texts in chunks: an export would read only the first "
                f"max_seq_length={self.max_seq_length} word pieces of each text. "
                "To export that path anyway, set_params(long_texts='truncate') "
                "first; to serve whole texts, serve the estimator itself (skbert.load)."
            )
        if format == "saved_model":
            from skbert.serving import export_saved_model

            if overwrite:
                raise ValueError(
                    "format='saved_model' adds a version folder and replaces "
                    "none; drop overwrite=True (it is for format='onnx')."
                )
            return export_saved_model(self, path)
        if format == "onnx":
            from skbert.onnx_export import export_onnx

            return export_onnx(self, path, overwrite)
        raise ValueError(
            f"format={format!r} is not an export format; use 'onnx' or 'saved_model'."
        )

    def _export_head(self):
        """The step after the network that exports add, or None (see export).

        An estimator whose predictions are a linear map of its network's
        embeddings returns it as a `skbert.onnx_export.LinearHead` (or raises
        `skbert.runtime.NotExportable` saying why it cannot); None means the
        network's output is all an export needs.
        """
        return None

    def __getstate__(self):
        state = dict(super().__getstate__())
        if state.get("distribute_strategy") is not None:
            state["distribute_strategy"] = None
        if "model_" in state and state["model_"] is None:
            raise TypeError(
                "An estimator loaded with backend='onnxruntime' does not pickle (it "
                "holds no TensorFlow weights); pickle one loaded with "
                "skbert.load(path), or keep the saved directory."
            )
        if state.pop("model_", None) is not None:
            state["model_weights_"] = self._network.trained_weights()
        state.pop("_network", None)
        optimizer = state.pop("_optimizer", None)
        if optimizer is not None:  # partial_fit's, kept for the next call
            from skbert.optimization import optimizer_state

            state["_optimizer_state"] = optimizer_state(optimizer)
        return state

    def __setstate__(self, state):
        weights = state.pop("model_weights_", None)
        optimizer_state = state.pop("_optimizer_state", None)
        super().__setstate__(state)
        if weights is not None:
            from skbert.network import build_network

            network = build_network(self.network_config_)
            network.set_trained_weights(weights)
            kept = {}
            if optimizer_state is not None:
                from skbert.optimization import make_optimizer, set_optimizer_state

                optimizer = make_optimizer(
                    self.learning_rate_, self.weight_decay, layer_decay=self.layer_decay
                )
                optimizer.build(network.trained_model.trainable_variables)
                set_optimizer_state(optimizer, optimizer_state)
                kept["_optimizer"] = optimizer
            self._set_network(network, **kept)


class BertModelEstimator(BertEstimator):
    """Base of the trained estimators: a head on the encoder, fitted end to end.

    Its ``__init__`` stores the parameters every trained estimator has (a
    subclass with more adds them in its own ``__init__``); subclasses turn
    targets into arrays for the head's loss and call `_fit_network` with the
    task.
    """

    _parameter_constraints: dict = {
        **BertEstimator._parameter_constraints,
        "head": [str],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [
            Interval(Real, 0, None, closed="neither"),
            StrOptions({"auto"}),
        ],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "warmup_ratio": [Interval(Real, 0, 1, closed="both")],
        "layer_decay": [Interval(Real, 0, 1, closed="right")],
        "train_encoder": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "early_stopping": ["boolean"],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "distribute_strategy": "no_validation",
        "callbacks": [list, tuple, None],
        "verbose": ["verbose"],
    }
    #: The head ``head="auto"`` picks, by task.
    _auto_heads: dict[str, str] = {}

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
        self.encoder = encoder
        self.head = head
        self.max_seq_length = max_seq_length
        self.long_texts = long_texts
        self.stride = stride
        self.window_pooling = window_pooling
        self.max_windows = max_windows
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.warmup_ratio = warmup_ratio
        self.layer_decay = layer_decay
        self.train_encoder = train_encoder
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.n_iter_no_change = n_iter_no_change
        self.warm_start = warm_start
        self.random_state = random_state
        self.jit_compile = jit_compile
        self.inference_backend = inference_backend
        self.distribute_strategy = distribute_strategy
        self.callbacks = callbacks
        self.verbose = verbose
        self._set_head_params(head_params)

    def _logits(self, X) -> np.ndarray:
        """The head's outputs on `X` before its activation, as float64."""
        return np.asarray(self._outputs(X), dtype=np.float64)

    def _set_head_params(self, head_params: dict) -> None:
        for name, value in head_params.items():
            if not name.startswith(HEAD_PREFIX) or name == HEAD_PREFIX:
                raise TypeError(
                    f"{type(self).__name__}() got an unexpected keyword argument "
                    f"{name!r}; head options are passed as head__<option>."
                )
            setattr(self, name, value)

    def get_params(self, deep=True):
        params = super().get_params(deep=deep)
        params.update(
            (k, v) for k, v in vars(self).items() if k.startswith(HEAD_PREFIX)
        )
        return params

    def set_params(self, **params):
        head_params = {k: v for k, v in params.items() if k.startswith(HEAD_PREFIX)}
        self._set_head_params(head_params)
        rest = {k: v for k, v in params.items() if k not in head_params}
        return super().set_params(**rest) if rest else self

    def _head_name(self, task: str, detail: str) -> str:
        """The head for `task`: the auto choice, or ``self.head`` if it serves it."""
        if self.head == "auto":
            return self._auto_heads[task]
        spec = get_head(self.head)
        if task not in spec.tasks:
            raise ValueError(
                f"head={self.head!r} serves {', '.join(spec.tasks)} targets, but y is "
                f"{task} ({detail}); use head='auto' or one of: "
                + ", ".join(h.name for h in list_heads() if task in h.tasks)
            )
        return self.head

    def _fit_network(
        self,
        task: str,
        train: TextData,
        validation: TextData | None = None,
        *,
        n_outputs: int,
        detail: str,
        fitted: dict,
        stratify=None,
        incremental: bool = False,
    ):
        """Build (or continue) the network for `task`, train it, set the attributes.

        `train` and `validation` (``X_val``, or None) hold texts encoded as
        the head's loss reads them; `stratify` (class indices, or None)
        stratifies early stopping's held-out share; `detail` describes the
        targets for errors.

        A fresh fit builds a new network. With ``warm_start`` or `incremental`
        (`partial_fit`: one epoch at the constant learning rate, the
        optimizer kept from call to call) a fitted estimator trains its own
        network further; its weights are put back if training fails. The
        attributes (`fitted`, the estimator's own, and the network's) are set
        together once training has finished, so an interrupted fit leaves the
        estimator as it was.
        """
        from skbert.network import build_network

        config = self._network_config(task, n_outputs, detail, len(train.segments))
        previous = self._continued(config, incremental)
        with progress.reporting(self.verbose > 0):
            if previous is None:
                self._prepare_encoder(config)
            seeds = self._seeds(continued=previous is not None)
            rate = self._learning_rate()
            with _strategy_scope(self.distribute_strategy):
                network = previous if previous is not None else build_network(config)
                history, optimizer = self._train(
                    network,
                    rate,
                    seeds,
                    train,
                    validation,
                    stratify,
                    incremental,
                    continued=previous is not None,
                )
        if previous is not None:
            # Epochs without a validation loss (partial_fit's) have NaN there.
            before, after = len(self.history_["loss"]), len(history["loss"])
            history = {
                key: [
                    *self.history_.get(key, [math.nan] * before),
                    *history.get(key, [math.nan] * after),
                ]
                for key in {**self.history_, **history}
            }
        self._set_network(
            network,
            activation_=network.head.activation,
            history_=history,
            n_iter_=len(history["loss"]),
            learning_rate_=rate,
            n_segments_=config.n_segments,
            network_config_=config,
            _optimizer=optimizer if incremental else None,
            **fitted,
        )
        return self

    def _network_config(self, task, n_outputs, detail, n_segments) -> NetworkConfig:
        """What the network of a fit on `task` targets is built from."""
        head = self._head_name(task, detail)
        head_params = {
            k[len(HEAD_PREFIX) :]: v
            for k, v in self.get_params(deep=False).items()
            if k.startswith(HEAD_PREFIX)
        }
        get_head(head).check_params(head_params)
        return NetworkConfig(
            encoder=os.fspath(self.encoder),
            n_segments=n_segments,
            max_seq_length=self.max_seq_length,
            train_encoder=self.train_encoder,
            head=head,
            task=task,
            n_outputs=n_outputs,
            head_params=head_params,
        )

    def _continues(self, incremental: bool) -> bool:
        """Whether a fit trains the fitted network further, not a new one."""
        return (incremental or self.warm_start) and "model_" in vars(self)

    def _continued(self, config, incremental):
        """The fitted network a fit continues (`warm_start`, `partial_fit`), or None.

        `ValueError` if the settings that shape the network changed since.
        """
        if not self._continues(incremental):
            return None
        how = "partial_fit" if incremental else "warm_start=True"
        again = "call fit" if incremental else "fit with warm_start=False"
        if self.model_ is None:
            raise ValueError(
                f"{how} trains the fitted network further, and this estimator was "
                "loaded with backend='onnxruntime', which holds no TensorFlow "
                "weights; load it with skbert.load(path) to train it."
            )
        old = self.network_config_
        changed = [
            f"{field.name} ({getattr(old, field.name)!r} -> "
            f"{getattr(config, field.name)!r})"
            for field in dataclasses.fields(config)
            if getattr(old, field.name) != getattr(config, field.name)
        ]
        if changed:
            raise ValueError(
                f"{how} trains the fitted network further, but what it is built "
                f"from changed since it was fitted: {'; '.join(changed)}. Set it "
                f"back, or {again} to start over."
            )
        return self._network

    def _learning_rate(self) -> float:
        """``learning_rate``, with ``"auto"`` resolved (see its doc)."""
        if self.learning_rate != "auto":
            return float(self.learning_rate)
        if not self.train_encoder:
            return 1e-3
        from skbert.encoders import resolve_encoder

        return resolve_encoder(self.encoder).learning_rate or 3e-5

    def _held_out(self, n_segments, X_val, y_val, sample_weight_val):
        """``(segments, weights)`` of `fit`'s ``X_val``, checked, or None.

        `ValueError` unless ``X_val`` and ``y_val`` come together.
        """
        if X_val is None and y_val is None:
            if sample_weight_val is not None:
                raise ValueError(
                    "sample_weight_val weighs X_val and y_val; pass them too, or "
                    "drop it."
                )
            return None
        if X_val is None or y_val is None:
            given, missing = ("X_val", "y_val") if y_val is None else ("y_val", "X_val")
            raise ValueError(
                f"{given} is given without {missing}; pass both, or neither."
            )
        with about("X_val"):
            segments = check_texts(X_val, n_segments=n_segments)
        with about("sample_weight_val"):
            weights = check_sample_weight(sample_weight_val, len(segments[0]))
        return segments, weights

    def _train(
        self, network, rate, seeds, train, validation, stratify, incremental, continued
    ):
        """Train `network` in stages: its examples, a plan, the optimizer, the loop.

        `seeds` is ``(split, order)`` (`_seeds`). `validation` is ``X_val``'s
        `TextData`; without it, early stopping holds out a share of `train`.
        `incremental` (`partial_fit`) trains one epoch at the constant
        learning rate, without early stopping, with the optimizer of the
        previous call if there was one. A `continued` network gets its
        weights (and the kept optimizer its state) back if training fails;
        its ONNX graphs are rebuilt from the new weights when next needed.
        Returns the history and the optimizer.
        """
        from skbert.optimization import optimizer_state, set_optimizer_state
        from skbert.tasks import output_task
        from skbert.training import Supervised, check_callbacks, fit_loop

        model, examples = self._training_examples(network, train)
        held_out = None
        if validation is not None:
            held_out = self._training_examples(network, validation)[1]
        elif self.early_stopping and not incremental:
            index, rest = _split(
                examples.index, self.validation_fraction, stratify, seeds[0]
            )
            examples, held_out = examples.subset(index), examples.subset(rest)
        metric = None
        if held_out is not None:
            metric = output_task(network.config.task, network.head.activation)
            metric = metric.score_metric()
        mode = Supervised(network.head.loss, metric)
        plan = mode.plan(
            examples, self.batch_size, 1 if incremental else self.epochs, seeds[1]
        )
        kept = getattr(self, "_optimizer", None) if continued else None
        optimizer = self._optimizer_for(rate, plan, incremental, kept)
        snapshot = None
        if continued:
            state = optimizer_state(optimizer) if optimizer is kept else None
            snapshot = network.trained_weights(), state
        patience = None
        if self.early_stopping and held_out is not None:
            patience = self.n_iter_no_change
        try:
            history = fit_loop(
                model,
                mode,
                optimizer,
                plan,
                examples,
                held_out,
                patience=patience,
                callbacks=check_callbacks(self.callbacks),
                verbose=self.verbose,
            )
        except BaseException:
            if snapshot is not None:
                network.set_trained_weights(snapshot[0])
                if snapshot[1] is not None:
                    set_optimizer_state(kept, snapshot[1])
            raise
        if continued:
            network.weights_changed()
        return history, optimizer

    def _optimizer_for(self, rate, plan, incremental, kept):
        """AdamW for `plan`: warm-up and decay over a fit, constant for `partial_fit`.

        `partial_fit` goes on with the optimizer of its previous call (`kept`).
        """
        from skbert.optimization import make_optimizer

        if not incremental:
            return make_optimizer(
                rate,
                self.weight_decay,
                plan.total_steps,
                self.warmup_ratio,
                self.layer_decay,
            )
        if kept is not None:
            kept.learning_rate = rate
            return kept
        return make_optimizer(rate, self.weight_decay, layer_decay=self.layer_decay)


def unit_rows(embeddings) -> np.ndarray:
    """Rows of `embeddings` scaled to unit L2 length (float64); zero rows stay zero.

    Examples
    --------
    >>> unit_rows([[3.0, 4.0], [0.0, 0.0]]).tolist()
    [[0.6, 0.8], [0.0, 0.0]]
    """
    from sklearn.preprocessing import normalize

    return normalize(np.asarray(embeddings, dtype=np.float64))


def _strategy_scope(strategy):
    """`strategy`'s scope, or no context for None; `TypeError` for other values."""
    if strategy is None:
        return contextlib.nullcontext()
    import tensorflow as tf

    if not isinstance(strategy, tf.distribute.Strategy):
        raise TypeError(
            f"distribute_strategy must be a tf.distribute.Strategy (e.g. "
            f"tf.distribute.MirroredStrategy()) or None, not "
            f"{type(strategy).__name__}."
        )
    return strategy.scope()


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
