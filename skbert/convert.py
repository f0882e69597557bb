"""Convert a Hugging Face BERT checkpoint into TF Hub-format SavedModels.

A checkpoint directory in the Hugging Face layout holds ``config.json``,
``model.safetensors``, ``vocab.txt`` and optionally ``tokenizer_config.json``.
`convert_checkpoint` copies its weights, by name, into a `BertNetwork` and
exports it with its vocabulary as ``preprocess/`` and ``encoder/``, the pair
that an `EncoderSpec` points to.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from skbert.cache import file_sha256
from skbert.modeling.config import BertConfig

if TYPE_CHECKING:
    import tensorflow as tf

    from skbert.modeling.bert import BertNetwork

#: Written into the output directory: the config, casing and source of the export.
METADATA_FILE = "skbert.json"

# Tensors of the BERT body; any other (``cls.*``, ``classifier.*``) is a head.
_BODY_PREFIXES = ("embeddings.", "encoder.", "pooler.")
# A buffer of position indices, not a weight.
_BUFFERS = frozenset({"embeddings.position_ids"})
# Last part of a Keras weight name -> last part of the Hugging Face name.
_LEAF_NAMES = {
    "embeddings": "weight",
    "kernel": "weight",
    "gamma": "weight",
    "beta": "bias",
    "bias": "bias",
}


def convert_checkpoint(
    checkpoint_dir: str | Path, out_dir: str | Path, *, pooling: str = "pooler"
) -> Path:
    """Convert a Hugging Face BERT checkpoint to ``preprocess/`` and ``encoder/``.

    Every weight of the network is taken from the checkpoint, once; all names
    and shapes are checked before anything is written.

    Parameters
    ----------
    checkpoint_dir : path
        Directory with ``config.json``, ``model.safetensors`` and ``vocab.txt``
        (a ``BertModel`` or a model with a ``bert.`` body and heads, which are
        left out), and optionally ``tokenizer_config.json``, whose
        ``do_lower_case`` (default true) decides whether the preprocessor
        lower-cases and strips accents.
    out_dir : path
        Where to write ``preprocess/``, ``encoder/``, ``vocab.txt`` and
        ``skbert.json``.
    pooling : {"pooler", "mean"}
        How the encoder makes ``pooled_output`` (see `BertNetwork`); with
        ``"mean"`` the checkpoint's pooler is left out.

    Returns
    -------
    Path
        `out_dir`.

    Raises
    ------
    ValueError
        If `pooling` is unknown, if the config describes a network
        `BertNetwork` does not implement, or if a tensor is missing, has the
        wrong shape or is not used; the message names the first such tensor.

    Examples
    --------
    >>> out = convert_checkpoint("all-MiniLM-L6-v2", "minilm")  # doctest: +SKIP
    >>> sorted(path.name for path in out.iterdir())  # doctest: +SKIP
    ['encoder', 'preprocess', 'skbert.json', 'vocab.txt']
    """
    try:
        from safetensors.numpy import load_file
    except ImportError as error:
        raise ImportError(
            "convert_checkpoint needs safetensors: pip install safetensors"
        ) from error
    from skbert.inputs import INPUT_NAMES
    from skbert.modeling.bert import BertNetwork
    from skbert.modeling.export import export_hub_models

    source = Path(checkpoint_dir)
    values = json.loads((source / "config.json").read_text(encoding="utf-8"))
    config = _check_config(values, source / "vocab.txt")
    lower_case = _read_lower_case(source)
    weights = source / "model.safetensors"
    tensors = _body_tensors(load_file(weights))
    network = BertNetwork(config, pooling=pooling)
    if pooling != "pooler":
        # This network has no pooler weights to receive the checkpoint's.
        tensors = {k: v for k, v in tensors.items() if not k.startswith("pooler.")}
    # One call creates the weights, which are then overwritten.
    network({name: np.zeros((1, 2), np.int32) for name in INPUT_NAMES})
    assignments = _match_weights(network, tensors)
    for variable, value in assignments:
        variable.assign(value)
    out = Path(out_dir)
    export_hub_models(out, network, source / "vocab.txt", lower_case)
    _write_metadata(out / METADATA_FILE, config, pooling, lower_case, weights)
    return out


def _check_config(values: dict[str, Any], vocab_file: Path) -> BertConfig:
    """Return the config of `values`, if `BertNetwork` computes what it describes."""
    supported = {"hidden_act": "gelu", "position_embedding_type": "absolute"}
    for key, expected in supported.items():
        if values.get(key, expected) != expected:
            raise ValueError(
                f"config.json has {key}={values[key]!r}; only {expected!r} is supported"
            )
    config = BertConfig.from_dict(values)
    with open(vocab_file, encoding="utf-8") as lines:
        tokens = sum(1 for _ in lines)
    if tokens > config.vocab_size:
        raise ValueError(
            f"vocab.txt has {tokens} tokens but vocab_size is {config.vocab_size}"
        )
    return config


def _read_lower_case(checkpoint_dir: Path) -> bool:
    """Whether the checkpoint's tokenizer lower-cases (and strips accents)."""
    path = checkpoint_dir / "tokenizer_config.json"
    if not path.exists():
        return True
    values = json.loads(path.read_text(encoding="utf-8"))
    lower_case = bool(values.get("do_lower_case", True))
    # The TF preprocessor strips accents exactly when it lower-cases.
    strip_accents = values.get("strip_accents")
    if strip_accents is not None and bool(strip_accents) != lower_case:
        raise ValueError(
            f"tokenizer_config.json has do_lower_case={lower_case} and "
            f"strip_accents={strip_accents}; the preprocessor strips accents "
            "exactly when it lower-cases"
        )
    return lower_case


def _body_tensors(tensors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The BERT body's tensors, named without a ``bert.`` prefix."""
    body = {}
    for name, value in tensors.items():
        key = name.removeprefix("bert.")
        if key in _BUFFERS or not key.startswith(_BODY_PREFIXES):
            continue
        if key in body:
            raise ValueError(f"checkpoint holds tensor {key!r} twice, also as bert.")
        body[key] = value
    return body


def _hf_name(keras_name: str) -> tuple[str, bool]:
    """Map a weight name within the network to its Hugging Face name.

    Returns the name and whether the value is a ``Linear`` weight, stored
    ``[out, in]``, the transpose of a Keras kernel.

    Examples
    --------
    >>> _hf_name("encoder/layer_3/attention/self/query/kernel:0")
    ('encoder.layer.3.attention.self.query.weight', True)
    >>> _hf_name("embeddings/LayerNorm/gamma:0")
    ('embeddings.LayerNorm.weight', False)
    """
    path, leaf = keras_name.removesuffix(":0").rsplit("/", 1)
    path = re.sub(r"^encoder/layer_(\d+)/", r"encoder/layer/\1/", path)
    return f"{path.replace('/', '.')}.{_LEAF_NAMES[leaf]}", leaf == "kernel"


def _match_weights(
    network: BertNetwork, tensors: dict[str, np.ndarray]
) -> list[tuple[tf.Variable, np.ndarray]]:
    """Pair each weight of `network` with its checkpoint value, checking shapes."""
    remaining = dict(tensors)
    assignments = []
    for variable in network.weights:
        name, transposed = _hf_name(variable.name.removeprefix(f"{network.name}/"))
        expected = tuple(variable.shape)
        if transposed:
            expected = expected[::-1]
        if name not in remaining:
            raise ValueError(f"checkpoint lacks tensor {name!r} (shape {expected})")
        value = remaining.pop(name)
        if value.shape != expected:
            raise ValueError(
                f"tensor {name!r} has shape {value.shape}, expected {expected}"
            )
        value = value.T if transposed else value
        assignments.append((variable, value.astype(np.float32)))
    if remaining:
        name = sorted(remaining)[0]
        raise ValueError(
            f"tensor {name!r} is not a weight of the network config.json describes"
        )
    return assignments


def _write_metadata(
    path: Path, config: BertConfig, pooling: str, lower_case: bool, source: Path
) -> None:
    """Record what an export was made from, as JSON."""
    metadata = {
        "config": dataclasses.asdict(config),
        "pooling": pooling,
        "lower_case": lower_case,
        "source_sha256": file_sha256(source),
    }
    path.write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
