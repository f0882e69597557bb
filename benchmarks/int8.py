"""Which int8 scheme pays: candidate quantizations of one model against its fp32 graph.

Usage::

    .venv/bin/python benchmarks/int8.py ../shared/data                  # fine-tunes
    .venv/bin/python benchmarks/int8.py ../shared/data --model /tmp/teacher

Without ``--model`` the model is the benchmarks' teacher: the embedded encoder
fine-tuned on 10,000 SST-2 train sentences (seed 0), 2 epochs, ``random_state=0``.
Every candidate quantizes that model's fp32 ONNX graph; for each the run prints
its SST-2 dev accuracy (all 872 sentences), texts/s on SST-2 dev and on the
peers' long texts cut to 128 tokens (``texts.py`` in ``--peers-dir``), at batch
32, and the ratio to fp32. Throughputs are medians of ``--passes`` timed passes
after a warm-up, the systems alternated pass by pass; ``ops`` are the kernels
ONNX Runtime runs after its graph optimizations.

Candidates (``--schemes`` picks some):

- ``shipped``: `skbert.runtime.quantize` as ``"onnxruntime-int8"`` runs it;
- ``dynamic-7bit``: the scheme skbert shipped before (per-channel 7-bit
  weights), with ONNX Runtime's SkipLayerNormalization fusion left on;
- ``dynamic-per-tensor``: 8-bit weights, one scale per matrix;
- ``dynamic-attention``: the shipped scheme, and the attention matmuls
  (activation by activation) quantized too;
- ``static-qdq``: static quantization (QDQ, MinMax) of every matmul,
  activations calibrated on ``--calibration`` training sentences.
"""

from __future__ import annotations

import argparse
import collections
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from harness import shared_texts
from sst2 import read_sst2, train_subset

BATCH_SIZE = 32
TEACHER = {"size": 10_000, "epochs": 2}
SCHEMES = (
    "shipped",
    "dynamic-7bit",
    "dynamic-per-tensor",
    "dynamic-attention",
    "static-qdq",
)


def teacher(data: Path):
    """The embedded encoder fine-tuned on 10,000 SST-2 sentences, 2 epochs."""
    from skbert import BertClassifier

    X, y = train_subset(data / "sst2", TEACHER["size"])
    return BertClassifier(epochs=TEACHER["epochs"], random_state=0).fit(X, y)


# --- candidates -------------------------------------------------------------------


def static_qdq(graph: bytes, tokenizer, texts) -> bytes:
    """Every matmul in QDQ int8, activation ranges from `texts` (MinMax)."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    from skbert.runtime import TOKENS_PER_BATCH, token_batches

    packed = tokenizer.pack((np.array(texts, dtype=object),))
    _, batches = token_batches(packed.lengths, TOKENS_PER_BATCH)

    class Batches(CalibrationDataReader):
        def __init__(self):
            self.feeds = iter(packed.batch(index) for index in batches)

        def get_next(self):
            return next(self.feeds, None)

    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
        source.write_bytes(graph)
        quantize_static(
            source,
            target,
            Batches(),
            quant_format=QuantFormat.QDQ,
            op_types_to_quantize=["MatMul"],
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            per_channel=True,
        )
        return target.read_bytes()


def candidates(names, graph: bytes, tokenizer, calibration):
    """``{name: (graph, fusions to leave off)}`` of each candidate in `names`."""
    from skbert import runtime

    made = {"fp32": (graph, runtime.SLOW_FUSIONS)}
    for name in names:
        if name == "shipped":
            made[name] = (runtime.quantize(graph), runtime.SLOW_FUSIONS)
        elif name == "dynamic-7bit":
            scheme = {**runtime.INT8_SCHEME, "per_channel": True, "reduce_range": True}
            made[name] = (runtime.quantize(graph, scheme), ())
        elif name == "dynamic-per-tensor":
            scheme = {**runtime.INT8_SCHEME, "per_channel": False}
            made[name] = (runtime.quantize(graph, scheme), runtime.SLOW_FUSIONS)
        elif name == "dynamic-attention":
            scheme = {**runtime.INT8_SCHEME, "attention": True}
            made[name] = (runtime.quantize(graph, scheme), runtime.SLOW_FUSIONS)
        elif name == "static-qdq":
            made[name] = (
                static_qdq(graph, tokenizer, calibration),
                runtime.SLOW_FUSIONS,
            )
    return made


# --- measures ---------------------------------------------------------------------


def kernels(graph: bytes, fusions_off) -> dict[str, int]:
    """How many nodes of each kind ONNX Runtime runs after optimizing `graph`."""
    import onnx
    import onnxruntime as ort

    with tempfile.TemporaryDirectory() as tmp:
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.optimized_model_filepath = str(Path(tmp) / "optimized.onnx")
        options.log_severity_level = 3
        ort.InferenceSession(
            graph, options, ["CPUExecutionProvider"], disabled_optimizers=fusions_off
        )
        nodes = onnx.load(options.optimized_model_filepath).graph.node
    counts = collections.Counter(node.op_type for node in nodes)
    return dict(counts.most_common(4))


def logits(model, texts) -> np.ndarray:
    segments = (np.array(texts, dtype=object),)
    return model.run(segments, ["logits"], BATCH_SIZE)["logits"]


def predictions(values: np.ndarray) -> np.ndarray:
    return (values[:, 0] > 0).astype(int) if values.shape[1] == 1 else values.argmax(1)


def rates(models, texts, passes: int) -> dict[str, float]:
    """Texts/s of each model on `texts`: median of `passes`, models alternated."""
    seconds = collections.defaultdict(list)
    for model in models.values():
        logits(model, texts)  # warm-up
    for _ in range(passes):
        for name, model in models.items():
            start = time.perf_counter()
            logits(model, texts)
            seconds[name].append(time.perf_counter() - start)
    return {name: len(texts) / float(np.median(s)) for name, s in seconds.items()}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="folder holding sst2/{train,dev}.tsv")
    parser.add_argument("--model", type=Path, help="a saved skbert classifier")
    parser.add_argument("--peers-dir", type=Path, default=Path("../shared/bench"))
    parser.add_argument("--passes", type=int, default=7)
    parser.add_argument("--calibration", type=int, default=512)
    parser.add_argument("--schemes", nargs="+", choices=SCHEMES, default=SCHEMES)
    args = parser.parse_args(argv)

    import skbert
    from skbert.runtime import OnnxModel, session

    dev, labels = read_sst2(args.data / "sst2" / "dev.tsv")
    sets = {"sst2_dev": dev, "long128": shared_texts(args).long_texts(dev)}
    if args.model is None:
        estimator = teacher(args.data)
    else:  # with TensorFlow: the graph is written anew from the weights
        estimator = skbert.load(args.model)
    variants = estimator._network.predict_onnx
    graph, tokenizer = variants.graph("onnxruntime"), variants.tokenizer()
    calibration, _ = train_subset(args.data / "sst2", args.calibration)

    models, reference = {}, None
    for name, (made, fusions_off) in candidates(
        args.schemes, graph, tokenizer, calibration
    ).items():
        model = models[name] = OnnxModel(made, tokenizer)
        model.session = session(made, fusions_off=fusions_off)
        values = logits(model, dev)
        reference = values if reference is None else reference
        record = {
            "scheme": name,
            "sst2_dev_accuracy": round(
                float(np.mean(predictions(values) == labels)), 4
            ),
            "agreement_with_fp32": round(
                float(np.mean(predictions(values) == predictions(reference))), 4
            ),
            "ops": kernels(made, fusions_off),
        }
        print(json.dumps(record), flush=True)
    for set_name, texts in sets.items():
        measured = rates(models, texts, args.passes)
        for name, rate in measured.items():
            record = {
                "figure": f"predict:{set_name}",
                "scheme": name,
                "texts_per_s": round(rate, 1),
                "ratio_to_fp32": round(rate / measured["fp32"], 2),
                "texts": len(texts),
                "passes": args.passes,
            }
            print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
