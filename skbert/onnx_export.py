"""``est.export(path, format="onnx")``: a fitted estimator for plain ONNX Runtime.

The directory holds ``model.onnx`` (the whole network, `skbert.onnx_graph`),
``tokenizer.json`` (a ``tokenizers.Tokenizer`` that tokenizes, packs, trims
and pads, see `skbert.wordpiece.WordPieceTokenizer.standalone`), its
``vocab.txt``, and ``skbert.json``: the labels and the settings needed to
turn the graph's output into predictions. Running it needs onnxruntime,
tokenizers and numpy only; the user guide shows the script.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from skbert.files import check_destination, write_directory

FORMAT = "skbert-onnx"
FORMAT_VERSION = 1
MANIFEST = "skbert.json"
#: Every file an export holds.
FILES = ("model.onnx", "vocab.txt", "tokenizer.json", MANIFEST)


def export_onnx(estimator, path, overwrite: bool = False) -> Path:
    """Write `estimator` to the directory `path`, whole or not at all; return it.

    `path` may be new or empty, or with `overwrite` an earlier ONNX export
    of skbert's (`is_onnx_export`); it is written beside `path` and renamed
    into place (`skbert.files.write_directory`). Raises
    `skbert.runtime.NotExportable` (a `ValueError`) for a network that
    cannot be written as ONNX.
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator, "model_")
    rules = dict(overwrite=overwrite, is_ours=is_onnx_export, what="ONNX export")
    check_destination(path, **rules)
    variants = estimator._network.onnx
    graph, tokenizer = variants.graph(), variants.tokenizer()
    model = variants.model("onnxruntime")
    settings = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "estimator": type(estimator).__name__,
        "output": model.output_names[0],
        "n_segments": estimator.n_segments_,
        "max_seq_length": tokenizer.max_seq_length,
        "lower_case": bool(tokenizer.lower_case),
        **_outputs(estimator),
    }

    def write(tmp: Path) -> None:
        (tmp / "model.onnx").write_bytes(graph)
        shutil.copyfile(tokenizer.vocab_file, tmp / "vocab.txt")
        tokenizer.standalone().save(str(tmp / "tokenizer.json"))
        (tmp / MANIFEST).write_text(json.dumps(settings, indent=2) + "\n")

    write_directory(path, write, **rules)
    return Path(path)


def is_onnx_export(path) -> bool:
    """Whether directory `path` holds only an ONNX export of skbert's."""
    path = Path(path)
    if any(
        p.name not in FILES or not p.is_file() or p.is_symlink() for p in path.iterdir()
    ):
        return False
    try:
        settings = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(settings, dict) and settings.get("format") == FORMAT


def _outputs(estimator) -> dict:
    """How the graph's output becomes the estimator's predictions."""
    fitted = vars(estimator)
    if "classes_" in fitted:
        return {
            "task": estimator.network_config_.task,
            "activation": estimator.activation_,
            "classes": np.asarray(estimator.classes_).tolist(),
        }
    if "y_mean_" in fitted:
        return {
            "task": "regression",
            "y_mean": np.asarray(estimator.y_mean_).tolist(),
            "y_scale": np.asarray(estimator.y_scale_).tolist(),
        }
    return {"task": "embedding", "pooling": estimator.network_config_.pooling}
