"""Distilled students against their teacher: SST-2 accuracy and texts/s, in one run.

Usage::

    .venv/bin/python benchmarks/distill.py ../shared/data
    .venv/bin/python benchmarks/distill.py ../shared/data --teacher saved/ --quick

The teacher is the embedded encoder (all-MiniLM-L6-v2) fine-tuned on 10,000
SST-2 train sentences for 2 epochs (``random_state=0``), or a saved
classifier (``--teacher``). Students of ``--layers`` blocks
(``skbert.distill`` defaults, ``--epochs``) learn the teacher's logits on
all 67,349 SST-2 train sentences; their labels are never read. Each model
is then measured with ONNX Runtime fp32 and int8: SST-2 dev accuracy, and
texts/s of ``predict_proba`` on the 872 dev sentences and on 192 long texts
cut to 128 tokens (the peers' inputs: ``texts.py`` in ``--peers-dir``),
batch 32. Throughputs are medians of ``--repeats`` passes after a warm-up,
the systems alternating within each round. Ratios are to the teacher's
fp32 figure of this run. ``--plot`` writes accuracy against dev texts/s as
a PNG. With ``--students DIR`` the students are saved there, and a later
run loads them instead of distilling again (to measure a new backend).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from harness import emit, predict_sets, shared_texts
from sst2 import read_sst2, train_subset

BACKENDS = ("onnxruntime", "onnxruntime-int8")
BATCH_SIZE = 32


def teacher_model(args):
    """The teacher and its fit time (None when loaded)."""
    import skbert

    if args.teacher is not None:
        return skbert.load(args.teacher), None
    X, y = train_subset(args.data / "sst2", args.teacher_size)
    clf = skbert.BertClassifier(epochs=2, random_state=0, verbose=args.verbose)
    start = time.perf_counter()
    clf.fit(X, y)
    return clf, time.perf_counter() - start


def timed_rounds(systems: dict, texts: list[str], repeats: int) -> dict[str, float]:
    """Texts/s of each system's ``predict_proba``: warm-up, then alternating rounds."""
    times: dict[str, list[float]] = {name: [] for name in systems}
    for model in systems.values():
        model.predict_proba(texts)
    for _ in range(repeats):
        for name, model in systems.items():
            start = time.perf_counter()
            model.predict_proba(texts)
            times[name].append(time.perf_counter() - start)
    return {name: len(texts) / float(np.median(t)) for name, t in times.items()}


def with_backend(model, backend: str):
    import pickle

    copy = pickle.loads(pickle.dumps(model))  # its own ONNX sessions
    return copy.set_params(inference_backend=backend, batch_size=BATCH_SIZE)


def save_plot(path: Path, rows: list[dict]) -> None:
    from skbert.plots import _pyplot, _save

    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(7, 4.5))
    for backend, marker in zip(BACKENDS, "os"):
        points = sorted(
            (r for r in rows if r["backend"] == backend), key=lambda r: r["layers"]
        )
        axes.plot(
            [r["sst2_dev"] for r in points],
            [r["accuracy"] for r in points],
            marker=marker,
            label="int8" if backend.endswith("int8") else "fp32",
        )
        for r in points:
            axes.annotate(
                r["system"],
                (r["sst2_dev"], r["accuracy"]),
                fontsize=8,
                textcoords="offset points",
                xytext=(4, 4),
            )
    axes.set_xlabel("texts/s, SST-2 dev (ONNX Runtime, 2 cores)")
    axes.set_ylabel("SST-2 dev accuracy")
    axes.set_title("Distilled students of all-MiniLM-L6-v2 on SST-2")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    _save(figure, path, plt)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="folder holding sst2/")
    parser.add_argument("--peers-dir", type=Path, default=Path("../shared/bench"))
    parser.add_argument("--teacher", type=Path, help="a saved teacher to start from")
    parser.add_argument("--teacher-size", type=int, default=10_000)
    parser.add_argument("--layers", type=int, nargs="+", default=[3, 2, 1])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--distill-size", type=int, help="train sentences (all)")
    parser.add_argument(
        "--students",
        type=Path,
        help="a folder: students found there are loaded, others distilled and saved",
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--plot", type=Path, default=Path("distill_curve.png"))
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument("--verbose", type=int, default=0)
    args = parser.parse_args()
    import skbert

    if args.quick:
        args.teacher_size, args.distill_size, args.repeats = 64, 128, 1
    shared_texts(args)  # fails early without texts.py
    dev, dev_labels = read_sst2(args.data / "sst2" / "dev.tsv")
    sets = predict_sets(args)
    teacher, fit_seconds = teacher_model(args)
    if fit_seconds is not None:
        emit("teacher_fit", "teacher", fit_seconds, "s")
    texts, _ = read_sst2(args.data / "sst2" / "train.tsv")
    if args.distill_size:
        texts = texts[: args.distill_size]
    models = {"teacher (6)": (teacher, 6, None)}
    for layers in args.layers:
        saved = None if args.students is None else args.students / f"student-{layers}"
        if saved is not None and saved.is_dir():
            models[f"student ({layers})"] = (skbert.load(saved), layers, None)
            continue
        start = time.perf_counter()
        student = skbert.distill(
            teacher,
            texts,
            layers=layers,
            epochs=args.epochs,
            random_state=0,
            verbose=args.verbose,
        )
        seconds = time.perf_counter() - start
        emit("distill", f"student ({layers})", seconds, "s", texts=len(texts))
        models[f"student ({layers})"] = (student, layers, seconds)
        if saved is not None:
            student.save(saved)
    systems, rows = {}, []
    for name, (model, layers, seconds) in models.items():
        for backend in BACKENDS:
            system = with_backend(model, backend)
            systems[(name, backend)] = system
            accuracy = float(system.score(dev, dev_labels))
            emit("accuracy", name, accuracy, "sst2_dev", backend=backend)
            rows.append(
                dict(
                    system=name,
                    layers=layers,
                    backend=backend,
                    accuracy=accuracy,
                    distill_s=seconds,
                )
            )
    for set_name, set_texts in sets.items():
        rates = timed_rounds(systems, set_texts, args.repeats)
        for row in rows:
            rate = rates[(row["system"], row["backend"])]
            row[set_name] = rate
            emit("texts_per_s", row["system"], rate, set_name, backend=row["backend"])
    base = next(r for r in rows if r["layers"] == 6 and r["backend"] == "onnxruntime")
    print()
    print(
        "| model | backend | SST-2 dev acc | vs teacher fp32 | dev texts/s "
        "| ratio | 128-token texts/s | ratio | distillation |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        took = "-" if r["distill_s"] is None else f"{r['distill_s']:.0f} s"
        print(
            f"| {r['system']} | {r['backend']} | {r['accuracy']:.4f} "
            f"| {100 * (r['accuracy'] - base['accuracy']):+.1f} pts "
            f"| {r['sst2_dev']:.0f} | {r['sst2_dev'] / base['sst2_dev']:.2f}x "
            f"| {r['long128']:.1f} | {r['long128'] / base['long128']:.2f}x | {took} |"
        )
    for r in rows:  # int8 against fp32 of the same model
        if r["backend"] == "onnxruntime-int8":
            fp32 = next(f for f in rows if f["system"] == r["system"] and f is not r)
            dev_ratio = r["sst2_dev"] / fp32["sst2_dev"]
            print(
                f"int8/fp32 {r['system']}: dev {dev_ratio:.2f}x, "
                f"128 tokens {r['long128'] / fp32['long128']:.2f}x, "
                f"accuracy {100 * (r['accuracy'] - fp32['accuracy']):+.1f} pts"
            )
    print(json.dumps({"rows": rows}))
    save_plot(args.plot, rows)
    print(f"wrote {args.plot}")


if __name__ == "__main__":
    main()
