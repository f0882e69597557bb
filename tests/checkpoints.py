"""Tiny random BERT checkpoints in Hugging Face layout, for tests.

Used by the converter's tests and by the example plugin ``skbert-checkpoints``,
which conftest points at a folder holding one of these.
"""

import json

import numpy as np
from safetensors.numpy import save_file

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
LETTERS = "abcdefghijklmnopqrstuvwxyz"
# Pieces for the sentences below, cased ones and accented suffixes included.
WORDS = "hello world un ##aff ##able fun and vu 我 爱 北 , ! . MIXED C H ##é ##à"
GREEK = "σ μ ##μ"
TINY_VOCAB = [
    *SPECIALS,
    *LETTERS,
    *(f"##{c}" for c in LETTERS),
    *"0123456789",
    *WORDS.split(),
    *GREEK.split(),
]
TINY_CONFIG = {
    "model_type": "bert",
    "hidden_act": "gelu",
    "vocab_size": len(TINY_VOCAB),
    "hidden_size": 16,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 32,
    "max_position_embeddings": 128,
    "type_vocab_size": 2,
    "layer_norm_eps": 1e-12,
}


def tiny_weights(config, seed=0, std=None):
    """Random weights in Hugging Face layout, large enough for every one to count.

    With `std`, initialized as BERT is before pre-training instead (normal
    weights of that deviation, LayerNorm 1 and 0, zero biases): trainable.
    """
    rng = np.random.default_rng(seed)
    h, i = config["hidden_size"], config["intermediate_size"]
    shapes = {
        "embeddings.word_embeddings.weight": (config["vocab_size"], h),
        "embeddings.position_embeddings.weight": (config["max_position_embeddings"], h),
        "embeddings.token_type_embeddings.weight": (config["type_vocab_size"], h),
        "embeddings.LayerNorm": (h,),
        "pooler.dense": (h, h),
    }
    for n in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{n}"
        for name in ("query", "key", "value"):
            shapes[f"{p}.attention.self.{name}"] = (h, h)
        shapes[f"{p}.attention.output.dense"] = (h, h)
        shapes[f"{p}.attention.output.LayerNorm"] = (h,)
        shapes[f"{p}.intermediate.dense"] = (i, h)
        shapes[f"{p}.output.dense"] = (h, i)
        shapes[f"{p}.output.LayerNorm"] = (h,)
    tensors = {}
    if std is not None:
        for name, shape in shapes.items():
            if name.endswith("LayerNorm"):
                tensors[f"{name}.weight"] = np.ones(shape)
                tensors[f"{name}.bias"] = np.zeros(shape)
            elif name.endswith(".weight"):
                tensors[name] = std * rng.standard_normal(shape)
            else:
                tensors[f"{name}.weight"] = std * rng.standard_normal(shape)
                tensors[f"{name}.bias"] = np.zeros(shape[:1])
        return {name: value.astype(np.float32) for name, value in tensors.items()}
    for name, shape in shapes.items():
        if name.endswith("LayerNorm"):
            tensors[f"{name}.weight"] = 1.0 + 0.2 * rng.standard_normal(shape)
            tensors[f"{name}.bias"] = 0.2 * rng.standard_normal(shape)
        elif name.endswith(".weight"):  # an embedding
            tensors[name] = rng.standard_normal(shape)
        else:
            tensors[f"{name}.weight"] = 0.4 * rng.standard_normal(shape)
            tensors[f"{name}.bias"] = 0.2 * rng.standard_normal(shape[:1])
    return {name: value.astype(np.float32) for name, value in tensors.items()}


def write_checkpoint(path, config, tensors, vocab, tokenizer_config=None):
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps(config))
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    if tokenizer_config is not None:
        (path / "tokenizer_config.json").write_text(json.dumps(tokenizer_config))
    save_file(tensors, str(path / "model.safetensors"))
    return path
