"""What the GPU checks share: what the machine is (printed with every figure) and how two runs'
answers are compared."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

# -- what the machine is ------------------------------------------------------------------------


def gpu_description() -> str:
    """``"NVIDIA A10G, 23028 MiB; driver 550.54"`` per GPU from ``nvidia-smi``, else torch's
    device name, else ``"no GPU"``."""
    if shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(
                ["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
                capture_output=True, text=True, timeout=30, check=True,
            ).stdout
            gpus = [line.strip() for line in out.splitlines() if line.strip()]
            if gpus:
                return "; ".join(gpus)
        except (OSError, subprocess.SubprocessError):
            pass
    try:
        import torch

        if torch.cuda.is_available():
            return "; ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
    except ImportError:
        pass
    return "no GPU"


def versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for name in ("vllm", "torch", "transformers", "trustgauge"):
        try:
            module = __import__(name)
            out[name] = str(getattr(module, "__version__", "?"))
        except ImportError:
            out[name] = "not installed"
    return out


# -- the answers compared -----------------------------------------------------------------------


def answers(samples_jsonl: Path) -> dict[str, str]:
    """``task/sample_id[/turn N]`` -> the model's text, from a run's ``samples.jsonl`` (every
    turn of a multi-turn probe that went to the target)."""
    out: dict[str, str] = {}
    for line in samples_jsonl.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        key = f"{record['task']}/{record['sample_id']}"
        out[key] = str(record.get("response") or "")
        for n, turn in enumerate(record.get("turns") or []):
            if turn.get("role") in (None, "target"):
                response = turn.get("response")
                text = response.get("text") if isinstance(response, dict) else response
                out[f"{key}/turn {n}"] = str(text or "")
    return out


def compare_answers(a: dict[str, str], b: dict[str, str]) -> dict[str, Any]:
    """How many of the answers both runs have are the same text; the first differences, each
    with where the texts part."""
    common = sorted(set(a) & set(b))
    differ = []
    for key in common:
        if a[key] != b[key]:
            at = next((i for i, (x, y) in enumerate(zip(a[key], b[key])) if x != y), min(len(a[key]), len(b[key])))
            differ.append({"sample": key, "at": at, "a": a[key][max(0, at - 40): at + 80], "b": b[key][max(0, at - 40): at + 80]})
    return {
        "compared": len(common),
        "only_in_a": len(set(a) - set(b)),
        "only_in_b": len(set(b) - set(a)),
        "equal": len(common) - len(differ),
        "agreement": (len(common) - len(differ)) / len(common) if common else 0.0,
        "differences": differ,
    }
