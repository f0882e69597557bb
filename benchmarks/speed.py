"""skbert's prediction backends against the peers a user would pick instead, in one run.

Usage::

    .venv/bin/python benchmarks/speed.py ../shared/data            # or: make bench
    PEERS_PYTHON=/path/to/peers-venv/bin/python make bench        # with the peers
    .venv/bin/python benchmarks/speed.py ../shared/data --quick --cases predict peers

Systems, all measured in this run:

- skbert with each ``inference_backend``: ``"tensorflow"``, ``"onnxruntime"``
  and ``"onnxruntime-int8"`` (and TensorFlow with ``jit_compile=True``,
  ``tensorflow-xla``), predicting with a classifier fine-tuned briefly
  on SST-2 (``--model-size`` sentences, 1 epoch; accuracy is not the point),
  saved once and loaded by each case;
- the *peers*: ``peers.py`` in ``--peers-dir``, run by ``$PEERS_PYTHON`` (a
  separate environment, see its docstring; skipped when unset): Hugging Face
  on PyTorch (``hf-torch``) and ONNX Runtime (``ort-fp32``, ``ort-fp32-fused``,
  ``ort-int8-fused``) on the same model, and fine-tuning with transformers;
- the *seed pipeline*: the TF Hub "Classify text with BERT" model on the same
  encoder (``hub.KerasLayer(preprocessor)`` at fixed length 128, then the
  encoder, Dropout(0.1), Dense(1); ``model.predict``, ``model.fit``); its cases
  import TensorFlow before skbert, so they run with TensorFlow's defaults;
- the *ceiling*: the faster of a float32 ``tf.matmul`` and a numpy matmul of
  large square matrices; the model's FLOPs per sequence times sequences/s
  over it is the fraction of the ceiling reached.

Predictions run on the peers' inputs (``texts.py`` in ``--peers-dir``): the
872 SST-2 dev sentences and 192 long texts built from them, cut to 128 tokens;
batch 32. Every case runs in its own child process, so each has its own peak
RSS and a cold start. The parent prints one JSON line per figure, then tables:
skbert's figures as ratios to each peer of the same precision, the TF-free
predictor against the TensorFlow path, and what int8 costs in accuracy.
Throughputs are medians of ``--repeats`` timed passes after one warm-up pass;
``peers.py`` reports the best of 3 passes, so the ratios lean slightly
towards the peers.

The cases are ``speed_cases.py``; ``harness.py`` has the data, the timing, the
JSON lines, the child processes and the tables.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from harness import print_tables, run_case
from speed_cases import CASES, USE_MODEL, case_model

#: Sizes of a full run, and of ``--quick``.
SIZES = {
    False: {"repeats": 3, "train_size": 512, "frozen_size": 1000, "model_size": 256},
    True: {"repeats": 1, "train_size": 64, "frozen_size": 96, "model_size": 32},
}
#: Options a child process gets from the parent.
FORWARDED = (
    "repeats",
    "train_size",
    "frozen_size",
    "model_size",
    "finetune_epochs",
    "peers_dir",
    "model_dir",
    "quick",
)


def case_command(args, case: str) -> list[str]:
    """The command that runs `case` alone: this script, ``--case`` and the options."""
    command = [sys.executable, __file__, str(args.data), "--case", case]
    for name in FORWARDED:
        value = getattr(args, name)
        flag = "--" + name.replace("_", "-")
        if value is True:
            command.append(flag)
        elif value not in (None, False):
            command += [flag, str(value)]
    return command


def selected_cases(names: list[str] | None) -> list[str]:
    """The cases named, a bare name selecting a family (``predict``), in run order."""
    if not names:
        return list(CASES)
    families = {c.split(":")[0] for c in CASES}
    unknown = [n for n in names if n not in CASES and n not in families]
    if unknown:
        sys.exit(
            f"--cases: unknown {', '.join(unknown)}; the cases are "
            f"{', '.join(CASES)} (a name before ':' selects its family)."
        )
    return [c for c in CASES if c in names or c.split(":")[0] in names]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="cases: " + ", ".join(CASES),
    )
    parser.add_argument("data", type=Path, help="folder with sst2/")
    parser.add_argument("--case", choices=[*CASES, "model"], help=argparse.SUPPRESS)
    parser.add_argument(
        "--cases",
        nargs="+",
        metavar="CASE",
        help="run only these cases; a family name (predict, first_prediction, "
        "finetune, frozen) selects all its cases (default: all)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: small subsets, 1 pass"
    )
    parser.add_argument("--repeats", type=int, help="timed passes (3; quick 1)")
    parser.add_argument(
        "--train-size", type=int, help="sentences to fine-tune on (512; quick 64)"
    )
    parser.add_argument("--finetune-epochs", type=int, default=1)
    parser.add_argument(
        "--frozen-size", type=int, help="sentences of the frozen cases (1000; quick 96)"
    )
    parser.add_argument(
        "--model-size",
        type=int,
        help="sentences the saved classifier is fine-tuned on (256; quick 32)",
    )
    parser.add_argument(
        "--model-dir",
        type=Path,
        help="predict with this saved classifier instead of fitting one",
    )
    parser.add_argument(
        "--peers-dir",
        type=Path,
        help="folder of peers.py and texts.py (default: DATA/../bench)",
    )
    args = parser.parse_args()
    for name, value in SIZES[args.quick].items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.peers_dir is None:
        args.peers_dir = args.data.resolve().parent / "bench"
    if args.case:
        (case_model if args.case == "model" else CASES[args.case])(args)
        return
    cases = selected_cases(args.cases)
    if "peers" in cases and not os.environ.get("PEERS_PYTHON"):
        print(
            "# peers skipped: set PEERS_PYTHON to the python of an environment "
            "with torch, transformers, onnxruntime (see peers.py's docstring)",
            file=sys.stderr,
        )
        cases.remove("peers")
    records, failures = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        if args.model_dir is None and USE_MODEL.intersection(cases):
            args.model_dir = Path(tmp) / "model"
            new, failures["model"] = run_case(case_command(args, "model"), "model")
            records += new
        for case in cases:
            if case in USE_MODEL and failures.get("model"):
                failures[case] = "skipped: the classifier could not be fitted"
                continue
            new, failures[case] = run_case(case_command(args, case), case)
            records += new
    print_tables(records)
    failures = {case: error for case, error in failures.items() if error}
    for case, error in failures.items():
        print(f"\ncase {case} failed: {error}", file=sys.stderr)
    if failures:
        last_lines = [
            f"  {c}: {e.strip().splitlines()[-1]}" for c, e in failures.items()
        ]
        sys.exit("\n".join([f"{len(failures)} case(s) failed:", *last_lines]))


if __name__ == "__main__":
    main()
