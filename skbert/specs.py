"""What plugins register: encoder and head specifications."""

from __future__ import annotations

import dataclasses
import inspect
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from skbert.tasks import TASKS as _TASKS

#: Sub-directories of an encoder directory, as skbert lays them out on disk.
PREPROCESS_DIR = "preprocess"
ENCODER_DIR = "encoder"


@dataclasses.dataclass(frozen=True)
class EncoderSpec:
    """A BERT encoder that skbert can load through ``hub.KerasLayer``.

    Presets are data: a name for what the model is, its handles and a
    description. An encoder is either published (``preprocessor`` and
    ``encoder`` are TF Hub handles, URLs or local SavedModel paths) or
    generated (``build`` writes both SavedModels into a directory it is
    given, once, and skbert caches the result).

    Parameters
    ----------
    name : str
        Preset name, e.g. ``"bert_base_en_uncased"``.
    description : str
        One line for listings.
    preprocessor, encoder : str, optional
        Handles of the two SavedModels (a TF Hub URL or a local path).
    hidden_size : int
        Width of ``pooled_output``.
    lower_case : bool
        Whether the preprocessor lower-cases its input (an uncased model).
    max_seq_length : int
        Longest input the encoder's position embeddings allow.
    parameters : int
        Approximate parameter count, for listings.
    build : callable, optional
        ``build(out_dir)`` writes ``out_dir/preprocess`` and
        ``out_dir/encoder``; for encoders made locally.
    learning_rate : float, optional
        Peak learning rate that fine-tunes it well: what the estimators'
        ``learning_rate="auto"`` picks. None: BERT's 3e-5.
    revision : str
        For built encoders: names the version of what `build` makes (e.g.
        a checksum of its source weights); a new revision is built anew
        instead of reusing the cached one.
    source : str
        Filled in by the registry: the plugin that registered the spec.

    Examples
    --------
    >>> spec = EncoderSpec(
    ...     name="my_bert",
    ...     description="BERT base, my fine-tuned copy",
    ...     preprocessor="/models/my_bert/preprocess",
    ...     encoder="/models/my_bert/encoder",
    ...     hidden_size=768,
    ... )
    >>> spec.materialize()
    ('/models/my_bert/preprocess', '/models/my_bert/encoder')
    """

    name: str
    description: str
    preprocessor: str | None = None
    encoder: str | None = None
    hidden_size: int | None = None
    lower_case: bool = True
    max_seq_length: int = 512
    parameters: int | None = None
    build: Callable[[Path], None] | None = None
    learning_rate: float | None = None
    revision: str = ""
    source: str = ""

    def __post_init__(self):
        if self.build is None and not (self.preprocessor and self.encoder):
            raise ValueError(
                f"EncoderSpec {self.name!r} needs either both `preprocessor` and "
                "`encoder` handles or a `build` function."
            )

    def materialize(self) -> tuple[str, str]:
        """Return ``(preprocessor, encoder)`` handles, building the SavedModels first.

        A spec with a `build` function is built into skbert's cache on first
        use (a conversion can take minutes) and found there afterwards; a
        spec with handles returns them as they are.
        """
        if self.build is None:
            return self.preprocessor, self.encoder
        from skbert.cache import built_encoder_dir

        key = f"{self.name}@{self.revision}" if self.revision else self.name
        path = built_encoder_dir(key, self.build)
        return str(path / PREPROCESS_DIR), str(path / ENCODER_DIR)

    def handles(self) -> tuple[str, str]:
        """Deprecated name of `materialize` (it may build, so it is no getter)."""
        warnings.warn(
            "EncoderSpec.handles() is deprecated and will be removed; call "
            "materialize(), which may build the SavedModels first.",
            FutureWarning,
            stacklevel=2,
        )
        return self.materialize()


#: The targets a head can serve, as estimators name them (`skbert.tasks`).
TASKS = tuple(_TASKS)


@dataclasses.dataclass(frozen=True)
class EncoderOutputs:
    """What the encoder hands a head, as Keras tensors.

    Parameters
    ----------
    pooled_output : tensor
        ``[batch, hidden]``, the encoder's summary of each input.
    sequence_output : tensor
        ``[batch, length, hidden]``, one vector per token.
    input_mask : tensor
        ``[batch, length]``, 1 for real tokens, 0 for padding.
    """

    pooled_output: Any
    sequence_output: Any
    input_mask: Any


@dataclasses.dataclass(frozen=True)
class HeadOutput:
    """What a head builds on top of the encoder.

    Parameters
    ----------
    logits : tensor
        Output scores before the activation, shape ``[batch, units]``.
    activation : {"sigmoid", "softmax", "linear"}
        Maps logits to predictions. ``"sigmoid"`` with one unit is a binary
        classifier, with several a multi-label one; ``"linear"`` is regression.
    loss : tf_keras loss
        Loss on the logits (``from_logits=True`` for classifiers).
    """

    logits: Any
    activation: str
    loss: Any


@dataclasses.dataclass(frozen=True)
class HeadSpec:
    """An output head: maps encoder outputs to logits, with a loss.

    Parameters
    ----------
    name : str
        Registered name, e.g. ``"sigmoid"``.
    description : str
        One line for listings.
    build : callable
        ``build(outputs, task, n_outputs, **params)`` returns a
        `HeadOutput`. ``outputs`` is an `EncoderOutputs`; ``task`` one of
        `tasks`; ``n_outputs`` the number of classes, labels or regression
        targets (a binary head may use one unit for two classes). ``params``
        are the estimator's ``head__*`` parameters with the prefix dropped;
        the keyword arguments of `build` and their defaults are the head's
        options.
    tasks : tuple of str
        The targets the head serves, from ``"binary"``, ``"multiclass"``,
        ``"multilabel"`` and ``"regression"``.
    source : str
        Filled in by the registry: the plugin that registered the spec.

    Examples
    --------
    >>> from skbert.layers import task_output
    >>> def build(outputs, task, n_outputs, units=64):
    ...     import tf_keras
    ...     hidden = tf_keras.layers.Dense(units, "relu")(outputs.pooled_output)
    ...     return task_output(hidden, task, n_outputs)
    >>> spec = HeadSpec("relu_mlp", "Dense(units, relu), then the task's output",
    ...                 build, tasks=("binary", "multiclass", "regression"))
    >>> spec.params()
    {'units': 64}
    """

    name: str
    description: str
    build: Callable[..., HeadOutput]
    tasks: tuple[str, ...] = ("binary", "multiclass")
    source: str = ""

    def __post_init__(self):
        unknown = set(self.tasks) - set(TASKS)
        if unknown:
            raise ValueError(
                f"HeadSpec {self.name!r} names unknown tasks {sorted(unknown)}; "
                f"choose from {', '.join(TASKS)}."
            )

    def params(self) -> dict[str, Any]:
        """The head's options and their defaults, from `build`'s signature."""
        signature = inspect.signature(self.build)
        return {
            name: p.default
            for name, p in list(signature.parameters.items())[3:]
            if p.kind is p.POSITIONAL_OR_KEYWORD or p.kind is p.KEYWORD_ONLY
        }

    def check_params(self, params: dict[str, Any]) -> None:
        """Raise `ValueError` if `params` holds an option `build` does not take."""
        known = self.params()
        unknown = sorted(set(params) - set(known))
        if unknown:
            options = ", ".join(f"head__{k}" for k in known) or "none"
            raise ValueError(
                f"head {self.name!r} has no option {', '.join(unknown)}; its "
                f"options are: {options}."
            )
