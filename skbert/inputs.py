"""Checking and shaping the texts and labels estimators are given.

X is a batch of single texts (a list, 1-D array, Series, or one-column
DataFrame of strings) or of sentence pairs (a two-column array or DataFrame,
or a list of 2-tuples: segment A, segment B). It becomes a tuple of 1-D
object arrays, one per segment.
"""

from __future__ import annotations

from collections.abc import Iterable, Sized

import numpy as np

Segments = tuple[np.ndarray, ...]


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
    if hasattr(X, "toarray") or hasattr(X, "tocsr"):
        raise TypeError(
            f"X is a sparse matrix ({type(X).__name__}); skbert's estimators take "
            "texts, and sparse input is not supported. Pass the texts themselves."
        )
    kind = getattr(getattr(X, "dtype", None), "kind", "O")
    if kind in "biufc":
        raise ValueError(
            f"X is an array of numbers (dtype {X.dtype}); skbert's estimators take "
            "texts. If these are features, use an estimator for numbers; if they are "
            "texts, convert them with X.astype(str)."
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


def _short(value, limit: int = 60) -> str:
    """``repr(value)``, cut to `limit` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
