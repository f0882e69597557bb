"""Running skbert's ONNX graphs on ONNX Runtime, without TensorFlow.

An `OnnxModel` is a graph (`skbert.onnx_graph`) and the WordPiece tokenizer
of its encoder (`skbert.wordpiece`): texts in, arrays out. Texts are
tokenized once, sorted by length and cut into batches, so padding is
small; the rows come back in the order of the input. This module and what
it imports never import TensorFlow.
"""

from __future__ import annotations

import logging
import os

import numpy as np

from skbert import progress

#: The backends an estimator's ``inference_backend`` names, "auto" aside.
BACKENDS = ("onnxruntime", "onnxruntime-int8", "tensorflow")
#: Most tokens in one ONNX Runtime batch: few enough that a batch's
#: activations stay in the CPU's cache.
TOKENS_PER_BATCH = 1024


class NotExportable(ValueError):
    """A network (encoder or head) that skbert cannot write as ONNX."""


class InferenceBackendWarning(UserWarning):
    """``inference_backend="auto"`` fell back to TensorFlow; the message says why."""


def available_cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def session(graph: bytes, threads: int | None = None, fusions_off=None):
    """An ONNX Runtime CPU session on `graph`, all graph optimizations on.

    One intra-op thread per core (`threads` to override), no inter-op
    threads: a BERT batch is a chain of ops, each parallel in itself. The
    fusions `fusions_off` (default `SLOW_FUSIONS`) are left out.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or available_cores()
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return ort.InferenceSession(
        graph,
        options,
        providers=["CPUExecutionProvider"],
        disabled_optimizers=list(SLOW_FUSIONS if fusions_off is None else fusions_off),
    )


#: ONNX Runtime fusions that slow skbert's graphs down. SkipLayerNormalization
#: (a residual Add and its LayerNorm in one kernel) only forms in the int8
#: graph, whose quantized matmuls absorb their bias Add, and made it slower.
SLOW_FUSIONS = ("SkipLayerNormFusion",)


def token_batches(lengths: np.ndarray, budget: int):
    """Examples sorted by length, cut into batches of at most `budget` tokens.

    A batch is padded to its longest example, so it costs ``rows * longest``
    tokens: short texts go many to a batch, long ones few (at least one).
    Returns the order and the list of index arrays, in that order.

    Examples
    --------
    >>> order, batches = token_batches(np.array([5, 2, 2, 9, 3]), budget=9)
    >>> [b.tolist() for b in batches]
    [[1, 2, 4], [0], [3]]
    """
    order = np.argsort(lengths, kind="stable")
    ordered = lengths[order]
    batches, start = [], 0
    while start < len(order):
        # Rows that fit if the batch ended at each later example.
        fits = (np.arange(1, len(order) - start + 1) * ordered[start:]) <= budget
        stop = start + max(1, int(np.argmin(fits)) if not fits.all() else len(fits))
        batches.append(order[start:stop])
        start = stop
    return order, batches


class OnnxModel:
    """An ONNX graph of a network and its encoder's tokenizer.

    Parameters
    ----------
    graph : bytes
        A serialized ONNX model with inputs ``input_word_ids``,
        ``input_mask`` and ``input_type_ids`` (int64).
    tokenizer : skbert.wordpiece.WordPieceTokenizer
        The tokenizer of the graph's encoder, at its ``max_seq_length``.
    threads : int, optional
        Intra-op threads (default: one per available core).
    """

    def __init__(self, graph: bytes, tokenizer, threads: int | None = None):
        self.tokenizer = tokenizer
        self.session = session(graph, threads)
        self.output_names = [o.name for o in self.session.get_outputs()]

    def run(self, segments, names, batch_size: int) -> dict[str, np.ndarray]:
        """Outputs `names` for every example of `segments`, in input order.

        Batches hold up to ``batch_size * max_seq_length`` tokens, and no
        more than `TOKENS_PER_BATCH` (`token_batches`). ``sequence_output``
        comes as a list of ``[length, width]`` arrays (each example's real
        tokens); the others as ``[n, width]`` arrays.
        """
        packed = self.tokenizer.pack(segments)
        budget = min(batch_size * self.tokenizer.max_seq_length, TOKENS_PER_BATCH)
        order, batches = token_batches(packed.lengths, budget)
        parts: dict[str, list] = {name: [] for name in names}
        for index in batches:
            outputs = self.session.run(names, packed.batch(index))
            progress.advance(len(index))
            for name, value in zip(names, outputs):
                if name == "sequence_output":
                    lengths = packed.lengths[index]
                    parts[name].extend(v[:n] for v, n in zip(value, lengths))
                else:
                    parts[name].append(value)
        inverse = np.empty_like(order)
        inverse[order] = np.arange(len(order))
        result = {}
        for name, values in parts.items():
            if name == "sequence_output":
                result[name] = [values[i] for i in inverse]
            else:
                result[name] = np.concatenate(values)[inverse]
        return result


def quantize(graph: bytes, scheme: dict | None = None) -> bytes:
    """`graph` with its matmul weights in int8 (dynamic quantization).

    Activations are quantized per batch at run time; the embedding tables
    and LayerNorms stay float32. `scheme` (default `INT8_SCHEME`) says how:
    ``per_channel`` (one weight scale per output column, else per matrix),
    ``reduce_range`` (7-bit weights) and ``attention`` (quantize the
    attention matmuls, activation by activation, too).
    """
    import tempfile
    from pathlib import Path

    from onnxruntime.quantization import QuantType, quantize_dynamic

    scheme = {**INT8_SCHEME, **(scheme or {})}
    advice = _DropAdvice()  # to pre-process the model first: meant for its authors
    logging.getLogger().addFilter(advice)
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
        source.write_bytes(graph)
        try:
            quantize_dynamic(
                source,
                target,
                op_types_to_quantize=["MatMul"],
                weight_type=QuantType.QInt8,
                per_channel=scheme["per_channel"],
                reduce_range=scheme["reduce_range"],
                extra_options={"MatMulConstBOnly": not scheme["attention"]},
            )
        finally:
            logging.getLogger().removeFilter(advice)
        return target.read_bytes()


class _DropAdvice(logging.Filter):
    """Drops onnxruntime's root-logger advice to pre-process before quantizing."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Please consider to run pre-proc")


#: How `quantize` quantizes, chosen by ``python benchmarks/int8.py DATA --model M``
#: (the user guide's int8 section has the table). On all-MiniLM-L6-v2 fine-tuned
#: on 10,000 SST-2 sentences: SST-2 dev accuracy 0.8624, as float32, at 1.25x
#: float32's texts/s on SST-2 dev and 1.40x at 128 tokens; 7-bit weights
#: (``reduce_range``) 0.8612 at 1.20x / 1.25x, per-tensor 0.8578, the attention
#: matmuls too 1.18x / 1.28x, static QDQ (calibrated) 1.18x / 1.31x.
INT8_SCHEME = {"per_channel": True, "reduce_range": False, "attention": False}


class OnnxVariants:
    """The fp32 and int8 `OnnxModel` of one network, each built on first use.

    Parameters
    ----------
    graph : callable
        ``graph()`` returns the fp32 graph as bytes (it may raise
        `NotExportable`); called once.
    tokenizer : callable
        ``tokenizer()`` returns the encoder's tokenizer; called once.
    """

    def __init__(self, graph, tokenizer):
        self._graph, self._tokenizer = graph, tokenizer
        self._graphs: dict[str, bytes] = {}
        self._models: dict[str, OnnxModel] = {}

    def graph(self, backend: str = "onnxruntime") -> bytes:
        """The serialized graph for `backend` ("onnxruntime" or "onnxruntime-int8")."""
        if "onnxruntime" not in self._graphs:
            self._graphs["onnxruntime"] = self._graph()
        if backend not in self._graphs:
            self._graphs[backend] = quantize(self._graphs["onnxruntime"])
        return self._graphs[backend]

    def tokenizer(self):
        if not callable(self._tokenizer):
            return self._tokenizer
        self._tokenizer = self._tokenizer()
        return self._tokenizer

    def model(self, backend: str) -> OnnxModel:
        """The session of `backend`'s graph with the tokenizer."""
        if backend not in self._models:
            self._models[backend] = OnnxModel(self.graph(backend), self.tokenizer())
        return self._models[backend]


def choose_backend(network, requested: str) -> str:
    """The backend that runs `network`'s predictions when `requested` is asked for.

    ``"auto"`` becomes ``"onnxruntime"`` if the network's graph can be
    written (tried once per network), else ``"tensorflow"`` with an
    `InferenceBackendWarning`; an ONNX Runtime backend asked for by name
    that cannot be had is a `ValueError`.
    """
    import warnings

    if requested == "tensorflow":
        if network.model is None:
            raise ValueError(
                "This estimator was loaded with backend='onnxruntime' and holds no "
                "TensorFlow network; load it with skbert.load(path) for "
                "inference_backend='tensorflow'."
            )
        return requested
    variants = network.predict_onnx
    try:
        variants.graph(requested if requested != "auto" else "onnxruntime")
        variants.tokenizer()
    except NotExportable as exc:
        if requested != "auto":
            raise ValueError(
                f"inference_backend={requested!r} cannot run this network: {exc} "
                "Use inference_backend='tensorflow' (or 'auto')."
            ) from None
        if not getattr(variants, "warned", False):
            variants.warned = True
            warnings.warn(
                f"Predicting with TensorFlow: {exc}",
                InferenceBackendWarning,
                stacklevel=5,
            )
        return "tensorflow"
    return "onnxruntime" if requested == "auto" else requested


def onnx_outputs(variants: OnnxVariants, backend: str, segments, batch_size: int):
    """The first output of `variants`' graph for `backend` on `segments`."""
    model = variants.model(backend)
    name = model.output_names[0]
    return model.run(segments, [name], batch_size)[name]


class OnnxNetwork:
    """A fitted network that exists only as an ONNX graph (no TensorFlow).

    It stands where a `skbert.network.Network` does in an estimator loaded
    with ``skbert.load(path, backend="onnxruntime")``: no Keras model, no
    frozen encoder; the graph returns what the estimator's methods read.
    """

    model = None

    def __init__(self, graph: bytes, tokenizer):
        self.onnx = OnnxVariants(lambda: graph, tokenizer)

    @property
    def predict_onnx(self) -> OnnxVariants:
        return self.onnx

    def backend(self, requested: str) -> str:
        return choose_backend(self, requested)

    def outputs(self, segments, batch_size: int, jit_compile, backend) -> np.ndarray:
        return onnx_outputs(self.onnx, self.backend(backend), segments, batch_size)
