"""Write the MiniLM encoder graph skeletons shipped in ``src/trustgauge/judges/data``
(``minilm-g<GRAPH_VERSION>-{int8,fp32}.skeleton.gz``): :func:`build_graph`'s graphs without
the tensors that come from the weights, which the first use fills in from ``model.safetensors``
(issue 14: the first build no longer imports onnx or runs shape inference). Run it after any
change to ``build_graph`` (and bump ``GRAPH_VERSION`` if the graph changes);
tests/test_encoder_int8.py fails while a skeleton differs from what this writes.

    python scripts/encoder_skeletons.py
"""

from __future__ import annotations

import gzip
import json

from safetensors.numpy import load_file

from trustgauge.judges._encoder import build_graph, locate_weights, skeleton_path, split_skeleton


def skeleton_bytes(quantize: bool) -> bytes:
    folder = locate_weights()
    weights = load_file(str(folder / "model.safetensors"))
    config = json.loads((folder / "config.json").read_text())
    return split_skeleton(build_graph(weights, config, quantize=quantize), weights)


def main() -> int:
    for quantize in (True, False):
        path = skeleton_path(quantize)
        path.write_bytes(gzip.compress(skeleton_bytes(quantize), compresslevel=9, mtime=0))
        print(f"{path}: {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
