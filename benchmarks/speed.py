"""skbert's prediction backends against the peers a user would pick instead, in one run.

Usage::

    .venv/bin/python benchmarks/speed.py ../shared/data            # or: make bench
    PEERS_PYTHON=/path/to/peers-venv/bin/python make bench        # with the peers
    .venv/bin/python benchmarks/speed.py ../shared/data --quick --cases predict peers

Systems, all measured in this run:

- skbert with each ``inference_backend``: ``"tensorflow"``, ``"onnxruntime"``
  and ``"onnxruntime-int8"`` (and TensorFlow with ``jit_compile=True``,
  ``tensorflow-xla``), predicting with a classifier fine-tuned briefly
  on SST-2 (``--model-size`` sentences, 1 epoch; accuracy is not the point),
  saved once and loaded by each case;
- the *peers*: ``peers.py`` in ``--peers-dir``, run by ``$PEERS_PYTHON`` (a
  separate environment, see its docstring; skipped when unset): Hugging Face
  on PyTorch (``hf-torch``) and ONNX Runtime (``ort-fp32``, ``ort-fp32-fused``,
  ``ort-int8-fused``) on the same model, and fine-tuning with transformers;
- the *seed pipeline*: the TF Hub "Classify text with BERT" model on the same
  encoder (``hub.KerasLayer(preprocessor)`` at fixed length 128, then the
  encoder, Dropout(0.1), Dense(1); ``model.predict``, ``model.fit``); its cases
  import TensorFlow before skbert, so they run with TensorFlow's defaults;
- the *ceiling*: the faster of a float32 ``tf.matmul`` and a numpy matmul of
  large square matrices; the model's FLOPs per sequence times sequences/s
  over it is the fraction of the ceiling reached.

Predictions run on the peers' inputs (``texts.py`` in ``--peers-dir``): the
872 SST-2 dev sentences and 192 long texts built from them, cut to 128 tokens;
batch 32. Every case runs in its own child process, so each has its own peak
RSS and a cold start. The parent prints one JSON line per figure, then tables:
skbert's figures as ratios to each peer of the same precision, the TF-free
predictor against the TensorFlow path, and what int8 costs in accuracy.
Throughputs are medians of ``--repeats`` timed passes after one warm-up pass;
``peers.py`` reports the best of 3 passes, so the ratios lean slightly
towards the peers.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sst2 import train_subset

ENCODER = "minilm_l6_en_uncased"
BACKENDS = ("tensorflow", "onnxruntime", "onnxruntime-int8")
BATCH_SIZE = 32
#: The peers of each skbert backend: the ONNX Runtime runs of its precision.
PEERS = {
    "tensorflow": ("hf-torch", "ort-fp32", "ort-fp32-fused", "seed"),
    "tensorflow-xla": ("hf-torch", "ort-fp32", "ort-fp32-fused", "seed"),
    "onnxruntime": ("hf-torch", "ort-fp32", "ort-fp32-fused", "seed"),
    "onnxruntime-int8": ("hf-torch", "ort-int8-fused", "seed"),
}
PEER_NAMES = ("hf-torch", "ort-fp32", "ort-fp32-fused", "ort-int8-fused", "seed")
#: Sizes of a full run, and of ``--quick``.
SIZES = {
    False: {"repeats": 3, "train_size": 512, "frozen_size": 1000, "model_size": 256},
    True: {"repeats": 1, "train_size": 64, "frozen_size": 96, "model_size": 32},
}
#: Texts per prediction set with ``--quick``.
QUICK_TEXTS = {"sst2_dev": 64, "long128": 16}


# --- data -------------------------------------------------------------------------


def shared_texts(args):
    """``texts.py`` of `args.peers_dir`: the module the peers read their inputs with."""
    path = args.peers_dir / "texts.py"
    spec = importlib.util.spec_from_file_location("texts", path)
    if spec is None or not path.is_file():
        sys.exit(f"{path} not found; pass --peers-dir, the folder of peers.py.")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def dev_set(args) -> tuple[list[str], np.ndarray]:
    """SST-2 dev sentences and labels (the first 64 with ``--quick``)."""
    texts, labels = shared_texts(args).read(args.data / "sst2" / "dev.tsv")
    n = QUICK_TEXTS["sst2_dev"] if args.quick else len(texts)
    return texts[:n], np.array(labels[:n])


def predict_sets(args) -> dict[str, list[str]]:
    """The peers' prediction inputs: SST-2 dev, and long texts built from it."""
    texts = shared_texts(args)
    dev, _ = texts.read(args.data / "sst2" / "dev.tsv")
    sets = {"sst2_dev": dev, "long128": texts.long_texts(dev)}
    if args.quick:
        sets = {name: t[: QUICK_TEXTS[name]] for name, t in sets.items()}
    return sets


def encoder_flops(seq_length: int) -> float:
    """Multiply-adds ×2 of one sequence through the encoder (BERT's dense layers)."""
    from skbert.default_plugins.minilm import checkpoint_dir

    c = json.loads((checkpoint_dir() / "config.json").read_text())
    h, i, n = c["hidden_size"], c["intermediate_size"], c["num_hidden_layers"]
    per_layer = 2 * seq_length * (4 * h * h + 2 * h * i) + 4 * seq_length**2 * h
    return n * per_layer + 2 * h * h


# --- timing and records -----------------------------------------------------------


def median_rate(run, n_items: int, repeats: int) -> float:
    """Items per second of `run()`: median over `repeats` passes after a warm-up."""
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return n_items / float(np.median(times))


def emit(figure: str, system: str, value: float, unit: str, **extra) -> None:
    """Print one figure as a JSON line; skbert's carry ``backend``."""
    record = {"figure": figure, "system": system, "value": round(value, 4)}
    print(json.dumps({**record, "unit": unit, **extra}), flush=True)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


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
#: Options a child process gets from the parent.
FORWARDED = (
    "repeats",
    "train_size",
    "frozen_size",
    "model_size",
    "finetune_epochs",
    "peers_dir",
    "model_dir",
    "quick",
)


# --- the parent: run the cases, print the tables ----------------------------------


def run_child(command: list[str]) -> tuple[list[dict], str | None]:
    """Run `command`: the JSON lines it printed, and its error if it failed."""
    done = subprocess.run(command, capture_output=True, text=True)
    lines = done.stdout.splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    error = None
    if done.returncode:
        error = f"exit status {done.returncode}\n{done.stderr[-3000:]}"
    return records, error


def run_case(args, case: str) -> tuple[list[dict], str | None]:
    """Run `case` in a child process; print and return its records and error."""
    command = [sys.executable, __file__, str(args.data), "--case", case]
    for name in FORWARDED:
        value = getattr(args, name)
        flag = "--" + name.replace("_", "-")
        if value is True:
            command.append(flag)
        elif value not in (None, False):
            command += [flag, str(value)]
    print(f"# case {case}", file=sys.stderr, flush=True)
    records, error = run_child(command)
    for record in records:
        print(json.dumps({**record, "case": case}), flush=True)
    return records, error


def selected_cases(names: list[str] | None) -> list[str]:
    """The cases named, a bare name selecting a family (``predict``), in run order."""
    if not names:
        return list(CASES)
    families = {c.split(":")[0] for c in CASES}
    unknown = [n for n in names if n not in CASES and n not in families]
    if unknown:
        sys.exit(
            f"--cases: unknown {', '.join(unknown)}; the cases are "
            f"{', '.join(CASES)} (a name before ':' selects its family)."
        )
    return [c for c in CASES if c in names or c.split(":")[0] in names]


def ratio(ours: dict, theirs: dict) -> float:
    """How many times better `ours` is: a rate ratio, or an inverse time/size ratio."""
    if ours["unit"] in ("s", "MiB"):
        return theirs["value"] / ours["value"]
    return ours["value"] / theirs["value"]


def print_tables(records: list[dict]) -> None:
    """skbert against its peers, the TF-free predictor, and int8's accuracy cost."""
    by = {(r["figure"], r["system"], r.get("backend")): r for r in records}
    peers = [p for p in PEER_NAMES if any(r["system"] == p for r in records)]
    ceiling = [r["value"] for r in records if r["figure"] == "matmul_ceiling"]
    rows = [
        r
        for r in records
        if r["system"] == "skbert"
        and r["unit"] in ("texts/s", "examples/s", "s", "MiB", "x")
        and not r["figure"].startswith("setup:")
    ]
    figures = list(dict.fromkeys(r["figure"] for r in rows))
    rows.sort(key=lambda r: figures.index(r["figure"]))  # stable: backends in run order
    if rows:
        print("\nskbert as a multiple of each peer (> 1: skbert faster or smaller)")
        header = " ".join(f"{p:>{max(len(p), 8)}}" for p in peers)
        print(f"{'figure':33} {'backend':16} {'skbert':>9} {header}  unit")
    for r in rows:
        backend = r.get("backend") or ""
        cells = []
        for peer in peers:
            theirs = by.get((r["figure"], peer, None))
            width = max(len(peer), 8) - 1
            if theirs and peer in PEERS.get(backend, PEER_NAMES):
                cells.append(f"{ratio(r, theirs):{width}.2f}x")
            else:
                cells.append(" " * (width + 1))
        line = f"{r['figure']:33} {backend:16} {r['value']:9.2f} {' '.join(cells)}"
        print(f"{line}  {r['unit']}")
    if ceiling:
        best = max(ceiling)
        print(f"\nmatmul ceiling, float32, best of tf and numpy: {best:.1f} GFLOP/s")
        for r in records:
            if r["figure"] == "predict_flops:long128":
                who = r.get("backend") or r["system"]
                note = " (int8 arithmetic)" if who.endswith("int8") else ""
                print(f"  {who:17} at length 128: {r['value'] / best:.0%}{note}")

    free = by.get(("first_prediction", "skbert", "onnxruntime"))
    tf_path = by.get(("first_prediction", "skbert", "tensorflow"))
    free_rss = by.get(("peak_rss:tf_free_predict:sst2_dev", "skbert", "onnxruntime"))
    tf_rss = by.get(("peak_rss:predict:sst2_dev", "skbert", "tensorflow"))
    if free or free_rss:
        print("\nTF-free predictor: skbert.load(path, backend='onnxruntime') vs TF")
    for name, a, b in (
        ("first prediction, s", free, tf_path),
        ("peak RSS predicting SST-2 dev, MiB", free_rss, tf_rss),
    ):
        if a and b:
            print(
                f"  {name:36} {a['value']:9.2f} vs {b['value']:9.2f}: "
                f"{ratio(a, b):.2f}x (TensorFlow imported: "
                f"{a.get('tensorflow_imported')})"
            )

    accuracy = {
        r["backend"]: r["value"]
        for r in records
        if r["figure"] == "accuracy:sst2_dev" and r["system"] == "skbert"
    }
    if accuracy:
        print("\nSST-2 dev accuracy of the saved classifier, by backend")
        for backend, value in accuracy.items():
            delta = value - accuracy.get("onnxruntime", value)
            print(f"  {backend:17} {value:.4f}  ({delta:+.4f} vs onnxruntime)")
    for r in records:
        if r["figure"] == "embedding_cosine:sst2_dev":
            print(
                f"  BertVectorizer {r['backend']} vs {r['reference']}: "
                f"cosine mean {r['value']:.6f}, min {r['min']:.6f}"
            )
    tuned = {
        r["system"]: r["value"]
        for r in records
        if r["figure"] == "finetune:dev_accuracy"
    }
    if tuned:
        print("\nSST-2 dev accuracy after the fine-tuning cases")
        for system, value in tuned.items():
            print(f"  {system:17} {value:.4f}")
    whole = by.get(("finetune:whole_fit", "skbert", None))
    for peer in peers:
        loop = by.get(("finetune:first_epoch", peer, None))
        if whole and loop and whole["epochs"] == 1:
            print(
                f"\nskbert's whole fit (loading, tracing, the epoch) against "
                f"{peer}'s training loop alone: {whole['value']:.1f} vs "
                f"{loop['value']:.1f} examples/s, {ratio(whole, loop):.2f}x"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="cases: " + ", ".join(CASES),
    )
    parser.add_argument("data", type=Path, help="folder with sst2/")
    parser.add_argument("--case", choices=[*CASES, "model"], help=argparse.SUPPRESS)
    parser.add_argument(
        "--cases",
        nargs="+",
        metavar="CASE",
        help="run only these cases; a family name (predict, first_prediction, "
        "finetune, frozen) selects all its cases (default: all)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: small subsets, 1 pass"
    )
    parser.add_argument("--repeats", type=int, help="timed passes (3; quick 1)")
    parser.add_argument(
        "--train-size", type=int, help="sentences to fine-tune on (512; quick 64)"
    )
    parser.add_argument("--finetune-epochs", type=int, default=1)
    parser.add_argument(
        "--frozen-size", type=int, help="sentences of the frozen cases (1000; quick 96)"
    )
    parser.add_argument(
        "--model-size",
        type=int,
        help="sentences the saved classifier is fine-tuned on (256; quick 32)",
    )
    parser.add_argument(
        "--model-dir",
        type=Path,
        help="predict with this saved classifier instead of fitting one",
    )
    parser.add_argument(
        "--peers-dir",
        type=Path,
        help="folder of peers.py and texts.py (default: DATA/../bench)",
    )
    args = parser.parse_args()
    for name, value in SIZES[args.quick].items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.peers_dir is None:
        args.peers_dir = args.data.resolve().parent / "bench"
    if args.case:
        (case_model if args.case == "model" else CASES[args.case])(args)
        return
    cases = selected_cases(args.cases)
    if "peers" in cases and not os.environ.get("PEERS_PYTHON"):
        print(
            "# peers skipped: set PEERS_PYTHON to the python of an environment "
            "with torch, transformers, onnxruntime (see peers.py's docstring)",
            file=sys.stderr,
        )
        cases.remove("peers")
    records, failures = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        if args.model_dir is None and USE_MODEL.intersection(cases):
            args.model_dir = Path(tmp) / "model"
            new, failures["model"] = run_case(args, "model")
            records += new
        for case in cases:
            if case in USE_MODEL and failures.get("model"):
                failures[case] = "skipped: the classifier could not be fitted"
                continue
            new, failures[case] = run_case(args, case)
            records += new
    print_tables(records)
    failures = {case: error for case, error in failures.items() if error}
    for case, error in failures.items():
        print(f"\ncase {case} failed: {error}", file=sys.stderr)
    if failures:
        last_lines = [
            f"  {c}: {e.strip().splitlines()[-1]}" for c, e in failures.items()
        ]
        sys.exit("\n".join([f"{len(failures)} case(s) failed:", *last_lines]))


if __name__ == "__main__":
    main()
