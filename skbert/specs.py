"""What plugins register: encoder and head specifications."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
    >>> spec.handles()
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
    source: str = ""

    def __post_init__(self):
        if self.build is None and not (self.preprocessor and self.encoder):
            raise ValueError(
                f"EncoderSpec {self.name!r} needs either both `preprocessor` and "
                "`encoder` handles or a `build` function."
            )

    def handles(self) -> tuple[str, str]:
        """Return ``(preprocessor, encoder)`` handles, building them first if needed."""
        if self.build is None:
            return self.preprocessor, self.encoder
        from skbert.cache import built_encoder_dir

        path = built_encoder_dir(self.name, self.build)
        return str(path / PREPROCESS_DIR), str(path / ENCODER_DIR)


@dataclasses.dataclass(frozen=True)
class HeadOutput:
    """What a head builds on top of the encoder.

    Parameters
    ----------
    logits : tensor
        Output scores before the activation, shape ``[batch, units]``.
    activation : {"sigmoid", "softmax"}
        Maps logits to probabilities; with ``"sigmoid"`` and one unit the
        task is binary.
    loss : tf_keras loss
        Loss on the logits (``from_logits=True``).
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
        ``build(pooled_output, sequence_output, n_outputs, **params)``
        returns a `HeadOutput`. ``n_outputs`` is the number of classes of
        ``y`` (a binary head may use one unit for two classes);
        ``params`` are the estimator's head options (``dropout``).
    tasks : tuple of str
        The targets the head serves: ``"binary"``, ``"multiclass"``.
    source : str
        Filled in by the registry: the plugin that registered the spec.

    Examples
    --------
    >>> import tf_keras
    >>> def build(pooled, sequence, n_outputs, dropout=0.1):
    ...     logits = tf_keras.layers.Dense(n_outputs)(pooled)
    ...     loss = tf_keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    ...     return HeadOutput(logits, "softmax", loss)
    >>> spec = HeadSpec("plain_softmax", "Dense softmax, no dropout", build,
    ...                 tasks=("binary", "multiclass"))
    """

    name: str
    description: str
    build: Callable[..., HeadOutput]
    tasks: tuple[str, ...] = ("binary", "multiclass")
    source: str = ""
