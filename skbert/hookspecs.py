"""Hook specifications: the functions a skbert plugin may implement.

A plugin is a module with functions marked ``@skbert.hookimpl`` and named as
below. Built-in encoders and heads are plugins of this kind; third-party
ones are found through the ``skbert`` entry-point group.
"""

from __future__ import annotations

from collections.abc import Callable

import pluggy

from skbert.specs import EncoderSpec, HeadSpec

hookspec = pluggy.HookspecMarker("skbert")
#: The marker for hook implementations, re-exported as ``skbert.hookimpl``.
hookimpl = pluggy.HookimplMarker("skbert")


@hookspec
def skbert_register_encoders(register: Callable[[EncoderSpec], None]) -> None:
    """Register encoder presets.

    Called once, the first time skbert looks an encoder up or lists them.

    Parameters
    ----------
    register : callable
        Call ``register(EncoderSpec(...))`` once per encoder. A name that
        another plugin registered first is reported and skipped.

    Examples
    --------
    >>> import skbert
    >>> @skbert.hookimpl
    ... def skbert_register_encoders(register):
    ...     register(skbert.EncoderSpec(
    ...         name="my_bert", description="my BERT on disk",
    ...         preprocessor="/models/my_bert/preprocess",
    ...         encoder="/models/my_bert/encoder", hidden_size=768))
    """


@hookspec
def skbert_register_heads(register: Callable[[HeadSpec], None]) -> None:
    """Register output heads.

    Called once, the first time skbert looks a head up or lists them.

    Parameters
    ----------
    register : callable
        Call ``register(HeadSpec(...))`` once per head. A name that another
        plugin registered first is reported and skipped.

    Examples
    --------
    >>> import skbert
    >>> from skbert.layers import task_output
    >>> def build(outputs, task, n_outputs, dropout=0.2):
    ...     return task_output(outputs.pooled_output, task, n_outputs, dropout=dropout)
    >>> @skbert.hookimpl
    ... def skbert_register_heads(register):
    ...     register(skbert.HeadSpec("pooled", "Dropout, then the task's output",
    ...                              build, tasks=skbert.specs.TASKS))
    """
