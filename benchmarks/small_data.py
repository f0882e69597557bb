"""Fine-tuning settings on small data: 2,000 SST-2 sentences and TREC.

Usage::

    .venv/bin/python benchmarks/small_data.py ../shared/data --learning-rate 1e-4

Fits ``BertClassifier`` (the embedded encoder, ``random_state=0``) with the
given settings, the others at their defaults, on the random 2,000-sentence
SST-2 subset that ``peers.py`` uses (scored on SST-2 dev) and on the TREC
question-type training set (5,452 questions, 6 classes; scored on its 500
test questions). Prints one JSON line per data set: accuracy after each
epoch and at the end. Use it to check that a recipe tuned on a large data
set does not hurt small ones before making it a default.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from sst2 import read_sst2, train_subset


def read_trec(path: Path) -> tuple[list[str], np.ndarray]:
    """Read a TREC ``label text`` file (coarse class number, question; Latin-1)."""
    lines = path.read_text(encoding="latin-1").splitlines()
    rows = [line.split(" ", 1) for line in lines if line]
    return [text for _, text in rows], np.array([int(label) for label, _ in rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="folder with sst2/ and trec/")
    parser.add_argument("--learning-rate", type=float)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--warmup-ratio", type=float)
    parser.add_argument("--max-seq-length", type=int)
    parser.add_argument("--layer-decay", type=float)
    args = parser.parse_args()
    settings = {
        key: value
        for key, value in vars(args).items()
        if key != "data" and value is not None
    }

    from skbert import BertClassifier

    sst2 = args.data / "sst2"
    trec = args.data / "trec"
    cases = {
        "sst2_2000": (train_subset(sst2, 2000), read_sst2(sst2 / "dev.tsv")),
        "trec": (read_trec(trec / "train.txt"), read_trec(trec / "test.txt")),
    }
    for name, ((X, y), (X_test, y_test)) in cases.items():
        clf = BertClassifier(random_state=0, **settings)
        start = time.perf_counter()
        clf.fit(X, y, X_val=X_test, y_val=y_test)
        seconds = time.perf_counter() - start
        result = {
            "benchmark": "small_data",
            "data": name,
            "settings": settings,
            "train_examples": len(X),
            "test_examples": len(X_test),
            "accuracy": round(float(clf.score(X_test, y_test)), 4),
            "accuracy_by_epoch": [round(v, 4) for v in clf.history_["val_score"]],
            "fit_seconds": round(seconds, 1),
        }
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
