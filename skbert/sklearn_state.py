"""A scikit-learn estimator as plain data and back, without pickle.

`BertFewShotClassifier`'s head is any scikit-learn classifier; `skbert.save`
writes it as JSON through `to_plain`: its class (looked up again in
scikit-learn's own list of estimators, never imported by a name from the
file), its parameters and its fitted attributes, as long as these are
plain values, arrays and other scikit-learn estimators. Linear models,
one-vs-rest wrappers, naive Bayes and the like qualify; an estimator that
keeps other objects (the trees of a forest, a neighbours index) does not,
and `to_plain` says so.

Examples
--------
>>> from sklearn.linear_model import LogisticRegression
>>> head = LogisticRegression().fit([[0.0], [1.0]], [0, 1])
>>> copy = from_plain(to_plain(head))
>>> copy.predict([[0.9]]).tolist(), type(copy).__name__
([1], 'LogisticRegression')
"""

from __future__ import annotations

import functools

import numpy as np

MARKER = "__sklearn__"


@functools.cache
def _classes() -> dict[str, type]:
    from sklearn.multiclass import _ConstantPredictor
    from sklearn.utils import all_estimators

    # OneVsRestClassifier keeps a _ConstantPredictor for a label that is
    # constant in training (a multi-label column all 0 or all 1).
    classes = [c for _, c in all_estimators()] + [_ConstantPredictor]
    return {_name(c): c for c in classes}


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__name__}"


def to_plain(estimator, where: str = "head"):
    """`estimator` as dicts, lists, scalars and arrays; `TypeError` if it cannot be."""
    from sklearn.base import BaseEstimator

    if isinstance(estimator, BaseEstimator):
        name = _name(type(estimator))
        if name not in _classes():
            raise TypeError(
                f"Cannot save {where}: {type(estimator).__name__} is not one of "
                "scikit-learn's estimators, which are the ones skbert saves "
                "without pickle; pickle or joblib.dump the estimator instead."
            )
        params = estimator.get_params(deep=False)
        fitted = {k: v for k, v in vars(estimator).items() if k not in params}
        return {
            MARKER: name,
            "params": {k: to_plain(v, f"{where}.{k}") for k, v in params.items()},
            "fitted": {k: to_plain(v, f"{where}.{k}") for k, v in fitted.items()},
        }
    if isinstance(estimator, (list, tuple)):
        return type(estimator)(to_plain(v, f"{where}[]") for v in estimator)
    if isinstance(estimator, dict):
        return {k: to_plain(v, f"{where}[{k!r}]") for k, v in estimator.items()}
    plain = (type(None), bool, int, float, str, np.bool_, np.integer, np.floating)
    if isinstance(estimator, plain):
        return estimator
    if isinstance(estimator, np.ndarray) and estimator.dtype.kind in "biufU":
        return estimator
    raise TypeError(
        f"Cannot save {where}: it holds a {type(estimator).__name__}, which skbert "
        "cannot write without pickle. Use a head whose fitted state is arrays "
        "(e.g. LogisticRegression), or pickle or joblib.dump the estimator."
    )


def from_plain(value):
    """What `to_plain` gave, back as estimators; `ValueError` for an unknown class."""
    if isinstance(value, dict) and MARKER in value:
        cls = _classes().get(value[MARKER])
        if cls is None:
            raise ValueError(
                f"{value[MARKER]!r} is not a scikit-learn estimator of this "
                "scikit-learn version."
            )
        estimator = cls(**{k: from_plain(v) for k, v in value["params"].items()})
        estimator.__dict__.update(
            {k: from_plain(v) for k, v in value["fitted"].items()}
        )
        return estimator
    if isinstance(value, (list, tuple)):
        return type(value)(from_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: from_plain(v) for k, v in value.items()}
    return value
