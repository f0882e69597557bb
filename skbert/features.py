"""Frozen encoders shared in the process, and the features they computed.

A frozen encoder's outputs on a text never change, so skbert computes them
once. One `SharedEncoder` per (encoder, ``max_seq_length``, number of
segments) is loaded per process and used by every estimator with
``train_encoder=False`` and by `BertVectorizer`. It keeps, for each distinct
text, the outputs asked of it, in a store of at most
``$SKBERT_FEATURE_CACHE_MB`` MiB (default 1024; least recently used entries
go first). A grid search over head options, cross-validation folds and
repeated ``predict`` calls thus run the encoder once per distinct text.

Examples
--------
>>> import skbert
>>> skbert.clear_feature_cache()
>>> vec = skbert.BertVectorizer("tiny_random_en_uncased").fit(["a", "b"])
>>> _ = vec.transform(["one text", "another", "one text"])
>>> _ = vec.transform(["another"])
>>> info = skbert.feature_cache_info()
>>> info["texts_encoded"], info["lookups"], info["hits"]
(2, 4, 1)
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from skbert import progress
from skbert.batching import sorted_batches, text_gather, text_lengths
from skbert.model import load_encoder, runner

CACHE_ENV = "SKBERT_FEATURE_CACHE_MB"
#: Fixed cost of a stored entry beyond its arrays, for the size bound.
_ENTRY_OVERHEAD = 200

_lock = threading.RLock()
_encoders: dict[tuple, SharedEncoder] = {}
_store: OrderedDict[tuple, dict[str, np.ndarray]] = OrderedDict()
_stats = {"texts_encoded": 0, "lookups": 0, "hits": 0, "bytes": 0}


def _max_bytes() -> int:
    value = os.environ.get(CACHE_ENV, "1024")
    try:
        return int(float(value) * 2**20)
    except ValueError:
        raise ValueError(
            f"${CACHE_ENV}={value!r}; set it to the feature cache size in MiB, "
            "e.g. 1024 (0 turns the cache off)."
        ) from None


def _identity(config) -> tuple:
    """What names an encoder's weights: its handles and, for local ones, mtimes."""
    from skbert.encoders import resolve_encoder

    handles = resolve_encoder(config.encoder).materialize()
    stamps = tuple(
        (Path(h) / "saved_model.pb").stat().st_mtime_ns
        for h in handles
        if (Path(h) / "saved_model.pb").is_file()
    )
    return handles, stamps, config.max_seq_length, config.n_segments


class SharedEncoder:
    """A frozen encoder network and its packer, loaded once per process.

    Use `shared_encoder`; `features` reads the store before running the
    encoder.
    """

    def __init__(self, key: tuple, config):
        from skbert.onnx_graph import network_variants

        self.key = key
        self.packer, self.model = load_encoder(config, trainable=False)
        length = self.packer.max_seq_length
        self._runners = {jit: runner(self.model, length, jit) for jit in (False, True)}
        #: The encoder as ONNX graphs (`skbert.runtime.OnnxVariants`), built on use.
        self.onnx = network_variants(self, config)

    def features(
        self,
        segments,
        names,
        batch_size: int,
        jit_compile: bool = False,
        backend: str = "tensorflow",
    ) -> dict[str, object]:
        """The encoder outputs `names` for every example of `segments`.

        Examples not in the store run through the encoder on `backend`
        (TensorFlow, XLA-compiled if `jit_compile`, or an ONNX Runtime
        backend of `skbert.runtime.BACKENDS`); each backend has its own
        entries in the store.

        Returns
        -------
        dict
            ``name: ndarray [n, hidden]`` (float32), except
            ``sequence_output``: a list of ``[length, hidden]`` arrays, one per
            example, cut to its real tokens.
        """
        keys = list(zip(*segments))
        store_key = (self.key, backend)
        with _lock:
            _stats["lookups"] += len(keys)
            found = {}
            for key in keys:
                entry = _store.get((store_key, key))
                if entry is not None and all(n in entry for n in names):
                    _store.move_to_end((store_key, key))
                    found[key] = entry
            _stats["hits"] += sum(key in found for key in keys)
        missing = list(dict.fromkeys(k for k in keys if k not in found))
        # Progress counts examples: repeated and stored ones are done now.
        progress.advance(len(keys) - len(missing))
        if missing:
            if backend == "tensorflow":
                entries = self._encode(missing, names, batch_size, jit_compile)
            else:
                entries = self._encode_onnx(missing, names, batch_size, backend)
            _remember(store_key, entries)
            found.update(entries)
        result = {name: [found[key][name] for key in keys] for name in names}
        return {
            name: values if name == "sequence_output" else np.stack(values)
            for name, values in result.items()
        }

    def _encode(self, keys, names, batch_size, jit_compile) -> dict[tuple, dict]:
        segments = tuple(np.array(column, dtype=object) for column in zip(*keys))
        gather, run = text_gather(segments, self.packer), self._runners[jit_compile]
        entries = {}
        for index in sorted_batches(text_lengths(segments), batch_size):
            outputs = {k: v.numpy() for k, v in run(gather(index)).items()}
            progress.advance(len(index))
            real = outputs["input_mask"].sum(axis=1)
            for row, example in enumerate(index):
                entry = {}
                for name in names:
                    value = outputs[name][row]
                    if name == "sequence_output":
                        value = value[: real[row]]
                    entry[name] = value.copy()
                entries[keys[example]] = entry
        return entries

    def _encode_onnx(self, keys, names, batch_size, backend) -> dict[tuple, dict]:
        segments = tuple(np.array(column, dtype=object) for column in zip(*keys))
        outputs = self.onnx.model(backend).run(segments, names, batch_size)
        return {
            key: {name: np.array(outputs[name][i]) for name in names}
            for i, key in enumerate(keys)
        }


def _remember(encoder_key: tuple, entries: dict[tuple, dict]) -> None:
    """Store `entries`, merged with what is stored; evict down to the bound."""
    bound = _max_bytes()
    with _lock:
        _stats["texts_encoded"] += len(entries)
        for key, entry in entries.items():
            old = _store.pop((encoder_key, key), None)
            if old is not None:
                _stats["bytes"] -= _size(old)
                entry = {**old, **entry}
            _store[(encoder_key, key)] = entry
            _stats["bytes"] += _size(entry)
        while _store and _stats["bytes"] > bound:
            _, evicted = _store.popitem(last=False)
            _stats["bytes"] -= _size(evicted)


def _size(entry: dict) -> int:
    return _ENTRY_OVERHEAD + sum(v.nbytes for v in entry.values())


def shared_encoder(config) -> SharedEncoder:
    """The process's frozen encoder for `config`'s encoder, length and segments."""
    key = _identity(config)
    with _lock:
        if key not in _encoders:
            _encoders[key] = SharedEncoder(key, config)
        return _encoders[key]


def stored_names(head_inputs) -> list[str]:
    """What to store for a head reading `head_inputs` (a mask comes with a sequence)."""
    names = ["pooled_output"] if "pooled_output" in head_inputs else []
    if {"sequence_output", "input_mask"} & set(head_inputs):
        names.append("sequence_output")
    return names


def feature_cache_info() -> dict[str, int]:
    """Counters of the frozen-encoder feature store.

    Returns
    -------
    dict
        ``texts_encoded`` (texts run through an encoder), ``lookups`` (texts
        asked for), ``hits`` (answered from the store), ``entries``,
        ``bytes``, ``max_bytes`` and ``encoders`` (shared encoders loaded).
    """
    with _lock:
        return {
            **_stats,
            "entries": len(_store),
            "max_bytes": _max_bytes(),
            "encoders": len(_encoders),
        }


def clear_feature_cache() -> None:
    """Drop the stored features and the shared encoders; reset the counters."""
    with _lock:
        _store.clear()
        _encoders.clear()
        _stats.update(dict.fromkeys(_stats, 0))
