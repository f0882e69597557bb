"""Checking and shaping the texts, labels and targets estimators are given.

X is a batch of single texts (a list, 1-D array, Series, or one-column
DataFrame of strings) or of sentence pairs (a two-column array or DataFrame,
or a list of 2-tuples: segment A, segment B). It becomes a tuple of 1-D
object arrays, one per segment. Labels (classes, label sets or an indicator
matrix) and regression targets are checked here too, with errors that say
what is wrong.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterable, Sized

import numpy as np
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.multiclass import check_classification_targets

Segments = tuple[np.ndarray, ...]
#: What the network calls the segments of an example, in order.
SEGMENT_NAMES = ("text_a", "text_b")
#: What a TF Hub BERT encoder calls its inputs, as its preprocessor packs them.
INPUT_NAMES = ("input_word_ids", "input_mask", "input_type_ids")
#: How to fix labels outside partial_fit's classes.
PARTIAL_FIT_CLASSES = (
    "partial_fit learns the classes of its first call: list every class there."
)


@contextlib.contextmanager
def about(name: str):
    """Prefix the `ValueError` or `TypeError` raised in the block with `name`.

    Examples
    --------
    >>> with about("X_val"):
    ...     check_texts("one text")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    TypeError: In X_val: X must be a sequence of texts, not a single string...
    """
    try:
        yield
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"In {name}: {exc}") from None


def _no_columns(shape: tuple) -> None:
    raise ValueError(
        f"X has 0 feature(s) (shape={shape}) while a minimum of 1 is required: give "
        "one column of texts, or two columns of sentence pairs."
    )


def check_texts(X, *, n_segments: int | None = None) -> Segments:
    """Return X as a tuple of segments, one 1-D array of ``str`` each.

    Parameters
    ----------
    X : sequence of str, or two-column array-like of str
        Single texts, or sentence pairs (segment A and segment B).
    n_segments : int, optional
        The number of segments the estimator was fitted on (1 or 2); X must
        match it.

    Returns
    -------
    tuple of ndarray
        One array of dtype object per segment, all the same length.

    Examples
    --------
    >>> [list(s) for s in check_texts(["good film", "bad film"])]
    [['good film', 'bad film']]
    >>> [list(s) for s in check_texts([("a man", "a person"), ("a cat", "a car")])]
    [['a man', 'a cat'], ['a person', 'a car']]
    """
    if isinstance(X, (str, bytes)):
        raise TypeError(
            "X must be a sequence of texts, not a single string; wrap it in a list: "
            "[text]."
        )
    if hasattr(X, "toarray"):  # scipy.sparse matrices and arrays
        raise TypeError(
            f"X is a sparse matrix ({type(X).__name__}); skbert's estimators take "
            "texts, and sparse input is not supported. Pass the texts themselves."
        )
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) == 2 and shape[1] == 0:
        _no_columns(tuple(shape))
    kind = getattr(getattr(X, "dtype", None), "kind", "O")
    if kind in "biufc":
        raise ValueError(
            f"X is an array of {_numbers(X)}, dtype {X.dtype}; skbert's estimators "
            "take texts. If these are features, use an estimator for numbers; if "
            "they are texts, convert them with X.astype(str)."
        )
    columns = getattr(X, "columns", None)
    if columns is not None:
        segments = tuple(np.asarray(X[c], dtype=object) for c in columns)
    else:
        if not isinstance(X, Sized) and isinstance(X, Iterable):
            X = list(X)
        try:
            array = np.asarray(X, dtype=object)
        except ValueError as exc:
            raise ValueError(
                "X must be a sequence of strings or of (text_a, text_b) pairs with "
                f"a regular shape; it could not be read as an array ({exc})."
            ) from None
        if array.ndim == 1:
            segments = (array,)
        elif array.ndim == 2:
            segments = tuple(array[:, i] for i in range(array.shape[1]))
        else:
            raise ValueError(
                f"X has {array.ndim} dimensions; expected a 1-D sequence of texts or "
                "a 2-D array with two columns of sentence pairs."
            )
    if not segments:
        _no_columns(array.shape)
    if len(segments) not in (1, 2):
        raise ValueError(
            f"X has {len(segments)} columns; expected 1 (single texts) or 2 "
            "(sentence pairs: segment A, segment B)."
        )
    if len(segments[0]) == 0:
        raise ValueError("X is empty; it needs at least one text.")
    for column, segment in enumerate(segments):
        for row, item in enumerate(segment):
            if isinstance(item, str) and item.isascii():
                continue
            where = f"X[{row}]" if len(segments) == 1 else f"X[{row}, {column}]"
            if not isinstance(item, str):
                raise TypeError(
                    f"{where} is {_short(item)} of type {type(item).__name__}; every "
                    "item of X must be a str. Replace missing texts with '' or drop "
                    "them; decode bytes first."
                )
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise ValueError(
                    f"{where} holds the lone surrogate {item[exc.start]!r} at "
                    f"character {exc.start}, which UTF-8 cannot encode (text decoded "
                    "with errors='surrogateescape'?). Decode the source bytes with "
                    "errors='replace', or remove the character."
                ) from None
    if n_segments is not None and len(segments) != n_segments:
        kinds = {1: "single texts", 2: "sentence pairs"}
        raise ValueError(
            f"X holds {kinds[len(segments)]}, but the estimator was fitted on "
            f"{kinds[n_segments]}; pass X in the same form as in fit."
        )
    return segments


def check_sample_weight(sample_weight, n_samples: int) -> np.ndarray:
    """Return `sample_weight` as a float array of length `n_samples` (ones if None)."""
    if sample_weight is None:
        return np.ones(n_samples, dtype=np.float32)
    weights = np.asarray(sample_weight, dtype=np.float64)
    if weights.shape != (n_samples,):
        raise ValueError(
            f"sample_weight has shape {weights.shape}; expected ({n_samples},), one "
            "weight per text."
        )
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError("sample_weight must hold finite, non-negative numbers.")
    if not weights.any():
        raise ValueError("sample_weight is zero everywhere; at least one must be > 0.")
    return weights.astype(np.float32)


def check_multilabel(
    y,
    n_samples: int,
    classes: np.ndarray | None = None,
    remedy: str = PARTIAL_FIT_CLASSES,
):
    """``(classes, indicator)`` if `y` is multi-label, else None.

    `y` is multi-label when it is a 2-D 0/1 matrix with more than one column
    or a sequence of label collections (set, frozenset, list, tuple). Lists
    of equal length holding only 0 and 1 are rows of an indicator matrix.
    With `classes` (`partial_fit`'s), label sets get a column for each of
    them (a label outside them is an error), and an indicator matrix's
    classes must be its column numbers. `remedy` ends the error about
    labels outside `classes`.
    """
    if (
        isinstance(y, (list, tuple))
        and y
        and all(isinstance(v, (set, frozenset, list, tuple)) for v in y)
        and not _is_indicator_rows(y)
    ):
        if len(y) != n_samples:
            raise ValueError(
                f"X has {n_samples} texts but y has {len(y)} label sets; pass one "
                "set of labels per text."
            )
        labels = [label for labels in y for label in labels]
        if any(label is None for label in labels):
            raise ValueError("y holds None inside a label set; drop it from the set.")
        # Mixed types stay objects: np.asarray would make ("a", 1) two strings.
        mixed = _has_mixed_or_none(labels)
        found = np.asarray(labels, dtype=object if mixed else None)
        found = _unique(found)[0] if labels else np.array([])
        if classes is None:
            if len(found) == 0:
                raise ValueError(
                    "y's label sets are all empty; there is nothing to learn."
                )
            classes = found
        else:
            index_in(found, classes, remedy)  # names labels outside `classes`
        column = {label: i for i, label in enumerate(classes.tolist())}
        indicator = np.zeros((n_samples, len(classes)), dtype=np.float32)
        for row, labels in enumerate(y):
            for label in labels:
                indicator[row, column[label]] = 1.0
        return classes, indicator
    if not hasattr(y, "ndim") and not isinstance(y, (list, tuple)):
        return None
    try:
        y = np.asarray(y)
    except ValueError:
        return None
    if y.ndim != 2 or y.shape[1] < 2:
        return None
    if len(y) != n_samples:
        raise ValueError(
            f"X has {n_samples} texts but y has {len(y)} rows; pass one row of "
            "labels per text."
        )
    if y.dtype.kind not in "biuf" or not np.isin(y, (0, 1)).all():
        raise ValueError(
            f"y has shape {y.shape}, so it is read as a multi-label indicator "
            "matrix, but it holds values other than 0 and 1. Pass a 1-D array of "
            "class labels, a 0/1 matrix, or a list of label sets."
        )
    columns = np.arange(y.shape[1])
    if classes is not None and classes.tolist() != columns.tolist():
        # Named classes come sorted, so they could not say which column is which.
        raise ValueError(
            f"y is an indicator matrix with {y.shape[1]} columns, whose classes are "
            f"the column numbers {_short_list(columns, 10)}; classes is "
            f"{_short_list(classes, 10)}. Pass classes=range({y.shape[1]}), or "
            "give y as label sets to name the labels."
        )
    return columns, y.astype(np.float32)


def check_classes(classes) -> np.ndarray:
    """`partial_fit`'s ``classes``: its distinct labels, sorted, at least two."""
    if classes is None or isinstance(classes, (str, bytes)):
        raise ValueError(
            "classes must list every class the classifier will learn, e.g. "
            f"classes=np.unique(y_all); got {classes!r}."
        )
    classes = list(classes)
    try:
        return check_labels(classes, len(classes))[0]
    except ValueError as exc:
        raise ValueError(f"In classes: {exc}") from None


def index_in(labels, classes: np.ndarray, remedy: str) -> np.ndarray:
    """The position of each of `labels` in `classes`; `ValueError` for others.

    The error names the labels outside `classes` and ends with `remedy`.
    """
    position = {label: i for i, label in enumerate(classes.tolist())}
    values = np.asarray(labels, dtype=object).tolist()
    unknown = sorted({v for v in values if v not in position}, key=repr)
    if unknown:
        raise ValueError(
            f"y holds labels that are not in classes: {_short_list(unknown)}; the "
            f"classes are {_short_list(classes, 10)}. {remedy}"
        )
    return np.array([position[v] for v in values], dtype=np.int64)


def check_labels(
    y,
    n_samples: int,
    classes: np.ndarray | None = None,
    remedy: str = PARTIAL_FIT_CLASSES,
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(classes, index of each label in classes)``, or raise a clear error.

    With `classes` (`partial_fit`'s), `y` may hold any of them, one or more;
    `remedy` ends the error about others.
    """
    y = check_label_array(y, n_samples)
    if classes is not None:
        return classes, index_in(y, classes, remedy)
    classes, index = _unique(y)
    try:  # an object array is judged by its items (ints stored as objects, say)
        check_classification_targets(np.asarray(y.tolist()) if y.dtype == object else y)
    except ValueError:
        raise ValueError(
            f"y holds continuous values ({_short_list(classes)}), not class labels; "
            "round them to classes, or use BertRegressor for real-valued targets."
        ) from None
    if len(classes) < 2:
        raise ValueError(
            f"y has one class ({_short_list(classes)}); a classifier needs at least "
            "two."
        )
    return classes, index


def _unique(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(labels, return_inverse=True)``; labels of mixed types are refused."""
    try:
        return np.unique(labels, return_inverse=True)
    except TypeError:
        kinds = sorted({type(v).__name__ for v in labels})
        raise ValueError(
            f"y mixes label types ({', '.join(kinds)}); use one type for all labels."
        ) from None


def check_label_array(y, n_samples: int) -> np.ndarray:
    """`y` as a 1-D array of `n_samples` labels, none missing, or a clear error."""
    if y is None:
        raise ValueError(
            "BertClassifier requires y to be passed, but the target y is None; pass "
            "one label per text."
        )
    y = np.asarray(y, dtype=object if _has_mixed_or_none(y) else None)
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected; reading it "
            "as one label per text. Pass y.ravel() to silence this.",
            DataConversionWarning,
            stacklevel=4,
        )
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(
            f"y has shape {y.shape}; BertClassifier takes a 1-D array of class "
            "labels, a 2-D 0/1 indicator matrix or a list of label sets."
        )
    if len(y) != n_samples:
        raise ValueError(
            f"X has {n_samples} texts but y has {len(y)} labels; pass one label per "
            "text."
        )
    for i, label in enumerate(y):
        if label is None or (isinstance(label, float) and math.isnan(label)):
            raise ValueError(
                f"y[{i}] is {label}: a missing label. Drop those texts or give them "
                "a class."
            )
    return y


def _is_indicator_rows(y) -> bool:
    rows = [v for v in y if not isinstance(v, (set, frozenset))]
    return (
        len(rows) == len(y)
        and len({len(v) for v in rows}) == 1
        and all(type(x) in (int, bool) and x in (0, 1) for v in rows for x in v)
    )


def _has_mixed_or_none(y) -> bool:
    if not isinstance(y, (list, tuple)):
        return False  # an array, Series or array-like: one dtype
    return len({type(v) for v in y}) > 1


def check_targets(y, n_samples: int) -> np.ndarray:
    """Return `y` as a float array, or raise an error that says what is wrong."""
    if y is None:
        raise ValueError(
            "BertRegressor requires y to be passed, but the target y is None; pass "
            "one target per text."
        )
    try:
        y = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            "y must hold numbers (one float per text, or one row of floats per "
            "text for several targets); it could not be read as floats."
        ) from None
    if y.ndim not in (1, 2) or len(y) != n_samples:
        raise ValueError(
            f"y has shape {y.shape}; expected ({n_samples},) or ({n_samples}, "
            "n_outputs), one target (row) per text."
        )
    if not np.all(np.isfinite(y)):
        raise ValueError("y holds NaN or infinity; drop those texts or fill them in.")
    return y


def _short_list(values, limit: int = 3) -> str:
    plain = [v.item() if isinstance(v, np.generic) else v for v in values[:limit]]
    shown = ", ".join(map(repr, plain))
    return shown + (", ..." if len(values) > limit else "")


def _numbers(X) -> str:
    """What a numeric X holds, in words: complex numbers, NaN or inf, numbers."""
    values = np.asarray(X)
    if values.dtype.kind == "c":
        return "complex numbers (Complex data not supported)"
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        return "numbers with NaN or inf among them"
    return "numbers"


def _short(value, limit: int = 60) -> str:
    """``repr(value)``, cut to `limit` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
