"""Run directories written as a whole and verified when read.

Writing: every file goes into a hidden temporary sibling (``.NAME.tmp-PID-XXXX``), ``run.json``
last, and the sibling is then renamed onto the run directory in one step. A directory that
already holds a run (a reused ``-o``) is swapped atomically (Linux ``renameat2`` with
``RENAME_EXCHANGE``; elsewhere two renames, between which the name is briefly missing but
never mixed) and the old run is deleted afterwards. A crash or ``kill -9`` at any point leaves
either the old run or the new one under the name, plus perhaps a hidden sibling that the next
write to the same name removes. A write that fails (a full disk: ``ENOSPC``) removes its
sibling and raises :class:`RunDirError`; the old run, if any, stays as it was.

Reading: ``run.json`` (schema 2) records the SHA-256, size and record count of each data file
(:data:`HASHED`); :func:`verify` checks them and that ``scores.json`` is of the same run. Schema 1
directories (no hashes) are checked by their counts: ``samples.jsonl`` must hold exactly the
samples ``scores.json`` counts per task.
A damaged, truncated or mixed directory raises :class:`RunDirError` (one line, exit 2).
``report.html`` is not hashed: ``trustgauge report`` rewrites it in place.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import hashlib
import os
import secrets
import shutil
import sys
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import BinaryIO

from trustgauge._process import pid_alive
from trustgauge.errors import UsageError
from trustgauge.results.schema import FileDigest, RunInfo, SampleRecord, ScoresFile

#: the files whose content hash run.json records, in writing order (run.json itself comes last)
HASHED: tuple[str, ...] = ("scores.json", "samples.jsonl", "report.md")

#: called with the name of each step of :func:`write_run_dir` (tests put a ``kill -9`` there)
checkpoint: Callable[[str], None] = lambda step: None  # noqa: E731


class RunDirError(UsageError):
    """A run directory cannot be written, or what was read is not one whole run."""


def digest(data: bytes, records: int | None = None) -> FileDigest:
    return FileDigest(sha256=hashlib.sha256(data).hexdigest(), bytes=len(data), records=records)


# ---------------------------------------------------------------------------------- writing


def _remove(path: Path) -> None:
    """Delete a folder tree, or a file or symlink, ignoring errors."""
    if path.is_symlink() or path.is_file():
        with contextlib.suppress(OSError):
            path.unlink()
    else:
        shutil.rmtree(path, ignore_errors=True)


def _remove_stale_siblings(out_dir: Path) -> None:
    """Delete the temporary siblings that crashed writes of ``out_dir`` left behind."""
    prefixes = (f".{out_dir.name}.tmp-", f".{out_dir.name}.old-")
    with contextlib.suppress(OSError):
        for entry in out_dir.parent.iterdir():
            name = entry.name
            prefix = next((p for p in prefixes if name.startswith(p)), None)
            if prefix is None:
                continue
            pid_text = name[len(prefix) :].split("-", 1)[0]
            if pid_text.isdigit() and pid_alive(int(pid_text)):
                continue
            _remove(entry)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directory entries atomically (Linux renameat2); ``False`` when unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False  # old kernel or a filesystem without exchange
    raise OSError(err, os.strerror(err), str(a))


def _check_target(out_dir: Path) -> bool:
    """Whether ``out_dir`` exists (as a run directory or an empty folder) and must be replaced.

    Raises:
        RunDirError: it is a file, or a folder with other content (never deleted)."""
    if not out_dir.exists() and not out_dir.is_symlink():
        return False
    if not out_dir.is_dir():
        raise RunDirError(f"cannot write the run directory {out_dir}: it exists and is not a folder")
    if (out_dir / "run.json").is_file() or not any(out_dir.iterdir()):
        return True
    raise RunDirError(
        f"cannot write the run directory {out_dir}: it exists and holds something other than a run "
        "(choose another -o)"
    )


#: a file's content for :func:`write_run_dir`: its bytes, or a function that writes them to the
#: open file when its turn comes (a large file streamed, or one that vouches for those before it)
FileContent = bytes | Callable[[BinaryIO], object]


def write_run_dir(out_dir: Path, files: Mapping[str, FileContent], write_extra: Callable[[Path], None] | None = None) -> None:
    """Write ``files`` (name -> content, in order) and whatever ``write_extra(tmp_dir)`` writes as
    one new run directory ``out_dir``, replacing the run it may hold, atomically. A content given
    as a function is called with the open file, after ``write_extra`` and the files before it.

    Raises:
        RunDirError: the target is not replaceable, or writing failed (e.g. a full disk); nothing
            is left behind and a run already at ``out_dir`` is untouched.
    """
    out_dir = Path(os.path.realpath(out_dir))  # -o naming a symlink: the run goes where it points
    tmp = out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        replace = _check_target(out_dir)
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_siblings(out_dir)
        os.mkdir(tmp)
        checkpoint("mkdir")
        if write_extra is not None:
            write_extra(tmp)
            checkpoint("extra")
        for name, data in files.items():
            # private to the user, as the files of earlier versions (mkstemp) were
            with os.fdopen(os.open(tmp / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as fh:
                if isinstance(data, bytes):
                    fh.write(data)
                else:
                    data(fh)
                fh.flush()
                os.fsync(fh.fileno())
            checkpoint(f"file:{name}")
        _fsync_dir(tmp)
        checkpoint("before-rename")
        if not replace:
            os.rename(tmp, out_dir)
            checkpoint("renamed")
        elif _exchange(tmp, out_dir):
            checkpoint("exchanged")
            _remove(tmp)  # now holds the old run
        else:
            old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}-{secrets.token_hex(4)}"
            os.rename(out_dir, old)
            checkpoint("old-moved")
            try:
                os.rename(tmp, out_dir)
            except OSError:
                os.rename(old, out_dir)  # put the old run back
                raise
            checkpoint("renamed")
            _remove(old)
        _fsync_dir(out_dir.parent)
    except OSError as exc:
        _remove(tmp)
        reason = exc.strerror or str(exc)
        raise RunDirError(
            f"cannot write the run directory {out_dir}: {reason} (every response is saved in the "
            "store; free space or choose another -o and run the same command again: nothing is sent twice)"
        ) from None
    except BaseException:
        _remove(tmp)
        raise


# ---------------------------------------------------------------------------------- reading

#: results schema versions this version reads
READABLE_VERSIONS: tuple[int, ...] = (1, 2, 3)


def check_version(out_dir: Path, run_json: object) -> None:
    """Refuse a run directory this trustgauge cannot read, before anything else of it is parsed
    (a newer schema may have moved or renamed what today's models expect): one line naming the
    version, the trustgauge that wrote it (``run.json``'s ``trustgauge_version``, which reads it)
    and this one. ``run_json`` is ``run.json`` as parsed JSON; anything not a readable version
    number is left to the schema's own validation."""
    if not isinstance(run_json, dict):
        return
    version = run_json.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool) or version in READABLE_VERSIONS:
        return
    from trustgauge._version import __version__

    newest = max(READABLE_VERSIONS)
    reads = f"reads versions {min(READABLE_VERSIONS)} to {newest}"
    if version < min(READABLE_VERSIONS):
        raise RunDirError(f"{out_dir}: results schema version {version} is not supported (this trustgauge {reads})")
    writer = run_json.get("trustgauge_version")
    writer = " ".join(writer.split()) if isinstance(writer, str) else None  # one line, whatever it holds
    by = f"trustgauge {writer}" if writer else "a newer trustgauge"
    upgrade = f"trustgauge {writer} or later reads it" if by != "a newer trustgauge" else "a newer one reads it"
    raise RunDirError(
        f"{out_dir} has results schema version {version}, written by {by}; this trustgauge "
        f"({__version__}) {reads}: upgrade trustgauge ({upgrade})"
    )


def _damaged(out_dir: Path, what: str) -> RunDirError:
    return RunDirError(
        f"{out_dir}: damaged or mixed run directory ({what}); write it again with the command "
        "that made it (stored responses are reused)"
    )


def verify(
    out_dir: Path, run: RunInfo, scores: ScoresFile, samples: list[SampleRecord], raw: Mapping[str, bytes]
) -> None:
    """Check that the files of ``out_dir`` are one whole run (see the module docstring).

    ``raw`` holds the bytes read of each file in :data:`HASHED` that exists."""
    check_version(out_dir, {"schema_version": run.schema_version, "trustgauge_version": run.trustgauge_version})
    if scores.schema_version != run.schema_version:
        raise _damaged(
            out_dir, f"run.json has schema {run.schema_version}, scores.json {scores.schema_version}"
        )
    if run.schema_version >= 2:
        if not run.files:
            raise _damaged(out_dir, "run.json records no file hashes")
        for name, expected in run.files.items():
            data = raw.get(name)
            if data is None:
                raise _damaged(out_dir, f"{name} is missing")
            if len(data) != expected.bytes:
                raise _damaged(out_dir, f"{name} has {len(data)} bytes, run.json recorded {expected.bytes}")
            if hashlib.sha256(data).hexdigest() != expected.sha256:
                raise _damaged(out_dir, f"{name} is not the file run.json recorded (content hash differs)")
    if scores.run_id != run.run_id:
        raise _damaged(out_dir, f"scores.json is of run {scores.run_id!r}, run.json of {run.run_id!r}")
    if run.schema_version >= 2:
        return  # the hashes vouch for every byte, record counts included
    # schema 1 has no hashes: a samples.jsonl cut short or from another run shows in its counts
    counted = {t.task: t.n_samples for t in scores.tasks}
    found = Counter(s.task for s in samples)
    stray = sorted(set(found) - set(counted))
    if stray:
        raise _damaged(out_dir, f"samples.jsonl holds samples of {stray[0]}, which scores.json does not have")
    if sum(found.values()) != sum(counted.values()) or any(found[t] != n for t, n in counted.items()):
        raise _damaged(
            out_dir,
            f"samples.jsonl holds {sum(found.values())} samples, scores.json counts {sum(counted.values())}",
        )
