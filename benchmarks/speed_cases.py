"""The cases of ``speed.py``: each measures one system and prints its figures.

``speed.py --case NAME`` runs one of `CASES` (or ``model``, the classifier the
cases in `USE_MODEL` load) in its own process; ``harness.py`` holds the data,
timing and records they share.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
import time

import numpy as np
from harness import (
    dev_set,
    emit,
    median_rate,
    peak_rss_mib,
    predict_sets,
    rss_mib,
    run_child,
    shared_texts,
)
from sst2 import train_subset

ENCODER = "minilm_l6_en_uncased"
BACKENDS = ("tensorflow", "onnxruntime", "onnxruntime-int8")
BATCH_SIZE = 32


# --- the saved classifier and its backends ----------------------------------------


def encoder_flops(seq_length: int) -> float:
    """Multiply-adds ×2 of one sequence through the encoder (BERT's dense layers)."""
    from skbert.default_plugins.minilm import checkpoint_dir

    c = json.loads((checkpoint_dir() / "config.json").read_text())
    h, i, n = c["hidden_size"], c["intermediate_size"], c["num_hidden_layers"]
    per_layer = 2 * seq_length * (4 * h * h + 2 * h * i) + 4 * seq_length**2 * h
    return n * per_layer + 2 * h * h


def with_backend(estimator, backend: str):
    """`estimator` set to predict with `backend`.

    A skbert without ``inference_backend`` has TensorFlow only: for it,
    ``"tensorflow"`` leaves the estimator as it is.
    """
    if backend == "tensorflow" and "inference_backend" not in estimator.get_params():
        return estimator
    return estimator.set_params(inference_backend=backend)


def load_for(args, backend: str):
    """The saved classifier, loaded with TensorFlow, predicting with `backend`.

    ``"tensorflow-xla"`` is the TensorFlow backend with ``jit_compile=True``.
    """
    import skbert

    jit = backend == "tensorflow-xla"
    model = with_backend(skbert.load(args.model_dir), backend.removesuffix("-xla"))
    return model.set_params(batch_size=BATCH_SIZE, jit_compile=jit)


# --- the seed pipeline ------------------------------------------------------------


def seed_model(learning_rate=5e-5, train_encoder=True):
    """The TF Hub tutorial's classifier on `ENCODER`'s two SavedModels."""
    import tensorflow as tf
    import tensorflow_hub as hub
    import tensorflow_text  # noqa: F401
    import tf_keras

    from skbert.encoders import resolve_encoder

    preprocess_dir, encoder_dir = resolve_encoder(ENCODER).materialize()
    inputs = tf_keras.Input((), dtype=tf.string)
    packed = hub.KerasLayer(preprocess_dir)(inputs)
    x = hub.KerasLayer(encoder_dir, trainable=train_encoder)(packed)["pooled_output"]
    x = tf_keras.layers.Dropout(0.1)(x)
    model = tf_keras.Model(inputs, tf_keras.layers.Dense(1)(x))
    model.compile(
        tf_keras.optimizers.Adam(learning_rate),
        tf_keras.losses.BinaryCrossentropy(from_logits=True),
    )
    return model


def seed_inputs(texts):
    import tensorflow as tf

    return tf.constant(texts)


# --- cases, each run in a child process -------------------------------------------


def case_model(args) -> None:
    """Fine-tune the classifier the prediction cases load, and save it."""
    from skbert import BertClassifier

    X, y = train_subset(args.data / "sst2", args.model_size)
    start = time.perf_counter()
    clf = BertClassifier(ENCODER, epochs=1, random_state=0).fit(X, y)
    seconds = time.perf_counter() - start
    clf.save(args.model_dir)
    emit("setup:model_fit", "skbert", seconds, "s", examples=len(X), epochs=1)


def case_ceiling(args) -> None:
    import tensorflow as tf

    n = 4096
    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n))
    rate = median_rate(lambda: tf.matmul(a, b).numpy(), 1, args.repeats)
    emit("matmul_ceiling", "tf", rate * 2 * n**3 / 1e9, "GFLOP/s", size=n)
    x = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    rate = median_rate(lambda: x @ x, 1, args.repeats)
    emit("matmul_ceiling", "numpy", rate * 2 * n**3 / 1e9, "GFLOP/s", size=n)


def case_predict(args, system: str) -> None:
    """Texts/s on each prediction set at batch 32, for a backend or the seed."""
    sets = predict_sets(args)
    if system == "seed":
        model = seed_model()

        def runner(texts):
            inputs = seed_inputs(texts)
            return functools.partial(
                model.predict, inputs, batch_size=BATCH_SIZE, verbose=0
            )

        tags = {}
    else:
        model = load_for(args, system)

        def runner(texts):
            return functools.partial(model.predict_proba, texts)

        system, tags = "skbert", {"backend": system}
    flops = encoder_flops(128)  # imports skbert: after the seed imported TensorFlow
    for name, texts in sets.items():
        rate = median_rate(runner(texts), len(texts), args.repeats)
        emit(f"predict:{name}", system, rate, "texts/s", **tags, texts=len(texts))
        if name == "long128":
            emit(f"predict_flops:{name}", system, rate * flops / 1e9, "GFLOP/s", **tags)
        # The peak so far: loading and the sets up to this one.
        emit(f"peak_rss:predict:{name}", system, peak_rss_mib(), "MiB", **tags)


def case_first_prediction(args, system: str) -> None:
    """Time from a fresh interpreter to the first prediction (import + load)."""
    start = time.perf_counter()
    if system == "seed":
        seed_model().predict(seed_inputs(["a first text"]), verbose=0)
        tags = {}
    else:
        import skbert

        if system == "tensorflow":
            model = with_backend(skbert.load(args.model_dir), system)
        else:
            model = skbert.load(args.model_dir, backend=system)
        model.predict_proba(["a first text"])
        system, tags = "skbert", {"backend": system}
    seconds = time.perf_counter() - start
    imported = "tensorflow" in sys.modules
    emit("first_prediction", system, seconds, "s", **tags, tensorflow_imported=imported)


def case_tf_free(args) -> None:
    """SST-2 dev rate and peak RSS of ``skbert.load(path, backend="onnxruntime")``."""
    import skbert

    texts = predict_sets(args)["sst2_dev"]
    model = skbert.load(args.model_dir, backend="onnxruntime")
    rate = median_rate(
        functools.partial(model.predict_proba, texts), len(texts), args.repeats
    )
    imported = "tensorflow" in sys.modules
    tags = {"backend": "onnxruntime", "tensorflow_imported": imported}
    emit("tf_free_predict:sst2_dev", "skbert", rate, "texts/s", **tags)
    emit("peak_rss:tf_free_predict:sst2_dev", "skbert", peak_rss_mib(), "MiB", **tags)


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of each row of `a` with the same row of `b`."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def case_accuracy(args) -> None:
    """What the ONNX backends change: dev accuracy, and embeddings against fp32."""
    import skbert

    texts, labels = dev_set(args)
    clf, proba = skbert.load(args.model_dir), {}
    for backend in BACKENDS:
        proba[backend] = with_backend(clf, backend).predict_proba(texts)
        predicted = clf.classes_[proba[backend].argmax(1)]
        agree = float(np.mean(predicted == clf.classes_[proba[BACKENDS[0]].argmax(1)]))
        diff = float(np.abs(proba[backend] - proba[BACKENDS[0]]).max())
        emit(
            "accuracy:sst2_dev",
            "skbert",
            float(np.mean(predicted == labels)),
            "fraction",
            backend=backend,
            agreement_with_tensorflow=agree,
            max_proba_difference=round(diff, 6),
        )
    embeddings = {}
    for backend in BACKENDS:
        vectorizer = with_backend(skbert.BertVectorizer(ENCODER), backend)
        embeddings[backend] = vectorizer.fit(texts[:1]).transform(texts)
    # Each ONNX embedding against the float32 one it approximates.
    for backend, reference in (
        ("onnxruntime", "tensorflow"),
        ("onnxruntime-int8", "onnxruntime"),
    ):
        cos = cosines(embeddings[backend], embeddings[reference])
        emit(
            "embedding_cosine:sst2_dev",
            "skbert",
            float(cos.mean()),
            "cosine",
            backend=backend,
            reference=reference,
            min=round(float(cos.min()), 6),
        )


@contextlib.contextmanager
def epoch_seconds():
    """Collect the wall time of each epoch of every Keras ``fit`` in the block."""
    import tf_keras

    seconds = []

    class Timer(tf_keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds.append(time.perf_counter() - self.start)

    fit = tf_keras.Model.fit

    def timed_fit(model, *args, callbacks=None, **kwargs):
        return fit(model, *args, callbacks=[*(callbacks or []), Timer()], **kwargs)

    tf_keras.Model.fit = timed_fit
    try:
        yield seconds
    finally:
        tf_keras.Model.fit = fit


def case_finetune(args, system: str) -> None:
    """Fine-tuning as the peers do it (AdamW 5e-5, batch 32, 10 % warm-up).

    Figures: the whole fit (load, trace, epochs), the first epoch alone (what
    ``peers.py`` times), the later epochs if any, and skbert's dev accuracy.
    The whole fit counts loading the encoder and tracing, not importing
    TensorFlow or skbert (a process pays that once, not per fit).
    """
    epochs = args.finetune_epochs
    X, y = train_subset(args.data / "sst2", args.train_size)
    with epoch_seconds() as seconds:  # imports TensorFlow
        if system == "skbert":
            from skbert import BertClassifier

            start = time.perf_counter()
            clf = BertClassifier(
                ENCODER, epochs=epochs, learning_rate=5e-5, random_state=0
            ).fit(X, y)
        else:
            start = time.perf_counter()
            seed_model().fit(seed_inputs(X), y, batch_size=32, epochs=epochs, verbose=0)
    total = time.perf_counter() - start
    sizes = {"epochs": epochs, "examples": len(X)}
    emit("finetune:whole_fit", system, epochs * len(X) / total, "examples/s", **sizes)
    emit("finetune:first_epoch", system, len(X) / seconds[0], "examples/s", **sizes)
    if seconds[1:]:
        rate = len(seconds[1:]) * len(X) / sum(seconds[1:])
        emit("finetune:later_epochs", system, rate, "examples/s", epoch_seconds=seconds)
    emit("peak_rss:finetune", system, peak_rss_mib(), "MiB")
    if system == "skbert":
        texts, labels = dev_set(args)
        accuracy = float(np.mean(clf.predict(texts) == labels))
        emit("finetune:dev_accuracy", system, accuracy, "fraction", **sizes)


def case_frozen(args, system: str) -> None:
    """Frozen-encoder fit; for skbert also a 4 x 3 grid over head settings."""
    X, y = train_subset(args.data / "sst2", args.frozen_size)
    params = dict(train_encoder=False, epochs=3, learning_rate=1e-3, random_state=0)
    start = time.perf_counter()
    if system == "seed":
        model = seed_model(learning_rate=1e-3, train_encoder=False)
        model.fit(seed_inputs(X), y, batch_size=32, epochs=3, verbose=0)
        emit("frozen_fit", system, time.perf_counter() - start, "s", texts=len(X))
        emit("peak_rss:frozen", system, peak_rss_mib(), "MiB")
        return
    from sklearn.model_selection import GridSearchCV

    import skbert

    skbert.BertClassifier(ENCODER, **params).fit(X, y)
    single = time.perf_counter() - start
    emit("frozen_fit", system, single, "s", texts=len(X))
    skbert.clear_feature_cache()
    grid = GridSearchCV(
        skbert.BertClassifier(ENCODER, **params),
        {"learning_rate": [1e-3, 3e-3], "head__dropout": [0.0, 0.1]},
        cv=3,
    )
    start = time.perf_counter()
    grid.fit(X, y)
    seconds = time.perf_counter() - start
    info = skbert.feature_cache_info()
    extra = {"texts_encoded": info["texts_encoded"], "distinct": len(set(X))}
    emit("frozen_grid_4x3", system, seconds, "s", fits=13, **extra)
    emit("frozen_grid_over_single_fit", system, seconds / single, "x", **extra)
    emit("peak_rss:frozen", system, peak_rss_mib(), "MiB")


def case_memory(args) -> None:
    """RSS of streaming 100,000 texts, and over 20 consecutive fits (tiny encoder)."""
    from skbert import BertClassifier
    from skbert.batching import CHUNK_SIZE

    n_texts, n_fits = (3 * CHUNK_SIZE, 3) if args.quick else (100_000, 20)
    X, y = train_subset(args.data / "sst2", 64)
    clf = BertClassifier("tiny_random_en_uncased", epochs=1).fit(X, y)
    sentences, _ = shared_texts(args).read(args.data / "sst2" / "train.tsv")
    clf.predict_proba(sentences[:1000])
    before = rss_mib()
    clf.predict_proba(sentences[i % len(sentences)] for i in range(n_texts))
    emit(
        "memory:predict_stream_growth",
        "skbert",
        peak_rss_mib() - before,
        "MiB",
        texts=n_texts,
        before=before,
    )
    rss = []
    for _ in range(n_fits):
        BertClassifier("tiny_random_en_uncased", epochs=1).fit(X, y)
        rss.append(rss_mib())
    emit("memory:fits_growth", "skbert", rss[-1] - rss[0], "MiB", fits=n_fits)


def case_peers(args) -> None:
    """Run ``peers.py`` with ``$PEERS_PYTHON``; its lines become figures here."""
    from skbert.default_plugins.minilm import checkpoint_dir

    if not os.environ.get("PEERS_PYTHON"):
        sys.exit("PEERS_PYTHON is not set: the peers need their own environment.")
    command = [os.environ["PEERS_PYTHON"], str(args.peers_dir / "peers.py")]
    command += [str(checkpoint_dir()), str(args.data / "sst2")]
    command += ["--finetune", str(args.train_size)]
    records, error = run_child(command)
    if error:
        sys.exit(f"peers.py failed: {error}")
    for line in records:
        system = line["system"]
        if system.endswith("-finetune"):
            sizes = {"epochs": line["epochs"], "examples": line["n_train"]}
            system = system.removesuffix("-finetune")
            rate = line["train_examples_per_s"]
            emit("finetune:first_epoch", system, rate, "examples/s", **sizes)
            accuracy = line["dev_accuracy"]
            emit("finetune:dev_accuracy", system, accuracy, "fraction", **sizes)
            continue
        for name in ("sst2_dev", "long128"):
            emit(f"predict:{name}", system, line[f"{name}_per_s"], "texts/s")


CASES = {
    "ceiling": case_ceiling,
    **{
        f"predict:{s}": functools.partial(case_predict, system=s)
        for s in (*BACKENDS, "tensorflow-xla", "seed")
    },
    **{
        f"first_prediction:{s}": functools.partial(case_first_prediction, system=s)
        for s in ("onnxruntime", "tensorflow", "seed")
    },
    "tf_free": case_tf_free,
    "accuracy": case_accuracy,
    "finetune:skbert": functools.partial(case_finetune, system="skbert"),
    "finetune:seed": functools.partial(case_finetune, system="seed"),
    "frozen:skbert": functools.partial(case_frozen, system="skbert"),
    "frozen:seed": functools.partial(case_frozen, system="seed"),
    "memory": case_memory,
    "peers": case_peers,
}
#: The cases that load the saved classifier: skbert's predicting ones.
USE_MODEL = {
    case
    for case in CASES
    if case.split(":")[0] in ("predict", "first_prediction", "tf_free", "accuracy")
    and not case.endswith(":seed")
}
