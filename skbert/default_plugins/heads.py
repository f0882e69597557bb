"""Built-in heads, registered exactly as a third-party plugin registers its own.

The first four are the classic output layers over ``pooled_output``, one
per task; ``mlp`` and ``sequence`` are bodies that serve every task.
"""

from __future__ import annotations

from skbert.hookspecs import hookimpl
from skbert.specs import TASKS, HeadSpec


def _pooled_head(task: str, doc: str):
    """A head putting `task`'s output layer on ``pooled_output``, whatever is asked."""

    def build(outputs, task_asked, n_outputs, dropout=0.1):
        from skbert.layers import task_output

        return task_output(outputs.pooled_output, task, n_outputs, dropout=dropout)

    build.__doc__ = doc
    return build


sigmoid_head = _pooled_head(
    "binary",
    "Dropout, then one sigmoid unit with binary cross-entropy (TF Hub's tutorial).",
)
softmax_head = _pooled_head(
    "multiclass",
    "Dropout, then a softmax over the classes; sparse categorical cross-entropy.",
)
multilabel_head = _pooled_head(
    "multilabel", "Dropout, then one sigmoid per label; binary cross-entropy."
)
linear_head = _pooled_head(
    "regression", "Dropout, then one linear unit per target; mean squared error."
)


def mlp_head(
    outputs, task, n_outputs, hidden_units=(256,), activation="gelu", dropout=0.1
):
    """Dense layers (``hidden_units``, ``activation``) with dropout, then the output."""
    import tf_keras

    from skbert.layers import task_output

    units = (hidden_units,) if isinstance(hidden_units, int) else tuple(hidden_units)
    if not units or any(not isinstance(u, int) or u < 1 for u in units):
        raise ValueError(
            f"head__hidden_units={hidden_units!r}; expected a positive int or a "
            "non-empty sequence of them, e.g. (256,) or (256, 64)."
        )
    x = outputs.pooled_output
    for i, width in enumerate(units):
        x = tf_keras.layers.Dropout(dropout, name=f"mlp_dropout_{i}")(x)
        x = tf_keras.layers.Dense(width, activation=activation, name=f"mlp_hidden_{i}")(
            x
        )
    return task_output(x, task, n_outputs, dropout=dropout)


def sequence_head(outputs, task, n_outputs, pooling="attention", dropout=0.1):
    """Pool ``sequence_output`` (attention, mean, max or cls), then the output."""
    from skbert.layers import AttentionPooling, MaskedPooling, task_output

    if pooling not in ("attention", *MaskedPooling.MODES):
        raise ValueError(
            f"head__pooling={pooling!r}; choose attention, "
            + ", ".join(MaskedPooling.MODES)
            + "."
        )
    pool = (
        AttentionPooling(name="attention_pooling")
        if pooling == "attention"
        else MaskedPooling(pooling, name=f"{pooling}_pooling")
    )
    pooled = pool([outputs.sequence_output, outputs.input_mask])
    return task_output(pooled, task, n_outputs, dropout=dropout)


@hookimpl
def skbert_register_heads(register):
    for name, build, tasks in [
        ("sigmoid", sigmoid_head, ("binary",)),
        ("softmax", softmax_head, ("binary", "multiclass")),
        ("multilabel", multilabel_head, ("multilabel",)),
        ("linear", linear_head, ("regression",)),
        ("mlp", mlp_head, TASKS),
        ("sequence", sequence_head, TASKS),
    ]:
        register(HeadSpec(name, build.__doc__, build, tasks))
