"""What machine a benchmark figure was measured on: printed next to every result.

Machines here change CPU family from one day to the next (some have AVX-512 and VNNI, whose int8
instructions make the MiniLM judges ~3.5x faster; some only AVX2): a figure without its CPU model
and instruction-set flags cannot be compared with another.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

#: the flags that decide which kernels ONNX Runtime and llama.cpp pick
SPEED_FLAGS = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni",
               "avx512_bf16", "amx_int8", "amx_bf16")


def cpu_description() -> str:
    """``"<model>; <n> CPUs; flags: avx avx2 ..."`` (from /proc/cpuinfo on Linux), plus the class
    the judges' speed depends on: ``AVX2-only`` or ``AVX-512 VNNI``."""
    model, flags = "", set[str]()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name") and not model:
                model = line.split(":", 1)[1].strip()
            elif line.startswith(("flags", "Features")) and not flags:
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    model = model or platform.processor() or platform.machine() or "unknown"
    present = [f for f in SPEED_FLAGS if f in flags]
    if "avx512_vnni" in flags or "avx_vnni" in flags:
        kind = "int8 VNNI"
    elif "avx2" in flags:
        kind = "AVX2-only (no VNNI)"
    else:
        kind = "no AVX2"
    return f"{model}; {os.cpu_count()} CPUs; {kind}; flags: {' '.join(present) or 'n/a'}"


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover - not on Unix
        return "n/a"
