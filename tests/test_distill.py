"""`skbert.distill`: students of the tiny encoder's estimators, on the real path."""

import os
import pickle
import shutil

import numpy as np
import pytest
import tf_keras
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

import skbert
from conftest import TINY, sentiment, tiny_classifier
from skbert.encoders import resolve_encoder
from skbert.modeling.config import encoder_config
from skbert.onnx_graph import find_hub_layer, hub_weights

#: How the students train here: the tiny encoder learns fast at a high rate.
FAST = dict(epochs=4, learning_rate=2e-3, random_state=0)


def logit_error(student, teacher, X):
    return float(np.mean((student._outputs(X) - teacher._outputs(X)) ** 2))


def test_student_reproduces_its_teacher_better_than_before_training(toy, fitted):
    X, _, X_test, _ = toy
    # An unlabeled set of the same kind: only the teacher's outputs are read.
    unlabeled, _ = sentiment(400, seed=7)
    student = skbert.distill(fitted, unlabeled, layers=1, **FAST)
    start = skbert.distill(fitted, unlabeled, layers=1, epochs=1, learning_rate=1e-12)
    trained, untrained = (logit_error(s, fitted, X_test) for s in (student, start))
    assert trained < 0.5 * untrained, (trained, untrained)
    agree = np.mean(student.predict(X_test) == fitted.predict(X_test))
    assert agree >= 0.95, agree
    assert student.history_["loss"][-1] < student.history_["loss"][0]
    assert student.n_iter_ == 4 and student.learning_rate_ == 2e-3


def test_student_keeps_the_named_blocks_of_the_teachers_tuned_encoder(fitted):
    student = skbert.distill(
        fitted, ["a text", "another"], layers=[1], epochs=1, learning_rate=1e-12
    )
    assert student.encoder == f"{TINY}[layers=1]"
    handle = resolve_encoder(student.encoder).materialize()[1]
    assert encoder_config(handle)[0].num_hidden_layers == 1
    ours = hub_weights(find_hub_layer(student.model_))
    theirs = hub_weights(find_hub_layer(fitted.model_))
    assert set(ours) == {
        name.replace("encoder/layer_1/", "encoder/layer_0/")
        for name in theirs
        if not name.startswith("encoder/layer_0/")
    }
    for name, value in ours.items():
        source = name.replace("encoder/layer_0/", "encoder/layer_1/")
        np.testing.assert_allclose(value, theirs[source], atol=1e-6, err_msg=name)
    head, teacher_head = student._network.head_model, fitted._network.head_model
    for a, b in zip(head.get_weights(), teacher_head.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_teacher_is_unchanged_and_its_attributes_are_the_students(toy, fitted):
    X, _, X_test, _ = toy
    before = fitted.predict_proba(X_test)
    student = skbert.distill(fitted, X, layers=1, epochs=1, random_state=0)
    np.testing.assert_array_equal(fitted.predict_proba(X_test), before)
    assert fitted.encoder == TINY and fitted.network_config_.encoder == TINY
    assert student.classes_.tolist() == fitted.classes_.tolist()
    assert student.train_encoder and student.epochs == fitted.epochs
    assert student.network_config_.encoder == student.encoder


@pytest.fixture(scope="module")
def student(toy, fitted):
    X, _, _, _ = toy
    return skbert.distill(fitted, X, layers=1, epochs=1, random_state=0)


def test_student_is_an_ordinary_estimator(toy, student, tmp_path):
    _, _, X_test, y_test = toy
    proba = student.predict_proba(X_test)
    assert student.inference_backend_ == "onnxruntime"
    tf_student = pickle.loads(pickle.dumps(student))
    tf_student.set_params(inference_backend="tensorflow")
    np.testing.assert_allclose(tf_student.predict_proba(X_test), proba, atol=1e-5)
    assert clone(student).get_params()["encoder"] == student.encoder
    student.save(tmp_path / "student")
    for backend in ("tensorflow", "onnxruntime"):
        loaded = skbert.load(tmp_path / "student", backend=backend)
        np.testing.assert_allclose(loaded.predict_proba(X_test), proba, atol=1e-5)
    int8 = pickle.loads(pickle.dumps(student))
    int8.set_params(inference_backend="onnxruntime-int8")
    assert np.mean(int8.predict(X_test) == student.predict(X_test)) >= 0.9
    path = student.export(tmp_path / "onnx")
    assert path.exists()
    assert student.score(X_test, y_test) >= 0.8


def test_a_clone_of_the_student_fits_at_the_students_depth(toy, student):
    X, y, _, _ = toy
    again = clone(student).set_params(epochs=1).fit(X[:32], y[:32])
    assert len(find_hub_layer(again.model_).weights) == len(
        find_hub_layer(student.model_).weights
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "teacher_of",
    ["regressor", "multilabel", "pairs", "chunks", "frozen", "vectorizer", "few_shot"],
)
def test_every_estimator_has_students(toy, teacher_of, tmp_path):
    X, y, X_test, _ = toy
    X, y = X[:48], np.asarray(y[:48])
    method = "predict"
    if teacher_of == "regressor":
        teacher = skbert.BertRegressor(TINY, epochs=2, max_seq_length=16)
        teacher.fit(X, (y == "pos") * 3.0 + 1.0)
    elif teacher_of == "multilabel":
        teacher = tiny_classifier(epochs=2).fit(X, [[v] for v in y])
    elif teacher_of == "pairs":
        X = [[a, b] for a, b in zip(X, X[::-1])]
        X_test = [[a, b] for a, b in zip(X_test, X_test[::-1])]
        teacher = tiny_classifier(epochs=2).fit(X, y)
    elif teacher_of == "chunks":
        X, X_test = [" ".join([t] * 4) for t in X], [" ".join([t] * 4) for t in X_test]
        teacher = tiny_classifier(epochs=2, long_texts="chunks").fit(X, y)
    elif teacher_of == "frozen":
        teacher = tiny_classifier(epochs=2, train_encoder=False).fit(X, y)
    elif teacher_of == "vectorizer":
        teacher, method = (
            skbert.BertVectorizer(TINY, pooling="mean").fit(X),
            "transform",
        )
    else:
        teacher = skbert.BertFewShotClassifier(
            TINY, max_pairs=200, pooling="mean", max_seq_length=16, random_state=0
        ).fit(X, y)
    student = skbert.distill(teacher, X, layers=1, epochs=1, random_state=0)
    assert type(student) is type(teacher)
    ours = getattr(student, method)(X_test)
    assert np.shape(ours) == np.shape(getattr(teacher, method)(X_test))
    student.save(tmp_path / "student")
    if teacher_of in ("vectorizer", "few_shot"):
        assert student.export(tmp_path / "served", format="saved_model").is_dir()
    loaded = getattr(skbert.load(tmp_path / "student"), method)(X_test)
    if np.asarray(ours).dtype.kind == "f":
        np.testing.assert_allclose(loaded, ours, atol=1e-5)
    else:
        np.testing.assert_array_equal(loaded, ours)


def test_bad_input_gets_a_clear_error(fitted, tmp_path):
    with pytest.raises(NotFittedError):
        skbert.distill(tiny_classifier(), ["a text"])
    for layers, match in [
        (0, "keeps 1 to 2"),
        (3, "keeps 1 to 2"),
        ([1, 0], "distinct, ascending"),
        ([2], "in 0..1"),
        ([], "distinct"),
    ]:
        with pytest.raises(ValueError, match=match):
            skbert.distill(fitted, ["a text"], layers=layers)
    for layers in ("two", "1"):
        with pytest.raises(TypeError, match="number of blocks"):
            skbert.distill(fitted, ["a text"], layers=layers)
    with pytest.raises(ValueError, match="X is empty; it needs at least one text"):
        skbert.distill(fitted, [], layers=1)
    with pytest.raises(ValueError, match="X"):
        skbert.distill(fitted, [["a", "b"]], layers=1)
    fitted.save(tmp_path / "teacher")
    onnx_only = skbert.load(tmp_path / "teacher", backend="onnxruntime")
    with pytest.raises(ValueError, match="skbert.load\\(path\\)"):
        skbert.distill(onnx_only, ["a text"], layers=1)


def test_an_encoder_skbert_did_not_write_has_no_students(tmp_path):
    preprocess, encoder = resolve_encoder(TINY).materialize()
    shutil.copytree(preprocess, tmp_path / "preprocess")
    shutil.copytree(encoder, tmp_path / "encoder")
    for asset in (tmp_path / "encoder" / "assets").iterdir():
        os.remove(asset)
    teacher = skbert.BertClassifier(
        tmp_path, epochs=1, max_seq_length=16, inference_backend="tensorflow"
    ).fit(["a b", "c d"], [0, 1])
    with pytest.raises(ValueError, match="cannot read the blocks"):
        skbert.distill(teacher, ["a b"], layers=1)


class Interrupt(tf_keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if batch == 1:
            raise KeyboardInterrupt


def test_ctrl_c_leaves_the_teacher_and_the_cache_whole(
    toy, fitted, tmp_path, monkeypatch
):
    from skbert.modeling import export

    X, _, X_test, _ = toy
    before = fitted.predict_proba(X_test)
    monkeypatch.setenv("SKBERT_HOME", str(tmp_path))  # no student encoder built yet
    written = export.save_shallow_encoder

    def interrupted(*args):
        written(*args)  # the whole entry, then Ctrl-C before it is renamed in
        raise KeyboardInterrupt

    monkeypatch.setattr(export, "save_shallow_encoder", interrupted)
    with pytest.raises(KeyboardInterrupt):
        skbert.distill(fitted, X, layers=[0])
    cache = tmp_path / "encoders"
    assert not [p.name for p in cache.iterdir() if "shallow" in p.name and p.is_dir()]
    monkeypatch.undo()
    monkeypatch.setenv("SKBERT_HOME", str(tmp_path))
    with pytest.raises(KeyboardInterrupt):
        skbert.distill(fitted, X, layers=[0], callbacks=[Interrupt()])
    np.testing.assert_array_equal(fitted.predict_proba(X_test), before)
    built = [p.name for p in cache.iterdir() if p.is_dir()]
    assert len([n for n in built if n.startswith("shallow-")]) == 1, built
    assert not [n for n in built if n.startswith(".")], built
