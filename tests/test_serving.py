"""`export(format="saved_model")`: TF Serving SavedModels that run without skbert.

Each estimator below is exported once; one fresh process, in which skbert
cannot even be imported, loads every export with plain TensorFlow and runs
its ``serving_default`` signature; the tests compare what it returned with
the estimator's own predictions.
"""

import json
import os
import site
import subprocess
import sys

import numpy as np
import pytest

from conftest import TINY, sentiment, tiny_classifier
from skbert import BertRegressor, BertVectorizer
from skbert.cli import main

#: Loads exports with TensorFlow alone: argv is site dirs, jobs, output file.
SERVE = r"""
import json, sys
sys.path[:0] = json.loads(sys.argv[1])
try:
    import skbert
except ModuleNotFoundError:
    pass
else:
    raise SystemExit(f"skbert is importable here, from {skbert.__file__}")
import numpy as np
import tensorflow as tf
import tensorflow_text  # noqa: F401  (the preprocessor's ops)

results = {}
for name, job in json.loads(sys.argv[2]).items():
    serve = tf.saved_model.load(job["path"]).signatures["serving_default"]
    _, spec = serve.structured_input_signature
    results[f"{name}/inputs"] = np.array(
        [f"{key}:{s.dtype.name}:{s.shape}" for key, s in sorted(spec.items())]
    )
    texts = {key: tf.constant(value) for key, value in job["inputs"].items()}
    for key, value in serve(**texts).items():
        value = value.numpy()
        results[f"{name}/{key}"] = (
            np.char.decode(value.astype(bytes), "utf-8")
            if value.dtype == object
            else value
        )
assert "skbert" not in sys.modules
np.savez(sys.argv[3], **results)
"""

FAST = dict(epochs=1, batch_size=8, max_seq_length=16, random_state=0)
#: Lengths that need padding and truncation, an empty text, non-ASCII.
EXTRA = ["", "ok", "naïve café über film " * 6, "the plot was fine and the acting dull"]

CLASSIFIERS = [
    "binary",
    "multiclass",
    "multilabel",
    "pairs",
    "frozen",
    "frozen_cnn",
    "sequence",
    "cnn",
]
REGRESSORS = ["regressor", "mlp"]
#: SavedModel exports of ten estimators, served in a fresh process: the slow tier.
pytestmark = pytest.mark.slow


def pairs(texts, seed):
    other = sentiment(len(texts), seed)[0]
    return np.column_stack([texts, other]).tolist()


@pytest.fixture(scope="module")
def cases(fitted, toy):
    """Fitted estimators by name, each with texts to predict."""
    X, y, X_test, _ = toy
    X, y, X_test = X[:24], y[:24], list(X_test[:20]) + EXTRA
    rng = np.random.default_rng(0)
    tags = [set(rng.choice(["a", "b", "c"], size=rng.integers(1, 3))) for _ in X]
    targets = np.column_stack([rng.normal(3, 1, len(X)), rng.normal(-5, 4, len(X))])
    return {
        "binary": (fitted, X_test),
        "multiclass": (tiny_classifier(**FAST).fit(X, np.arange(24) % 3), X_test),
        "multilabel": (tiny_classifier(**FAST).fit(X, tags), X_test),
        # The softmax head on a binary y: two logits, a softmax.
        "pairs": (
            tiny_classifier(head="softmax", **FAST).fit(pairs(X, 2), y),
            pairs(X_test, 3),
        ),
        "frozen": (
            tiny_classifier(train_encoder=False, **FAST).fit(X, y),
            X_test,
        ),
        # Reads the sequence, which the feature store keeps zero past the text.
        "frozen_cnn": (
            tiny_classifier(train_encoder=False, head="cnn", **FAST).fit(X, y),
            X_test,
        ),
        "sequence": (
            tiny_classifier(head="sequence", **FAST).fit(X, np.arange(24) % 4),
            X_test,
        ),
        # Its convolutions see the padding: one batch pads like one request.
        "cnn": (
            tiny_classifier(head="cnn", **{**FAST, "batch_size": 64}).fit(X, y),
            X_test,
        ),
        "regressor": (BertRegressor(TINY, **FAST).fit(X, targets), X_test),
        "mlp": (
            BertRegressor(TINY, "mlp", head__hidden_units=(8,), **FAST).fit(
                X, targets[:, 1]
            ),
            X_test,
        ),
        "vectorizer": (
            BertVectorizer(TINY, pooling="mean", max_seq_length=16).fit(X),
            X_test,
        ),
    }


@pytest.fixture(scope="module")
def exported(cases, tmp_path_factory):
    """Base directory of each case's export."""
    root = tmp_path_factory.mktemp("served")
    for name, (estimator, _) in cases.items():
        assert estimator.export(root / name, format="saved_model") == root / name / "1"
    return {name: root / name for name in cases}


@pytest.fixture(scope="module")
def served(cases, exported, tmp_path_factory):
    """What each signature returned, by case and output, in a process without skbert."""
    jobs = {}
    for name, (_, X) in cases.items():
        segments = np.array(X, dtype=object).reshape(len(X), -1).T.tolist()
        keys = ("text", "text_pair")[: len(segments)]
        jobs[name] = {
            "path": str(exported[name] / "1"),
            "inputs": dict(zip(keys, segments)),
        }
    dirs = [p for p in site.getsitepackages() if os.path.isdir(p)]
    out = tmp_path_factory.mktemp("results") / "served.npz"
    # -I: no cwd, PYTHONPATH or user site; -S: no .pth files, so no editable skbert.
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", SERVE, json.dumps(dirs), json.dumps(jobs)]
        + [str(out)],
        capture_output=True,
        text=True,
        cwd=out.parent,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    results = {name: {} for name in cases}
    with np.load(out) as data:
        for key in data.files:
            name, output = key.split("/")
            results[name][output] = data[key]
    return results


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classifier_signature_gives_proba_logits_and_labels(name, cases, served):
    estimator, X = cases[name]
    out = served[name]
    assert sorted(out) == ["inputs", "labels", "logits", "probabilities"]
    assert out["probabilities"].dtype == np.float32
    np.testing.assert_allclose(
        out["probabilities"], estimator.predict_proba(X), rtol=0, atol=1e-5
    )
    np.testing.assert_allclose(out["logits"], estimator._logits(X), rtol=0, atol=1e-5)
    predicted = estimator.predict(X)
    if name == "multilabel":
        assert out["labels"].dtype == np.int64
        np.testing.assert_array_equal(out["labels"], predicted)
    else:
        assert out["labels"].tolist() == [str(label) for label in predicted]


@pytest.mark.parametrize("name", REGRESSORS)
def test_regressor_signature_gives_predictions_in_the_units_of_y(name, cases, served):
    estimator, X = cases[name]
    out = served[name]
    assert sorted(out) == ["inputs", "predictions"]
    expected = estimator.predict(X).reshape(len(X), -1)
    assert out["predictions"].shape == (len(X), estimator.n_outputs_)
    np.testing.assert_allclose(out["predictions"], expected, rtol=1e-6, atol=1e-5)


def test_vectorizer_signature_gives_its_pooling(cases, served):
    estimator, X = cases["vectorizer"]
    out = served["vectorizer"]
    assert sorted(out) == ["embeddings", "inputs"]
    np.testing.assert_allclose(
        out["embeddings"], estimator.transform(X), rtol=0, atol=1e-5
    )


def test_signature_takes_strings_text_and_for_pairs_text_pair(cases, served):
    for name, (estimator, _) in cases.items():
        expected = ["text:string:(None,)", "text_pair:string:(None,)"]
        assert served[name]["inputs"].tolist() == expected[: estimator.n_segments_]


def test_export_layout_is_numbered_versions(cases, exported):
    vectorizer, _ = cases["vectorizer"]
    base = exported["vectorizer"]
    assert vectorizer.export(base, format="saved_model") == base / "2"
    assert sorted(p.name for p in base.iterdir()) == ["1", "2"]
    for version in ("1", "2"):
        assert {"saved_model.pb", "variables", "assets"} <= {
            p.name for p in (base / version).iterdir()
        }
    assert (base / "1" / "assets" / "vocab.txt").is_file()


def test_export_refuses_a_path_that_is_not_a_version_layout(cases, tmp_path):
    vectorizer, _ = cases["vectorizer"]
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "1").mkdir()
    (tmp_path / "model" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="'notes.txt', which are not version"):
        vectorizer.export(tmp_path / "model", format="saved_model")
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == [
        "1",
        "notes.txt",
    ]
    with pytest.raises(FileExistsError, match="is a file"):
        vectorizer.export(tmp_path / "model" / "notes.txt", format="saved_model")


def test_export_names_the_formats_and_needs_a_fit(cases, tmp_path):
    from sklearn.exceptions import NotFittedError

    vectorizer, _ = cases["vectorizer"]
    with pytest.raises(ValueError, match="'onnx' or 'saved_model'"):
        vectorizer.export(tmp_path / "m", format="savedmodel")
    with pytest.raises(NotFittedError):
        BertVectorizer(TINY).export(tmp_path / "m", format="saved_model")
    assert not (tmp_path / "m").exists()


def test_cli_exports_a_saved_estimator(fitted, toy, tmp_path, capsys):
    import tensorflow as tf

    X_test = list(toy[2][:8])
    fitted.save(tmp_path / "model")
    argv = ["export", str(tmp_path / "model"), str(tmp_path / "served")]
    assert main([*argv, "--format", "saved_model"]) == 0
    assert capsys.readouterr().out == f"wrote {tmp_path / 'served' / '1'}\n"
    serve = tf.saved_model.load(str(tmp_path / "served" / "1")).signatures[
        "serving_default"
    ]
    probabilities = serve(text=tf.constant(X_test))["probabilities"].numpy()
    np.testing.assert_allclose(
        probabilities, fitted.predict_proba(X_test), rtol=0, atol=1e-5
    )
    empty = serve(text=tf.constant([], tf.string))
    assert empty["probabilities"].shape == (0, 2) and empty["labels"].shape == (0,)
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").touch()
    with pytest.raises(SystemExit, match="taken.*not version folders"):
        main([*argv[:2], str(tmp_path / "taken"), "--format", "saved_model"])
