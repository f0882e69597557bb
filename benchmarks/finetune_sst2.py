"""Fine-tune the embedded encoder on SST-2 and report dev accuracy and throughput.

Usage::

    .venv/bin/python benchmarks/finetune_sst2.py ../shared/data/sst2 --train-size 8000

Prints one JSON line with dev accuracy, the dev accuracy after each epoch
(the dev set is ``fit``'s ``X_val``: evaluated, never trained on), training
examples/s (examples times epochs over the whole fit, model building and the
per-epoch evaluation included) and prediction texts/s (median of three
passes over the dev set).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
from sst2 import read_sst2, train_subset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="folder with train.tsv and dev.tsv")
    parser.add_argument("--encoder", default="minilm_l6_en_uncased")
    parser.add_argument("--train-size", type=int, default=8000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--max-seq-length", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=5e-5)
    parser.add_argument("--warmup-ratio", type=float, default=0.1)
    parser.add_argument("--weight-decay", type=float, default=0.01)
    parser.add_argument("--layer-decay", type=float, default=1.0)
    args = parser.parse_args()

    from skbert import BertClassifier

    X, y = train_subset(args.data, args.train_size)
    X_dev, y_dev = read_sst2(args.data / "dev.tsv")

    clf = BertClassifier(
        args.encoder,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        warmup_ratio=args.warmup_ratio,
        weight_decay=args.weight_decay,
        layer_decay=args.layer_decay,
        max_seq_length=args.max_seq_length,
        random_state=0,
        verbose=2,
    )
    start = time.perf_counter()
    clf.fit(X, y, X_val=X_dev, y_val=y_dev)
    fit_seconds = time.perf_counter() - start
    predict_seconds = []
    for _ in range(3):
        start = time.perf_counter()
        predicted = clf.predict(X_dev)
        predict_seconds.append(time.perf_counter() - start)
    accuracy = float(np.mean(predicted == y_dev))
    result = {
        "benchmark": "finetune_sst2",
        "encoder": args.encoder,
        "train_examples": len(X),
        "epochs": args.epochs,
        "max_seq_length": args.max_seq_length,
        "learning_rate": args.learning_rate,
        "warmup_ratio": args.warmup_ratio,
        "weight_decay": args.weight_decay,
        "layer_decay": args.layer_decay,
        "dev_examples": len(X_dev),
        "dev_accuracy": round(accuracy, 4),
        "dev_accuracy_by_epoch": [round(v, 4) for v in clf.history_["val_score"]],
        "train_loss_by_epoch": [round(v, 4) for v in clf.history_["loss"]],
        "train_examples_per_s": round(len(X) * clf.n_iter_ / fit_seconds, 2),
        "fit_seconds": round(fit_seconds, 1),
        "predict_texts_per_s_median": round(
            len(X_dev) / statistics.median(predict_seconds), 2
        ),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
