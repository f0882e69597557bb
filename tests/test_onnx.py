"""The ONNX Runtime backend: same results as TensorFlow, TF-free loading, int8."""

import collections
import pickle
import shutil
import warnings

import numpy as np
import pytest

import skbert
from conftest import TINY, run_python, tiny_classifier
from skbert import BertClassifier, BertRegressor, BertVectorizer
from skbert.runtime import InferenceBackendWarning

PAIRS = [
    ("the film was good", "a good film"),
    ("the plot was dull", "a wonderful story"),
    ("great acting", "bad acting and a boring plot"),
    ("a", "b"),
] * 4


def both_backends(estimator, method, X):
    """`method` on `X` with ONNX Runtime, then with TensorFlow."""
    estimator.set_params(inference_backend="onnxruntime")
    assert estimator.inference_backend_ == "onnxruntime"
    on_onnx = getattr(estimator, method)(X)
    estimator.set_params(inference_backend="tensorflow")
    on_tf = getattr(estimator, method)(X)
    estimator.set_params(inference_backend="auto")
    return on_onnx, on_tf


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"train_encoder": False},
        {"head": "mlp", "head__hidden_units": (16, 8), "head__activation": "relu"},
        {"head": "sequence"},
        {"head": "sequence", "head__pooling": "max", "train_encoder": False},
        {"head": "sequence", "head__pooling": "cls"},
        {"head": "cnn", "head__filters": 8, "head__kernel_sizes": (1, 2, 3)},
    ],
    ids=["sigmoid", "frozen", "mlp", "attention", "frozen-max", "cls", "cnn"],
)
def test_onnx_predictions_equal_tensorflow(toy, params):
    X_train, y_train, X_test, _ = toy
    clf = tiny_classifier(epochs=1, **params).fit(X_train[:48], y_train[:48])
    on_onnx, on_tf = both_backends(clf, "predict_proba", X_test)
    np.testing.assert_allclose(on_onnx, on_tf, atol=1e-5)
    assert not np.allclose(on_tf[:, 1], on_tf[0, 1])  # the texts do differ


@pytest.mark.slow
def test_onnx_covers_multiclass_multilabel_pairs_and_regression(toy):
    X_train, y_train, X_test, _ = toy
    three = np.array(["a", "b", "c"])[np.arange(48) % 3]
    clf = tiny_classifier(epochs=1).fit(X_train[:48], three)
    np.testing.assert_allclose(*both_backends(clf, "predict_proba", X_test), atol=1e-5)
    tags = [{"x"}, {"x", "y"}, set(), {"y"}] * 12
    clf = tiny_classifier(epochs=1).fit(X_train[:48], tags)
    np.testing.assert_allclose(*both_backends(clf, "predict_proba", X_test), atol=1e-5)
    clf = tiny_classifier(epochs=1).fit(PAIRS, [1, 0, 1, 0] * 4)
    on_onnx, on_tf = both_backends(clf, "decision_function", PAIRS[:4])
    np.testing.assert_allclose(on_onnx, on_tf, atol=1e-5)
    reg = BertRegressor(TINY, epochs=1, max_seq_length=16, random_state=0)
    reg.fit(X_train[:32], np.arange(64.0).reshape(32, 2))
    np.testing.assert_allclose(*both_backends(reg, "predict", X_test), atol=1e-4)


@pytest.mark.parametrize("pooling", ["pooled", "mean", "max", "cls"])
def test_onnx_embeddings_equal_tensorflow(pooling):
    texts = ["a good film", "the plot was bad and the acting worse", "fun"]
    vec = BertVectorizer(TINY, pooling=pooling).fit(texts)
    on_onnx, on_tf = both_backends(vec, "transform", texts)
    assert on_onnx.dtype == np.float32 and on_onnx.shape == (3, 32)
    np.testing.assert_allclose(on_onnx, on_tf, atol=1e-5)


def test_frozen_fit_reads_features_from_onnx_runtime(toy):
    X_train, y_train, X_test, _ = toy
    skbert.clear_feature_cache()
    tiny_classifier(epochs=1, train_encoder=False).fit(X_train[:40], y_train[:40])
    info = skbert.feature_cache_info()
    assert info["texts_encoded"] == len(set(X_train[:40]))
    # The TensorFlow backend keeps its own entries: the same texts again.
    clf = tiny_classifier(epochs=1, train_encoder=False, inference_backend="tensorflow")
    clf.fit(X_train[:40], y_train[:40])
    assert skbert.feature_cache_info()["texts_encoded"] == 2 * info["texts_encoded"]


def test_int8_is_a_quantized_graph_close_to_fp32(toy, caplog):
    X_train, y_train, X_test, _ = toy
    clf = tiny_classifier(epochs=1).fit(X_train[:48], y_train[:48])
    fp32 = clf.predict_proba(X_test)
    clf.set_params(inference_backend="onnxruntime-int8")
    with caplog.at_level("INFO"):
        int8 = clf.predict_proba(X_test)
    # onnxruntime's advice to its developers is not shown to skbert's users.
    assert "pre-processing" not in caplog.text
    assert clf.inference_backend_ == "onnxruntime-int8"
    graph = clf._network.onnx.graph("onnxruntime-int8")
    assert b"MatMulInteger" in graph or b"DynamicQuantizeMatMul" in graph
    assert 0 < np.abs(int8 - fp32).max() < 0.05


def optimized_kernels(graph, monkeypatch, tmp_path) -> collections.Counter:
    """The kernels `skbert.runtime.session` runs for `graph`, by ONNX op type."""
    import onnx
    import onnxruntime as ort

    from skbert.runtime import session

    path, options = tmp_path / "optimized.onnx", ort.SessionOptions

    def saving_options():
        made = options()
        made.optimized_model_filepath = str(path)
        return made

    with monkeypatch.context() as patch:
        patch.setattr(ort, "SessionOptions", saving_options)
        session(graph)
    return collections.Counter(node.op_type for node in onnx.load(path).graph.node)


def test_int8_runs_quantized_dense_layers_and_fused_kernels(
    fitted, monkeypatch, tmp_path
):
    import onnx

    variants = fitted._network.predict_onnx
    fp32 = onnx.load_from_string(variants.graph("onnxruntime")).graph
    weights = {i.name for i in fp32.initializer}
    dense = sum(n.op_type == "MatMul" and n.input[1] in weights for n in fp32.node)
    layers = 2  # tiny_random_en_uncased
    int8 = optimized_kernels(variants.graph("onnxruntime-int8"), monkeypatch, tmp_path)
    # Every dense layer in int8 (dynamic); attention's matmuls stay float32.
    assert int8["DynamicQuantizeMatMul"] == dense
    assert int8["MatMul"] == 2 * layers
    # GELU is one kernel; the SkipLayerNormalization fusion (slower) is left out.
    assert int8["Gelu"] == layers and int8["Erf"] == 0
    assert int8["SkipLayerNormalization"] == 0
    assert optimized_kernels(variants.graph(), monkeypatch, tmp_path)["BiasGelu"] == 2


def test_int8_weights_are_8_bit_per_output_column(fitted):
    import onnx
    from onnx import numpy_helper

    graph = onnx.load_from_string(
        fitted._network.predict_onnx.graph("onnxruntime-int8")
    )
    arrays = {i.name: numpy_helper.to_array(i) for i in graph.graph.initializer}
    quantized = [name for name in arrays if name.endswith("_quantized")]
    assert quantized
    for name in quantized:
        weight, scale = arrays[name], arrays[name.replace("_quantized", "_scale")]
        assert weight.dtype == np.int8 and scale.shape == weight.shape[1:]
        # Symmetric, full 8-bit range: each column's largest weight is ±127.
        assert (np.abs(weight.astype(int)).max(axis=0) == 127).all()


def test_tf_free_load_predicts_the_same_without_importing_tensorflow(
    toy, tmp_path, fitted
):
    _, _, X_test, _ = toy
    fitted.save(tmp_path / "clf")
    np.save(tmp_path / "expected.npy", fitted.predict_proba(X_test))
    np.save(tmp_path / "X.npy", np.array(X_test, dtype=object), allow_pickle=True)
    out = run_python(
        f"""
import sys, numpy as np, skbert
clf = skbert.load({str(tmp_path / "clf")!r}, backend="onnxruntime")
X = np.load({str(tmp_path / "X.npy")!r}, allow_pickle=True)
proba = clf.predict_proba(list(X))
expected = np.load({str(tmp_path / "expected.npy")!r})
np.testing.assert_allclose(proba, expected, atol=1e-5)
print(clf.predict(list(X[:2])), clf.classes_, clf.inference_backend_)
print("tensorflow" in sys.modules)
"""
    )
    lines = out.stdout.strip().splitlines()
    assert lines[-1] == "False"
    assert "onnxruntime" in lines[-2] and "'neg' 'pos'" in lines[-2]


def test_onnx_loaded_estimator_predicts_and_refuses_what_needs_tensorflow(
    toy, tmp_path, fitted
):
    _, _, X_test, y_test = toy
    fitted.save(tmp_path / "clf")
    loaded = skbert.load(tmp_path / "clf", backend="onnxruntime-int8")
    assert loaded.inference_backend_ == "onnxruntime-int8"
    assert loaded.score(X_test, y_test) > 0.8
    assert loaded.model_ is None
    with pytest.raises(TypeError, match="does not pickle"):
        pickle.dumps(loaded)
    with pytest.raises(ValueError, match="holds no TensorFlow weights"):
        loaded.save(tmp_path / "again")
    loaded.set_params(inference_backend="tensorflow")
    with pytest.raises(ValueError, match=r"skbert.load\(path\)"):
        loaded.predict(X_test)
    with pytest.raises(ValueError, match="backend='torch'; choose one of"):
        skbert.load(tmp_path / "clf", backend="torch")


def test_tampered_onnx_graph_is_refused(tmp_path, fitted):
    fitted.save(tmp_path / "clf")
    with open(tmp_path / "clf" / "model.onnx", "ab") as f:
        f.write(b"\0")
    with pytest.raises(skbert.ModelFormatError, match="model.onnx does not match"):
        skbert.load(tmp_path / "clf", backend="onnxruntime")


@pytest.fixture(scope="module")
def foreign_encoder(tmp_path_factory):
    """A TF Hub-format encoder skbert did not write: embeddings, mean, no BERT."""
    import tensorflow as tf
    import tf_keras

    from skbert.encoders import resolve_encoder

    root = tmp_path_factory.mktemp("foreign")
    preprocess, _ = resolve_encoder(TINY).materialize()
    shutil.copytree(preprocess, root / "preprocess")
    inputs = {
        n: tf_keras.Input(shape=(None,), dtype=tf.int32, name=n)
        for n in ("input_word_ids", "input_mask", "input_type_ids")
    }
    sequence = tf_keras.layers.Embedding(400, 16)(inputs["input_word_ids"])
    pooled = tf_keras.layers.GlobalAveragePooling1D()(sequence)
    model = tf_keras.Model(
        inputs, {"pooled_output": pooled, "sequence_output": sequence}
    )
    model.save(root / "encoder", save_format="tf")
    return root


def test_auto_falls_back_to_tensorflow_for_a_foreign_encoder(toy, foreign_encoder):
    X_train, y_train, X_test, _ = toy
    clf = BertClassifier(foreign_encoder, epochs=1, max_seq_length=16)
    with pytest.warns(InferenceBackendWarning, match="holds no skbert BertNetwork"):
        clf.fit(X_train[:16], y_train[:16])
        proba = clf.predict_proba(X_test)
    assert clf.inference_backend_ == "tensorflow"
    assert proba.shape == (len(X_test), 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # said once, not at every call
        clf.predict_proba(X_test)
    clf.set_params(inference_backend="onnxruntime")
    with pytest.raises(ValueError, match="cannot run this network.*'tensorflow'"):
        clf.predict(X_test)


def test_a_head_layer_without_translation_is_named():
    import tf_keras

    from skbert.onnx_graph import GraphBuilder, NotExportable, write_head

    sequence = tf_keras.Input(shape=(None, 8), name="sequence_output")
    logits = tf_keras.layers.Dense(1)(tf_keras.layers.LSTM(4, name="lstm")(sequence))
    head = tf_keras.Model({"sequence_output": sequence}, logits)
    with pytest.raises(NotExportable, match="'lstm' \\(LSTM\\) has no ONNX"):
        write_head(GraphBuilder(), head, {"sequence_output": "x"})


def test_onnx_export_runs_on_plain_onnxruntime_and_tokenizers(toy, tmp_path, fitted):
    _, _, X_test, _ = toy
    out = fitted.export(tmp_path / "onnx", format="onnx")
    names = sorted(p.name for p in out.iterdir())
    assert names == ["model.onnx", "skbert.json", "tokenizer.json", "vocab.txt"]
    np.save(tmp_path / "expected.npy", fitted.predict_proba(X_test))
    result = run_python(
        f"""
import json, sys
import numpy as np, onnxruntime as ort
from tokenizers import Tokenizer
root = {str(out)!r}
meta = json.load(open(root + "/skbert.json"))
tokenizer = Tokenizer.from_file(root + "/tokenizer.json")
session = ort.InferenceSession(root + "/model.onnx")
batch = tokenizer.encode_batch({list(X_test)!r})
feed = {{
    "input_word_ids": np.array([e.ids for e in batch]),
    "input_mask": np.array([e.attention_mask for e in batch]),
    "input_type_ids": np.array([e.type_ids for e in batch]),
}}
logits = session.run([meta["output"]], feed)[0]
positive = 1 / (1 + np.exp(-logits[:, 0]))
expected = np.load({str(tmp_path / "expected.npy")!r})
np.testing.assert_allclose(positive, expected[:, 1], atol=1e-5)
print(meta["classes"], meta["activation"], "skbert" in sys.modules)
"""
    )
    assert result.stdout.split() == ["['neg',", "'pos']", "sigmoid", "False"]


@pytest.mark.slow
def test_encoders_built_after_another_bert_in_the_process_export(tmp_path):
    from skbert.default_plugins.tiny_random import build

    texts = ["a good film", "a bad one"]
    for name in ("first", "second"):  # the second's variables are bert_network_N/...
        build(tmp_path / name)
        vec = BertVectorizer(tmp_path / name).fit(texts)
        on_onnx, on_tf = both_backends(vec, "transform", texts)
        np.testing.assert_allclose(on_onnx, on_tf, atol=1e-5)


def test_an_encoder_an_older_skbert_saved_with_keras_still_runs_on_onnx(tmp_path):
    import tensorflow as tf
    import tf_keras

    from skbert.modeling.bert import BertNetwork
    from skbert.modeling.config import BertConfig, encoder_config

    config = BertConfig(
        vocab_size=30,
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=16,
    )
    network = BertNetwork(config, pooling="mean")
    inputs = {
        n: tf_keras.Input(shape=(None,), dtype=tf.int32, name=n)
        for n in ("input_word_ids", "input_mask", "input_type_ids")
    }
    # How skbert saved encoders before cache format 2: Keras' save, no asset.
    tf_keras.Model(inputs, network(inputs)).save(tmp_path / "old", save_format="tf")
    assert encoder_config(tmp_path / "old") == (config, "mean")
