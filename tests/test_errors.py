"""Bad input and unavailable encoders give clear errors before any training."""

import numpy as np
import pytest
from scipy import sparse
from sklearn.exceptions import NotFittedError

from conftest import TINY, tiny_classifier
from skbert import BertClassifier, BertRegressor, EncoderLoadError

X2 = ["a good film", "a bad film"]


@pytest.mark.parametrize(
    "X, y, error, message",
    [
        ([], [], ValueError, "X is empty"),
        ("one text", ["a"], TypeError, "not a single string; wrap it in a list"),
        (X2, ["a"], ValueError, "X has 2 texts but y has 1 labels"),
        (X2, ["a", "a"], ValueError, r"y has one class \('a'\)"),
        (["ok", None], [0, 1], TypeError, r"X\[1\] is None .* must be a str"),
        (["ok", 3.5], [0, 1], TypeError, r"X\[1\] is 3.5 of type float"),
        ([["a", "b", "c"]] * 2, [0, 1], ValueError, "X has 3 columns"),
        (np.full((2, 2, 2), "a"), [0, 1], ValueError, "X has 3 dimensions"),
        (
            np.zeros((2, 4)),
            [0, 1],
            ValueError,
            "X is an array of numbers, dtype float64",
        ),
        (sparse.eye(2, format="csr"), [0, 1], TypeError, "sparse input is not suppo"),
        (X2, [0, None], ValueError, r"y\[1\] is None: a missing label"),
        (X2, [0.0, float("nan")], ValueError, r"y\[1\] is nan"),
        (X2, [1, "a"], ValueError, "y mixes label types"),
        (X2, [0.5, 1.5], ValueError, "y holds continuous values .0.5, 1.5., not"),
        (X2, np.array([[0, 2], [1, 0]]), ValueError, "values other than 0 and 1"),
        (X2, [set(), set()], ValueError, "label sets are all empty"),
        (X2, [{"a"}], ValueError, "X has 2 texts but y has 1 label sets"),
        (X2, [{"a", None}, {"b"}], ValueError, "None inside a label set"),
        (X2, [("a", 1), ("b", 2)], ValueError, r"y mixes label types \(int, str\)"),
        (X2, [{"a", 1}, {"b"}], ValueError, r"y mixes label types \(int, str\)"),
        (X2, np.zeros((2, 2, 2)), ValueError, r"y has shape \(2, 2, 2\)"),
        (X2, None, ValueError, "y is None"),
    ],
)
def test_bad_fit_input(X, y, error, message):
    with pytest.raises(error, match=message):
        BertClassifier(TINY).fit(X, y)


@pytest.mark.parametrize(
    "params, message",
    [
        (
            {"encoder": "no_such_bert"},
            "Unknown encoder 'no_such_bert'. Registered encoders: .*tiny_random",
        ),
        (
            {"head": "no_such_head"},
            "Unknown head 'no_such_head'. Registered heads: .*softmax",
        ),
        (
            {"epochs": 0},
            "'epochs' parameter of BertClassifier must be an int in the range",
        ),
        (
            {"head__dropuot": 0.2},
            "head 'sigmoid' has no option dropuot; its options are: head__dropout",
        ),
        ({"head": "linear"}, "head='linear' serves regression targets, but y is "),
        ({"class_weight": "even"}, "'class_weight' parameter"),
        ({"max_seq_length": 1024}, "max_seq_length=1024 is longer than encoder"),
        (
            {"encoder": "https://example.org/my/bert/1"},
            "not the handle of a registered preset",
        ),
    ],
)
def test_bad_parameters(params, message):
    with pytest.raises(ValueError, match=message):
        BertClassifier(**{"encoder": TINY, **params}).fit(X2, [0, 1])


@pytest.mark.parametrize(
    "weights, message",
    [
        ([1.0], r"sample_weight has shape \(1,\); expected \(2,\)"),
        ([1.0, -1.0], "finite, non-negative"),
        ([0.0, 0.0], "zero everywhere"),
    ],
)
def test_bad_sample_weight(weights, message):
    with pytest.raises(ValueError, match=message):
        BertClassifier(TINY).fit(X2, [0, 1], sample_weight=weights)


@pytest.mark.parametrize(
    "y, message",
    [
        (["a", "b"], "y must hold numbers"),
        ([1.0, float("nan")], "NaN or infinity"),
        ([1.0, 2.0, 3.0], r"y has shape \(3,\); expected \(2,\)"),
        (None, "y is None"),
    ],
)
def test_bad_regression_targets(y, message):
    with pytest.raises(ValueError, match=message):
        BertRegressor(TINY).fit(X2, y)


def test_head_options_need_the_prefix():
    with pytest.raises(TypeError, match="unexpected keyword argument 'dropout'"):
        BertClassifier(TINY, dropout=0.1)
    with pytest.raises(TypeError, match="passed as head__<option>"):
        BertRegressor(TINY, hidden=3)


def test_class_weight_is_refused_for_multilabel():
    with pytest.raises(ValueError, match="class_weight is not supported"):
        BertClassifier(TINY, class_weight="balanced").fit(X2, [[0, 1], [1, 1]])


def test_sigmoid_head_refuses_multiclass():
    with pytest.raises(
        ValueError,
        match=r"head='sigmoid' serves binary targets, but y is multiclass \(3",
    ):
        BertClassifier(TINY, head="sigmoid").fit(["a", "b", "c"], [0, 1, 2])


def test_local_path_without_savedmodels(tmp_path):
    with pytest.raises(ValueError, match="not a directory with 'preprocess/'"):
        BertClassifier(str(tmp_path)).fit(X2, [0, 1])


def test_predict_before_fit():
    with pytest.raises(NotFittedError):
        BertClassifier(TINY).predict(X2)


def test_single_texts_at_predict_after_pairs(fitted):
    with pytest.raises(ValueError, match="fitted on single texts"):
        fitted.predict([("a", "b")])


@pytest.mark.offline
def test_hub_preset_offline_names_the_handle_and_the_way_out(monkeypatch, tmp_path):
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path))
    with pytest.raises(EncoderLoadError) as info:
        BertClassifier("bert_tiny_en_uncased").fit(X2, [0, 1])
    message = str(info.value)
    assert "https://tfhub.dev/tensorflow/bert_en_uncased_preprocess/3" in message
    assert "TFHUB_CACHE_DIR" in message and str(tmp_path) in message
    assert "tiny_random_en_uncased" in message and "local directory" in message


def test_a_failed_fit_keeps_the_previous_model(fitted, toy):
    X, y, X_test, _ = toy
    clf = tiny_classifier(epochs=1).fit(X[:32], y[:32])
    before = clf.predict_proba(X_test[:5])
    with pytest.raises(ValueError):
        clf.fit(X[:32], ["only"] * 32)
    np.testing.assert_array_equal(clf.predict_proba(X_test[:5]), before)


@pytest.mark.network
def test_hub_preset_downloads_and_fits():
    clf = BertClassifier("bert_tiny_en_uncased", epochs=1, max_seq_length=16)
    assert clf.fit(X2 * 8, [0, 1] * 8).predict(X2).shape == (2,)


@pytest.mark.parametrize(
    "estimator, y, validation, message",
    [
        ("clf", [0, 1], {"X_val": X2}, "X_val is given without y_val"),
        ("clf", [0, 1], {"y_val": [0, 1]}, "y_val is given without X_val"),
        ("clf", [0, 1], {"sample_weight_val": [1, 1]}, "sample_weight_val weighs"),
        ("clf", [0, 1], {"X_val": "a film", "y_val": [0]}, "In X_val: X must be a"),
        (
            "clf",
            [0, 1],
            {"X_val": [("a", "b")], "y_val": [0]},
            "In X_val: X holds sentence pairs, but the estimator was fitted on sin",
        ),
        (
            "clf",
            [0, 1],
            {"X_val": X2, "y_val": [0, 2]},
            r"In y_val: y holds labels that are not in classes: 2; .* among y's\.$",
        ),
        (
            "clf",
            [{"a"}, {"b"}],
            {"X_val": X2, "y_val": ["a", "b"]},
            "In y_val: y is multi-label, so y_val must be too",
        ),
        ("clf", [0, 1], {"X_val": X2, "y_val": [0]}, "In y_val: X has 2 texts but y"),
        (
            "clf",
            [0, 1],
            {"X_val": X2, "y_val": [0, 1], "sample_weight_val": [1]},
            r"In sample_weight_val: sample_weight has shape \(1,\)",
        ),
        (
            "reg",
            [0.0, 1.0],
            {"X_val": X2, "y_val": [[0.0, 1.0], [1.0, 0.0]]},
            "In y_val: y_val has 2 target.s. per text, y has 1",
        ),
    ],
)
def test_bad_validation_set(estimator, y, validation, message):
    Estimator = BertClassifier if estimator == "clf" else BertRegressor
    with pytest.raises((TypeError, ValueError), match=message):
        Estimator(TINY).fit(X2, y, **validation)
