"""Is the store on a network file system? (SQLite's WAL mode cannot work there.)

WAL keeps its index in a shared-memory file (``store.sqlite3-shm``) that every process using the
database maps into memory; SQLite's documentation: "all processes using a database must be on
the same host computer; WAL does not work over a network filesystem" (sqlite.org/wal.html),
because NFS, SMB/CIFS, sshfs, 9p and the like do not keep such a mapping coherent between
clients, and several of them do not implement the POSIX locks SQLite takes either. Two runs on
such a store could corrupt it, so :class:`trustgauge.engine.store.Store` refuses it (one line),
unless the user opts in to SQLite's rollback journal (``TRUSTGAUGE_STORE_NETWORK_FS=delete``).

Detection is Linux's ``/proc/self/mountinfo``: the mount whose mount point is the longest
prefix of the store's folder (the last one listed wins, as the kernel lists stacked mounts in
the order they were made) and its file-system type. Elsewhere (no mountinfo) it is a no-op: the
store is assumed local. The mountinfo path is a parameter so tests can feed a fabricated one.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

MOUNTINFO = Path("/proc/self/mountinfo")

#: file-system types (as ``mountinfo`` names them) that live on another machine
NETWORK_FS_TYPES: frozenset[str] = frozenset(
    {
        "nfs", "nfs4", "cifs", "smb3", "smbfs", "smb2", "9p", "afs", "ncpfs", "ncp", "coda",
        "ceph", "glusterfs", "lustre", "gpfs", "beegfs", "orangefs", "pvfs2", "davfs",
        "fuse.sshfs", "fuse.rclone", "fuse.s3fs", "fuse.gcsfuse", "fuse.glusterfs", "fuse.ceph",
        "fuse.ceph-fuse", "fuse.davfs", "fuse.juicefs", "fuse.goofys", "fuse.blobfuse",
        "fuse.blobfuse2", "fuse.mountpoint-s3", "fuse.seaweedfs", "fuse.moosefs", "fuse.lizardfs",
    }
)

_ESCAPE = re.compile(r"\\([0-7]{3})")


@dataclass(frozen=True)
class Mount:
    """A mount of ``mountinfo``: where it is mounted, its file-system type and source."""

    point: str
    fstype: str
    source: str

    @property
    def network(self) -> bool:
        # old sshfs mounts say plain "fuse" with a source "sshfs#user@host:/path"
        return self.fstype in NETWORK_FS_TYPES or (self.fstype == "fuse" and self.source.startswith("sshfs#"))


def _unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash as octal escapes (``\\040``)."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), field)


def parse_mountinfo(text: str) -> list[Mount]:
    """The mounts of a ``/proc/PID/mountinfo`` text, in order; malformed lines are skipped.

    A line: ``ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS``."""
    mounts = []
    for line in text.splitlines():
        head, sep, tail = line.partition(" - ")
        fields, rest = head.split(" "), tail.split(" ")
        if not sep or len(fields) < 6 or len(rest) < 2:
            continue
        mounts.append(Mount(_unescape(fields[4]), _unescape(rest[0]), _unescape(rest[1])))
    return mounts


def mount_of(path: Path, mountinfo: Path | None = None) -> Mount | None:
    """The mount that holds ``path`` (which need not exist yet), or ``None`` when ``mountinfo``
    (default :data:`MOUNTINFO`) cannot be read (not Linux) or names no mount above it."""
    try:
        text = (mountinfo or MOUNTINFO).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    target = os.path.realpath(path)
    best: Mount | None = None
    for mount in parse_mountinfo(text):
        point = mount.point.rstrip("/") or "/"
        inside = target == point or point == "/" or target.startswith(point + "/")
        if inside and (best is None or len(point) >= len(best.point.rstrip("/") or "/")):
            best = mount
    return best


def network_mount(path: Path, mountinfo: Path | None = None) -> Mount | None:
    """The network mount that holds ``path``, or ``None`` when it is local (or unknown)."""
    mount = mount_of(path, mountinfo)
    return mount if mount is not None and mount.network else None
