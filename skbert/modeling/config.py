"""The shape of a BERT network, as a Hugging Face ``config.json`` gives it."""

from __future__ import annotations

import dataclasses
from typing import Any

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
