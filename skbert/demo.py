"""``skbert demo``: fit a BertClassifier on example data and report how it does."""

from __future__ import annotations

import time

import numpy as np

_POSITIVE = "good great excellent wonderful nice fine fun beautiful happy loved".split()
_NEGATIVE = "bad awful terrible poor boring dull ugly sad worst hate".split()
_SUBJECTS = "film movie story plot acting actor picture".split()


def example_sentiment(n: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """Short synthetic reviews: ``"the plot was great"`` → ``"positive"``."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(n):
        label = rng.choice(["positive", "negative"])
        word = rng.choice(_POSITIVE if label == "positive" else _NEGATIVE)
        subject = rng.choice(_SUBJECTS)
        texts.append(f"the {subject} was {word}")
        labels.append(str(label))
    return texts, labels


def run_demo() -> None:
    """Fit ``tiny_random_en_uncased`` on example reviews; print accuracy and timings."""
    from sklearn.metrics import classification_report

    from skbert import BertClassifier

    X_train, y_train = example_sentiment(200, seed=0)
    X_test, y_test = example_sentiment(100, seed=1)
    clf = BertClassifier(
        "tiny_random_en_uncased",
        epochs=6,
        batch_size=16,
        learning_rate=1e-3,
        max_seq_length=16,
        random_state=0,
        verbose=1,
    )
    print("Fitting BertClassifier(tiny_random_en_uncased) on 200 example reviews")
    start = time.perf_counter()
    clf.fit(X_train, y_train)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    predicted = clf.predict(X_test)
    predict_seconds = time.perf_counter() - start
    print(classification_report(y_test, predicted, digits=3))
    print(
        f"accuracy {np.mean(predicted == np.array(y_test)):.3f}; "
        f"fit {fit_seconds:.1f} s, predict {predict_seconds:.1f} s"
    )
