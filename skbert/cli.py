"""The ``skbert`` command: list what plugins provide, fit, predict, export, demo."""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import sys
import tempfile

import numpy as np

from skbert.base import DEFAULT_ENCODER

#: Set to 1 to see TensorFlow's own log lines (as ``--verbose`` does).
TF_LOGS_ENV = "SKBERT_TF_LOGS"
#: Commands that list what is installed: they never import TensorFlow.
_LISTINGS = ("plugins", "encoders", "heads")


class UserError(Exception):
    """A mistake in the command's arguments or files: one line, no traceback."""


#: What a user's mistake raises (a missing or taken file, a file that is not a
#: saved model, bad data): `main` prints one line for these, not a traceback.
USER_ERRORS = (UserError, OSError, ValueError)


def quiet_tensorflow() -> None:
    """Import TensorFlow without its C++ log lines or Keras' notes to developers.

    TensorFlow's C++ logging is set to errors only, from which also
    ``failed call to cuInit`` on a machine without a GPU is left out; the
    lines written while the libraries load (before that setting is read)
    are caught and dropped, and shown if the import fails. The Python
    logger ``tensorflow`` (Keras' "compiled metrics have yet to be built",
    "Skipping full serialization") keeps errors only. Python warnings stay.
    """
    if "tensorflow" in sys.modules:  # loaded already: nothing left to hide
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    with tempfile.TemporaryFile() as caught:
        with _stderr_into(caught):
            try:
                import tensorflow as tf
                import tensorflow_hub  # noqa: F401
                import tensorflow_text  # noqa: F401
                import tf_keras  # noqa: F401
            except BaseException:
                failed = True
            else:
                failed = False
        if failed:
            caught.seek(0)
            sys.stderr.write(caught.read().decode(errors="replace"))
            import tensorflow  # noqa: F401  (raises the error again, shown)
    tf.get_logger().setLevel("ERROR")


@contextlib.contextmanager
def _stderr_into(file):
    """Point file descriptor 2 (what C++ code writes to) at `file` meanwhile."""
    sys.stderr.flush()
    saved = os.dup(2)
    os.dup2(file.fileno(), 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def _print_table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip())


def _plugins(args) -> None:
    import skbert

    rows = [
        (
            p.name,
            p.distribution,
            p.version,
            p.status + (f": {p.error}" if p.error else ""),
        )
        for p in skbert.list_plugins()
    ]
    _print_table(rows, ("plugin", "distribution", "version", "status"))


def _encoders(args) -> None:
    import skbert

    rows = [
        (s.name, _count(s.parameters), s.source, _provider(s.source), s.description)
        for s in skbert.list_encoders()
    ]
    _print_table(rows, ("encoder", "params", "plugin", "distribution", "description"))


def _provider(plugin: str) -> str:
    """``"distribution version"`` of the plugin named `plugin`."""
    from skbert.plugins import plugin_info

    info = plugin_info(plugin)
    return f"{info.distribution} {info.version}" if info else "?"


def _count(n: int | None) -> str:
    if not n:
        return "?"
    return f"{n / 1e6:.1f}M" if n >= 1e6 else f"{n / 1e3:.0f}K"


def _heads(args) -> None:
    import skbert

    rows = [
        (
            h.name,
            ",".join(h.tasks),
            ",".join(h.params()) or "-",
            h.source,
            _provider(h.source),
            h.description,
        )
        for h in skbert.list_heads()
    ]
    _print_table(
        rows, ("head", "tasks", "options", "plugin", "distribution", "description")
    )


def _demo(args) -> None:
    from skbert.demo import run_demo

    run_demo(args.model, args.plots)


def _convert(args) -> None:
    from skbert.convert import convert_checkpoint

    out = convert_checkpoint(args.checkpoint_dir, args.out_dir, pooling=args.pooling)
    print(f"wrote {out / 'preprocess'} and {out / 'encoder'}; use encoder={str(out)!r}")


def _export(args) -> None:
    import skbert

    out = skbert.load(args.model_dir).export(args.out, format=args.format)
    print(f"wrote {out}")


#: How CSV and TSV files are read and written: fields holding the separator,
#: a quote or a line break are quoted, and quotes doubled, both ways.
QUOTING = csv.QUOTE_MINIMAL


def _separator(path) -> str:
    """Tab for ``.tsv``/``.tab`` files, else comma."""
    return "\t" if str(path).endswith((".tsv", ".tab")) else ","


def _read_table(args, need_labels: bool):
    """Read the CSV/TSV of `args.data`: texts (or pairs) and, if asked, labels.

    Every column is read as text, as it stands in the file, so that
    ``predict`` writes it back unchanged; labels that are all numbers become
    numbers.
    """
    import pandas as pd

    try:
        table = pd.read_csv(
            args.data,
            sep=_separator(args.data),
            quoting=QUOTING,
            keep_default_na=False,
            encoding=args.encoding,
            dtype=str,
        )
    except UnicodeDecodeError as exc:
        raise UserError(
            f"{args.data} is not {args.encoding} text ({exc.reason} at byte "
            f"{exc.start}); name its encoding with --encoding, e.g. --encoding "
            "latin-1."
        ) from None
    columns = [args.text_column] + (
        [args.text_pair_column] if args.text_pair_column else []
    )
    if need_labels:
        columns.append(args.label_column)
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise UserError(
            f"{args.data}: no column {missing[0]!r}; the columns are "
            f"{list(table.columns)}. Name them with --text-column, "
            "--text-pair-column and --label-column."
        )
    X = table[columns[: 2 if args.text_pair_column else 1]].astype(str)
    X = X.iloc[:, 0].tolist() if X.shape[1] == 1 else X
    y = None
    if need_labels:
        y = table[args.label_column].tolist()
        _check_labels_present(args, y)
        with contextlib.suppress(ValueError):  # numbers, as pandas would read them
            y = pd.to_numeric(table[args.label_column]).tolist()
    return table, X, y


def _check_labels_present(args, y: list) -> None:
    """`UserError` naming the file's row (and line) of the first empty label."""
    empty = [i for i, v in enumerate(y) if not v.strip()]
    if not empty:
        return
    with open(args.data, newline="", encoding=args.encoding) as file:
        reader = csv.reader(file, delimiter=_separator(args.data), quoting=QUOTING)
        ends = [reader.line_num for _ in reader]  # the header's end, then each row's
    row = empty[0]
    more = f" (and {len(empty) - 1} more)" if len(empty) > 1 else ""
    raise UserError(
        f"{args.data}, line {ends[row] + 1} (row {row + 1} after the header): the "
        f"label column {args.label_column!r} is empty{more}. Give every row a "
        "label, or drop the rows without one."
    )


def _fit(args) -> None:
    from skbert.persistence import check_save_path

    # Before the training, not after it: a fit is never lost to a taken folder.
    check_save_path(args.model, args.overwrite, flag="--overwrite")
    clf = _classifier(args)
    _, X, y = _read_table(args, need_labels=True)
    clf.fit(X, y).save(args.model, overwrite=args.overwrite)
    classes = clf.classes_.tolist()
    print(f"fitted on {len(y)} examples, classes {classes}; saved {args.model}")


def _classifier(args):
    """The unfitted classifier ``fit`` asked for; `UserError` for options it lacks."""
    from skbert import BertClassifier, BertFewShotClassifier

    if args.few_shot:
        for flag, given in [
            ("--epochs", args.epochs is not None),
            ("--freeze-encoder", args.freeze_encoder),
        ]:
            if given:
                raise UserError(
                    f"{flag} does not apply to --few-shot, which tunes the encoder "
                    "on --max-pairs pairs of texts; drop it."
                )
    elif args.max_pairs is not None:
        raise UserError("--max-pairs applies to --few-shot only; add it, or drop it.")
    shared = dict(
        max_seq_length=args.max_seq_length,
        long_texts=args.long_texts,
        random_state=args.random_state,
        verbose=1,
    )
    # The options left out take the classifier's own defaults.
    given = {
        name: value
        for name, value in [
            ("batch_size", args.batch_size),
            ("learning_rate", args.learning_rate),
            ("epochs", args.epochs),
            ("max_pairs", args.max_pairs),
        ]
        if value is not None and value != "auto"
    }
    if args.few_shot:
        return BertFewShotClassifier(args.encoder, **shared, **given)
    return BertClassifier(
        args.encoder, train_encoder=not args.freeze_encoder, **shared, **given
    )


def _predict(args) -> None:
    import skbert

    table, X, _ = _read_table(args, need_labels=False)
    clf = skbert.load(args.model)
    table["prediction"] = clf.predict(X)
    table.to_csv(
        args.output or sys.stdout,
        sep=_separator(args.output or "stdout.tsv"),
        index=False,
        quoting=QUOTING,
        lineterminator="\n",
        encoding=args.encoding,
    )


def _evaluate(args) -> None:
    from sklearn.metrics import classification_report

    import skbert

    _, X, y = _read_table(args, need_labels=True)
    clf = skbert.load(args.model)
    y = (
        np.asarray(y, dtype=clf.classes_.dtype)
        if clf.classes_.dtype.kind in "iub"
        else y
    )
    predicted = clf.predict(X)
    print(f"accuracy {np.mean(predicted == np.asarray(y)):.4f} on {len(y)} examples")
    print(classification_report(y, predicted, digits=3, zero_division=0))
    if args.plots:
        from skbert.plots import save_plots

        history = getattr(clf, "history_", None)
        written = save_plots(args.plots, y, predicted, clf.classes_, history)
        print("plots:", ", ".join(str(p) for p in written))


def main(argv: list[str] | None = None) -> int:
    """Run the ``skbert`` command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="skbert", description=__doc__)
    parser.add_argument(
        "--verbose",
        action="store_true",
        help=f"show TensorFlow's log lines (also: {TF_LOGS_ENV}=1)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, func, text in [
        ("plugins", _plugins, "list installed plugins and their distributions"),
        ("encoders", _encoders, "list registered encoder presets"),
        ("heads", _heads, "list registered heads"),
    ]:
        commands.add_parser(name, help=text).set_defaults(func=func)
    convert = commands.add_parser(
        "convert", help="Hugging Face BERT checkpoint -> TF Hub-format SavedModels"
    )
    convert.add_argument(
        "checkpoint_dir", help="config.json, model.safetensors, vocab.txt"
    )
    convert.add_argument("out_dir", help="where to write preprocess/ and encoder/")
    convert.add_argument("--pooling", choices=("pooler", "mean"), default="pooler")
    convert.set_defaults(func=_convert)
    export = commands.add_parser(
        "export", help="saved estimator -> ONNX or TF Serving SavedModel"
    )
    export.add_argument(
        "model_dir", metavar="MODEL_DIR", help="model directory (est.save, skbert fit)"
    )
    export.add_argument(
        "out", metavar="OUT", help="where to write (saved_model: OUT/<version>/)"
    )
    export.add_argument("--format", choices=("onnx", "saved_model"), default="onnx")
    export.set_defaults(func=_export)
    demo = commands.add_parser("demo", help="fit and evaluate on BBC News (real data)")
    demo.add_argument("--model", default="skbert-demo-model", help="save directory")
    demo.add_argument("--plots", default="skbert-demo-plots", help="PNG directory")
    demo.set_defaults(func=_demo)
    for name, func, text in [
        ("fit", _fit, "fit a classifier on a CSV/TSV file and save it"),
        ("predict", _predict, "add a 'prediction' column to a CSV/TSV file"),
        ("evaluate", _evaluate, "accuracy and per-class report on a labeled file"),
    ]:
        sub = commands.add_parser(name, help=text)
        sub.add_argument("data", help="CSV or TSV file (by its extension)")
        sub.add_argument(
            "--model", required=True, help="model directory (fit --model, est.save)"
        )
        sub.add_argument("--text-column", default="text")
        sub.add_argument("--text-pair-column", default=None, help="segment B of pairs")
        sub.add_argument(
            "--encoding",
            default="utf-8",
            help="the file's text encoding (default utf-8), e.g. latin-1",
        )
        sub.set_defaults(func=func)
        if name != "predict":
            sub.add_argument("--label-column", default="label")
        if name == "evaluate":
            sub.add_argument(
                "--plots",
                metavar="DIR",
                default=None,
                help="write confusion_matrix.png (and training_curve.png) there",
            )
        else:
            sub.add_argument("--output", default=None, help="file to write (stdout)")
        if name == "fit":
            sub.add_argument(
                "--few-shot",
                action="store_true",
                help="fit a BertFewShotClassifier (contrastive tuning on pairs of "
                "texts, then logistic regression): for a few labeled texts per class",
            )
            sub.add_argument("--encoder", default=DEFAULT_ENCODER)
            sub.add_argument("--epochs", type=int, default=None, help="(default 3)")
            sub.add_argument(
                "--max-pairs",
                type=int,
                default=None,
                help="with --few-shot: pairs of texts to tune on (its default)",
            )
            sub.add_argument(
                "--batch-size",
                type=int,
                default=None,
                help="the classifier's default: 32 (--few-shot: 16)",
            )
            sub.add_argument(
                "--learning-rate",
                type=lambda v: v if v == "auto" else float(v),
                default="auto",
                help="a number, or auto (the classifier's own choice; default)",
            )
            sub.add_argument("--max-seq-length", type=int, default=128)
            sub.add_argument(
                "--long-texts",
                choices=("truncate", "chunks"),
                default="truncate",
                help="read a long text's beginning, or all of it in windows",
            )
            sub.add_argument("--freeze-encoder", action="store_true")
            sub.add_argument("--random-state", type=int, default=None)
            sub.add_argument(
                "--overwrite",
                action="store_true",
                help="replace the model folder if it holds a model skbert saved",
            )
    args = parser.parse_args(argv)
    verbose = args.verbose or os.environ.get(TF_LOGS_ENV, "") not in ("", "0")
    if args.command not in _LISTINGS and not verbose:
        quiet_tensorflow()
    try:
        args.func(args)
    except USER_ERRORS as exc:
        if args.verbose:
            raise
        message = " ".join(str(exc).split()) or type(exc).__name__
        raise SystemExit(
            f"skbert {args.command}: error: {message} (--verbose shows where)"
        ) from None
    return 0


if __name__ == "__main__":
    sys.exit(main())
