"""ONNX graphs of skbert's networks, written from their fitted weights.

An encoder that skbert exported (`skbert.modeling.bert.BertNetwork` saved as
a TF Hub SavedModel: the embedded default, converted checkpoints,
``tiny_random_en_uncased``) is written op by op from the weights the
``hub.KerasLayer`` holds (fine-tuned or not); the head is translated layer by
layer from its functional Keras model. A network that holds anything else
(a third-party TF Hub encoder, a head layer with no translation) raises
`NotExportable`, which says what could not be written.

The graph takes ``input_word_ids``, ``input_mask`` and ``input_type_ids``
(int64, ``[batch, length]``) and returns ``logits`` (with a head) or the
encoder outputs `ENCODER_OUTPUTS`. Query and key scaling is folded into the
query weights, and the query, key and value projections are one matmul.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from skbert.encoders import local_handle
from skbert.inputs import INPUT_NAMES
from skbert.modeling.config import BertConfig, bert_name, encoder_config
from skbert.runtime import NotExportable

OPSET = 18
#: What an encoder-only graph returns, as `skbert.model.encoder_network` names it.
ENCODER_OUTPUTS = (
    "pooled_output",
    "sequence_output",
    "mean_pooling",
    "max_pooling",
    "cls_pooling",
)
#: skbert's BERT variables: ``bert_network/...`` (``bert_network_1/...`` when
#: TensorFlow has made the name unique in the process).
_MASK_VALUE = -1e9


class GraphBuilder:
    """Nodes and initializers of one ONNX graph, with fresh names for values.

    Names are ``{prefix}{hint}_{count}``: a `prefix` keeps the names of nodes
    added to an existing graph apart from its own.
    """

    def __init__(self, prefix: str = ""):
        self.nodes: list = []
        self.initializers: list = []
        self._count = 0
        self._prefix = prefix

    def name(self, hint: str) -> str:
        self._count += 1
        return f"{self._prefix}{hint}_{self._count}"

    def const(self, value, hint: str = "const", dtype=np.float32) -> str:
        name = self.name(hint)
        self.initializers.append(
            numpy_helper.from_array(np.asarray(value, dtype=dtype), name)
        )
        return name

    def ints(self, values, hint: str = "shape") -> str:
        return self.const(values, hint, np.int64)

    def op(self, op_type: str, *inputs: str, outputs: int = 1, **attrs):
        names = [self.name(op_type.lower()) for _ in range(outputs)]
        self.nodes.append(helper.make_node(op_type, list(inputs), names, **attrs))
        return names[0] if outputs == 1 else names

    def dense(self, x: str, kernel, bias=None, hint: str = "dense") -> str:
        y = self.op("MatMul", x, self.const(kernel, f"{hint}_kernel"))
        if bias is not None:
            y = self.op("Add", y, self.const(bias, f"{hint}_bias"))
        return y

    def layer_norm(self, x: str, gamma, beta, epsilon: float) -> str:
        return self.op(
            "LayerNormalization",
            x,
            self.const(gamma, "ln_gamma"),
            self.const(beta, "ln_beta"),
            axis=-1,
            epsilon=float(epsilon),
        )

    def gelu(self, x: str) -> str:
        """Exact GELU, ``x * (1 + erf(x / sqrt 2)) / 2``.

        Written as ONNX Runtime's Gelu fusion reads it (a Div, not a Mul by
        ``1 / sqrt 2``), so it runs as one kernel (BiasGelu with its Add).
        """
        erf = self.op("Erf", self.op("Div", x, self.const(math.sqrt(2))))
        half = self.op("Mul", x, self.const(0.5))
        return self.op("Mul", half, self.op("Add", erf, self.const(1.0)))

    def activation(self, x: str, name: str, where: str) -> str:
        if name == "linear":
            return x
        if name == "gelu":
            return self.gelu(x)
        if name in ("relu", "tanh", "sigmoid"):
            return self.op(name.capitalize(), x)
        if name == "softmax":
            return self.op("Softmax", x, axis=-1)
        if name in ("swish", "silu"):
            return self.op("Mul", x, self.op("Sigmoid", x))
        raise NotExportable(
            f"{where} uses activation {name!r}, which skbert cannot write as ONNX "
            "(it writes linear, relu, gelu, tanh, sigmoid, softmax, swish)."
        )

    def model(self, inputs, outputs) -> onnx.ModelProto:
        graph = helper.make_graph(
            self.nodes, "skbert", inputs, outputs, self.initializers
        )
        model = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", OPSET)],
            producer_name="skbert",
        )
        model.ir_version = 8
        return model


# --- encoder ----------------------------------------------------------------------


def hub_weights(layer) -> dict[str, np.ndarray]:
    """The BERT weights a ``hub.KerasLayer`` holds, by name below ``bert_network/``."""
    weights = {}
    for variable in layer.weights:
        name = bert_name(variable.name)
        if name is None:
            raise NotExportable(
                f"encoder variable {variable.name!r} is not one of skbert's BERT "
                "weights."
            )
        weights[name] = variable.numpy()
    return weights


def write_encoder(
    g: GraphBuilder, config: BertConfig, pooling: str, weights: dict, inputs: dict
) -> dict[str, str]:
    """Add the BERT encoder to `g`: its outputs (and the float mask) by name."""
    w = _Weights(weights)
    h, heads = config.hidden_size, config.num_attention_heads
    size = h // heads
    ids, mask, type_ids = (inputs[n] for n in INPUT_NAMES)
    length = g.op("Slice", g.op("Shape", ids), g.ints([1]), g.ints([2]))
    table = g.const(w["embeddings/position_embeddings/embeddings"])
    positions = g.op("Slice", table, g.ints([0]), length, g.ints([0]))
    words = g.op("Gather", g.const(w["embeddings/word_embeddings/embeddings"]), ids)
    types = g.op(
        "Gather", g.const(w["embeddings/token_type_embeddings/embeddings"]), type_ids
    )
    x = g.op("Add", g.op("Add", words, types), positions)
    x = g.layer_norm(
        x,
        w["embeddings/LayerNorm/gamma"],
        w["embeddings/LayerNorm/beta"],
        config.layer_norm_eps,
    )
    float_mask = g.op("Cast", mask, to=TensorProto.FLOAT)
    bias = g.op(
        "Mul",
        g.op("Sub", g.const(1.0), float_mask),
        g.const(_MASK_VALUE),
    )
    bias = g.op("Unsqueeze", bias, g.ints([1, 2]))  # [batch, 1, 1, length]
    split_heads = g.ints([0, 0, heads, size])
    merge_heads = g.ints([0, 0, h])
    scale = 1.0 / math.sqrt(size)
    for i in range(config.num_hidden_layers):
        p = f"encoder/layer_{i}/"
        kernel = np.concatenate(
            [
                w[p + "attention/self/query/kernel"] * scale,
                w[p + "attention/self/key/kernel"],
                w[p + "attention/self/value/kernel"],
            ],
            axis=1,
        )
        bias_qkv = np.concatenate(
            [
                w[p + "attention/self/query/bias"] * scale,
                w[p + "attention/self/key/bias"],
                w[p + "attention/self/value/bias"],
            ]
        )
        qkv = g.dense(x, kernel, bias_qkv, f"layer{i}_qkv")
        q, k, v = g.op("Split", qkv, g.ints([h, h, h]), axis=-1, outputs=3)
        q = g.op("Transpose", g.op("Reshape", q, split_heads), perm=[0, 2, 1, 3])
        k = g.op("Transpose", g.op("Reshape", k, split_heads), perm=[0, 2, 3, 1])
        v = g.op("Transpose", g.op("Reshape", v, split_heads), perm=[0, 2, 1, 3])
        scores = g.op("Add", g.op("MatMul", q, k), bias)
        context = g.op("MatMul", g.op("Softmax", scores, axis=-1), v)
        context = g.op(
            "Reshape", g.op("Transpose", context, perm=[0, 2, 1, 3]), merge_heads
        )
        x = _dense_add_norm(g, x, context, w, p + "attention/output/", config)
        hidden = g.gelu(
            g.dense(
                x,
                w[p + "intermediate/dense/kernel"],
                w[p + "intermediate/dense/bias"],
                f"layer{i}_intermediate",
            )
        )
        x = _dense_add_norm(g, x, hidden, w, p + "output/", config)
    w.check_all_used()
    cls = masked_pooling(g, "cls", x, float_mask)
    mean = masked_pooling(g, "mean", x, float_mask)
    if pooling == "mean":
        pooled = mean
    else:
        pooled = g.op(
            "Tanh",
            g.dense(cls, w.pooler("kernel"), w.pooler("bias"), "pooler"),
        )
    return {
        "pooled_output": pooled,
        "sequence_output": x,
        "mean_pooling": mean,
        "max_pooling": masked_pooling(g, "max", x, float_mask),
        "cls_pooling": cls,
        "float_mask": float_mask,
    }


def _dense_add_norm(g: GraphBuilder, residual, x, w, prefix: str, config) -> str:
    """``LayerNorm(residual + Dense(x))``, weights under `prefix` (BERT's sublayers)."""
    y = g.dense(x, w[prefix + "dense/kernel"], w[prefix + "dense/bias"], prefix)
    return g.layer_norm(
        g.op("Add", residual, y),
        w[prefix + "LayerNorm/gamma"],
        w[prefix + "LayerNorm/beta"],
        config.layer_norm_eps,
    )


class _Weights(dict):
    """Weights by name; a missing one is `NotExportable`, an unused one too."""

    def __init__(self, weights: dict):
        super().__init__(weights)
        self.used: set[str] = set()

    def __getitem__(self, name):
        if name not in self:
            raise NotExportable(f"the encoder has no weight {name!r}.")
        self.used.add(name)
        return super().__getitem__(name)

    def pooler(self, part: str):
        return self[f"pooler/dense/{part}"]

    def check_all_used(self):
        left = set(self) - self.used - {"pooler/dense/kernel", "pooler/dense/bias"}
        if left:
            raise NotExportable(
                "the encoder has weights skbert's BERT does not use: "
                f"{sorted(left)[:3]}"
            )


def masked_pooling(g: GraphBuilder, mode: str, sequence: str, float_mask: str) -> str:
    """``mean``, ``max`` or ``cls`` of ``[batch, length, width]`` over real tokens."""
    if mode == "cls":
        first = g.op("Slice", sequence, g.ints([0]), g.ints([1]), g.ints([1]))
        return g.op("Squeeze", first, g.ints([1]))
    mask = g.op("Unsqueeze", float_mask, g.ints([2]))  # [batch, length, 1]
    if mode == "max":
        shifted = g.op(
            "Add",
            sequence,
            g.op("Mul", g.op("Sub", mask, g.const(1.0)), g.const(1e9)),
        )
        return g.op("ReduceMax", shifted, g.ints([1]), keepdims=0)
    total = g.op("ReduceSum", g.op("Mul", sequence, mask), g.ints([1]), keepdims=0)
    count = g.op("ReduceSum", mask, g.ints([1]), keepdims=0)
    return g.op("Div", total, g.op("Max", count, g.const([1.0])))


# --- head -------------------------------------------------------------------------


def write_head(g: GraphBuilder, head_model, features: dict[str, str]) -> str:
    """Add a functional Keras head to `g`, reading `features`; its logits.

    Each layer of the head is translated: Dense, Dropout (inference: none),
    Identity, Concatenate, Conv1D, and skbert's `MaskedPooling` and
    `AttentionPooling`. Anything else raises `NotExportable`.
    """
    config = head_model.get_config()
    values = {}
    input_layers = config["input_layers"]
    if isinstance(input_layers, dict):
        input_layers = input_layers.values()
    for name, _, _ in input_layers:
        feature = "float_mask" if name == "input_mask" else name
        values[name] = features[feature]
    for entry in config["layers"]:
        if entry["class_name"] == "InputLayer":
            continue
        layer = head_model.get_layer(entry["name"])
        if len(entry["inbound_nodes"]) != 1:
            raise NotExportable(f"head layer {layer.name!r} is called more than once.")
        args = [values[source[0]] for source in entry["inbound_nodes"][0]]
        values[entry["name"]] = _write_layer(g, layer, args)
    (output, _, _), *rest = config["output_layers"]
    if rest:
        raise NotExportable("the head has more than one output.")
    return values[output]


def _write_layer(g: GraphBuilder, layer, args: list[str]) -> str:
    kind = type(layer).__name__
    where = f"head layer {layer.name!r} ({kind})"
    if kind in ("Dropout", "Identity"):
        return args[0]
    if kind == "Dense":
        kernel, *bias = layer.get_weights()
        y = g.dense(args[0], kernel, bias[0] if bias else None, layer.name)
        return g.activation(y, layer.activation.__name__, where)
    if kind == "Concatenate":
        return g.op("Concat", *args, axis=layer.axis)
    if kind == "MaskedPooling":
        return masked_pooling(g, layer.mode, args[0], args[1])
    if kind == "AttentionPooling":
        kernel, bias = layer.score.get_weights()
        scores = g.op("Squeeze", g.dense(args[0], kernel, bias), g.ints([2]))
        penalty = g.op("Mul", g.op("Sub", g.const(1.0), args[1]), g.const(_MASK_VALUE))
        weights = g.op("Softmax", g.op("Add", scores, penalty), axis=1)
        weighted = g.op("Mul", args[0], g.op("Unsqueeze", weights, g.ints([2])))
        return g.op("ReduceSum", weighted, g.ints([1]), keepdims=0)
    if kind == "Conv1D":
        return _conv1d(g, layer, args[0], where)
    raise NotExportable(
        f"{where} has no ONNX translation; predict with inference_backend="
        "'tensorflow', or build the head from Dense, Conv1D, Concatenate, Dropout "
        "and skbert.layers' poolings."
    )


def _conv1d(g: GraphBuilder, layer, x: str, where: str) -> str:
    if layer.data_format != "channels_last" or layer.groups != 1:
        raise NotExportable(f"{where}: only channels_last, ungrouped Conv1D exports.")
    kernel, *bias = layer.get_weights()  # [size, in, filters]
    size = kernel.shape[0]
    (stride,), (dilation,) = layer.strides, layer.dilation_rate
    if layer.padding == "same":
        total = dilation * (size - 1)
        pads = [total // 2, total - total // 2]
    elif layer.padding == "valid":
        pads = [0, 0]
    else:
        raise NotExportable(f"{where}: padding {layer.padding!r} does not export.")
    inputs = [g.op("Transpose", x, perm=[0, 2, 1]), g.const(kernel.transpose(2, 1, 0))]
    if bias:
        inputs.append(g.const(bias[0]))
    y = g.op(
        "Conv",
        *inputs,
        kernel_shape=[size],
        pads=pads,
        strides=[stride],
        dilations=[dilation],
    )
    y = g.op("Transpose", y, perm=[0, 2, 1])
    return g.activation(y, layer.activation.__name__, where)


# --- whole graphs -----------------------------------------------------------------


def network_graph(
    config: BertConfig,
    pooling: str,
    weights: dict[str, np.ndarray],
    head_model=None,
    outputs=ENCODER_OUTPUTS,
) -> onnx.ModelProto:
    """The ONNX graph of an encoder (and head): token ids in, `outputs` or logits out.

    Parameters
    ----------
    config : BertConfig
        Shape of the encoder.
    pooling : {"pooler", "mean"}
        How the encoder makes ``pooled_output``.
    weights : dict
        The encoder's weights, named as `hub_weights` returns them.
    head_model : tf_keras.Model, optional
        A functional head (encoder outputs in, logits out); the graph then
        returns ``logits``.
    outputs : tuple of str
        Without a head: the encoder outputs to return, from `ENCODER_OUTPUTS`.

    Examples
    --------
    >>> import numpy as np
    >>> c = BertConfig(vocab_size=10, hidden_size=4, num_hidden_layers=0,
    ...                num_attention_heads=1, intermediate_size=8)
    >>> w = {"embeddings/word_embeddings/embeddings": np.ones((10, 4)),
    ...      "embeddings/position_embeddings/embeddings": np.ones((512, 4)),
    ...      "embeddings/token_type_embeddings/embeddings": np.ones((2, 4)),
    ...      "embeddings/LayerNorm/gamma": np.ones(4),
    ...      "embeddings/LayerNorm/beta": np.zeros(4)}
    >>> graph = network_graph(c, "mean", w, outputs=("pooled_output",))
    >>> [o.name for o in graph.graph.output]
    ['pooled_output']
    """
    g = GraphBuilder()
    inputs = {name: name for name in INPUT_NAMES}
    features = write_encoder(g, config, pooling, weights, inputs)
    if head_model is not None:
        named = {"logits": write_head(g, head_model, features)}
    else:
        named = {name: features[name] for name in outputs}
    for name, value in named.items():
        g.op("Identity", value)
        g.nodes[-1].output[0] = name
    batch_length = ["batch", "length"]
    graph_inputs = [
        helper.make_tensor_value_info(name, TensorProto.INT64, batch_length)
        for name in INPUT_NAMES
    ]
    graph_outputs = [
        helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in named
    ]
    return g.model(graph_inputs, graph_outputs)


def with_linear_head(
    graph: bytes, weight, bias, normalize: bool, output: str = "logits"
) -> bytes:
    """`graph` with a linear map on its output: embeddings in, `output` out.

    `graph` returns one ``[batch, width]`` output (an encoder's pooling);
    the result returns ``x @ weight.T + bias`` of it, where ``x`` is the
    output L2-normalized if `normalize` (``x / max(|x|, 1e-12)``, as
    `skbert.BertFewShotClassifier` and `skbert.BertZeroShotClassifier`
    normalize), else the output itself.

    Parameters
    ----------
    graph : bytes
        A serialized ONNX model with one output.
    weight : array of shape (n_outputs, width)
    bias : array of shape (n_outputs,)
    normalize : bool
    output : str
        The name of the new output.

    Examples
    --------
    >>> import onnxruntime as ort
    >>> io = [helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", 2])
    ...       for name in ("x", "embeddings")]
    >>> node = helper.make_node("Identity", ["x"], ["embeddings"])
    >>> encoder = helper.make_model(helper.make_graph([node], "g", io[:1], io[1:]))
    >>> graph = with_linear_head(encoder.SerializeToString(), [[1.0, 0.0]], [0.5],
    ...                          normalize=True)
    >>> ort.InferenceSession(graph).run(None, {"x": np.array([[3.0, 4.0]], "f")})
    [array([[1.1]], dtype=float32)]
    """
    model = onnx.load_from_string(graph)
    (embeddings, *rest) = [o.name for o in model.graph.output]
    if rest:
        raise NotExportable("a linear head reads a graph of one output.")
    g = GraphBuilder(prefix="linear_head/")
    x = embeddings
    if normalize:
        norm = g.op("ReduceL2", x, g.ints([1]), keepdims=1)
        x = g.op("Div", x, g.op("Max", norm, g.const([1e-12])))
    weight = np.asarray(weight, dtype=np.float32)
    g.dense(x, weight.T, np.asarray(bias, dtype=np.float32), "linear_head")
    g.nodes[-1].output[0] = output
    model.graph.node.extend(g.nodes)
    model.graph.initializer.extend(g.initializers)
    del model.graph.output[:]
    model.graph.output.append(
        helper.make_tensor_value_info(output, TensorProto.FLOAT, ["batch", len(bias)])
    )
    onnx.checker.check_model(model)
    return model.SerializeToString()


def skbert_network_graph(network, config: dict, outputs=ENCODER_OUTPUTS) -> bytes:
    """The serialized ONNX graph of a built `skbert.model.Network` with `config`.

    Raises `NotExportable` (saying why) for a network skbert cannot write.
    """
    bert_config, pooling = encoder_config(local_handle(encoder_handles(config)[1]))
    layer = find_hub_layer(network.model)
    head = getattr(network, "head_model", None)
    graph = network_graph(bert_config, pooling, hub_weights(layer), head, outputs)
    return graph.SerializeToString()


def encoder_handles(config: dict) -> tuple[str, str]:
    from skbert.encoders import resolve_encoder

    return resolve_encoder(config.encoder).materialize()


def find_hub_layer(model):
    import tensorflow_hub as hub

    for layer in model.layers:
        if isinstance(layer, hub.KerasLayer):
            return layer
        if hasattr(layer, "layers"):
            found = find_hub_layer(layer)
            if found is not None:
                return found
    return None


def vocab_file(config: dict) -> Path:
    """The WordPiece vocabulary inside the encoder's preprocessor SavedModel."""
    path = Path(local_handle(encoder_handles(config)[0])) / "assets" / "vocab.txt"
    if not path.is_file():
        raise NotExportable(
            f"the encoder's preprocessor has no {path.name} asset, so skbert cannot "
            "tokenize its texts outside TensorFlow."
        )
    return path


#: Texts on which the WordPiece tokenizer must give the preprocessor's ids.
PROBES = (
    "Hello World",
    "Crème BRÛLÉE, naïve café!",
    "東京タワー is tall",
    "well... it's 3.14 % off (really)?",
    "emoji 🙂 and ü",
)


def encoder_tokenizer(config: dict, packer):
    """A `WordPieceTokenizer` that gives the ids of `packer` (the TF preprocessor).

    Which case folding the preprocessor does is found by trying both on
    `PROBES`; `NotExportable` if neither gives its ids.
    """
    from skbert.encoders import resolve_encoder
    from skbert.wordpiece import WordPieceTokenizer

    vocab = vocab_file(config)
    spec_lower = resolve_encoder(config.encoder).lower_case
    segments = (np.array(PROBES, dtype=object),) * config.n_segments
    index = np.arange(len(PROBES))
    expected = {
        name: value.numpy()
        for name, value in packer(
            {f"text_{c}": list(s) for c, s in zip("ab", segments)}
        ).items()
    }
    for lower_case in (spec_lower, not spec_lower):
        tokenizer = WordPieceTokenizer(
            vocab, lower_case=lower_case, max_seq_length=config.max_seq_length
        )
        got = tokenizer.pack(segments).batch(index)
        if all(np.array_equal(got[n], expected[n]) for n in INPUT_NAMES):
            return tokenizer
    raise NotExportable(
        "the encoder's preprocessor tokenizes differently from WordPiece with or "
        "without lower-casing, so skbert cannot tokenize its texts outside "
        "TensorFlow."
    )


def network_variants(network, config: dict, outputs=ENCODER_OUTPUTS):
    """`OnnxVariants` of a built network: its graph and tokenizer, built on use."""
    from skbert.runtime import OnnxVariants

    return OnnxVariants(
        lambda: skbert_network_graph(network, config, outputs),
        lambda: encoder_tokenizer(config, network.packer),
    )
