"""PNG plots of an evaluation: the confusion matrix and the training curve.

matplotlib is imported only here, when plots are asked for; it comes with
the ``plots`` extra (``pip install "skbert[plots]"``).
"""

from __future__ import annotations

from pathlib import Path


def _pyplot():
    try:
        import matplotlib
    except ModuleNotFoundError:
        raise ModuleNotFoundError(
            "Plots need matplotlib; install it with: pip install matplotlib "
            '(or pip install "skbert[plots]").'
        ) from None
    matplotlib.use("Agg")  # files only, no display needed
    import matplotlib.pyplot as plt

    return plt


def save_plots(directory, y_true, y_pred, labels, history=None, title="") -> list[Path]:
    """Write ``confusion_matrix.png`` and, given a `history`, ``training_curve.png``.

    Parameters
    ----------
    directory : str or path
        Created if needed.
    y_true, y_pred : array-like
        True and predicted labels.
    labels : sequence
        The classes, in the order of the matrix's rows and columns.
    history : dict, optional
        Per-epoch ``loss`` (and ``val_loss``), as ``history_`` holds them.
    title : str, optional
        Title of the confusion matrix.

    Returns
    -------
    list of Path
        The files written.
    """
    from sklearn.metrics import ConfusionMatrixDisplay

    plt = _pyplot()
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    size = max(5.0, 0.6 * len(labels) + 3)
    figure, axes = plt.subplots(figsize=(size, size))
    ConfusionMatrixDisplay.from_predictions(
        y_true,
        y_pred,
        labels=list(labels),
        ax=axes,
        colorbar=False,
        xticks_rotation=45 if len(labels) > 3 else "horizontal",
    )
    axes.set_title(title or "Confusion matrix")
    figure.tight_layout()
    written.append(_save(figure, directory / "confusion_matrix.png", plt))
    if history and history.get("loss"):
        figure, axes = plt.subplots(figsize=(6, 4))
        epochs = range(1, len(history["loss"]) + 1)
        axes.plot(epochs, history["loss"], marker="o", label="training loss")
        if history.get("val_loss"):
            axes.plot(epochs, history["val_loss"], marker="o", label="validation loss")
        axes.set_xlabel("epoch")
        axes.set_ylabel("loss")
        axes.set_xticks(list(epochs))
        axes.legend()
        axes.set_title("Training curve")
        figure.tight_layout()
        written.append(_save(figure, directory / "training_curve.png", plt))
    return written


def save_curve(directory, curves: dict, title: str = "") -> Path:
    """Write ``accuracy_curve.png``: accuracy against labeled texts per class.

    Parameters
    ----------
    directory : str or path
        Created if needed.
    curves : dict
        ``{system: {K: accuracy}}``; K are ints and maybe ``"all"`` (drawn
        last), evenly spaced.
    title : str, optional

    Returns
    -------
    Path
        The file written.
    """
    plt = _pyplot()
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    sizes = sorted(
        {k for points in curves.values() for k in points},
        key=lambda k: (k == "all", k if k != "all" else 0),
    )
    position = {k: i for i, k in enumerate(sizes)}
    figure, axes = plt.subplots(figsize=(7, 4.5))
    for name, points in curves.items():
        if not points:
            continue
        ks = [k for k in sizes if k in points]
        axes.plot(
            [position[k] for k in ks], [points[k] for k in ks], marker="o", label=name
        )
    axes.set_xticks(range(len(sizes)), [str(k) for k in sizes])
    axes.set_xlabel("labeled texts per class")
    axes.set_ylabel("accuracy")
    axes.grid(alpha=0.3)
    axes.legend()
    axes.set_title(title or "Accuracy against labels")
    figure.tight_layout()
    return _save(figure, directory / "accuracy_curve.png", plt)


def _save(figure, path: Path, plt) -> Path:
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
