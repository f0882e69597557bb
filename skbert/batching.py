"""Batching: which examples go together, in which order, and how they are read.

Everything between checked texts and a network's batches lives here:
reading an iterator of texts in chunks, lengths (the sort key), gathers
(index arrays to the packed inputs or stored features of those examples),
the bucketed training order and the sorted prediction order, and the
tf.data pipeline of training batches.
"""

from __future__ import annotations

from collections.abc import Iterable, Sized
from itertools import islice

import numpy as np

from skbert import progress
from skbert.inputs import SEGMENT_NAMES, check_texts
from skbert.windows import WINDOW_OWNER

#: Texts predicted per chunk: an iterator of texts is read this many at a time.
CHUNK_SIZE = 8192
#: Batches of one training window are sorted by length, then shuffled.
BUCKET_WINDOW = 50


def chunks(X, n_segments: int):
    """Checked segments of `X`, ``CHUNK_SIZE`` examples at a time.

    An iterator (e.g. a generator of texts) is read one chunk at a time, so
    it is never held whole; an empty one is an error, as an empty list is.
    """
    if not isinstance(X, (Sized, str, bytes)) and isinstance(X, Iterable):
        iterator = iter(X)
        chunk = list(islice(iterator, CHUNK_SIZE))
        yield check_texts(chunk, n_segments=n_segments)  # [] is an error
        while chunk := list(islice(iterator, CHUNK_SIZE)):
            yield check_texts(chunk, n_segments=n_segments)
        return
    segments = check_texts(X, n_segments=n_segments)
    for start in range(0, len(segments[0]), CHUNK_SIZE):
        yield tuple(s[start : start + CHUNK_SIZE] for s in segments)


def text_lengths(segments) -> np.ndarray:
    """Characters per example (segments summed): the sort key of batching."""
    return sum(np.fromiter(map(len, s), dtype=np.int64, count=len(s)) for s in segments)


def text_gather(segments, packer):
    """``gather(index)``: `packer`'s inputs for the examples at `index`.

    It runs eagerly (for prediction) and inside tf.data (for training).
    """
    import tensorflow as tf

    strings = {
        name: tf.constant(list(s), dtype=tf.string)
        for name, s in zip(SEGMENT_NAMES, segments)
    }

    def gather(index):
        return packer({name: tf.gather(s, index) for name, s in strings.items()})

    return gather


def feature_gather(features: dict, head_inputs):
    """``gather(index)``: `head_inputs` of the examples at `index`, padded per batch.

    `features` is what `skbert.features.SharedEncoder.features` returned for
    `skbert.features.stored_names`.
    """
    import tensorflow as tf

    tensors = {}
    if "pooled_output" in features:
        tensors["pooled_output"] = tf.constant(features["pooled_output"])
    if "sequence_output" in features:
        values = features["sequence_output"]
        lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
        tensors["sequence_output"] = tf.RaggedTensor.from_row_lengths(
            np.concatenate(values), lengths
        )
        tensors["input_mask"] = tf.RaggedTensor.from_row_lengths(
            np.ones(lengths.sum(), dtype=np.int32), lengths
        )

    def gather(index):
        picked = {name: tf.gather(tensors[name], index) for name in head_inputs}
        return {
            name: t.to_tensor() if isinstance(t, tf.RaggedTensor) else t
            for name, t in picked.items()
        }

    return gather


def window_gather(gather, windows):
    """``gather(index)`` of texts for a network read window by window.

    `gather` gathers windows (`skbert.windows.Windows` lists them, text
    after text); the texts at `index` become all their windows, with
    ``WINDOW_OWNER`` giving each window's position among the texts.
    """
    import tensorflow as tf

    starts = tf.constant(windows.starts)
    counts = tf.constant(windows.counts)

    def load(index):
        first = tf.gather(starts, index)
        ranges = tf.ragged.range(first, first + tf.gather(counts, index))
        inputs = dict(gather(ranges.flat_values))
        inputs[WINDOW_OWNER] = tf.cast(ranges.value_rowids(), tf.int32)
        return inputs

    return load


def bucketed_order(lengths: np.ndarray, batch_size: int, rng) -> np.ndarray:
    """One epoch's order: windows of batches sorted by length, batches shuffled.

    A random permutation is cut into windows of ``BUCKET_WINDOW`` batches;
    each window is sorted by length and cut into batches, so a batch holds
    similar lengths; the full batches are then shuffled and a short one, if
    any, comes last (so that batching the order again gives these batches).
    """
    permutation = rng.permutation(len(lengths))
    window = batch_size * BUCKET_WINDOW
    batches = []
    for start in range(0, len(permutation), window):
        chunk = permutation[start : start + window]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    short = [b for b in batches if len(b) < batch_size]
    full = [b for b in batches if len(b) == batch_size]
    order = [full[i] for i in rng.permutation(len(full))] + short
    return np.concatenate(order)


def training_orders(
    index: np.ndarray, lengths: np.ndarray, batch_size: int, epochs: int, seed: int
) -> list[np.ndarray]:
    """The `bucketed_order` of the examples `index` for each epoch, from `seed`."""
    rng = np.random.default_rng(seed)
    return [
        index[bucketed_order(lengths[index], batch_size, rng)] for _ in range(epochs)
    ]


def batches(gather, orders, batch_size: int, *arrays):
    """A `tf.data.Dataset` of ``(gather(index), *arrays[index])``, epoch by epoch.

    `orders` is ``[epochs, n]`` (one order of example indices per epoch) or
    ``[n]`` (one pass); each epoch's order is batched by `batch_size`.
    """
    import tensorflow as tf

    orders = np.atleast_2d(np.asarray(orders, dtype=np.int64))
    extra = [tf.constant(a) for a in arrays]

    def load(index):
        x = gather(index)
        return (x, *[tf.gather(a, index) for a in extra]) if extra else x

    data = tf.data.Dataset.from_tensor_slices(orders).flat_map(
        lambda order: tf.data.Dataset.from_tensor_slices(order).batch(batch_size)
    )
    # No autotuning: deleting an iterator waits for the autotuner's thread,
    # which often sleeps on for about 10 s after the last batch. A batch is
    # cheap to load beside a training step, so two in flight keep up.
    options = tf.data.Options()
    options.autotune.enabled = False
    data = data.map(load, num_parallel_calls=2).prefetch(2)
    return data.with_options(options)


def sorted_batches(lengths, batch_size: int):
    """Index arrays of batches in order of length (for prediction)."""
    order = np.argsort(lengths, kind="stable")
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def predict_sorted(
    run, gather, lengths, batch_size: int, counted: bool = True
) -> np.ndarray:
    """`run` on all examples, batched in order of length; rows in input order.

    Traced functions on each batch, no tf.data pipeline: building one costs
    more than a short prediction. Each batch advances the open progress
    task, if `counted` (a head after its encoder's features is not).
    """
    index = sorted_batches(lengths, batch_size)
    outputs = []
    for batch in index:
        outputs.append(run(gather(batch)).numpy())
        if counted:
            progress.advance(len(batch))
    outputs = np.concatenate(outputs)
    result = np.empty_like(outputs)
    result[np.concatenate(index)] = outputs
    return result
