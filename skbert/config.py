"""What a network is built from: the plain data a fitted estimator keeps and saves.

It imports no TensorFlow, so an estimator loaded for ONNX Runtime has it too.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class NetworkConfig:
    """What a network is built from.

    Parameters
    ----------
    encoder : str
        Preset name, TF Hub handle or local directory.
    n_segments : int
        1 for single texts, 2 for sentence pairs.
    max_seq_length : int
        Tokens per packed example.
    train_encoder : bool, default=False
        Whether a fit trains the encoder's weights too.
    head : str, optional
        The head's name; None for the encoder alone.
    task : {"binary", "multiclass", "multilabel", "regression"}, optional
        The targets the head serves.
    n_outputs : int, optional
        Classes, labels or regression targets.
    head_params : dict
        The head's options.
    pooling : str, optional
        The encoder output an encoder-only network returns (a key of
        `skbert.model.POOLINGS`).

    Examples
    --------
    >>> config = NetworkConfig("tiny_random_en_uncased", 1, 32, pooling="mean")
    >>> NetworkConfig.from_dict(config.to_dict()) == config
    True
    """

    encoder: str
    n_segments: int
    max_seq_length: int
    train_encoder: bool = False
    head: str | None = None
    task: str | None = None
    n_outputs: int | None = None
    head_params: dict = dataclasses.field(default_factory=dict)
    pooling: str | None = None

    def to_dict(self) -> dict:
        """The fields as a plain dict (what `skbert.save` writes)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> NetworkConfig:
        """The config `to_dict` gave; `ValueError` names unknown or missing fields."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown network config fields {unknown}")
        try:
            return cls(**data)
        except TypeError as exc:
            raise ValueError(f"incomplete network config: {exc}") from None
