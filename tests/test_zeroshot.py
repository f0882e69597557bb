"""BertZeroShotClassifier: cosines to label sentences, checked against BertVectorizer.

The tiny random encoder knows no language, so these tests compare the
classifier with embeddings computed independently (`BertVectorizer` on the
same encoder and pooling) rather than with what a text means; the slow test
on the embedded MiniLM checks meaning. Its pooled output (a random tanh
pooler) hardly varies, so the tests pool by mean.
"""

import pickle

import joblib
import numpy as np
import pytest
from sklearn.base import clone, is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.validation import check_is_fitted

import skbert
from conftest import TINY, exported_proba, run_python
from skbert import BertVectorizer, BertZeroShotClassifier

LABELS = ["sport", "politics", "film"]
SETTINGS = dict(encoder=TINY, pooling="mean", max_seq_length=32)
TEXTS = [
    "the team won the match",
    "the minister lost the vote",
    "a wonderful film with a great actor",
    "This text is about politics.",
    "an election",
    "a dull movie",
]


def zero_shot(labels=LABELS, **params):
    return BertZeroShotClassifier(labels, **{**SETTINGS, **params})


def vectorizer(**params):
    return BertVectorizer(**{**SETTINGS, **params}).fit(["a text"])


def unit(rows):
    rows = np.asarray(rows, dtype=np.float64)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def softmax(scores):
    exp = np.exp(scores - scores.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def fitted():
    return zero_shot(temperature=0.1).fit()


def test_probabilities_are_the_softmax_of_vectorizer_cosines(fitted):
    assert fitted.classes_.tolist() == ["film", "politics", "sport"]  # sorted
    sentences = [f"This text is about {label}." for label in fitted.classes_]
    vec = vectorizer()
    cosines = unit(vec.transform(TEXTS)) @ unit(vec.transform(sentences)).T
    proba = fitted.predict_proba(TEXTS)
    np.testing.assert_allclose(proba, softmax(cosines / 0.1), atol=1e-6)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(fitted.decision_function(TEXTS), cosines, atol=1e-6)
    assert fitted.predict(TEXTS).tolist() == [
        fitted.classes_[i] for i in cosines.argmax(axis=1)
    ]
    np.testing.assert_allclose(np.linalg.norm(fitted.label_embeddings_, axis=1), 1)
    sharper = clone(fitted).set_params(temperature=0.01).fit()
    np.testing.assert_allclose(
        sharper.predict_proba(TEXTS), softmax(cosines / 0.01), atol=1e-5
    )


def test_a_text_that_is_a_label_sentence_gets_that_label(fitted):
    sentences = list(fitted.label_sentences_)
    assert fitted.predict(sentences).tolist() == fitted.classes_.tolist()
    scores = fitted.decision_function(sentences)
    np.testing.assert_allclose(np.diag(scores), 1.0, atol=1e-6)


def test_columns_follow_classes_for_scikit_learn_metrics(fitted):
    # classes_ sorted: log_loss without labels= reads the columns right.
    y = ["politics", "politics", "film", "politics", "sport", "film"]
    proba = fitted.predict_proba(TEXTS)
    assert log_loss(y, proba) == log_loss(y, proba, labels=fitted.classes_)
    shuffled = zero_shot(["politics", "film", "sport"], temperature=0.1).fit()
    np.testing.assert_array_equal(shuffled.predict_proba(TEXTS), proba)


def test_two_labels_give_one_score_as_binary_classifiers_do():
    clf = zero_shot(["sport", "politics"]).fit()
    vec = vectorizer()
    sentences = [f"This text is about {label}." for label in ("politics", "sport")]
    cosines = unit(vec.transform(TEXTS)) @ unit(vec.transform(sentences)).T
    scores = clf.decision_function(TEXTS)
    assert scores.shape == (len(TEXTS),)
    np.testing.assert_allclose(scores, cosines[:, 1] - cosines[:, 0], atol=1e-6)
    assert (
        clf.predict(TEXTS).tolist()
        == np.where(scores > 0, "sport", "politics").tolist()
    )


def test_long_texts_in_chunks_are_the_mean_of_their_windows():
    chunks = dict(max_seq_length=16, long_texts="chunks", stride=2, max_windows=8)
    long_texts = [" ".join(["the film was good and the story"] * 6), "a dull plot"]
    clf = zero_shot(**chunks).fit(long_texts)
    vec = vectorizer(**chunks)
    sentences = list(clf.label_sentences_)
    cosines = unit(vec.transform(long_texts)) @ unit(vec.transform(sentences)).T
    np.testing.assert_allclose(clf.decision_function(long_texts), cosines, atol=1e-6)
    truncated = zero_shot(max_seq_length=16).fit()
    assert not np.allclose(
        truncated.decision_function(long_texts[:1]),
        clf.decision_function(long_texts[:1]),
        atol=1e-3,
    )


def test_template_and_descriptions_make_the_label_sentences(fitted):
    vec = vectorizer()
    templated = zero_shot(template="News of {} today").fit()
    expected = [f"News of {label} today" for label in templated.classes_]
    assert templated.label_sentences_.tolist() == expected
    np.testing.assert_allclose(
        templated.label_embeddings_, unit(vec.transform(expected)), atol=1e-6
    )
    assert not np.allclose(templated.label_embeddings_, fitted.label_embeddings_)

    described = {"sport": "Goals and matches.", "politics": "Votes and laws."}
    # A description is the sentence as it is: the template is not applied.
    clf = zero_shot(described, template="News of {} today").fit()
    assert clf.classes_.tolist() == ["politics", "sport"]
    assert clf.label_sentences_.tolist() == ["Votes and laws.", "Goals and matches."]
    np.testing.assert_allclose(
        clf.label_embeddings_,
        unit(vec.transform(["Votes and laws.", "Goals and matches."])),
        atol=1e-6,
    )


def test_a_dict_may_give_integer_labels_as_y_has_them(tmp_path):
    clf = zero_shot({2: "Votes and laws.", 0: "Goals and matches."}).fit()
    assert clf.classes_.dtype.kind == "i" and clf.classes_.tolist() == [0, 2]
    assert clf.label_sentences_.tolist() == ["Goals and matches.", "Votes and laws."]
    assert clf.score(["Votes and laws.", "Goals and matches."], [2, 0]) == 1.0
    clf.save(tmp_path / "zs")
    assert skbert.load(tmp_path / "zs").predict(["Votes and laws."]).tolist() == [2]


def test_fit_needs_no_texts_and_ignores_labels(fitted):
    with pytest.raises(NotFittedError):
        zero_shot().predict(TEXTS)
    clf = zero_shot(temperature=0.1)
    assert clf.fit(TEXTS, ["nonsense"] * len(TEXTS)) is clf
    check_is_fitted(clf)
    assert clf.classes_.tolist() == fitted.classes_.tolist() and clf.n_segments_ == 1
    np.testing.assert_array_equal(clf.label_embeddings_, fitted.label_embeddings_)


@pytest.mark.parametrize(
    "labels, params, error, match",
    [
        (None, {}, ValueError, "candidate_labels is required"),
        ([], {}, ValueError, "candidate_labels has 0 label"),
        (["sport"], {}, ValueError, "candidate_labels has 1 label.*at least two"),
        ({"sport": "Goals."}, {}, ValueError, "candidate_labels has 1 label"),
        ("sport", {}, TypeError, "candidate_labels is the single string 'sport'"),
        (["sport", "film", "sport"], {}, ValueError, "label 'sport' twice"),
        ([1, 2], {}, TypeError, "label names must be strings.*1 of type int"),
        (["sport", " "], {}, ValueError, "candidate_labels: item 1 is ' '"),
        ([["a", "b"], ["c", "d"]], {}, ValueError, r"candidate_labels has shape"),
        (
            {"sport": "Games.", "film": "Games."},
            {},
            ValueError,
            "'sport' and 'film' have the same description",
        ),
        ({"sport": 3, "film": "x"}, {}, TypeError, "label 'sport' is 3 of type int"),
        ({"a": "x", 2: "y"}, {}, TypeError, "all strings or all integers.*mixed"),
        ({True: "x", False: "y"}, {}, TypeError, "True of type bool"),
        ({1.5: "x", 2: "y"}, {}, TypeError, "1.5 of type float"),
        ({"sport": "", "film": "x"}, {}, ValueError, "label 'sport' is ''"),
        (
            ["Sport", "sport"],
            {},
            ValueError,
            "'Sport' and 'sport' get the same embedding",
        ),
        (LABELS, {"template": "This text"}, ValueError, "template=.* has 0 '{}'"),
        (LABELS, {"template": "{} or {}"}, ValueError, "has 2 '{}'; it needs exactly"),
        (LABELS, {"temperature": 0}, InvalidParameterError, "'temperature' param"),
        (LABELS, {"temperature": -1.0}, InvalidParameterError, "'temperature'"),
        (LABELS, {"pooling": "sum"}, InvalidParameterError, "'pooling' param"),
        (3, {}, InvalidParameterError, "'candidate_labels' parameter"),
    ],
)
def test_bad_labels_and_parameters_are_refused_by_name(labels, params, error, match):
    with pytest.raises(error, match=match):
        zero_shot(labels, **params).fit()


def test_texts_given_to_fit_are_checked():
    with pytest.raises(ValueError, match="reads single texts.*sentence pairs"):
        zero_shot().fit([("a", "b"), ("c", "d")])
    with pytest.raises(TypeError, match=r"X\[1\] is 2 of type int"):
        zero_shot().fit(["a", 2])


def test_save_load_pickle_and_joblib_predict_the_same(fitted, tmp_path):
    expected = fitted.predict_proba(TEXTS)
    fitted.save(tmp_path / "zs")
    loaded = skbert.load(tmp_path / "zs")
    assert type(loaded) is BertZeroShotClassifier
    assert loaded.get_params() == fitted.get_params()
    np.testing.assert_array_equal(loaded.label_embeddings_, fitted.label_embeddings_)
    np.testing.assert_array_equal(loaded.predict_proba(TEXTS), expected)
    onnx = skbert.load(tmp_path / "zs", backend="onnxruntime")
    assert onnx.model_ is None and onnx.classes_.tolist() == fitted.classes_.tolist()
    np.testing.assert_allclose(onnx.predict_proba(TEXTS), expected, atol=1e-6)
    for restored in (
        pickle.loads(pickle.dumps(fitted)),
        joblib.load(joblib.dump(fitted, tmp_path / "zs.joblib")[0]),
    ):
        np.testing.assert_array_equal(restored.predict_proba(TEXTS), expected)
    described = zero_shot({"sport": "Goals.", "film": "Actors."}).fit()
    described.save(tmp_path / "described")
    assert skbert.load(tmp_path / "described").candidate_labels == {
        "sport": "Goals.",
        "film": "Actors.",
    }


def test_onnx_load_predicts_without_tensorflow(fitted, tmp_path):
    fitted.save(tmp_path / "zs")
    np.save(tmp_path / "expected.npy", fitted.predict_proba(TEXTS))
    out = run_python(
        f"""
import sys, numpy as np, skbert
clf = skbert.load({str(tmp_path / "zs")!r}, backend="onnxruntime")
proba = clf.predict_proba({TEXTS!r})
np.testing.assert_allclose(proba, np.load({str(tmp_path / "expected.npy")!r}),
                           atol=1e-6)
print(clf.predict({TEXTS[3:4]!r}), "tensorflow" in sys.modules)
"""
    )
    assert out.stdout.strip().splitlines()[-1] == "['politics'] False"


def test_export_writes_the_cosines_and_softmax_into_the_graph(fitted, tmp_path):
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (the preprocessor's ops)

    expected = fitted.predict_proba(TEXTS)
    out = fitted.export(tmp_path / "onnx")
    proba, line = exported_proba(out, TEXTS, str(tmp_path / "proba.npy"))
    assert line == "multiclass softmax False"
    np.testing.assert_allclose(proba, expected, atol=1e-5)
    version = fitted.export(tmp_path / "served", format="saved_model")
    serve = tf.saved_model.load(str(version)).signatures["serving_default"]
    served = serve(text=tf.constant(TEXTS))
    np.testing.assert_allclose(served["probabilities"].numpy(), expected, atol=1e-5)
    assert (
        served["labels"].numpy().astype(str).tolist() == fitted.predict(TEXTS).tolist()
    )
    chunks = clone(fitted).set_params(long_texts="chunks").fit()
    with pytest.raises(ValueError, match="reads long texts in chunks"):
        chunks.export(tmp_path / "chunks")


def test_params_clone_and_tags():
    clf = zero_shot(template="About {}.", temperature=0.2)
    assert is_classifier(clf)
    params = clf.get_params()
    assert params["candidate_labels"] is LABELS and params["template"] == "About {}."
    assert params["temperature"] == 0.2 and "jit_compile" not in params
    twin = clone(clf).set_params(temperature=0.5)
    assert twin.temperature == 0.5 and clf.temperature == 0.2
    tags = clf.__sklearn_tags__()
    assert tags.input_tags.string and not tags.target_tags.required
    assert BertZeroShotClassifier().candidate_labels is None


def test_grid_search_and_cross_validation_score_the_zero_shot_labels():
    X = np.array(
        [f"This text is about {label}." for label in LABELS] * 2 + TEXTS, dtype=object
    )
    y = np.array(LABELS * 2 + ["sport", "politics", "film"] * 2, dtype=object)
    pipe = make_pipeline(FunctionTransformer(lambda texts: list(texts)), zero_shot())
    grid = GridSearchCV(
        pipe,
        {
            "bertzeroshotclassifier__temperature": [0.01, 1.0],
            "bertzeroshotclassifier__template": ["This text is about {}.", "{}"],
        },
        cv=KFold(2, shuffle=True, random_state=0),
        scoring="neg_log_loss",
        error_score="raise",
    )
    grid.fit(X, y)
    assert len(grid.cv_results_["mean_test_score"]) == 4
    assert grid.best_params_["bertzeroshotclassifier__temperature"] in (0.01, 1.0)
    folds = list(KFold(3).split(X))
    scores = cross_val_score(zero_shot(), X, y, cv=folds)
    fitted = zero_shot().fit()
    np.testing.assert_allclose(
        scores, [fitted.score(X[test], y[test]) for _, test in folds]
    )


@pytest.mark.slow
def test_the_embedded_encoder_tells_obvious_topics():
    clf = BertZeroShotClassifier(["sport", "politics", "food", "weather"]).fit()
    texts = [
        "the striker scored a goal in the last minute of the match",
        "parliament voted on the new law proposed by the prime minister",
        "mix the flour with eggs and bake the cake for an hour",
        "heavy rain and strong winds are expected tomorrow",
    ]
    assert clf.predict(texts).tolist() == ["sport", "politics", "food", "weather"]
    proba = clf.predict_proba(texts)
    assert (proba.max(axis=1) > 0.5).all()  # confident at the default temperature
    described = BertZeroShotClassifier(
        {
            "positive": "A glowing review: the reviewer loved it.",
            "negative": "A scathing review: the reviewer hated it.",
        },
        long_texts="chunks",
    ).fit()
    reviews = [
        "An absolute delight from start to finish, I loved every minute.",
        "A boring, badly acted mess. I want my money back. " * 40,
    ]
    assert described.predict(reviews).tolist() == ["positive", "negative"]
