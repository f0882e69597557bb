"""Reading GLUE SST-2 for the benchmarks: ``sentence<TAB>label`` with a header."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def read_sst2(path: Path) -> tuple[list[str], np.ndarray]:
    """Read a GLUE SST-2 ``sentence<TAB>label`` file with a header line."""
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    rows = [line.rsplit("\t", 1) for line in lines if line.strip()]
    return [r[0].strip() for r in rows], np.array([int(r[1]) for r in rows])


def train_subset(data: Path, size: int) -> tuple[list[str], np.ndarray]:
    """`size` training sentences drawn at random (seed 0) from ``train.tsv``."""
    X, y = read_sst2(data / "train.tsv")
    order = np.random.default_rng(0).permutation(len(X))[:size]
    return [X[i] for i in order], y[order]
