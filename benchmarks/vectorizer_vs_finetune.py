"""Frozen embeddings + LogisticRegression against fine-tuning, on the same SST-2 data.

Usage::

    .venv/bin/python benchmarks/vectorizer_vs_finetune.py ../shared/data/sst2

Both fit on the same training subset and are scored on the dev set, in one
run. Prints one JSON line per method (dev accuracy, fit seconds) and one with
the ratios (fine-tuning over the vectorizer pipeline).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from sst2 import read_sst2, train_subset


def timed_fit(estimator, X, y) -> float:
    start = time.perf_counter()
    estimator.fit(X, y)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="folder with train.tsv and dev.tsv")
    parser.add_argument("--encoder", default="minilm_l6_en_uncased")
    parser.add_argument("--train-size", type=int, default=4000)
    parser.add_argument("--max-seq-length", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    args = parser.parse_args()

    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.pipeline import make_pipeline

    from skbert import BertClassifier, BertVectorizer

    X, y = train_subset(args.data, args.train_size)
    X_dev, y_dev = read_sst2(args.data / "dev.tsv")
    methods = {
        "vectorizer_logreg": make_pipeline(
            BertVectorizer(args.encoder, max_seq_length=args.max_seq_length),
            LogisticRegressionCV(Cs=8, max_iter=2000),
        ),
        "finetune": BertClassifier(
            args.encoder,
            epochs=args.epochs,
            learning_rate=args.learning_rate,
            max_seq_length=args.max_seq_length,
            random_state=0,
        ),
    }
    results = {}
    for name, estimator in methods.items():
        seconds = timed_fit(estimator, X, y)
        accuracy = float(np.mean(estimator.predict(X_dev) == y_dev))
        results[name] = {
            "dev_accuracy": round(accuracy, 4),
            "fit_seconds": round(seconds, 1),
        }
        line = {"benchmark": "vectorizer_vs_finetune", "method": name}
        line.update(encoder=args.encoder, train_examples=len(X), **results[name])
        print(json.dumps(line))
    fine, vec = results["finetune"], results["vectorizer_logreg"]
    ratio = {"benchmark": "vectorizer_vs_finetune", "method": "finetune/vectorizer"}
    ratio["accuracy_gain"] = round(fine["dev_accuracy"] - vec["dev_accuracy"], 4)
    ratio["fit_time_ratio"] = round(fine["fit_seconds"] / vec["fit_seconds"], 2)
    print(json.dumps(ratio))


if __name__ == "__main__":
    main()
