"""What skbert's estimators share: text input, the network, training, pickling.

`BertEstimator` holds what every estimator does (encoder outputs on texts,
pickling, `save`); `BertModelEstimator` adds what the trained ones do
(heads with their ``head__*`` options, the training loop).
"""

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
from skbert.plugins import get_head, list_heads

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

#: Parameter docs shared by the trained estimators' docstrings.
TRAINING_PARAMETERS = """\
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
        Fine-tune the encoder's weights too; False trains the head only."""

TRAINING_PARAMETERS_END = """\
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
    **head_params
        Options of the head, prefixed ``head__`` (``head__dropout=0.2``,
        ``head__hidden_units=(128,)``); `skbert.get_head` (name).params()
        lists a head's options and defaults. They are parameters like the
        others, so ``GridSearchCV`` can search them."""

TRAINED_ATTRIBUTES = """\
model_ : tf_keras.Model
        The fitted network, strings in, head outputs before the activation out.
    history_ : dict
        Per-epoch ``loss`` (and ``val_loss`` with early stopping).
    n_iter_ : int
        Epochs run.
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
    }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags

    def _outputs(self, X) -> np.ndarray:
        """Outputs of the fitted network on `X` (float32), in the order of `X`."""
        from skbert.model import text_dataset

        check_is_fitted(self, "model_")
        segments = check_texts(X, n_segments=self.n_segments_)
        data = text_dataset(segments, batch_size=self.batch_size)
        return self.model_.predict(data, verbose=0)

    def save(self, path) -> None:
        """Save the fitted estimator to directory `path`, in a format safe to load.

        JSON for the parameters and fitted attributes, safetensors for the
        weights: `skbert.load` reads them back without unpickling or running
        anything from the directory.

        Parameters
        ----------
        path : str or path
            A directory to create (or an empty one).

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

        save(self, path)

    def __getstate__(self):
        state = dict(super().__getstate__())
        model = state.pop("model_", None)
        if model is not None:
            from skbert.model import trained_weights

            state["model_weights_"] = trained_weights(model, self.network_config_)
        return state

    def __setstate__(self, state):
        weights = state.pop("model_weights_", None)
        super().__setstate__(state)
        if weights is not None:
            from skbert.model import build_from_config, set_trained_weights

            model, _ = build_from_config(self.network_config_)
            set_trained_weights(model, self.network_config_, weights)
            self.model_ = model


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
    #: The head ``head="auto"`` picks, by task.
    _auto_heads: dict[str, str] = {}

    def __init__(
        self,
        encoder=DEFAULT_ENCODER,
        head="auto",
        *,
        max_seq_length=128,
        epochs=3,
        batch_size=32,
        learning_rate=3e-5,
        weight_decay=0.01,
        warmup_ratio=0.1,
        train_encoder=True,
        validation_fraction=0.1,
        early_stopping=False,
        n_iter_no_change=2,
        random_state=None,
        verbose=0,
        **head_params,
    ):
        self.encoder = encoder
        self.head = head
        self.max_seq_length = max_seq_length
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.warmup_ratio = warmup_ratio
        self.train_encoder = train_encoder
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
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
        self, task, n_outputs, detail, segments, targets, weights, stratify=None
    ):
        """Build the network for `task` and train it; set the fitted attributes.

        The attributes are set only once training has finished, so an
        interrupted fit leaves the estimator as it was.
        """
        from skbert.encoders import resolve_encoder
        from skbert.model import build_from_config, text_dataset
        from skbert.training import seed_everything, train

        head = self._head_name(task, detail)
        head_params = {
            k[len(HEAD_PREFIX) :]: v
            for k, v in self.get_params(deep=False).items()
            if k.startswith(HEAD_PREFIX)
        }
        get_head(head).check_params(head_params)
        config = {
            "encoder": os.fspath(self.encoder),
            "n_segments": len(segments),
            "max_seq_length": self.max_seq_length,
            "train_encoder": self.train_encoder,
            "head": head,
            "task": task,
            "n_outputs": n_outputs,
            "head_params": head_params,
        }
        # Build a generated encoder before seeding, so a cold cache draws no numbers.
        resolve_encoder(config["encoder"]).handles()
        seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        if self.random_state is not None:
            seed_everything(seed)
        model, head_output = build_from_config(config)
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
            head_output.loss,
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
        self.activation_ = head_output.activation
        self.history_ = history
        self.n_iter_ = len(history["loss"])
        self.n_segments_ = config["n_segments"]
        self.network_config_ = config
        return self


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
