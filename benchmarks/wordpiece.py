"""Packing speed: `skbert.wordpiece.WordPieceTokenizer` against TF's `Packer`.

Usage::

    .venv/bin/python benchmarks/wordpiece.py ../shared/data

Both pack the same texts (the SST-2 dev sentences, the MRPC dev pairs, and
the SST-2 sentences with non-ASCII words added, which take the Python
case-folding path) at ``max_seq_length`` 128 with the encoder's vocabulary.
Each figure is the median of ``--repeats`` timed runs after one warm-up run;
``pack`` is tokenizing and packing every text, ``pack + batches`` adds
gathering all of them in batches of 32, and ``Packer`` is TF's tokenizer
and ``bert_pack_inputs`` on all texts in one call (traced once, warm).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from harness import median_rate
from sst2 import read_sst2

BATCH_SIZE = 32


def read_mrpc(path: Path) -> tuple[list[str], list[str]]:
    """MRPC pairs (``Quality, #1 ID, #2 ID, #1 String, #2 String``) as two lists."""
    rows = [line.split("\t") for line in path.read_text("utf-8-sig").splitlines()[1:]]
    return [row[3] for row in rows], [row[4] for row in rows]


def median_ms(run, repeats: int) -> float:
    """Milliseconds of one `run()`: the median over `repeats` passes (harness.py's)."""
    return 1e3 / median_rate(run, 1, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="folder with sst2/ and mrpc/")
    parser.add_argument("--encoder", default="minilm_l6_en_uncased")
    parser.add_argument("--max-seq-length", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=21)
    args = parser.parse_args()

    from skbert.encoders import resolve_encoder
    from skbert.wordpiece import WordPieceTokenizer, fold

    spec = resolve_encoder(args.encoder)
    preprocessor, _ = spec.materialize()
    vocab_file = Path(preprocessor).parent / "vocab.txt"
    sentences, _ = read_sst2(args.data / "sst2" / "dev.tsv")

    sets = {
        "sst2_dev": (sentences,),
        "mrpc_dev_pairs": read_mrpc(args.data / "mrpc" / "dev.tsv"),
        "sst2_dev_non_ascii": ([f"{s} Straße Café ﬁn" for s in sentences],),
    }
    start = time.perf_counter()
    tokenizer = WordPieceTokenizer(vocab_file, spec.lower_case, args.max_seq_length)
    print(f"WordPieceTokenizer({vocab_file.name}): {time.perf_counter() - start:.3f} s")

    import tensorflow as tf

    from skbert.encoders import load_preprocessor
    from skbert.inputs import SEGMENT_NAMES
    from skbert.model import Packer

    pre = load_preprocessor(preprocessor)
    print(f"{'case':<20} {'texts':>6} {'pack':>9} {'+ batches':>10} {'Packer':>9}")
    for name, segments in sets.items():
        n = len(segments[0])
        batches = [
            np.arange(i, min(i + BATCH_SIZE, n)) for i in range(0, n, BATCH_SIZE)
        ]

        def pack_and_batch(segments=segments, batches=batches):
            packed = tokenizer.pack(segments)
            for index in batches:
                packed.batch(index)

        packer = Packer(pre, len(segments), args.max_seq_length)
        texts = {
            key: tf.constant(list(segment))
            for key, segment in zip(SEGMENT_NAMES, segments)
        }
        figures = [
            median_ms(lambda segments=segments: tokenizer.pack(segments), args.repeats),
            median_ms(pack_and_batch, args.repeats),
            median_ms(lambda texts=texts, packer=packer: packer(texts), args.repeats),
        ]
        ms = " ".join(f"{f:>7.1f}ms" for f in figures)
        print(f"{name:<20} {n * len(segments):>6} {ms}")
    for name in ("sst2_dev", "sst2_dev_non_ascii"):
        texts = sets[name][0]
        cost = median_ms(lambda texts=texts: fold(texts), args.repeats)
        print(f"fold() alone on {name}: {cost:.2f} ms")


if __name__ == "__main__":
    main()
