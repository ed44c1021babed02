"""Where trustgauge keeps its files: the store, downloaded data, converted models."""

from __future__ import annotations

import os
from pathlib import Path


def home_dir() -> Path:
    """Return ``$TRUSTGAUGE_HOME`` or the per-user cache directory, created if missing."""
    env = os.environ.get("TRUSTGAUGE_HOME")
    if env:
        path = Path(env).expanduser()
    else:
        from platformdirs import user_cache_dir

        path = Path(user_cache_dir("trustgauge", appauthor=False))
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file of that name, a file on the way, no permission
        from trustgauge.errors import UsageError

        what = f"TRUSTGAUGE_HOME={env}" if env else f"trustgauge's cache folder {path}"
        reason = "a file, not a folder" if path.exists() and not path.is_dir() else exc.strerror or str(exc)
        raise UsageError(f"{what}: cannot use it as trustgauge's home ({reason})") from None
    return path


def store_path() -> Path:
    """The SQLite response/judgement store."""
    return home_dir() / "store.sqlite3"


def data_cache_dir() -> Path:
    """Downloaded and verified datasets."""
    path = home_dir() / "data"
    path.mkdir(parents=True, exist_ok=True)
    return path


def model_cache_dir() -> Path:
    """Converted local models (GGUF -> safetensors for transformers, MiniLM -> ONNX);
    ``$TRUSTGAUGE_MODEL_CACHE`` overrides, e.g. to share them between homes."""
    env = os.environ.get("TRUSTGAUGE_MODEL_CACHE")
    path = Path(env).expanduser() if env else home_dir() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path
