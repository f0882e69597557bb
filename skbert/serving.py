"""Export a fitted estimator as a TF SavedModel for TF Serving: strings in.

The SavedModel holds the whole prediction path: the encoder's TF Hub
preprocessor (``tokenize`` and ``bert_pack_inputs``, as `skbert.model.Packer`
runs them), the encoder, the head and the estimator's last step (the
activation of ``predict_proba``, the un-scaling of a regressor, the class
labels). Its ``serving_default`` signature takes a batch of strings ``text``
(and ``text_pair`` for an estimator fitted on pairs) and returns:

=================  ===============================================================
estimator          outputs
=================  ===============================================================
BertClassifier     ``probabilities`` float32 [n, n_classes], as ``predict_proba``;
                   ``logits`` float32 [n, units], the head's outputs (1 unit for
                   a sigmoid binary head); ``labels``, as ``predict``: string
                   [n] (``str`` of each of ``classes_``), or for multi-label an
                   int64 0/1 indicator [n, n_labels]
BertRegressor      ``predictions`` float32 [n, n_outputs], in the units of ``y``
BertVectorizer     ``embeddings`` float32 [n, width], by its ``pooling``
BertFewShot-       as BertClassifier, when its head is linear (a logistic
Classifier         regression; multi-label: one-vs-rest of them): the head is
                   written into the graph (`skbert.onnx_export.LinearHead`)
BertZeroShot-      as BertClassifier: the softmax of the cosines over
Classifier         ``temperature`` (its logits)
=================  ===============================================================

It is laid out as TF Serving reads a model: ``path/<version>/`` with
``saved_model.pb``, ``variables/`` and ``assets/``. Loading it needs
TensorFlow and the ops of ``tensorflow_text`` (``import tensorflow_text``;
TF Serving must be built with them), not skbert.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import tensorflow as tf
from sklearn.utils.validation import check_is_fitted

from skbert.files import write_directory
from skbert.inputs import SEGMENT_NAMES
from skbert.model import POOLINGS

#: Name of the signature TF Serving calls by default.
SIGNATURE = "serving_default"
#: The signature's inputs, by number of segments.
TEXT_INPUTS = ("text", "text_pair")


def export_saved_model(estimator, path) -> Path:
    """Write fitted `estimator` as a SavedModel in TF Serving's layout.

    Parameters
    ----------
    estimator : skbert estimator
        Fitted: a BertClassifier, BertRegressor or BertVectorizer with a
        fine-tuned or frozen encoder and any head; a BertFewShotClassifier
        with a linear head; a BertZeroShotClassifier.
    path : str or path
        The model's base directory: new, empty, or holding numbered version
        folders only (entries whose name starts with ``.`` are ignored). The
        model is written to version 1, or to one past the highest there.

    Returns
    -------
    Path
        The version folder written, ``path/<version>``.

    Raises
    ------
    FileExistsError
        `path` is a file, or a directory holding other things than version
        folders.

    Examples
    --------
    >>> import tempfile, skbert
    >>> vec = skbert.BertVectorizer("tiny_random_en_uncased").fit(["a text"])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     print(export_saved_model(vec, tmp).name)
    ...     print(export_saved_model(vec, tmp).name)
    1
    2
    """
    check_is_fitted(estimator, "model_")
    path = Path(path)
    version = _next_version(path)
    module = _ServingModule(estimator)

    def write(tmp: Path) -> None:
        tf.saved_model.save(module, str(tmp), signatures={SIGNATURE: module.serve})

    # Written under a hidden name, then renamed: TF Serving never sees half a model.
    target = path / str(version)
    write_directory(target, write, what="model version")
    return target


def _next_version(path: Path) -> int:
    """One past the highest version folder in `path` (1 if none); or refuse it."""
    if not path.exists():
        return 1
    if not path.is_dir():
        raise FileExistsError(
            f"{path} is a file; export to a directory: a new one, an empty one, "
            "or a model's base directory of numbered version folders."
        )
    entries = [p for p in path.iterdir() if not p.name.startswith(".")]
    others = sorted(
        p.name for p in entries if not (p.is_dir() and re.fullmatch("[0-9]+", p.name))
    )
    if others:
        raise FileExistsError(
            f"{path} holds {', '.join(map(repr, others[:3]))}, which are not "
            "version folders; TF Serving reads a model's base directory of "
            "numbered versions only (1/, 2/, ...). Export to a new or empty "
            "directory, or to such a base directory."
        )
    return max((int(p.name) for p in entries), default=0) + 1


class _ServingModule(tf.Module):
    """What the SavedModel holds: the preprocessor, the weights, ``serve``."""

    def __init__(self, estimator):
        super().__init__(name="skbert_serving")
        network = estimator._network
        config = estimator.network_config_
        # The preprocessor's tables and assets, and every variable the
        # network reads, are tracked here so that the SavedModel saves them.
        self.preprocessor = network.packer.preprocessor
        self.weights = list(network.model.variables)
        self._packer = network.packer
        self._network = network
        self._finish = _finisher(estimator, config)
        n_segments = config.n_segments
        specs = [tf.TensorSpec([None], tf.string, name=n) for n in TEXT_INPUTS]
        if n_segments == 1:

            def serve(text):
                return self._predict((text,))

        else:

            def serve(text, text_pair):
                return self._predict((text, text_pair))

        self.serve = tf.function(serve, input_signature=specs[:n_segments])

    def _predict(self, texts) -> dict:
        ids = self._packer(dict(zip(SEGMENT_NAMES, texts)))
        # An empty request packs to no tokens at all; give it one (padding).
        pad = [[0, 0], [0, tf.maximum(0, 1 - tf.shape(ids["input_mask"])[1])]]
        ids = {name: tf.pad(value, pad) for name, value in ids.items()}
        return self._finish(self._network.serve(ids))


def _finisher(estimator, config):
    """The estimator's last step, network outputs to the signature's outputs."""
    linear = estimator._export_head()
    if linear is not None:
        return _linear_finisher(linear, POOLINGS[config.pooling])
    if not config.head:  # a frozen encoder's dict, or a tuned encoder's pooling
        name = POOLINGS[config.pooling]
        return lambda outputs: {
            "embeddings": outputs[name] if isinstance(outputs, dict) else outputs
        }
    if config.task == "regression":
        scale = tf.constant(estimator.y_scale_, tf.float64)
        mean = tf.constant(estimator.y_mean_, tf.float64)

        def predictions(logits):
            values = tf.cast(logits, tf.float64) * scale + mean
            return {"predictions": tf.cast(values, tf.float32)}

        return predictions
    return _classifier(config.task, estimator.activation_, estimator.classes_)


def _linear_finisher(linear, name: str):
    """A `skbert.onnx_export.LinearHead` on the network's embeddings, then classify.

    The network gives the embeddings as a tensor (a tuned encoder's
    pooling) or in a dict of encoder outputs, under `name`.
    """
    weight = tf.constant(linear.weight, tf.float32)
    bias = tf.constant(linear.bias, tf.float32)
    classify = _classifier(linear.task, linear.activation, linear.classes)

    def finish(outputs):
        x = outputs[name] if isinstance(outputs, dict) else outputs
        x = tf.cast(x, tf.float32)
        if linear.normalize:
            norm = tf.norm(x, axis=1, keepdims=True)
            x = x / tf.maximum(norm, 1e-12)
        return classify(tf.matmul(x, weight, transpose_b=True) + bias)

    return finish


def _classifier(task: str, activation: str, classes):
    """Logits to ``probabilities``, ``logits`` and ``labels``, as `predict` has them."""
    multilabel = task == "multilabel"
    sigmoid = activation == "sigmoid"
    classes = tf.constant([str(c) for c in np.asarray(classes).tolist()])

    def classify(logits):
        logits = tf.cast(logits, tf.float32)
        if sigmoid:
            positive = tf.sigmoid(logits)
            proba = positive if multilabel else tf.concat([1 - positive, positive], 1)
        else:
            proba = tf.nn.softmax(logits, axis=1)
        if multilabel:
            labels = tf.cast(proba > 0.5, tf.int64)
        else:
            labels = tf.gather(classes, tf.argmax(proba, axis=1))
        return {"probabilities": proba, "logits": logits, "labels": labels}

    return classify
