"""``est.export(path, format="onnx")``: a fitted estimator for plain ONNX Runtime.

The directory holds ``model.onnx`` (the whole network, `skbert.onnx_graph`),
``tokenizer.json`` (a ``tokenizers.Tokenizer`` that tokenizes, packs, trims
and pads, see `skbert.wordpiece.WordPieceTokenizer.standalone`), its
``vocab.txt``, and ``skbert.json``: the labels and the settings needed to
turn the graph's output into predictions. Running it needs onnxruntime,
tokenizers and numpy only; the user guide shows the script.

An estimator whose last step is a linear map of its network's embeddings
(`skbert.BertFewShotClassifier` with a logistic-regression head,
`skbert.BertZeroShotClassifier`) describes that step as a `LinearHead`, and
the exported graph ends with it (`skbert.onnx_graph.with_linear_head`):
its logits then become probabilities as a `BertClassifier`'s do.
"""

from __future__ import annotations

import dataclasses
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
    into place (`skbert.files.write_directory`). The estimator's last step,
    if it has one (its ``_export_head``, a `LinearHead`), is written after
    the network. Raises `skbert.runtime.NotExportable` (a `ValueError`) for
    a network or a last step that cannot be written as ONNX.
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator, "model_")
    rules = dict(overwrite=overwrite, is_ours=is_onnx_export, what="ONNX export")
    check_destination(path, **rules)
    head = estimator._export_head()
    variants = estimator._network.onnx
    graph, tokenizer = variants.graph(), variants.tokenizer()
    if head is None:
        outputs = _outputs(estimator)
    else:
        from skbert.onnx_graph import with_linear_head

        graph = with_linear_head(graph, head.weight, head.bias, head.normalize)
        outputs = head.settings()
    settings = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "estimator": type(estimator).__name__,
        "output": _output_name(graph),
        "n_segments": estimator.n_segments_,
        "max_seq_length": tokenizer.max_seq_length,
        "lower_case": bool(tokenizer.lower_case),
        **outputs,
    }

    def write(tmp: Path) -> None:
        (tmp / "model.onnx").write_bytes(graph)
        shutil.copyfile(tokenizer.vocab_file, tmp / "vocab.txt")
        tokenizer.standalone().save(str(tmp / "tokenizer.json"))
        (tmp / MANIFEST).write_text(json.dumps(settings, indent=2) + "\n")

    write_directory(path, write, **rules)
    return Path(path)


@dataclasses.dataclass(frozen=True)
class LinearHead:
    """A classifier's last step as a linear map of its network's embeddings.

    The logits are ``x @ weight.T + bias``, where ``x`` is the network's
    output, L2-normalized if `normalize`; `activation` of the logits gives
    ``predict_proba`` as a `BertClassifier` of `task` does (``"binary"``:
    one logit, the sigmoid is the probability of ``classes[1]``;
    ``"multiclass"``: the softmax; ``"multilabel"``: the sigmoid of each).

    Attributes
    ----------
    weight : ndarray of shape (n_logits, width)
    bias : ndarray of shape (n_logits,)
    normalize : bool
    task : {"binary", "multiclass", "multilabel"}
    activation : {"sigmoid", "softmax"}
    classes : ndarray
    """

    weight: np.ndarray
    bias: np.ndarray
    normalize: bool
    task: str
    activation: str
    classes: np.ndarray

    def settings(self) -> dict:
        """The entries of ``skbert.json`` that say how logits become predictions."""
        return {
            "task": self.task,
            "activation": self.activation,
            "classes": np.asarray(self.classes).tolist(),
        }

    def logits(self, embeddings: np.ndarray) -> np.ndarray:
        """The logits of `embeddings` (float64), as the exported graph computes them."""
        x = np.asarray(embeddings, dtype=np.float64)
        if self.normalize:
            x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
        return x @ np.asarray(self.weight, np.float64).T + self.bias

    def probabilities(self, embeddings: np.ndarray) -> np.ndarray:
        """``predict_proba`` of `embeddings`, from `logits` and `activation`."""
        from skbert.tasks import output_task

        task = output_task(self.task, self.activation)
        return task.probabilities(self.logits(embeddings))


#: What `sklearn_linear_head` says of the heads it takes.
LINEAR_HEADS = (
    "LogisticRegression, or for multi-label targets "
    "OneVsRestClassifier(LogisticRegression())"
)
#: A constant one-vs-rest label's logit: its sigmoid is 1 (or 0) to float precision.
_CONSTANT_LOGIT = 100.0


def sklearn_linear_head(head, classes, multilabel: bool, normalize: bool):
    """A fitted scikit-learn `head` on embeddings as a `LinearHead`.

    `head` is a `LogisticRegression` (two classes: one logit, the sigmoid;
    more: the softmax) or, for `multilabel` targets, a
    `OneVsRestClassifier` of them (a logit per label, the sigmoid of each;
    a label constant in training gets a constant logit). Anything else
    raises `skbert.runtime.NotExportable` naming the heads that export. The
    result's probabilities are checked against ``head.predict_proba``.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier, _ConstantPredictor

    from skbert.runtime import NotExportable

    refusal = NotExportable(
        f"export writes a few-shot head into the exported model when it is linear "
        f"({LINEAR_HEADS}), and this one is {type(head).__name__}. Save the "
        "estimator with est.save(path) and predict with skbert.load(path, "
        "backend='onnxruntime'), which needs no TensorFlow."
    )
    if multilabel and isinstance(head, OneVsRestClassifier):
        rows = []
        for part in head.estimators_:
            if isinstance(part, _ConstantPredictor):
                logit = _CONSTANT_LOGIT if part.y_[0] else -_CONSTANT_LOGIT
                rows.append((np.zeros(head.n_features_in_), logit))
            elif type(part) is LogisticRegression:
                rows.append((part.coef_[0], part.intercept_[0]))
            else:
                raise refusal
        weight = np.stack([w for w, _ in rows])
        bias = np.array([b for _, b in rows])
        task, activation = "multilabel", "sigmoid"
    elif not multilabel and type(head) is LogisticRegression:
        weight, bias = head.coef_, head.intercept_
        binary = len(head.classes_) == 2
        task = "binary" if binary else "multiclass"
        activation = "sigmoid" if binary else "softmax"
    else:
        raise refusal
    linear = LinearHead(weight, bias, normalize, task, activation, classes)
    probes = np.random.default_rng(0).normal(size=(8, weight.shape[1]))
    probes /= np.linalg.norm(probes, axis=1, keepdims=True)
    if not np.allclose(
        linear.probabilities(probes), head.predict_proba(probes), atol=1e-9
    ):
        raise NotExportable(
            f"the head's predict_proba is not the {activation} of its linear "
            f"logits, so an export would predict otherwise. {refusal}"
        )
    return linear


def _output_name(graph: bytes) -> str:
    import onnx

    return onnx.load_from_string(graph).graph.output[0].name


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
