"""`BertFewShotClassifier` leaves the process: save/load, export, pickles, the CLI.

One fitted estimator per task (binary, multi-class, multi-label with a label
that never occurs) on the tiny encoder, read by every test.
"""

import json
import pickle
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import RandomForestClassifier
from sklearn.neighbors import KNeighborsClassifier
from test_fewshot import few_shot as tiny_few_shot

import skbert
from conftest import TINY, exported_proba, run_python, sentiment
from skbert import BertFewShotClassifier, BertZeroShotClassifier
from skbert.cli import main
from skbert.persistence import ModelFormatError
from skbert.runtime import NotExportable

X, Y = sentiment(48, seed=0)
X_TEST, Y_TEST = sentiment(12, seed=1)


def few_shot(**params):
    return tiny_few_shot(**{"max_pairs": 200, **params})


def targets(task):
    if task == "binary":
        return Y
    if task == "multiclass":
        return [
            "plot" if "plot" in text else label
            for text, label in zip(X, Y, strict=True)
        ]
    # Indicator columns pos, neg, and one no text has (a constant head).
    return np.column_stack([Y == "pos", Y == "neg", np.zeros(len(Y))]).astype(int)


@pytest.fixture(scope="module", params=["binary", "multiclass", "multilabel"])
def fitted(request):
    with warnings.catch_warnings():  # the constant label, as scikit-learn says
        warnings.filterwarnings("ignore", "Label not 2 is present in all")
        return request.param, few_shot().fit(X, targets(request.param))


@pytest.fixture(scope="module")
def binary():
    return few_shot().fit(X, Y)


@pytest.mark.slow
def test_save_and_load_on_every_backend_give_the_same_probabilities(fitted, tmp_path):
    _, clf = fitted
    expected = clf.predict_proba(X_TEST)
    clf.save(tmp_path / "model")
    loaded = skbert.load(tmp_path / "model")
    assert type(loaded.head_) is type(clf.head_)
    np.testing.assert_array_equal(loaded.predict_proba(X_TEST), expected)
    np.testing.assert_array_equal(loaded.predict(X_TEST), clf.predict(X_TEST))
    assert loaded.history_ == clf.history_ and loaded.n_pairs_ == clf.n_pairs_
    onnx = skbert.load(tmp_path / "model", backend="onnxruntime")
    assert onnx.model_ is None
    np.testing.assert_allclose(onnx.predict_proba(X_TEST), expected, atol=1e-6)
    int8 = skbert.load(tmp_path / "model", backend="onnxruntime-int8")
    assert int8.inference_backend_ == "onnxruntime-int8"
    np.testing.assert_allclose(int8.predict_proba(X_TEST), expected, atol=0.05)


def test_joblib_and_pickle_keep_the_probabilities(binary, tmp_path):
    expected = binary.predict_proba(X_TEST)
    for again in (
        joblib.load(joblib.dump(binary, tmp_path / "clf.joblib")[0]),
        pickle.loads(pickle.dumps(binary)),
    ):
        np.testing.assert_array_equal(again.predict_proba(X_TEST), expected)


@pytest.mark.parametrize("backend", ["tensorflow", "onnxruntime"])
def test_a_head_edited_in_skbert_json_is_refused(binary, tmp_path, backend):
    binary.save(tmp_path / "model")
    manifest = tmp_path / "model" / "skbert.json"
    text = manifest.read_text()
    name = "sklearn.linear_model._logistic.LogisticRegression"
    assert text.count(f'"{name}"') == 2  # the head parameter and the fitted head_
    manifest.write_text(text.replace(f'"{name}"', '"os.system"'))
    with pytest.raises(ModelFormatError, match="'os.system' is not a scikit-learn"):
        skbert.load(tmp_path / "model", backend=backend)


class TinyHead(ClassifierMixin, BaseEstimator):
    """A classifier that is not scikit-learn's own: always the first class."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.zeros(len(X), dtype=int)


@pytest.mark.parametrize(
    ("head", "message"),
    [
        (TinyHead(), "TinyHead is not one of scikit-learn's estimators"),
        (
            RandomForestClassifier(2),
            "attributes 'head_'.estimators_\[\].tree_: it holds a Tree",
        ),
    ],
)
def test_a_head_that_cannot_be_saved_is_a_type_error_and_leaves_nothing(
    tmp_path, head, message
):
    clf = few_shot(max_pairs=0, head=head).fit(X, Y)
    with pytest.raises(TypeError, match=message):
        clf.save(tmp_path / "model")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("format", ["onnx", "saved_model"])
def test_export_refuses_other_heads_and_chunks_saying_what_to_do(tmp_path, format):
    clf = few_shot(max_pairs=0, head=KNeighborsClassifier(3)).fit(X, Y)
    with pytest.raises(NotExportable) as caught:
        clf.export(tmp_path / "out", format=format)
    assert "(LogisticRegression, or for multi-label targets OneVsRest" in str(
        caught.value
    )
    assert "KNeighborsClassifier" in str(caught.value)
    assert "skbert.load(path, backend='onnxruntime')" in str(caught.value)
    clf = few_shot(max_pairs=0, long_texts="chunks").fit(X, Y)
    with pytest.raises(ValueError, match="reads long texts in chunks"):
        clf.export(tmp_path / "out", format=format)
    assert list(tmp_path.iterdir()) == []


def test_onnx_export_runs_on_plain_onnxruntime_with_predict_probas_numbers(
    fitted, tmp_path
):
    task, clf = fitted
    out = clf.export(tmp_path / "onnx")
    meta = json.loads((out / "skbert.json").read_text())
    assert meta["estimator"] == "BertFewShotClassifier"
    assert meta["classes"] == clf.classes_.tolist()
    proba, line = exported_proba(out, X_TEST, str(tmp_path / "proba.npy"))
    activation = "softmax" if task == "multiclass" else "sigmoid"
    assert line == f"{task} {activation} False"
    np.testing.assert_allclose(proba, clf.predict_proba(X_TEST), atol=1e-5)
    # Loaded without TensorFlow, it exports the same graph.
    clf.save(tmp_path / "model")
    served = skbert.load(tmp_path / "model", backend="onnxruntime")
    again = served.export(tmp_path / "again")
    assert (again / "model.onnx").read_bytes() == (out / "model.onnx").read_bytes()


@pytest.mark.slow
def test_saved_model_export_gives_predict_and_predict_proba(fitted, tmp_path):
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (the preprocessor's ops)

    _, clf = fitted
    version = clf.export(tmp_path / "served", format="saved_model")
    serve = tf.saved_model.load(str(version)).signatures["serving_default"]
    out = serve(text=tf.constant(X_TEST))
    expected = clf.predict_proba(X_TEST)
    np.testing.assert_allclose(out["probabilities"].numpy(), expected, atol=1e-5)
    labels = out["labels"].numpy()
    if labels.dtype == object:
        labels = labels.astype(str)
    np.testing.assert_array_equal(labels, clf.predict(X_TEST))


def test_loading_on_onnxruntime_in_a_fresh_process_imports_no_tensorflow(
    binary, tmp_path
):
    binary.save(tmp_path / "model")
    np.save(tmp_path / "expected.npy", binary.predict_proba(X_TEST))
    out = run_python(
        f"""
import sys, numpy as np, skbert
clf = skbert.load({str(tmp_path / "model")!r}, backend="onnxruntime")
np.testing.assert_allclose(clf.predict_proba({X_TEST!r}),
                           np.load({str(tmp_path / "expected.npy")!r}), atol=1e-6)
print(type(clf).__name__, "tensorflow" in sys.modules)
"""
    )
    assert out.stdout.strip().splitlines()[-1] == "BertFewShotClassifier False"


def cli_args(command, data, model, *more):
    return [command, str(data), "--model", str(model), *more]


@pytest.fixture
def reviews(tmp_path):
    data = tmp_path / "reviews.csv"
    pd.DataFrame({"text": X, "label": Y}).to_csv(data, index=False)
    return data


def predict_and_evaluate(data, model, capsys):
    """``skbert predict`` and ``evaluate`` on `model`: predictions, output, plots."""
    out, plots = data.parent / "out.csv", data.parent / "plots"
    assert main(cli_args("predict", data, model, "--output", str(out))) == 0
    predicted = pd.read_csv(out)["prediction"].tolist()
    capsys.readouterr()
    assert main(cli_args("evaluate", data, model, "--plots", str(plots))) == 0
    return predicted, capsys.readouterr().out, sorted(p.name for p in plots.iterdir())


@pytest.mark.slow
def test_cli_fits_a_few_shot_model_then_predicts_and_evaluates(
    reviews, tmp_path, capsys
):
    model = tmp_path / "model"
    options = ["--encoder", TINY, "--max-seq-length", "16", "--random-state", "0"]
    argv = cli_args("fit", reviews, model, "--few-shot", "--max-pairs", "200")
    assert main([*argv, *options]) == 0
    assert "classes ['neg', 'pos']; saved" in capsys.readouterr().out
    loaded = skbert.load(model)
    assert type(loaded) is BertFewShotClassifier
    assert (loaded.max_pairs, loaded.max_seq_length) == (200, 16)
    assert 200 <= loaded.n_pairs_ < 200 + 120
    predicted, report, plots = predict_and_evaluate(reviews, model, capsys)
    assert predicted == loaded.predict(X).tolist()
    accuracy = np.mean(np.asarray(predicted) == Y)
    assert f"accuracy {accuracy:.4f} on 48 examples" in report
    assert plots == ["confusion_matrix.png", "training_curve.png"]


def test_cli_predicts_and_evaluates_a_zero_shot_model(reviews, tmp_path, capsys):
    zero_shot = BertZeroShotClassifier(
        {"pos": "a good film", "neg": "a bad film"},
        encoder=TINY,
        pooling="mean",
        max_seq_length=16,
    ).fit()
    zero_shot.save(tmp_path / "model")
    predicted, report, plots = predict_and_evaluate(reviews, tmp_path / "model", capsys)
    assert predicted == zero_shot.predict(X).tolist()
    accuracy = np.mean(np.asarray(predicted) == Y)
    assert f"accuracy {accuracy:.4f} on 48 examples" in report
    assert plots == ["confusion_matrix.png"]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--few-shot", "--epochs", "2"], "--epochs does not apply to --few-shot"),
        (["--few-shot", "--freeze-encoder"], "--freeze-encoder does not apply to"),
        (["--max-pairs", "10"], "--max-pairs applies to --few-shot only"),
        (["--few-shot", "--max-pairs", "-1"], "'max_pairs' parameter"),
    ],
)
def test_cli_refuses_options_of_the_other_classifier_in_one_line(
    reviews, tmp_path, flags, message
):
    model = tmp_path / "model"
    with pytest.raises(SystemExit, match=message) as caught:
        main(cli_args("fit", reviews, model, "--encoder", TINY, *flags))
    assert "\n" not in str(caught.value) and not model.exists()
