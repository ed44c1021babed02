"""Write a file all or nothing: a temporary sibling, flushed to disk, renamed over the target.

A reader sees the old file or the new one, never half of either. When anything fails (a full
disk: ``ENOSPC`` from ``write``, ``fsync`` or the writer callable; an interrupt) the temporary
file is removed and the exception propagates unchanged, so each caller keeps its own one-line
message and exit code (docs/reliability.md, "Full disks").
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path

#: the permissions ``open()`` asks for (the umask applies): what a plain write gives
DEFAULT_MODE = 0o666


def temp_sibling(path: Path) -> Path:
    """A hidden, unique name in ``path``'s folder (same file system, so the rename is atomic):
    ``.NAME.PID-XXXXXXXX.tmp``."""
    return path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable; best effort (not every file system allows it)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _create(tmp: Path, mode: int) -> int:
    return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)


def atomic_write_bytes(path: Path | str, data: bytes, *, mode: int = DEFAULT_MODE) -> None:
    """Replace ``path`` with ``data`` atomically. ``mode``: permissions of a new file, before
    the umask (``0o600``: private to the user, as ``tempfile.mkstemp`` makes them)."""
    path = Path(path)
    tmp = temp_sibling(path)
    fd = _create(tmp, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def atomic_write_text(path: Path | str, text: str, *, mode: int = DEFAULT_MODE, encoding: str = "utf-8") -> None:
    """:func:`atomic_write_bytes` of ``text`` encoded (UTF-8 by default; newlines kept as given)."""
    atomic_write_bytes(path, text.encode(encoding), mode=mode)


def atomic_write_with(path: Path | str, write: Callable[[Path], None], *, mode: int = DEFAULT_MODE) -> None:
    """Replace ``path`` with what ``write(tmp)`` writes to the temporary path it is given, for
    writers that want a file name rather than bytes (``pyarrow.parquet.write_table``,
    ``onnx.save``, the ONNX quantiser). The temporary file exists (empty, with ``mode``) when
    ``write`` is called; ``write`` may overwrite it."""
    path = Path(path)
    tmp = temp_sibling(path)
    os.close(_create(tmp, mode))
    try:
        write(tmp)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
