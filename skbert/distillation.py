"""Distillation: a fitted estimator taught to a smaller copy of itself.

`distill` builds a student whose encoder keeps some of the teacher's
transformer blocks (``"<encoder>[layers=0,2,4]"``, see
`skbert.encoders.shallow_encoder_name`), starts it from the teacher's own
weights (those blocks, the embeddings, the head) and trains it, with the
`skbert.training.Distillation` mode of the training loop, to give the teacher's
outputs on texts that need no labels.
"""

from __future__ import annotations

import copy
import dataclasses
from numbers import Integral

import numpy as np
from sklearn.base import clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from skbert import progress

#: Fitted attributes that describe the student's own training, not copied.
_TRAINING_RECORD = (
    "history_",
    "n_iter_",
    "learning_rate_",
    "network_config_",
    "n_pairs_",  # the few-shot teacher's contrastive stage
)


def distill(
    teacher,
    X,
    *,
    layers=3,
    epochs=2,
    batch_size=None,
    learning_rate=1e-4,
    weight_decay=0.01,
    warmup_ratio=0.1,
    random_state=None,
    callbacks=None,
    verbose=0,
):
    """A smaller copy of fitted `teacher`, trained to give its outputs on `X`.

    The student is an estimator of the teacher's class with the teacher's
    parameters, but for ``encoder`` (the teacher's, keeping only the blocks
    `layers`: ``"<encoder>[layers=0,2,4]"``), ``train_encoder=True`` and,
    if given, `batch_size`;
    it has the teacher's fitted attributes (``classes_``, a few-shot
    classifier's ``head_``...). Its encoder starts from the teacher's
    weights: the kept blocks, the embeddings and the pooler, and the head
    as the teacher's. Then it is trained on `X` against the teacher's
    outputs (`skbert.training.Distillation`): no labels are read, so `X` may be the
    teacher's training texts and any unlabeled texts of the same kind.
    Each epoch reads every text once, in batches of similar lengths.

    Works for `BertClassifier` (every task, sentence pairs, long texts in
    chunks), `BertRegressor`, `BertVectorizer` (its student's encoder is
    trained, so its weights are saved with it) and `BertFewShotClassifier`
    (the student's embeddings are taught, the teacher's head kept). The
    teacher is not changed. An interrupted distillation (Ctrl-C) leaves
    nothing behind but the student's encoder SavedModel in skbert's cache,
    which is written whole or not at all.

    Parameters
    ----------
    teacher : fitted skbert estimator
        Fitted or loaded with ``skbert.load(path)`` (not with an ONNX
        Runtime backend: the student starts from its TensorFlow weights).
    X : sequence of str, or two-column array-like of str
        Texts to teach on (pairs if the teacher reads pairs).
    layers : int or sequence of int, default=3
        How many of the teacher's transformer blocks the student keeps,
        spread evenly from the first (6 blocks, 3 kept: 0, 2, 4); or which
        ones, as indices.
    epochs : int, default=2
        Passes over `X`.
    batch_size : int, optional
        Texts per training step; the teacher's ``batch_size`` if None.
    learning_rate : float, default=1e-4
        Peak learning rate of AdamW (warm-up, then linear decay).
    weight_decay : float, default=0.01
        AdamW's decoupled weight decay.
    warmup_ratio : float, default=0.1
        Share of the steps over which the learning rate rises from 0.
    random_state : int, RandomState or None, default=None
        Seeds dropout and shuffling; anything but None also seeds Python's,
        NumPy's and TensorFlow's global generators, as the estimators'
        ``random_state`` does.
    callbacks : list of tf_keras.callbacks.Callback, optional
        Keras callbacks for the training, as the estimators' ``callbacks``.
    verbose : int, default=0
        1 shows a Keras progress bar per epoch and the progress of reading
        `X` with the teacher, 2 a line per epoch.

    Returns
    -------
    estimator
        The fitted student. Its ``history_`` holds the distillation's
        ``loss`` per epoch, ``n_iter_`` its epochs; ``encoder`` names its
        encoder, so a new ``fit`` of it (or of a clone) trains a model of its
        size, starting from the pretrained blocks (a `BertVectorizer`'s
        ``fit`` trains nothing: it goes back to those blocks). The teacher's
        ``distribute_strategy`` is not used: the student trains in the
        default scope.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        The teacher is not fitted.
    ValueError
        `layers` is out of range, `X` is empty or not texts, the teacher
        was loaded without TensorFlow, or its encoder is not one skbert can
        cut (a published TF Hub SavedModel rather than one skbert wrote).

    Examples
    --------
    >>> import skbert
    >>> X = ["good film", "bad film", "great plot", "dull plot"]
    >>> teacher = skbert.BertClassifier("tiny_random_en_uncased", epochs=1,
    ...                                 random_state=0).fit(X, [1, 0, 1, 0])
    >>> student = skbert.distill(teacher, X, layers=1, random_state=0)
    >>> student.encoder, student.predict_proba(X).shape
    ('tiny_random_en_uncased[layers=0]', (4, 2))
    """
    from skbert.base import TextData
    from skbert.encoders import shallow_encoder_name
    from skbert.inputs import about, check_texts
    from skbert.network import build_network
    from skbert.training import (
        Distillation,
        check_callbacks,
        fit_mode,
        seed_everything,
    )

    check_is_fitted(teacher, "model_")
    if teacher.model_ is None:
        raise ValueError(
            "The teacher was loaded with an ONNX Runtime backend and holds no "
            "TensorFlow weights to start a student from; load it with "
            "skbert.load(path)."
        )
    config = teacher.network_config_
    kept = _kept_blocks(layers, _depth(config.encoder))
    with about("X"):
        segments = check_texts(X, n_segments=teacher.n_segments_)
    callbacks = check_callbacks(callbacks)
    student = clone(teacher)
    params = {"encoder": shallow_encoder_name(config.encoder, kept)}
    if "train_encoder" in student.get_params():
        params["train_encoder"] = True
    if batch_size is not None:
        params["batch_size"] = batch_size
    student.set_params(**params)
    student.verbose = verbose
    student_config = dataclasses.replace(
        config, encoder=params["encoder"], train_encoder=True
    )
    with progress.reporting(verbose > 0):
        rows = segments[0] if len(segments) == 1 else np.column_stack(segments)
        reader = copy.copy(teacher)  # shares the network; reports as `verbose` says
        reader.verbose = verbose
        targets = reader._outputs(rows)
        if targets.ndim == 1:
            targets = targets[:, None]
        student._prepare_encoder(student_config)
        seed = int(check_random_state(random_state).randint(2**31 - 1))
        if random_state is not None:
            seed_everything(seed)
        network = build_network(student_config)
        _start_from(network, teacher._network, kept)
        data = TextData(segments, targets, np.ones(len(targets), np.float32))
        model, examples = student._training_examples(network, data)
        history, _ = fit_mode(
            model,
            Distillation(),
            examples,
            batch_size=student.batch_size,
            epochs=epochs,
            seed=seed,
            learning_rate=learning_rate,
            weight_decay=weight_decay,
            warmup_ratio=warmup_ratio,
            callbacks=callbacks,
            verbose=verbose,
        )
    student.verbose = teacher.verbose
    fitted = {
        k: copy.deepcopy(v)
        for k, v in vars(teacher).items()
        if k.endswith("_")
        and not k.startswith("_")
        and k not in ("model_", *_TRAINING_RECORD)
    }
    student._set_network(
        network,
        **fitted,
        history_=history,
        n_iter_=epochs,
        learning_rate_=float(learning_rate),
        network_config_=student_config,
    )
    return student


def _depth(encoder: str) -> int:
    """Transformer blocks of `encoder`; `ValueError` if skbert cannot cut it."""
    from skbert.encoders import local_handle, resolve_encoder
    from skbert.modeling.config import encoder_config
    from skbert.runtime import NotExportable

    handle = resolve_encoder(encoder).materialize()[1]
    try:
        return encoder_config(local_handle(handle))[0].num_hidden_layers
    except NotExportable as exc:
        raise ValueError(
            f"distill keeps some of the encoder's transformer blocks, and skbert "
            f"cannot read the blocks of {encoder!r}: {exc}"
        ) from None


def _kept_blocks(layers, depth: int) -> tuple[int, ...]:
    """The block indices `layers` names (see `distill`), checked against `depth`."""
    if isinstance(layers, Integral) and not isinstance(layers, bool):
        if not 1 <= layers <= depth:
            raise ValueError(
                f"layers={layers}: the teacher's encoder has {depth} transformer "
                f"blocks, so the student keeps 1 to {depth} of them."
            )
        return tuple(i * depth // int(layers) for i in range(int(layers)))
    try:
        if isinstance(layers, str):
            raise TypeError
        kept = tuple(int(i) for i in layers)
    except (TypeError, ValueError):
        raise TypeError(
            f"layers must be a number of blocks or a list of block indices, not "
            f"{layers!r}."
        ) from None
    if not kept or list(kept) != sorted(set(kept)) or kept[0] < 0 or kept[-1] >= depth:
        raise ValueError(
            f"layers={list(kept)}: block indices must be distinct, ascending and "
            f"in 0..{depth - 1} (the teacher's encoder has {depth} blocks)."
        )
    return kept


def _start_from(student, teacher, kept: tuple[int, ...]) -> None:
    """Give `student` the teacher's weights: the kept blocks, the rest, the head."""
    if teacher.config.train_encoder:  # else the shallow encoder has them already
        from skbert.modeling.config import bert_name
        from skbert.modeling.export import block_source
        from skbert.onnx_graph import find_hub_layer, hub_weights

        source = hub_weights(find_hub_layer(teacher.model))
        for variable in find_hub_layer(student.model).weights:
            variable.assign(source[block_source(bert_name(variable.name), kept)])
    head = getattr(teacher, "head_model", None)
    if head is not None:
        student.head_model.set_weights(head.get_weights())
