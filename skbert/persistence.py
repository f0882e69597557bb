"""`save` and `load`: a fitted estimator as a directory that is safe to load.

A saved estimator is a directory with these files:

- ``skbert.json``: the format version, the estimator's class (one of
  skbert's, looked up in a fixed table), its parameters, its fitted
  attributes, the encoder it needs and which plugin provides it, the versions
  it was saved with, and the sha256 of the other files;
- ``weights.safetensors``: the weights the fit changed (all of them after
  fine-tuning; the head's only with a frozen encoder, whose weights come
  back from the encoder itself);
- ``model.onnx`` and ``vocab.txt``, when the network can be written as ONNX
  (`skbert.onnx_graph`): the whole network, encoder included, and its
  WordPiece vocabulary, for ``load(path, backend="onnxruntime")``.

Loading reads JSON, safetensors and (for ONNX Runtime) the ONNX graph and
vocabulary only: nothing is unpickled and no code or SavedModel in the
directory is run. With TensorFlow, the encoder is loaded from where it was
registered (a plugin preset or a local path), never from the directory.
"""

from __future__ import annotations

import importlib.metadata
import json
import math
import os
import re
import shutil
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator

from skbert.cache import file_sha256
from skbert.config import NetworkConfig
from skbert.files import check_destination, write_directory
from skbert.runtime import BACKENDS
from skbert.sklearn_state import MARKER, from_plain, to_plain

FORMAT = "skbert-estimator"
FORMAT_VERSION = 1
CONFIG_FILE = "skbert.json"
WEIGHTS_FILE = "weights.safetensors"
ONNX_FILE = "model.onnx"
VOCAB_FILE = "vocab.txt"
#: Every file `save` writes.
OWN_FILES = (CONFIG_FILE, WEIGHTS_FILE, ONNX_FILE, VOCAB_FILE)


class ModelFormatError(ValueError):
    """A saved estimator cannot be read: corrupt, incomplete or from a newer skbert."""


def _estimator_classes() -> dict[str, type]:
    from skbert.classifier import BertClassifier
    from skbert.fewshot import BertFewShotClassifier
    from skbert.regressor import BertRegressor
    from skbert.vectorizer import BertVectorizer
    from skbert.zeroshot import BertZeroShotClassifier

    classes = (
        BertClassifier,
        BertFewShotClassifier,
        BertRegressor,
        BertVectorizer,
        BertZeroShotClassifier,
    )
    return {c.__name__: c for c in classes}


def save(estimator, path, overwrite: bool = False) -> None:
    """Write fitted `estimator` to directory `path`, whole or not at all.

    See `BertEstimator.save`.
    """
    from sklearn.utils.validation import check_is_fitted

    from skbert.encoders import resolve_encoder
    from skbert.plugins import plugin_info

    check_is_fitted(estimator, "model_")
    if estimator.model_ is None:
        raise ValueError(
            "This estimator was loaded with backend='onnxruntime' and holds no "
            "TensorFlow weights to save; copy the directory it was loaded from, "
            "or load it with skbert.load(path) first."
        )
    name = type(estimator).__name__
    if name not in _estimator_classes():
        raise TypeError(f"save() takes skbert's estimators, not {name}.")
    check_save_path(path, overwrite)
    fitted = {
        k: v
        for k, v in vars(estimator).items()
        if k.endswith("_") and not k.startswith("_") and k != "model_"
    }
    fitted["network_config_"] = estimator.network_config_.to_dict()
    spec = resolve_encoder(estimator.network_config_.encoder)
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "estimator": name,
        "params": _encode(estimator.get_params(deep=False), "params"),
        "fitted": _encode(fitted, "fitted attributes"),
        "encoder": {
            "name": estimator.network_config_.encoder,
            "plugin": spec.source,
            "distribution": getattr(plugin_info(spec.source), "distribution", ""),
        },
        "versions": _versions(),
    }
    weights = estimator._network.trained_weights()

    def write(tmp: Path) -> None:
        from safetensors.numpy import save_file

        save_file(weights, str(tmp / WEIGHTS_FILE))
        document["weights_sha256"] = file_sha256(tmp / WEIGHTS_FILE)
        document["onnx"] = _save_onnx(estimator, tmp)
        # The manifest comes last: a directory with it is complete.
        (tmp / CONFIG_FILE).write_text(json.dumps(document, indent=2) + "\n")

    write_directory(path, write, **_save_rules(overwrite))


def check_save_path(path, overwrite: bool = False, flag: str = "overwrite=True"):
    """Raise `FileExistsError` unless `save` may write to `path`.

    `path` may be new, an empty directory, or (with `overwrite`) a directory
    skbert saved an estimator to (`is_saved_estimator`). The CLI calls this
    before it trains; `flag` names the user's way to overwrite.
    """
    check_destination(path, **_save_rules(overwrite, flag))


def _save_rules(overwrite: bool, flag: str = "overwrite=True") -> dict:
    return dict(
        overwrite=overwrite,
        is_ours=is_saved_estimator,
        what="saved skbert estimator",
        flag=flag,
    )


def is_saved_estimator(path) -> bool:
    """Whether directory `path` holds only what `save` writes, so may be replaced.

    Its files are all of `save`'s names (no others, no folders, no links),
    and either ``skbert.json`` says it is a saved estimator, or there is no
    readable ``skbert.json`` but ``weights.safetensors`` is there: what an
    interrupted save of an older skbert (which wrote in place, the manifest
    last) left behind.
    """
    path = Path(path)
    entries = list(path.iterdir())
    if any(
        p.name not in OWN_FILES or p.is_symlink() or not p.is_file() for p in entries
    ):
        return False
    try:
        document = json.loads((path / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return (path / WEIGHTS_FILE).is_file()
    return isinstance(document, dict) and document.get("format") == FORMAT


def _save_onnx(estimator, path: Path) -> dict:
    """Write ``model.onnx`` and ``vocab.txt`` if the network exports; their entry."""
    from skbert.onnx_graph import NotExportable, vocab_file

    variants = estimator._network.onnx
    try:
        graph, tokenizer = variants.graph(), variants.tokenizer()
        vocab = vocab_file(estimator.network_config_)
    except NotExportable as exc:
        return {"unavailable": str(exc)}
    (path / ONNX_FILE).write_bytes(graph)
    shutil.copyfile(vocab, path / VOCAB_FILE)
    return {
        "graph_sha256": file_sha256(path / ONNX_FILE),
        "vocab_sha256": file_sha256(path / VOCAB_FILE),
        "lower_case": bool(tokenizer.lower_case),
    }


def load(path, backend: str = "tensorflow"):
    """Load an estimator written by ``estimator.save(path)``.

    Only ``skbert.json`` and ``weights.safetensors`` (with ONNX Runtime:
    ``model.onnx`` and ``vocab.txt``) are read; nothing is unpickled or
    executed. The estimator is returned fully built or not at all.

    Parameters
    ----------
    path : str or path
        The directory `save` wrote.
    backend : {"tensorflow", "onnxruntime", "onnxruntime-int8"}, \
default="tensorflow"
        ``"tensorflow"`` rebuilds the whole estimator (it predicts on its
        ``inference_backend``, can be fitted again, pickled, saved).
        ``"onnxruntime"`` (or its int8 variant) loads only the ONNX graph
        and vocabulary, never imports TensorFlow and starts in a fraction
        of the time: the estimator predicts (``predict``,
        ``predict_proba``, ``decision_function``, ``transform``, ``score``)
        but holds no TensorFlow network (``model_`` is None).

    Returns
    -------
    BertClassifier, BertRegressor or BertVectorizer

    Raises
    ------
    ModelFormatError
        The directory is not a saved estimator, is from a newer format, or
        its weights are missing, truncated or altered.
    ValueError
        The encoder it needs is not installed (the message names the
        plugin distribution that provided it).

    Examples
    --------
    >>> import tempfile, skbert
    >>> vec = skbert.BertVectorizer("tiny_random_en_uncased").fit(["a text"])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     vec.save(tmp + "/vec")
    ...     skbert.load(tmp + "/vec").transform(["a text"]).shape
    (1, 32)
    """
    if backend not in BACKENDS:
        raise ValueError(
            f"backend={backend!r}; choose one of {', '.join(map(repr, BACKENDS))}."
        )
    path = Path(path)
    document = _read_document(path)
    classes = _estimator_classes()
    if document.get("estimator") not in classes:
        raise ModelFormatError(
            f"{path / CONFIG_FILE} names estimator {document.get('estimator')!r}; "
            f"skbert loads only {', '.join(classes)}."
        )
    try:
        params = _decode(document["params"])
        fitted = _decode(document["fitted"])
        encoder = document["encoder"]
        config = fitted["network_config_"] = NetworkConfig.from_dict(
            fitted["network_config_"]
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFormatError(
            f"{path / CONFIG_FILE} is not a complete skbert estimator ({exc!r})."
        ) from None
    for name in fitted:
        if not re.fullmatch(r"[a-z][a-z0-9_]*_", name) or name in _NOT_LOADED:
            raise ModelFormatError(f"{path / CONFIG_FILE} sets attribute {name!r}.")
    if backend != "tensorflow":
        return _load_onnx(path, document, classes, params, fitted, backend)
    from skbert.encoders import base_encoder, resolve_encoder
    from skbert.network import build_network

    weights = _read_weights(path, document.get("weights_sha256"))
    encoder_path = Path(base_encoder(config.encoder)).resolve()
    if encoder_path == path.resolve() or path.resolve() in encoder_path.parents:
        raise ModelFormatError(
            f"{path / CONFIG_FILE} asks for an encoder inside the saved directory; "
            "skbert never loads SavedModels from a saved estimator."
        )
    try:
        resolve_encoder(config.encoder)
    except ValueError as exc:
        if not encoder.get("plugin"):
            raise ValueError(
                f"The saved estimator needs the local encoder {config.encoder!r}, "
                "which is not there any more; put the preprocess/ and encoder/ "
                f"SavedModels back at that path. ({exc})"
            ) from None
        provider = encoder.get("distribution") or encoder.get("plugin")
        raise ValueError(
            f"The saved estimator needs encoder {config.encoder!r}, which "
            f"plugin {encoder.get('plugin')!r} of distribution {provider!r} "
            f"registered when it was saved; install that plugin, then load again. "
            f"({exc})"
        ) from None
    estimator = _new_estimator(path, classes[document["estimator"]], params, fitted)
    network = build_network(config)
    try:
        network.set_trained_weights(weights)
    except ValueError as exc:
        raise ModelFormatError(f"{path / WEIGHTS_FILE}: {exc}") from None
    estimator._set_network(network, **fitted)
    return estimator


#: Fitted attributes that a saved file may not set (they are built on load).
_NOT_LOADED = ("model_", "inference_backend_")


def _new_estimator(path: Path, cls: type, params: dict, fitted: dict):
    """The estimator of `params`, checked as ``fit`` checks them, and `fitted`."""
    try:
        estimator = cls(**params)
    except TypeError as exc:
        raise ModelFormatError(
            f"{path / CONFIG_FILE} has bad parameters: {exc}"
        ) from None
    try:
        estimator._validate_params()  # scikit-learn's, from _parameter_constraints
    except (TypeError, ValueError) as exc:
        raise ModelFormatError(
            f"{path / CONFIG_FILE} has a bad value in 'params': {exc}"
        ) from None
    n_outputs = fitted["network_config_"].n_outputs
    for name in ("classes_", "y_mean_", "y_scale_"):
        if n_outputs is None:  # no head in the network: nothing to compare with
            break
        if name in fitted and np.shape(fitted[name])[:1] != (n_outputs,):
            raise ModelFormatError(
                f"{path / CONFIG_FILE} has {len(fitted[name])} entries in "
                f"'fitted' {name!r}, but the network it describes has {n_outputs} "
                "outputs (network_config_.n_outputs); the file was changed after "
                "saving. Save the estimator again."
            )
    return estimator


def _load_onnx(path: Path, document: dict, classes, params, fitted, backend):
    """The estimator on its ONNX graph alone, TensorFlow never imported."""
    from skbert.runtime import OnnxNetwork
    from skbert.wordpiece import WordPieceTokenizer

    entry = document.get("onnx") or {}
    if "graph_sha256" not in entry:
        why = entry.get("unavailable", "it was saved without one")
        raise ValueError(
            f"{path} holds no ONNX graph ({why}); load it with skbert.load(path), "
            "which predicts with TensorFlow."
        )
    graph = _read_verified(path, ONNX_FILE, entry["graph_sha256"]).read_bytes()
    vocab = _read_verified(path, VOCAB_FILE, entry.get("vocab_sha256"))
    tokenizer = WordPieceTokenizer(
        vocab,
        lower_case=entry["lower_case"],
        max_seq_length=fitted["network_config_"].max_seq_length,
    )
    estimator = _new_estimator(path, classes[document["estimator"]], params, fitted)
    _check_graph_width(path, graph, fitted)
    estimator.set_params(inference_backend=backend)
    estimator._set_network(OnnxNetwork(graph, tokenizer), **fitted)
    return estimator


def _check_graph_width(path: Path, graph: bytes, fitted: dict) -> None:
    """`ModelFormatError` unless the graph's output is as wide as the head."""
    import onnx

    from skbert.tasks import get_task, output_task

    config = fitted["network_config_"]
    if config.head is None:
        return
    task = get_task(config.task)
    if "activation_" in fitted:
        task = output_task(config.task, fitted["activation_"])
    units = task.units(config.n_outputs)
    dims = onnx.load_from_string(graph).graph.output[0].type.tensor_type.shape.dim
    width = dims[-1].dim_value if dims else 0
    if width and width != units:
        raise ModelFormatError(
            f"{path / ONNX_FILE} outputs {width} values per text, but "
            f"{path / CONFIG_FILE} describes a head of {units}; the file was "
            "changed after saving. Save the estimator again."
        )


def _read_verified(path: Path, name: str, expected_sha256) -> Path:
    """``path / name``, a regular file whose sha256 is the one recorded."""
    member = _member(path, name)
    if not member.is_file():
        raise ModelFormatError(f"{path} has no {name}; the save is incomplete.")
    if file_sha256(member) != expected_sha256:
        raise ModelFormatError(
            f"{member} does not match the sha256 recorded in {CONFIG_FILE}: "
            "it was truncated or changed after saving. Save the estimator again."
        )
    return member


def _member(path: Path, name: str) -> Path:
    """``path / name``, refused if it is a link (it could point anywhere)."""
    member = path / name
    if member.is_symlink():
        raise ModelFormatError(
            f"{member} is a symbolic link; skbert.load reads only regular files "
            "stored in the saved directory. Copy the real file there instead."
        )
    return member


def _read_document(path: Path) -> dict:
    if not path.is_dir():
        raise ModelFormatError(
            f"{path} is not a directory, so not a saved skbert estimator; name "
            "the folder that estimator.save (or skbert fit --model) wrote."
        )
    config_file = _member(path, CONFIG_FILE)
    if not config_file.is_file():
        raise ModelFormatError(
            f"{path} is not a saved skbert estimator: it has no {CONFIG_FILE}. "
            "Save one with estimator.save(path)."
        )
    try:
        document = json.loads(config_file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFormatError(f"{config_file} is not valid JSON: {exc}.") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ModelFormatError(f"{config_file} is not a skbert estimator file.")
    version = document.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFormatError(
            f"{config_file} has format version {version!r}; this skbert reads "
            f"version {FORMAT_VERSION}. It was saved by skbert "
            f"{document.get('versions', {}).get('skbert', 'unknown')}: load it "
            "with that version."
        )
    return document


def _read_weights(path: Path, expected_sha256) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return load_file(str(_read_verified(path, WEIGHTS_FILE, expected_sha256)))


def _versions() -> dict[str, str]:
    versions = {}
    for dist in ("skbert", "tensorflow", "tensorflow-hub", "tf-keras"):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = "unknown"
    return versions


def _encode(value, what: str):
    """Plain JSON for `value`, tagging what JSON cannot say (tuples, arrays).

    A scikit-learn estimator (`BertFewShotClassifier`'s head) is written as
    `skbert.sklearn_state.to_plain` gives it.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, BaseEstimator):
        return _encode(to_plain(value, what), what)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, what) for v in value]}
    if isinstance(value, list):
        return [_encode(v, what) for v in value]
    if isinstance(value, dict):
        return {
            "__dict__": [
                [_encode(k, what), _encode(v, f"{what} {k!r}")]
                for k, v in value.items()
            ]
        }
    if isinstance(value, np.ndarray) and value.dtype.kind in "biufUO":
        return {
            "__ndarray__": [_encode(v, what) for v in value.tolist()],
            "dtype": value.dtype.str if value.dtype.kind != "O" else "object",
            "shape": list(value.shape),
        }
    raise TypeError(
        f"Cannot save {what}: {type(value).__name__} {value!r} has no safe JSON "
        "form. Use plain values (e.g. an int random_state instead of a RandomState)."
    )


def _decode(value):
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__tuple__" in value:
        return tuple(_decode(v) for v in value["__tuple__"])
    if "__dict__" in value:
        decoded = {_decode(k): _decode(v) for k, v in value["__dict__"]}
        if MARKER in decoded:  # a scikit-learn estimator (a few-shot head)
            return from_plain(decoded)
        return decoded
    if "__float__" in value:
        return float(value["__float__"])
    if "__ndarray__" in value:
        items = [_decode(v) for v in value["__ndarray__"]]
        if value["dtype"] == "object":
            array = np.empty(len(items), dtype=object)
            array[:] = items
            return array
        dtype = np.dtype(value["dtype"])
        if dtype.kind not in "biufU":
            raise ValueError(f"array dtype {value['dtype']!r} is not allowed")
        return np.asarray(items, dtype=dtype).reshape(value["shape"])
    raise ValueError(f"unknown value {value!r}")
