"""The shape of a BERT network, from a ``config.json`` or an encoder SavedModel."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

from skbert.runtime import NotExportable

#: The asset of an encoder SavedModel skbert writes: its `BertConfig` and pooling.
CONFIG_ASSET = "skbert_bert.json"


@dataclasses.dataclass(frozen=True)
class BertConfig:
    """Shape of a BERT network (the fields of a Hugging Face ``config.json``)."""

    vocab_size: int
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    layer_norm_eps: float = 1e-12
    initializer_range: float = 0.02

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> BertConfig:
        """Build a config from a mapping, ignoring keys it does not know."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})

    def parameter_count(self) -> int:
        """Number of weights of the network, pooler included.

        Examples
        --------
        >>> BertConfig(vocab_size=30522).parameter_count()
        109482240
        """
        h, i = self.hidden_size, self.intermediate_size
        embeddings = (self.vocab_size + self.max_position_embeddings) * h
        embeddings += self.type_vocab_size * h + 2 * h
        block = 4 * (h * h + h) + 2 * h + (h * i + i) + (i * h + h) + 2 * h
        return embeddings + self.num_hidden_layers * block + h * h + h


def encoder_config(saved_model_dir: str | Path) -> tuple[BertConfig, str]:
    """The `BertConfig` and pooling of an encoder SavedModel skbert exported.

    Read from its config asset or, for an encoder that an older skbert
    wrote with Keras' save, from the Keras metadata; `NotExportable` for an
    encoder that skbert did not write.
    """
    from tf_keras.protobuf import saved_metadata_pb2

    asset = Path(saved_model_dir) / "assets" / CONFIG_ASSET
    if asset.is_file():
        config = json.loads(asset.read_text(encoding="utf-8"))
        pooling = config.pop("pooling")
        return BertConfig.from_dict(config), pooling
    path = Path(saved_model_dir) / "keras_metadata.pb"
    if not path.is_file():
        raise NotExportable(
            f"{saved_model_dir} is not an encoder skbert wrote (no config asset, no "
            "Keras metadata)."
        )
    metadata = saved_metadata_pb2.SavedMetadata()
    metadata.ParseFromString(path.read_bytes())
    for node in metadata.nodes:
        entry = json.loads(node.metadata)
        if entry.get("class_name") == "BertNetwork":
            config = dict(entry["config"])
            pooling = config.pop("pooling", "pooler")
            return BertConfig.from_dict(config), pooling
    raise NotExportable(
        f"{saved_model_dir} holds no skbert BertNetwork; only encoders skbert "
        "wrote (presets it builds, converted checkpoints) run on ONNX Runtime."
    )


def bert_name(name: str) -> str | None:
    """A `BertNetwork` variable's name below the network's own scope, or None.

    None for a variable of anything else (an encoder skbert did not write).

    Examples
    --------
    >>> bert_name("bert_network/encoder/layer_1/output/dense/bias:0")
    'encoder/layer_1/output/dense/bias'
    >>> bert_name("bert_model/embeddings/word:0") is None
    True
    """
    match = re.fullmatch(r"bert_network(?:_\d+)?/(.+?)(?::\d+)?", name)
    return None if match is None else match[1]
