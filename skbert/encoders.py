"""Turning an estimator's ``encoder`` parameter into loaded TF Hub layers."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import re
from pathlib import Path

from skbert.plugins import get_encoder, list_encoders
from skbert.specs import ENCODER_DIR, PREPROCESS_DIR, EncoderSpec

#: Name of the encoder's ``hub.KerasLayer`` inside skbert's models.
ENCODER_LAYER = "encoder"


class EncoderLoadError(RuntimeError):
    """An encoder's SavedModels could not be loaded."""


def resolve_encoder(encoder: str | os.PathLike) -> EncoderSpec:
    """Return the `EncoderSpec` that `encoder` names.

    Parameters
    ----------
    encoder : str or path
        A registered preset name (see `skbert.list_encoders`), the encoder
        handle of a registered preset (its TF Hub URL), or a local directory
        holding ``preprocess/`` and ``encoder/`` SavedModels (as written by
        `skbert.modeling.export.export_hub_models`); any of these followed by
        ``[layers=0,2,4]`` keeps only those transformer blocks
        (`shallow_encoder_name`).

    Examples
    --------
    >>> resolve_encoder("bert_base_en_uncased").hidden_size
    768
    """
    if not isinstance(encoder, (str, os.PathLike)):
        raise TypeError(
            f"encoder must be a preset name, a TF Hub handle or a local path, got "
            f"{type(encoder).__name__}."
        )
    path = Path(encoder)
    if (path / PREPROCESS_DIR).is_dir() and (path / ENCODER_DIR).is_dir():
        return EncoderSpec(
            name=str(path),
            description=f"local SavedModels in {path}",
            preprocessor=str(path / PREPROCESS_DIR),
            encoder=str(path / ENCODER_DIR),
        )
    shallow = _LAYERS.fullmatch(os.fspath(encoder))
    if shallow is not None:
        base = resolve_encoder(shallow[1])
        layers = tuple(int(i) for i in shallow[2].split(","))
        return ShallowEncoderSpec(
            name=os.fspath(encoder),
            description=f"blocks {list(layers)} of {base.name}",
            hidden_size=base.hidden_size,
            lower_case=base.lower_case,
            max_seq_length=base.max_seq_length,
            learning_rate=base.learning_rate,
            source=base.source,
            base=base,
            layers=layers,
        )
    encoder = str(encoder)
    for spec in list_encoders():
        if encoder in (spec.name, spec.encoder):
            return spec
    if path.exists():
        raise ValueError(
            f"encoder={encoder!r} is a path, but not a directory with "
            f"'{PREPROCESS_DIR}/' and '{ENCODER_DIR}/' SavedModels in it. Lay out "
            "the TF Hub preprocessor and encoder that way, or register them as a "
            "preset with an encoder plugin (EncoderSpec)."
        )
    if "://" in encoder:
        raise ValueError(
            f"encoder={encoder!r} is not the handle of a registered preset, so skbert "
            "does not know its preprocessor. Register it with an encoder plugin "
            "(EncoderSpec(preprocessor=..., encoder=...)), or download both "
            f"SavedModels into one directory as '{PREPROCESS_DIR}/' and "
            f"'{ENCODER_DIR}/' and pass that path."
        )
    return get_encoder(encoder)


#: ``"<encoder>[layers=0,2,4]"``: the encoder with only those transformer blocks.
_LAYERS = re.compile(r"(.+)\[layers=(\d+(?:,\d+)*)\]")


def shallow_encoder_name(encoder: str, layers) -> str:
    """The ``encoder`` value of `encoder` keeping only the blocks `layers`.

    Examples
    --------
    >>> shallow_encoder_name("minilm_l6_en_uncased", [0, 2, 4])
    'minilm_l6_en_uncased[layers=0,2,4]'
    """
    return f"{encoder}[layers={','.join(str(int(i)) for i in layers)}]"


def base_encoder(encoder: str) -> str:
    """`encoder` without a ``[layers=...]`` suffix (the encoder it cuts).

    Examples
    --------
    >>> base_encoder("minilm_l6_en_uncased[layers=0,2,4]")
    'minilm_l6_en_uncased'
    """
    shallow = _LAYERS.fullmatch(encoder)
    return encoder if shallow is None else base_encoder(shallow[1])


@dataclasses.dataclass(frozen=True)
class ShallowEncoderSpec(EncoderSpec):
    """An encoder keeping some transformer blocks of another (`base`).

    Built once into skbert's cache from `base`'s SavedModels
    (`skbert.modeling.export.save_shallow_encoder`); `skbert.distill` names
    its students' encoders so.
    """

    base: EncoderSpec | None = None
    layers: tuple[int, ...] = ()

    def __post_init__(self):
        pass  # the base has the handles

    def materialize(self) -> tuple[str, str]:
        from skbert.cache import built_encoder_dir, file_sha256
        from skbert.modeling.export import save_shallow_encoder

        preprocessor, encoder = (local_handle(h) for h in self.base.materialize())
        index = Path(encoder) / "variables" / "variables.index"
        source = [preprocessor, encoder, self.base.revision, str(self.layers)]
        if index.is_file():  # a changed base is a new entry
            source.append(file_sha256(index))
        digest = hashlib.sha256("\n".join(source).encode()).hexdigest()[:24]
        path = built_encoder_dir(
            f"shallow-{digest}",
            lambda out: save_shallow_encoder(preprocessor, encoder, self.layers, out),
        )
        return str(path / PREPROCESS_DIR), str(path / ENCODER_DIR)


def local_handle(handle: str) -> str:
    """A local path for a TF Hub handle (a URL is resolved in the Hub cache)."""
    if "://" not in handle:
        return handle
    import tensorflow_hub as hub

    return hub.resolve(handle)


def _offline_presets() -> str:
    return ", ".join(s.name for s in list_encoders() if s.build is not None)


@functools.lru_cache(maxsize=16)
def load_preprocessor(handle: str):
    """Load a TF Hub BERT preprocessor SavedModel (``tensorflow_text`` first).

    It holds no trained state, so each is loaded once per process.
    """
    import tensorflow_hub as hub
    import tensorflow_text  # noqa: F401  (registers the ops the preprocessor uses)

    return _load(handle, hub.load)


def load_encoder_layer(handle: str, trainable: bool):
    """Load a TF Hub BERT encoder as a ``hub.KerasLayer``."""
    import tensorflow_hub as hub

    return _load(
        handle, lambda h: hub.KerasLayer(h, trainable=trainable, name=ENCODER_LAYER)
    )


def _load(handle: str, loader):
    try:
        return loader(handle)
    except Exception as exc:
        remote = "://" in handle
        hint = (
            "This needs the network (or a copy of it in TFHUB_CACHE_DIR, "
            f"currently {os.environ.get('TFHUB_CACHE_DIR', 'unset')!r}). Without "
            "network, pass a local directory with 'preprocess/' and 'encoder/' "
            f"SavedModels, or an offline preset: {_offline_presets()}."
            if remote
            else "Check that the path holds a TF Hub-format SavedModel."
        )
        raise EncoderLoadError(
            f"Could not load the TF Hub model {handle!r}: "
            f"{type(exc).__name__}: {exc}. {hint}"
        ) from exc
