"""Small trained heads on top of sentence embeddings, stored as ``.npz`` files in the package.

A head file holds the weights of a tiny network (no hidden layer = linear/logistic model; one
ReLU hidden layer = MLP; several members = an ensemble whose outputs are averaged), the feature
standardisation, and metadata: the encoder configuration the head was trained with, the feature
set and its version, the training data and the measured agreement. Heads are evaluated with
numpy only; training lives in ``scripts/train_judges.py`` (scikit-learn).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from trustgauge.errors import ConfigError

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]


@dataclass
class Layer:
    weight: F64  # (in, out)
    bias: F64  # (out,)


@dataclass
class Head:
    """A trained head: ``predict(features) -> values`` in 0..1 (probability or regression
    output clipped to 0..1)."""

    output: Literal["logistic", "identity"]
    members: list[list[Layer]]
    mean: F64
    scale: F64
    meta: dict[str, Any] = field(default_factory=dict)
    #: optional monotone map applied last (piecewise linear through these points): e.g. a head
    #: trained on percentile ranks mapped back to the target's scale
    calib_x: F64 | None = None
    calib_y: F64 | None = None

    def predict(self, features: npt.ArrayLike) -> F64:
        x = (np.asarray(features, dtype=np.float64) - self.mean) / self.scale
        outs = []
        for layers in self.members:
            h = x
            for i, layer in enumerate(layers):
                h = h @ layer.weight + layer.bias
                if i < len(layers) - 1:
                    h = np.maximum(h, 0.0)
            outs.append(h[:, 0])
        z = np.mean(outs, axis=0)
        if self.output == "logistic":
            out: F64 = 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))
        else:
            out = np.clip(z, 0.0, 1.0)
        if self.calib_x is not None and self.calib_y is not None:
            out = np.interp(out, self.calib_x, self.calib_y)
        return out

    def save(self, path: Path) -> None:
        arrays: dict[str, Any] = {"mean": self.mean, "scale": self.scale}
        if self.calib_x is not None and self.calib_y is not None:
            arrays["calib_x"], arrays["calib_y"] = self.calib_x, self.calib_y
        shape = []
        for m, layers in enumerate(self.members):
            shape.append(len(layers))
            for i, layer in enumerate(layers):
                arrays[f"m{m}_l{i}_w"] = layer.weight.astype(np.float32)
                arrays[f"m{m}_l{i}_b"] = layer.bias.astype(np.float32)
        meta = {**self.meta, "output": self.output, "layers_per_member": shape}
        arrays["meta"] = np.frombuffer(json.dumps(meta, sort_keys=True).encode("utf-8"), dtype=np.uint8)
        np.savez_compressed(path, **arrays)

    @classmethod
    def load(cls, path: Path | Any) -> Head:
        with np.load(path) as data:
            meta = json.loads(bytes(data["meta"]).decode("utf-8"))
            members = [
                [
                    Layer(data[f"m{m}_l{i}_w"].astype(np.float64), data[f"m{m}_l{i}_b"].astype(np.float64))
                    for i in range(n)
                ]
                for m, n in enumerate(meta["layers_per_member"])
            ]
            return cls(
                output=meta["output"],
                members=members,
                mean=data["mean"].astype(np.float64),
                scale=data["scale"].astype(np.float64),
                meta=meta,
                calib_x=data["calib_x"].astype(np.float64) if "calib_x" in data else None,
                calib_y=data["calib_y"].astype(np.float64) if "calib_y" in data else None,
            )


def packaged_head(name: str) -> Head:
    """Load ``judges/heads/<name>.npz`` shipped in the package."""
    ref = resources.files("trustgauge.judges") / "heads" / f"{name}.npz"
    if not ref.is_file():
        raise ConfigError(f"trained head {name!r} is missing from the installed package (reinstall trustgauge)")
    with resources.as_file(ref) as path:
        return Head.load(path)
