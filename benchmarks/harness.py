"""The harness of ``speed.py``: its data, timing, records, child processes and tables.

Cases (``speed_cases.py``) read the peers' inputs through `shared_texts`,
`dev_set` and `predict_sets`, time with `median_rate` and report each figure
with `emit`, one JSON line each. The parent runs every case in a child process
(`run_case`) and prints the tables (`print_tables`). ``distill.py`` and
``wordpiece.py`` use the same data and timing.
"""

from __future__ import annotations

import importlib.util
import json
import resource
import subprocess
import sys
import time

import numpy as np

#: The peers of each skbert backend: the ONNX Runtime runs of its precision.
PEERS = {
    "tensorflow": ("hf-torch", "ort-fp32", "ort-fp32-fused", "seed"),
    "tensorflow-xla": ("hf-torch", "ort-fp32", "ort-fp32-fused", "seed"),
    "onnxruntime": ("hf-torch", "ort-fp32", "ort-fp32-fused", "seed"),
    "onnxruntime-int8": ("hf-torch", "ort-int8-fused", "seed"),
}
PEER_NAMES = ("hf-torch", "ort-fp32", "ort-fp32-fused", "ort-int8-fused", "seed")
#: Texts per prediction set with ``--quick``.
QUICK_TEXTS = {"sst2_dev": 64, "long128": 16}


# --- data -------------------------------------------------------------------------


def shared_texts(args):
    """``texts.py`` of `args.peers_dir`: the module the peers read their inputs with."""
    path = args.peers_dir / "texts.py"
    spec = importlib.util.spec_from_file_location("texts", path)
    if spec is None or not path.is_file():
        sys.exit(f"{path} not found; pass --peers-dir, the folder of peers.py.")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def dev_set(args) -> tuple[list[str], np.ndarray]:
    """SST-2 dev sentences and labels (the first 64 with ``--quick``)."""
    texts, labels = shared_texts(args).read(args.data / "sst2" / "dev.tsv")
    n = QUICK_TEXTS["sst2_dev"] if args.quick else len(texts)
    return texts[:n], np.array(labels[:n])


def predict_sets(args) -> dict[str, list[str]]:
    """The peers' prediction inputs: SST-2 dev, and long texts built from it."""
    texts = shared_texts(args)
    dev, _ = texts.read(args.data / "sst2" / "dev.tsv")
    sets = {"sst2_dev": dev, "long128": texts.long_texts(dev)}
    if args.quick:
        sets = {name: t[: QUICK_TEXTS[name]] for name, t in sets.items()}
    return sets


# --- timing and records -----------------------------------------------------------


def median_rate(run, n_items: int, repeats: int) -> float:
    """Items per second of `run()`: median over `repeats` passes after a warm-up."""
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return n_items / float(np.median(times))


def emit(figure: str, system: str, value: float, unit: str, **extra) -> None:
    """Print one figure as a JSON line; skbert's carry ``backend``."""
    record = {"figure": figure, "system": system, "value": round(value, 4)}
    print(json.dumps({**record, "unit": unit, **extra}), flush=True)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


# --- child processes --------------------------------------------------------------


def run_child(command: list[str]) -> tuple[list[dict], str | None]:
    """Run `command`: the JSON lines it printed, and its error if it failed."""
    done = subprocess.run(command, capture_output=True, text=True)
    lines = done.stdout.splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    error = None
    if done.returncode:
        error = f"exit status {done.returncode}\n{done.stderr[-3000:]}"
    return records, error


def run_case(command: list[str], case: str) -> tuple[list[dict], str | None]:
    """Run `command`, the child of `case`; print and return its records and error."""
    print(f"# case {case}", file=sys.stderr, flush=True)
    records, error = run_child(command)
    for record in records:
        print(json.dumps({**record, "case": case}), flush=True)
    return records, error


# --- the report -------------------------------------------------------------------


def ratio(ours: dict, theirs: dict) -> float:
    """How many times better `ours` is: a rate ratio, or an inverse time/size ratio."""
    if ours["unit"] in ("s", "MiB"):
        return theirs["value"] / ours["value"]
    return ours["value"] / theirs["value"]


def print_tables(records: list[dict]) -> None:
    """skbert against its peers, the TF-free predictor, and int8's accuracy cost."""
    by = {(r["figure"], r["system"], r.get("backend")): r for r in records}
    peers = [p for p in PEER_NAMES if any(r["system"] == p for r in records)]
    ceiling = [r["value"] for r in records if r["figure"] == "matmul_ceiling"]
    rows = [
        r
        for r in records
        if r["system"] == "skbert"
        and r["unit"] in ("texts/s", "examples/s", "s", "MiB", "x")
        and not r["figure"].startswith("setup:")
    ]
    figures = list(dict.fromkeys(r["figure"] for r in rows))
    rows.sort(key=lambda r: figures.index(r["figure"]))  # stable: backends in run order
    if rows:
        print("\nskbert as a multiple of each peer (> 1: skbert faster or smaller)")
        header = " ".join(f"{p:>{max(len(p), 8)}}" for p in peers)
        print(f"{'figure':33} {'backend':16} {'skbert':>9} {header}  unit")
    for r in rows:
        backend = r.get("backend") or ""
        cells = []
        for peer in peers:
            theirs = by.get((r["figure"], peer, None))
            width = max(len(peer), 8) - 1
            if theirs and peer in PEERS.get(backend, PEER_NAMES):
                cells.append(f"{ratio(r, theirs):{width}.2f}x")
            else:
                cells.append(" " * (width + 1))
        line = f"{r['figure']:33} {backend:16} {r['value']:9.2f} {' '.join(cells)}"
        print(f"{line}  {r['unit']}")
    if ceiling:
        best = max(ceiling)
        print(f"\nmatmul ceiling, float32, best of tf and numpy: {best:.1f} GFLOP/s")
        for r in records:
            if r["figure"] == "predict_flops:long128":
                who = r.get("backend") or r["system"]
                note = " (int8 arithmetic)" if who.endswith("int8") else ""
                print(f"  {who:17} at length 128: {r['value'] / best:.0%}{note}")

    free = by.get(("first_prediction", "skbert", "onnxruntime"))
    tf_path = by.get(("first_prediction", "skbert", "tensorflow"))
    free_rss = by.get(("peak_rss:tf_free_predict:sst2_dev", "skbert", "onnxruntime"))
    tf_rss = by.get(("peak_rss:predict:sst2_dev", "skbert", "tensorflow"))
    if free or free_rss:
        print("\nTF-free predictor: skbert.load(path, backend='onnxruntime') vs TF")
    for name, a, b in (
        ("first prediction, s", free, tf_path),
        ("peak RSS predicting SST-2 dev, MiB", free_rss, tf_rss),
    ):
        if a and b:
            print(
                f"  {name:36} {a['value']:9.2f} vs {b['value']:9.2f}: "
                f"{ratio(a, b):.2f}x (TensorFlow imported: "
                f"{a.get('tensorflow_imported')})"
            )

    accuracy = {
        r["backend"]: r["value"]
        for r in records
        if r["figure"] == "accuracy:sst2_dev" and r["system"] == "skbert"
    }
    if accuracy:
        print("\nSST-2 dev accuracy of the saved classifier, by backend")
        for backend, value in accuracy.items():
            delta = value - accuracy.get("onnxruntime", value)
            print(f"  {backend:17} {value:.4f}  ({delta:+.4f} vs onnxruntime)")
    for r in records:
        if r["figure"] == "embedding_cosine:sst2_dev":
            print(
                f"  BertVectorizer {r['backend']} vs {r['reference']}: "
                f"cosine mean {r['value']:.6f}, min {r['min']:.6f}"
            )
    tuned = {
        r["system"]: r["value"]
        for r in records
        if r["figure"] == "finetune:dev_accuracy"
    }
    if tuned:
        print("\nSST-2 dev accuracy after the fine-tuning cases")
        for system, value in tuned.items():
            print(f"  {system:17} {value:.4f}")
    whole = by.get(("finetune:whole_fit", "skbert", None))
    for peer in peers:
        loop = by.get(("finetune:first_epoch", peer, None))
        if whole and loop and whole["epochs"] == 1:
            print(
                f"\nskbert's whole fit (loading, tracing, the epoch) against "
                f"{peer}'s training loop alone: {whole['value']:.1f} vs "
                f"{loop['value']:.1f} examples/s, {ratio(whole, loop):.2f}x"
            )
