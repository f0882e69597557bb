"""Few labels or none: accuracy and fit time against labels per class.

For each data set, K labeled texts per class are drawn from its training
texts (seeds 0, 1, 2, ...) and each system is fitted on them and scored on
the held-out texts:

- ``tfidf``: TF-IDF + LogisticRegression;
- ``frozen``: `BertVectorizer` embeddings (L2-normalized) + LogisticRegression;
- ``fewshot``: `BertFewShotClassifier` with its defaults;
- ``zeroshot``: `BertZeroShotClassifier` (K = 0) on the label names, and on
  descriptions (both from ``zero_shot.py``), on TREC, CLINC and BBC;
- ``setfit``: SetFit through ``../shared/bench/setfit_peer.py`` on the same
  texts (only with ``--peers-python``).

Data sets: ``sst2`` (dev), ``trec`` (test), ``clinc20`` (test; a fixed
subset of 20 of the 150 intents), ``bbc`` (the demo's 20 % test split; the
skbert systems read whole articles, ``long_texts="chunks"``). Prints one
JSON line per (data set, K, system) with the mean over seeds, then the
ratios to SetFit and to frozen embeddings measured in the same run.

    python benchmarks/few_shot.py ../shared/data [--datasets bbc trec]
        [--k 2 4 8 16 32] [--seeds 3] [--peers-python PEERS/bin/python]
        [--fewshot '{"max_pairs": 4000}']   # try other settings
    python benchmarks/few_shot.py ../shared/data --memory   # fit RSS vs pairs
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from zero_shot import CLINC_INTENTS, DESCRIPTIONS, NAMES, read_trec

from skbert.demo import draw

HERE = Path(__file__).resolve().parent


def read_sst2(path: Path):
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    rows = [line.rsplit("\t", 1) for line in lines if line.strip()]
    return [t.strip() for t, _ in rows], [
        ("negative", "positive")[int(v)] for _, v in rows
    ]


def read_clinc(path: Path, split: str):
    """The requests of `split` whose intent is one of the fixed 20."""
    rows = json.loads(path.read_text(encoding="utf-8"))[split]
    rows = [(t, i) for t, i in rows if i in CLINC_INTENTS]
    return [t for t, _ in rows], [i for _, i in rows]


def load(name: str, data: Path):
    """Train texts and labels, test texts and labels, whether to read chunks."""
    if name == "sst2":
        return (
            *read_sst2(data / "sst2/train.tsv"),
            *read_sst2(data / "sst2/dev.tsv"),
            False,
        )
    if name == "trec":
        return (
            *read_trec(data / "trec/train.txt"),
            *read_trec(data / "trec/test.txt"),
            False,
        )
    if name == "clinc20":
        path = data / "clinc150/data_full.json"
        return (*read_clinc(path, "train"), *read_clinc(path, "test"), False)
    if name == "bbc":
        from sklearn.model_selection import train_test_split

        from skbert.demo import load_bbc_news

        texts, topics = load_bbc_news()
        X_train, X_test, y_train, y_test = train_test_split(
            texts, topics, test_size=0.2, stratify=topics, random_state=0
        )
        return X_train, y_train, X_test, y_test, True
    raise ValueError(f"unknown data set {name!r}")


#: The keys of `zero_shot.NAMES` and `zero_shot.DESCRIPTIONS` by data set.
ZERO_SHOT_KEYS = {"bbc": "bbc", "trec": "trec", "clinc20": "clinc150"}


def systems(chunks: bool, fewshot_params: dict):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import Normalizer

    from skbert import BertFewShotClassifier, BertVectorizer

    long = {"long_texts": "chunks"} if chunks else {}
    return {
        "tfidf": lambda: make_pipeline(
            TfidfVectorizer(sublinear_tf=True), LogisticRegression(max_iter=1000)
        ),
        "frozen": lambda: make_pipeline(
            BertVectorizer(**long), Normalizer(), LogisticRegression(max_iter=1000)
        ),
        "fewshot": lambda: BertFewShotClassifier(**long, **fewshot_params),
    }


def run_setfit(peers_python, texts, labels, eval_texts, seed):
    """SetFit's predictions (as the data's labels) and training seconds."""
    spec = {
        "train_texts": list(texts),
        "train_labels": [str(label) for label in labels],
        "eval_texts": list(eval_texts),
        "seed": seed,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(spec, f)
    try:
        command = [
            peers_python,
            str(PEERS_DIR / "setfit_peer.py"),
            str(model_dir()),
            f.name,
        ]
        # SetFit writes checkpoints/ into its working directory: a temporary one.
        with tempfile.TemporaryDirectory() as work:
            out = subprocess.run(
                command, capture_output=True, text=True, check=True, cwd=work
            ).stdout
    finally:
        os.unlink(f.name)
    result = json.loads(out.strip().splitlines()[-1])
    back = {str(label): label for label in labels}
    return [back[p] for p in result["predictions"]], result["train_s"]


def model_dir() -> Path:
    from skbert.default_plugins.minilm import checkpoint_dir

    return checkpoint_dir()


def measure(args) -> list[dict]:
    """Every system on each draw, the systems alternating within a draw."""
    from sklearn.metrics import accuracy_score

    lines = []
    for name in args.datasets:
        X_train, y_train, X_test, y_test, chunks = load(name, args.data)
        X_train, X_test = np.asarray(X_train, dtype=object), list(X_test)
        y_train = np.asarray(y_train)
        made = systems(chunks, args.fewshot)
        if "zeroshot" in args.systems:
            lines += zero_shot(name, X_test, y_test, chunks)
        for k in args.k:
            runs = {}
            for seed in range(args.seeds):
                index = draw(y_train, k, seed)
                texts, labels = X_train[index], y_train[index]
                for system in args.systems:
                    if system == "setfit":
                        if not args.peers_python or k not in args.setfit_k:
                            continue
                        if seed >= (args.setfit_seeds or args.seeds):
                            continue
                        predicted, seconds = run_setfit(
                            args.peers_python, texts, labels, X_test, seed
                        )
                    elif system in made:
                        model = made[system]()
                        if system == "fewshot":
                            model.set_params(random_state=seed)
                        start = time.perf_counter()
                        model.fit(list(texts), labels)
                        seconds = time.perf_counter() - start
                        predicted = model.predict(X_test)
                    else:
                        continue
                    score = float(accuracy_score(y_test, predicted))
                    runs.setdefault(system, []).append((score, seconds))
                    measured = {
                        "data": name,
                        "k": k,
                        "draw": seed,
                        "system": system,
                        "accuracy": round(score, 4),
                        "fit_s": round(seconds, 1),
                    }
                    print(json.dumps(measured), file=sys.stderr, flush=True)
            for system, results in runs.items():
                scores, fit_s = zip(*results)
                line = {
                    "data": name,
                    "k": k,
                    "system": system,
                    "accuracy": round(float(np.mean(scores)), 4),
                    "accuracy_by_seed": [round(s, 4) for s in scores],
                    "fit_s": round(float(np.mean(fit_s)), 1),
                    "fit_s_by_seed": [round(t, 1) for t in fit_s],
                }
                print(json.dumps(line), flush=True)
                lines.append(line)
    return lines


def zero_shot(name, X_test, y_test, chunks) -> list[dict]:
    """`BertZeroShotClassifier` on the label names, then on descriptions."""
    from sklearn.metrics import accuracy_score

    from skbert import BertZeroShotClassifier

    if name not in ZERO_SHOT_KEYS:
        return []
    key = ZERO_SHOT_KEYS[name]
    template = BertZeroShotClassifier().template
    variants = {
        "zeroshot": {c: template.format(n) for c, n in NAMES[key].items()},
        "zeroshot+descriptions": DESCRIPTIONS[key],
    }
    long = {"long_texts": "chunks"} if chunks else {}
    lines = []
    for system, candidates in variants.items():
        start = time.perf_counter()
        predicted = BertZeroShotClassifier(candidates, **long).fit().predict(X_test)
        line = {
            "data": name,
            "k": 0,
            "system": system,
            "accuracy": round(float(accuracy_score(y_test, predicted)), 4),
            "fit_predict_s": round(time.perf_counter() - start, 1),
        }
        print(json.dumps(line), flush=True)
        lines.append(line)
    return lines


def ratios(lines: list[dict]) -> None:
    by = {(x["data"], x["k"], x["system"]): x for x in lines}
    for (data, k, system), line in by.items():
        if system != "fewshot":
            continue
        for peer in ("setfit", "frozen"):
            other = by.get((data, k, peer))
            if other is None:
                continue
            print(
                json.dumps(
                    {
                        "data": data,
                        "k": k,
                        "versus": peer,
                        "accuracy_difference": round(
                            line["accuracy"] - other["accuracy"], 4
                        ),
                        "fit_time_ratio": round(
                            line["fit_s"] / max(other["fit_s"], 1e-9), 3
                        ),
                    }
                ),
                flush=True,
            )


def memory(args) -> None:
    """Peak RSS of `fit` on 1,000 SST-2 texts, for growing pair budgets.

    Each budget runs in a fresh process (`memory_child`).
    """
    for pairs in (1000, 4000, 16000):
        command = [
            sys.executable,
            __file__,
            str(args.data),
            "--memory-child",
            str(pairs),
        ]
        out = subprocess.run(command, capture_output=True, text=True, check=True)
        print(out.stdout.strip().splitlines()[-1], flush=True)


def memory_child(data: Path, pairs: int) -> None:
    import resource

    from skbert import BertFewShotClassifier

    X, y = read_sst2(data / "sst2/train.tsv")
    clf = BertFewShotClassifier(max_pairs=pairs, random_state=0)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    clf.fit(X[:1000], y[:1000])
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "max_pairs": pairs,
                "n_pairs": clf.n_pairs_,
                "texts": 1000,
                "peak_rss_mib": round(after / 1024),
                "peak_rss_before_fit_mib": round(before / 1024),
            }
        )
    )


PEERS_DIR = HERE.parent.parent / "shared" / "bench"


def main(argv=None) -> None:
    global PEERS_DIR
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="folder with sst2/, trec/, clinc150/")
    parser.add_argument(
        "--datasets", nargs="+", default=["sst2", "trec", "clinc20", "bbc"]
    )
    parser.add_argument("--k", nargs="+", type=int, default=[2, 4, 8, 16, 32])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--systems",
        nargs="+",
        default=["tfidf", "frozen", "fewshot", "zeroshot", "setfit"],
    )
    parser.add_argument(
        "--setfit-seeds", type=int, help="draws SetFit runs on (default: all)"
    )
    parser.add_argument(
        "--setfit-k",
        nargs="+",
        type=int,
        default=[8],
        help="the K at which SetFit runs (it is slow)",
    )
    parser.add_argument(
        "--peers-python", default=os.environ.get("PEERS_PYTHON") or None
    )
    parser.add_argument("--peers-dir", type=Path, default=PEERS_DIR)
    parser.add_argument(
        "--fewshot",
        type=json.loads,
        default={},
        help="BertFewShotClassifier parameters, as JSON",
    )
    parser.add_argument(
        "--memory",
        action="store_true",
        help="only the peak RSS of fit against the pair budget",
    )
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    PEERS_DIR = args.peers_dir
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.memory_child:
        memory_child(args.data, args.memory_child)
        return
    if args.memory:
        memory(args)
        return
    ratios(measure(args))


if __name__ == "__main__":
    main()
