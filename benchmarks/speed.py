"""skbert against the seed pipeline and the machine's matmul ceiling, side by side.

Usage::

    .venv/bin/python benchmarks/speed.py ../shared/data      # or: make bench

The *seed pipeline* is the TF Hub "Classify text with BERT" model on the same
encoder: ``hub.KerasLayer(preprocessor)`` at its fixed length 128, then
``hub.KerasLayer(encoder)``, Dropout(0.1), Dense(1); ``model.predict`` and
``model.fit``; its cases import TensorFlow before skbert, so they run with
TensorFlow's defaults, while skbert's run with skbert's (oneDNN kernels on).
The *ceiling* is the faster of a float32 ``tf.matmul`` and a numpy matmul of
large square matrices, timed in the same run; the model's FLOPs per sequence
times sequences/s over it is the fraction of the ceiling reached.

Every case runs in its own child process, so each has its own peak RSS and a
cold start; the parent prints one JSON line per figure and a table with each
skbert figure's ratio to the seed pipeline's. Throughputs are medians of
``--repeats`` timed passes after one warm-up pass.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sst2 import read_sst2, train_subset

ENCODER = "minilm_l6_en_uncased"
#: The environment before skbert is imported (it sets TF_ENABLE_ONEDNN_OPTS).
ORIGINAL_ENV = dict(os.environ)
FIXED_BATCHES = (1, 32, 256)
#: Texts per timed pass at fixed length 128, by batch size.
FIXED_TEXTS = {1: 32, 32: 256, 256: 512}


# --- data -----------------------------------------------------------------------


def read_mrpc(path: Path) -> list[tuple[str, str]]:
    """MRPC sentence pairs (``Quality, #1 ID, #2 ID, #1 String, #2 String``)."""
    lines = path.read_text("utf-8-sig").splitlines()[1:]
    return [tuple(line.split("\t")[3:5]) for line in lines if line.count("\t") >= 4]


def long_texts(sentences: list[str], n: int, min_chars: int = 900) -> list[str]:
    """`n` texts of `min_chars` characters or more (over 128 word pieces)."""
    texts, current = [], []
    for sentence in sentences:
        current.append(sentence)
        if sum(map(len, current)) >= min_chars:
            texts.append(" ".join(current))
            current = []
            if len(texts) == n:
                return texts
    raise ValueError(f"not enough sentences for {n} long texts")


def encoder_flops(seq_length: int) -> float:
    """Multiply-adds ×2 of one sequence through the encoder (BERT's dense layers)."""
    from skbert.default_plugins.minilm import checkpoint_dir

    c = json.loads((checkpoint_dir() / "config.json").read_text())
    h, i, n = c["hidden_size"], c["intermediate_size"], c["num_hidden_layers"]
    per_layer = 2 * seq_length * (4 * h * h + 2 * h * i) + 4 * seq_length**2 * h
    return n * per_layer + 2 * h * h


# --- timing -----------------------------------------------------------------------


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
    record = {"figure": figure, "system": system, "value": round(value, 4)}
    print(json.dumps({**record, "unit": unit, **extra}), flush=True)


def emit_rss(case: str, system: str) -> None:
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    emit(f"peak_rss:{case}", system, kib / 1024, "MiB")


# --- the seed pipeline ------------------------------------------------------------


def seed_model(pairs=False, learning_rate=3e-5, train_encoder=True):
    """The TF Hub tutorial's classifier on `ENCODER`'s two SavedModels."""
    import tensorflow as tf
    import tensorflow_hub as hub
    import tensorflow_text  # noqa: F401
    import tf_keras

    from skbert.encoders import resolve_encoder

    preprocess_dir, encoder_dir = resolve_encoder(ENCODER).handles()
    encoder = hub.KerasLayer(encoder_dir, trainable=train_encoder)
    if pairs:
        preprocessor = hub.load(preprocess_dir)
        inputs = [tf_keras.Input((), dtype=tf.string) for _ in range(2)]
        tokenize = hub.KerasLayer(preprocessor.tokenize)
        pack = hub.KerasLayer(
            preprocessor.bert_pack_inputs, arguments={"seq_length": 128}
        )
        packed = pack([tokenize(x) for x in inputs])
    else:
        inputs = tf_keras.Input((), dtype=tf.string)
        packed = hub.KerasLayer(preprocess_dir)(inputs)
    x = encoder(packed)["pooled_output"]
    x = tf_keras.layers.Dropout(0.1)(x)
    model = tf_keras.Model(inputs, tf_keras.layers.Dense(1)(x))
    model.compile(
        tf_keras.optimizers.Adam(learning_rate),
        tf_keras.losses.BinaryCrossentropy(from_logits=True),
    )
    return model


def seed_inputs(texts):
    import tensorflow as tf

    if isinstance(texts[0], tuple):
        return [tf.constant([t[i] for t in texts]) for i in range(2)]
    return tf.constant(texts)


# --- cases, each run in a child process -------------------------------------------


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


def predict_sets(args) -> dict[str, list]:
    dev, _ = read_sst2(args.data / "sst2" / "dev.tsv")
    train, _ = read_sst2(args.data / "sst2" / "train.tsv")
    pairs = read_mrpc(args.data / "mrpc" / "dev.tsv")
    sets = {"sst2_dev": dev, "mrpc_dev_pairs": pairs}
    for batch in FIXED_BATCHES:
        sets[f"fixed128_b{batch}"] = long_texts(train, FIXED_TEXTS[batch])
    return sets


def case_predict(args) -> None:
    system, jit = args.case.split("_")[-1], args.case.endswith("xla")
    sets = predict_sets(args)
    if jit:  # XLA compiles each batch shape: time the sets that show its effect
        sets = {k: v for k, v in sets.items() if k in ("sst2_dev", "fixed128_b32")}
    if system != "seed":
        from skbert import BertClassifier

        fitted = {}
        for pairs in (False, True):
            X = [("a", "b"), ("c", "d")] if pairs else ["a", "b"]
            fitted[pairs] = BertClassifier(
                ENCODER, epochs=1, batch_size=2, jit_compile=jit
            ).fit(X, [0, 1])
    else:
        fitted = {pairs: seed_model(pairs) for pairs in (False, True)}
    flops = encoder_flops(128)  # imports skbert: after the seed imported TensorFlow
    for name, texts in sets.items():
        batch = int(name.split("_b")[-1]) if name.startswith("fixed") else 32
        model = fitted[isinstance(texts[0], tuple)]
        if system != "seed":
            model.batch_size = batch
            run = functools.partial(model.predict_proba, texts)
        else:
            run = functools.partial(
                model.predict, seed_inputs(texts), batch_size=batch, verbose=0
            )
        rate = median_rate(run, len(texts), args.repeats)
        extra = {"batch_size": batch, "texts": len(texts)}
        kind = "predict_xla" if jit else "predict"
        emit(f"{kind}:{name}", "skbert" if jit else system, rate, "texts/s", **extra)
        if name.startswith("fixed"):
            gflops = rate * flops / 1e9
            emit(f"{kind}_flops:{name}", "skbert" if jit else system, gflops, "GFLOP/s")
    if not jit:
        emit_rss("predict", system)


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


def case_finetune(args) -> None:
    """Whole fit (load, trace, epochs) and the steady rate of the later epochs."""
    system, epochs = args.case.split("_")[-1], args.finetune_epochs
    X, y = train_subset(args.data / "sst2", args.train_size)
    start = time.perf_counter()
    with epoch_seconds() as seconds:
        if system == "skbert":
            from skbert import BertClassifier

            BertClassifier(ENCODER, epochs=epochs, random_state=0).fit(X, y)
        else:
            seed_model().fit(seed_inputs(X), y, batch_size=32, epochs=epochs, verbose=0)
    total = time.perf_counter() - start
    emit(
        "finetune:whole_fit",
        system,
        epochs * len(X) / total,
        "examples/s",
        seconds=total,
        epochs=epochs,
        examples=len(X),
    )
    later = seconds[1:]
    if later:
        emit(
            "finetune:later_epochs",
            system,
            len(later) * len(X) / sum(later),
            "examples/s",
            epoch_seconds=seconds,
        )
    emit_rss("finetune", system)


def case_first_prediction(args) -> None:
    """Time from a fresh interpreter to the first prediction (import + load)."""
    system = args.case.split("_")[-1]
    start = time.perf_counter()
    if system == "skbert":
        import skbert

        skbert.load(args.model_dir).predict_proba(["a first text"])
    else:
        seed_model().predict(seed_inputs(["a first text"]), verbose=0)
    emit("first_prediction", system, time.perf_counter() - start, "s")


def case_frozen(args) -> None:
    """Frozen-encoder fit; for skbert also a 4 x 3 grid over head settings."""
    system = args.case.split("_")[-1]
    X, y = train_subset(args.data / "sst2", args.frozen_size)
    params = dict(train_encoder=False, epochs=3, learning_rate=1e-3, random_state=0)
    start = time.perf_counter()
    if system == "seed":
        model = seed_model(learning_rate=1e-3, train_encoder=False)
        model.fit(seed_inputs(X), y, batch_size=32, epochs=3, verbose=0)
        emit("frozen_fit", system, time.perf_counter() - start, "s", texts=len(X))
        emit_rss("frozen", system)
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
    emit_rss("frozen", system)


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def case_memory(args) -> None:
    """RSS of streaming 100,000 texts, and over 20 consecutive fits (tiny encoder)."""
    from skbert import BertClassifier

    X, y = train_subset(args.data / "sst2", 64)
    clf = BertClassifier("tiny_random_en_uncased", epochs=1).fit(X, y)
    sentences, _ = read_sst2(args.data / "sst2" / "train.tsv")
    clf.predict_proba(sentences[:1000])
    before = rss_mib()
    stream = (sentences[i % len(sentences)] for i in range(100_000))
    clf.predict_proba(stream)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    emit("memory:predict_100k_stream", "skbert", peak - before, "MiB", before=before)
    rss = []
    for _ in range(20):
        BertClassifier("tiny_random_en_uncased", epochs=1).fit(X, y)
        rss.append(rss_mib())
    emit("memory:20_fits_growth", "skbert", rss[-1] - rss[0], "MiB", first=rss[0])


CASES = {
    "ceiling": case_ceiling,
    "predict_seed": case_predict,
    "predict_skbert": case_predict,
    "predict_skbertxla": case_predict,
    "finetune_seed": case_finetune,
    "finetune_skbert": case_finetune,
    "frozen_seed": case_frozen,
    "frozen_skbert": case_frozen,
    "first_prediction_seed": case_first_prediction,
    "first_prediction_skbert": case_first_prediction,
    "memory": case_memory,
}


# --- the parent: run the cases, print the table -----------------------------------


def run_case(args, case: str) -> list[dict]:
    command = [sys.executable, __file__, str(args.data), "--case", case]
    command += ["--repeats", str(args.repeats), "--train-size", str(args.train_size)]
    command += ["--frozen-size", str(args.frozen_size)]
    command += ["--finetune-epochs", str(args.finetune_epochs)]
    command += ["--model-dir", str(args.model_dir)]
    done = subprocess.run(command, capture_output=True, text=True, env=ORIGINAL_ENV)
    if done.returncode:
        sys.exit(f"case {case} failed:\n{done.stderr[-3000:]}")
    out = done.stdout
    records = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    for record in records:
        print(json.dumps(record), flush=True)
    return records


def save_small_model(path: Path) -> None:
    from skbert import BertClassifier

    BertClassifier(ENCODER, train_encoder=False, epochs=1).fit(["a", "b"], [0, 1]).save(
        path
    )


def table(records: list[dict]) -> None:
    """Seed vs skbert per figure; speed-up: rate ratio, or inverse time ratio."""
    by = {(r["figure"], r["system"]): r for r in records}
    ceiling = max(by[("matmul_ceiling", s)]["value"] for s in ("tf", "numpy"))
    print(f"\nmatmul ceiling (float32, best of tf and numpy): {ceiling:.1f} GFLOP/s\n")
    print(f"{'figure':34} {'seed':>10} {'skbert':>10} {'speed-up':>9}  unit")
    for figure in dict.fromkeys(r["figure"] for r in records):
        seed, ours = by.get((figure, "seed")), by.get((figure, "skbert"))
        if ours is None or figure.startswith("matmul"):
            continue
        if seed is None:
            line = f"{figure:34} {'':>10} {ours['value']:10.2f} {'':>9}  {ours['unit']}"
            if "flops" in figure:
                line += f": {ours['value'] / ceiling:.0%} of the ceiling"
            print(line)
            continue
        ratio = ours["value"] / seed["value"]
        if ours["unit"] in ("s", "MiB"):
            ratio = 1 / ratio
        line = f"{figure:34} {seed['value']:10.2f} {ours['value']:10.2f} {ratio:9.2f}"
        if "flops" in figure:
            line += f"  GFLOP/s: {ours['value'] / ceiling:.0%} of the ceiling"
            line += f" (seed {seed['value'] / ceiling:.0%})"
        else:
            line += f"  {ours['unit']}"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="folder with sst2/ and mrpc/")
    parser.add_argument("--case", choices=sorted(CASES), help=argparse.SUPPRESS)
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), default=None)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--train-size", type=int, default=512)
    parser.add_argument("--finetune-epochs", type=int, default=2)
    parser.add_argument("--frozen-size", type=int, default=1000)
    parser.add_argument("--model-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        CASES[args.case](args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        args.model_dir = Path(tmp) / "model"
        save_small_model(args.model_dir)
        records = []
        for case in args.cases or CASES:
            records += run_case(args, case)
    table(records)


if __name__ == "__main__":
    main()
