"""Where a fine-tuning fit's time goes: loading, the first step, later steps.

Usage::

    .venv/bin/python benchmarks/finetune_phases.py ../shared/data/sst2 --train-size 2000

Fits ``BertClassifier(epochs=1, learning_rate=5e-5, random_state=0)`` (the
peers' settings) on the random SST-2 subset that ``peers.py --finetune``
uses, and prints one JSON line: seconds before training starts (loading the
encoder, building the network), the first step (tracing it, then running
it), the later steps and milliseconds per later step, and the whole fit.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from sst2 import train_subset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="folder with train.tsv")
    parser.add_argument("--train-size", type=int, default=2000)
    args = parser.parse_args()

    import tf_keras

    from skbert import BertClassifier

    X, y = train_subset(args.data, args.train_size)
    marks = {}

    class Marks(tf_keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            marks["begin"] = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            marks.setdefault(f"step{batch}", time.perf_counter())

        def on_epoch_end(self, epoch, logs=None):
            marks["end"] = time.perf_counter()

    fit = tf_keras.Model.fit

    def marked_fit(model, *a, callbacks=None, **k):
        return fit(model, *a, callbacks=[*(callbacks or []), Marks()], **k)

    tf_keras.Model.fit = marked_fit
    start = time.perf_counter()
    BertClassifier(epochs=1, learning_rate=5e-5, random_state=0).fit(X, y)
    done = time.perf_counter()
    later_steps = -(-len(X) // 32) - 1
    later = marks["end"] - marks["step0"]
    print(
        json.dumps(
            {
                "benchmark": "finetune_phases",
                "train_examples": len(X),
                "before_training_s": round(marks["begin"] - start, 1),
                "first_step_s": round(marks["step0"] - marks["begin"], 1),
                "later_steps_s": round(later, 1),
                "ms_per_later_step": round(1000 * later / later_steps, 1),
                "whole_fit_s": round(done - start, 1),
                "examples_per_s": round(len(X) / (done - start), 1),
            }
        )
    )


if __name__ == "__main__":
    main()
