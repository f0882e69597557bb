"""Shared fixtures: a persistent skbert cache, toy data, and fitted estimators.

Fitting is the slow part of this suite, so estimators that several tests
only read are fitted once per session. Encoders the tests build or convert
are kept between runs in ``$SKBERT_TEST_HOME`` (default ``.test-home/`` at
the repository's root): the cache's manifests make reusing them safe, and
tests of a cold cache give themselves an empty home.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

TINY = "tiny_random_en_uncased"
ROOT = Path(__file__).resolve().parent.parent


#: The encoder that the example plugin skbert-checkpoints makes of the
#: checkpoint folder written at start-up.
LOCAL_CHECKPOINT = "local_tiny_bert"

# Hypothesis: a small, repeatable run by default; `make test-all` asks for "large".
settings.register_profile(
    "default",
    max_examples=20,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
settings.register_profile("large", settings.get_profile("default"), max_examples=150)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_configure(config):
    home = Path(os.environ.get("SKBERT_TEST_HOME", ROOT / ".test-home"))
    # One cache for every run, shared with the subprocesses tests start.
    os.environ["SKBERT_HOME"] = str(home / "skbert")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # A folder of checkpoints for the example plugin skbert-checkpoints, left
    # as it is when unchanged: the plugin keys its cache entry on the file times.
    folder = home / "checkpoints"
    os.environ["SKBERT_CHECKPOINTS"] = str(folder)
    _write_tiny_checkpoint(folder / "Tiny-BERT")


def _write_tiny_checkpoint(path: Path) -> None:
    from checkpoints import TINY_CONFIG, TINY_VOCAB, tiny_weights, write_checkpoint

    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(dir=path.parent)) / path.name
    weights = tiny_weights(TINY_CONFIG, std=0.02)
    write_checkpoint(fresh, TINY_CONFIG, weights, TINY_VOCAB)
    same = path.is_dir() and all(
        (path / f.name).is_file() and (path / f.name).read_bytes() == f.read_bytes()
        for f in fresh.iterdir()
    )
    if not same:
        shutil.rmtree(path, ignore_errors=True)
        os.replace(fresh, path)
    shutil.rmtree(fresh.parent)


def pytest_collection_modifyitems(config, items):
    if os.environ.get("SKBERT_NETWORK_TESTS") == "1":
        unmet, reason = "offline", "needs TF Hub out of reach; SKBERT_NETWORK_TESTS=1"
    else:
        unmet, reason = "network", "needs the network; set SKBERT_NETWORK_TESTS=1"
    for item in items:
        if unmet in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))


POSITIVE = "good great excellent wonderful nice fine fun beautiful happy loved".split()
NEGATIVE = "bad awful terrible poor boring dull ugly sad worst hate".split()
SUBJECTS = "film movie story plot acting actor picture".split()


def sentiment(n, seed):
    """Separable toy reviews with string labels."""
    rng = np.random.default_rng(seed)
    labels = rng.choice(["pos", "neg"], size=n)
    words = {"pos": POSITIVE, "neg": NEGATIVE}
    texts = [f"the {rng.choice(SUBJECTS)} was {rng.choice(words[y])}" for y in labels]
    return texts, labels.astype(object)


@pytest.fixture(scope="session")
def toy():
    X_train, y_train = sentiment(160, seed=0)
    X_test, y_test = sentiment(60, seed=1)
    return X_train, y_train, X_test, y_test


def tiny_classifier(**params):
    from skbert import BertClassifier

    defaults = dict(
        epochs=8, batch_size=8, learning_rate=3e-3, max_seq_length=16, random_state=0
    )
    return BertClassifier(TINY, **{**defaults, **params})


@pytest.fixture(scope="session")
def fitted(toy):
    X_train, y_train, _, _ = toy
    return tiny_classifier().fit(X_train, y_train)


def run_python(code, env=None, check=True):
    """Run `code` in a fresh Python process (the suite's interpreter)."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"subprocess failed:\n{result.stdout}\n{result.stderr}")
    return result


#: How a user runs an ONNX export (the user guide's script, every task):
#: plain onnxruntime and tokenizers, probabilities from skbert.json's settings.
_EXPORT_CONSUMER = """
import json, sys
import numpy as np, onnxruntime as ort
from tokenizers import Tokenizer
root, texts, out = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
meta = json.load(open(root + "/skbert.json"))
tokenizer = Tokenizer.from_file(root + "/tokenizer.json")
session = ort.InferenceSession(root + "/model.onnx")
batch = tokenizer.encode_batch(texts)
feed = {
    "input_word_ids": np.array([e.ids for e in batch]),
    "input_mask": np.array([e.attention_mask for e in batch]),
    "input_type_ids": np.array([e.type_ids for e in batch]),
}
logits = session.run([meta["output"]], feed)[0].astype(np.float64)
if meta["activation"] == "softmax":
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    proba = exp / exp.sum(axis=1, keepdims=True)
elif meta["task"] == "multilabel":
    proba = 1 / (1 + np.exp(-logits))
else:
    positive = 1 / (1 + np.exp(-logits[:, 0]))
    proba = np.column_stack([1 - positive, positive])
np.save(out, proba)
print(meta["task"], meta["activation"], "skbert" in sys.modules)
"""


def exported_proba(path, texts, out):
    """Probabilities of the ONNX export at `path` on `texts`, run as a user would.

    In a fresh process with onnxruntime and tokenizers only; `out` is a
    ``.npy`` file to pass them through. Returns them and the process's
    last line: task, activation, and whether skbert was imported.
    """
    import json

    result = subprocess.run(
        [sys.executable, "-c", _EXPORT_CONSUMER, str(path), json.dumps(texts), out],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        raise AssertionError(f"the export did not run:\n{result.stderr}")
    return np.load(out), result.stdout.strip().splitlines()[-1]
