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

FORMAT = "skbert-onnx"
FORMAT_VERSION = 1


def export_onnx(estimator, path) -> Path:
    """Write `estimator` to the new (or empty) directory `path`; return it.

    Raises `skbert.runtime.NotExportable` (a `ValueError`) for a network
    that cannot be written as ONNX.
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator, "model_")
    path = Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise FileExistsError(
            f"{path} exists and is not an empty directory; export to a new path."
        )
    variants = estimator._network.onnx
    graph, tokenizer = variants.graph(), variants.tokenizer()
    model = variants.model("onnxruntime")
    path.mkdir(parents=True, exist_ok=True)
    (path / "model.onnx").write_bytes(graph)
    shutil.copyfile(tokenizer.vocab_file, path / "vocab.txt")
    tokenizer.standalone().save(str(path / "tokenizer.json"))
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
    (path / "skbert.json").write_text(json.dumps(settings, indent=2) + "\n")
    return path


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
