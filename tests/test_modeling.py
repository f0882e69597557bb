"""The exported SavedModels follow the TF Hub BERT contract, usable without skbert."""

import shutil

import pytest

from conftest import TINY, run_python


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory):
    """The tiny preset's export, copied elsewhere: SavedModels must be relocatable."""
    import skbert

    preprocess, _ = skbert.get_encoder(TINY).materialize()
    copy = tmp_path_factory.mktemp("moved") / "tiny"
    shutil.copytree(preprocess.rsplit("/", 1)[0], copy)
    (copy / "vocab.txt").unlink()  # the preprocessor must carry its own asset
    return copy


def test_plain_hub_script_uses_both_savedmodels(tiny_dir):
    code = f"""
import tensorflow as tf, tensorflow_hub as hub, tensorflow_text
import sys
assert "skbert" not in sys.modules
pre = hub.load("{tiny_dir}/preprocess")
out = pre(tf.constant(["Hello World", ""]))
assert sorted(out) == ["input_mask", "input_type_ids", "input_word_ids"], sorted(out)
ids = out["input_word_ids"]
assert ids.shape == (2, 128) and ids.dtype == tf.int32
assert out["input_mask"].numpy().sum(axis=1).tolist()[1] == 2  # [CLS] [SEP]
tok = pre.tokenize(tf.constant(["the film", "a man was happy with the story"]))
assert isinstance(tok, tf.RaggedTensor) and tok.shape.rank == 3
packed = hub.KerasLayer(pre.bert_pack_inputs, arguments=dict(seq_length=10))([tok, tok])
keys = ("input_word_ids", "input_type_ids", "input_mask")
ids, types, mask = (packed[k].numpy() for k in keys)
assert ids.shape == (2, 10)
# Row 0: [CLS] the film [SEP] the film [SEP] padding
assert types[0].tolist() == [0, 0, 0, 0, 1, 1, 1, 0, 0, 0], types[0]
assert mask[0].tolist() == [1] * 7 + [0] * 3
# Row 1 is trimmed to 10 tokens: 7 for text, shared round-robin (longest first).
assert mask[1].sum() == 10 and types[1].tolist() == [0] * 6 + [1] * 4, types[1]
encoder = hub.KerasLayer("{tiny_dir}/encoder", trainable=True)
result = encoder(packed)
keys = {{"pooled_output", "sequence_output", "encoder_outputs", "default"}}
assert set(result) == keys
assert result["sequence_output"].shape == (2, 10, 32)
assert result["pooled_output"].shape == (2, 32)
assert len(result["encoder_outputs"]) == 2
assert len(encoder.trainable_weights) > 0
print("ok")
"""
    assert run_python(code).stdout.strip().endswith("ok")


def test_encoder_fine_tunes_through_keras_layer(tiny_dir):
    import numpy as np
    import tensorflow as tf
    import tensorflow_hub as hub
    import tf_keras

    encoder = hub.KerasLayer(str(tiny_dir / "encoder"), trainable=True)
    ids = tf.constant([[2, 40, 41, 3, 0]])
    inputs = {
        "input_word_ids": ids,
        "input_mask": tf.sign(ids),
        "input_type_ids": tf.zeros_like(ids),
    }
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(encoder(inputs, training=True)["pooled_output"])
    grads = tape.gradient(loss, encoder.trainable_weights)
    assert all(g is not None for g in grads)
    before = encoder(inputs)["pooled_output"].numpy()
    tf_keras.optimizers.SGD(1.0).apply_gradients(zip(grads, encoder.trainable_weights))
    assert not np.allclose(before, encoder(inputs)["pooled_output"].numpy())


def test_padding_does_not_change_outputs(tiny_dir):
    import numpy as np
    import tensorflow as tf
    import tensorflow_hub as hub

    pre = hub.load(str(tiny_dir / "preprocess"))
    encoder = hub.KerasLayer(str(tiny_dir / "encoder"))
    tok = pre.tokenize(tf.constant(["a good film"]))
    short = encoder(pre.bert_pack_inputs([tok], seq_length=8))
    long = encoder(pre.bert_pack_inputs([tok], seq_length=32))
    np.testing.assert_allclose(
        short["pooled_output"], long["pooled_output"], rtol=1e-5, atol=1e-6
    )


@pytest.mark.slow
def test_tiny_preset_weights_are_reproducible(tmp_path):
    import numpy as np
    import tensorflow as tf

    import skbert
    from skbert.default_plugins.tiny_random import build

    build(tmp_path / "again")
    cached = tf.train.load_checkpoint(
        skbert.get_encoder(TINY).materialize()[1] + "/variables/variables"
    )
    rebuilt = tf.train.load_checkpoint(
        str(tmp_path / "again/encoder/variables/variables")
    )
    names = [
        n for n in cached.get_variable_to_shape_map() if n.startswith("variables/")
    ]
    assert len(names) == 39  # embeddings 5, 2 blocks of 16, pooler 2
    for name in names:
        np.testing.assert_array_equal(cached.get_tensor(name), rebuilt.get_tensor(name))


@pytest.mark.slow
def test_two_processes_building_one_preset_make_one_copy(tmp_path):
    import os
    import subprocess
    import sys

    code = f"import skbert; print(skbert.get_encoder({TINY!r}).materialize()[1])"
    env = {**os.environ, "SKBERT_HOME": str(tmp_path)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    assert outputs[0][0] == outputs[1][0]
    entries = sorted(p.name for p in (tmp_path / "encoders").iterdir())
    assert entries == [".tiny_random_en_uncased.lock", "tiny_random_en_uncased"]
