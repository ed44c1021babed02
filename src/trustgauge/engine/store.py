"""The response and judgement store: one SQLite file in WAL mode.

Every response is committed the moment it arrives, in its own transaction, so a crash, Ctrl-C
or ``kill -9`` loses at most the requests in flight. WAL plus a busy timeout lets several runs
share one store without corrupting it. Nothing secret is stored: keys are hashes of the model
identity (no API keys) and the request, and every response and judgement is redacted
(:func:`trustgauge._secrets.redact`) as it enters the store and again as it leaves it (rows
stored by older versions, or before a key was known, never reach a run's files unredacted).

Versions: ``meta.schema_version`` says what the file holds (:data:`SCHEMA_VERSION`) and
``meta.written_by`` which trustgauge created or last migrated it. An older store is migrated in
place, in the one ``BEGIN IMMEDIATE`` transaction that opens it (two processes opening it at
once: the second finds it migrated); a newer one is refused with one line before anything is
written. 1: responses, judgements, provider batches. 2: ``claims`` (below) and ``written_by``.

Shared stores: two runs (two processes) on one store with overlapping requests do not pay twice.
Before a fresh request is sent, its key is *claimed* (table ``claims``: owner, host, pid, expiry)
in the transaction that also checks the store for an answer another process committed meanwhile;
a key another live process has claimed is waited for instead of sent. A claim ends when its
response is committed (an answer comes before any claim), when the request fails (deleted), and
when its handle closes; one left by a killed process is taken over at once (its pid is gone) or,
from another host, when it expires. The store refuses a
folder on a network file system (:mod:`trustgauge.engine.localfs`): WAL needs shared memory.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from trustgauge._process import pid_alive
from trustgauge._secrets import redact
from trustgauge._version import __version__
from trustgauge.engine.localfs import network_mount
from trustgauge.errors import UsageError
from trustgauge.types import Judgement, Request, Response

#: the store schema this trustgauge writes and reads (older ones are migrated to it)
SCHEMA_VERSION = 2
_CHUNK = 500  # keys per SELECT ... IN (...)

#: the opt-in for a store on a network file system: ``delete`` = SQLite's rollback journal
NETWORK_FS_ENV = "TRUSTGAUGE_STORE_NETWORK_FS"

#: schema 1, as the first versions created it (every store starts here, then migrates)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    request TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS judgements (
    key TEXT PRIMARY KEY,
    judge TEXT NOT NULL,
    judgement TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS provider_batches (
    batch_id TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    state TEXT NOT NULL,
    requests INTEGER NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS provider_batch_items (
    batch_id TEXT NOT NULL,
    custom_id TEXT NOT NULL,
    key TEXT NOT NULL,
    request TEXT NOT NULL,
    PRIMARY KEY (batch_id, custom_id)
);
"""

#: version -> the statements that bring a store from the version before to it
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    # 2: a fresh request's key is claimed by the process about to send it, so a second run on
    # the same store waits for that answer instead of paying for it again (see the docstring)
    2: (
        """CREATE TABLE IF NOT EXISTS claims (
            key TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            host TEXT NOT NULL,
            pid INTEGER NOT NULL,
            expires_at REAL NOT NULL
        )""",
    ),
}


def redact_response(response: Response) -> Response:
    """``response`` with every secret removed from its text (itself when there is none)."""
    text = redact(response.text)
    model = redact(response.model) if response.model else response.model
    if text is response.text and model is response.model:
        return response
    return response.model_copy(update={"text": text, "model": model})


def redact_judgement(judgement: Judgement) -> Judgement:
    """``judgement`` with every secret removed from the judge's raw output and label."""
    raw = redact(judgement.raw) if judgement.raw else judgement.raw
    label = redact(judgement.label)
    if raw is judgement.raw and label is judgement.label:
        return judgement
    return judgement.model_copy(update={"raw": raw, "label": label})


def _chunks(items: Sequence[str], size: int = _CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class StoredBatch:
    """A provider batch recorded in the store (``trustgauge run --batch``): its id, provider,
    state (``open``: not yet downloaded; ``done``; ``failed``: rejected at validation; ``lost``:
    the provider no longer knows it) and, per custom id, the cache key and request it answers."""

    batch_id: str
    provider: str
    state: str
    items: dict[str, tuple[str, Request]]
    created_at: float
    #: the identity of the model it was submitted for (no secret)
    model_identity: dict[str, str] | None = None


class StoreWriteError(UsageError):
    """The store cannot be written (full disk, read-only or locked file); what it holds stays."""


@contextlib.contextmanager
def _writing(path: Path) -> Iterator[None]:
    """Turn a failed write (``sqlite3.OperationalError: database or disk is full``, ``OSError``)
    into one line; every transaction committed before stays in the file."""
    try:
        yield
    except (sqlite3.Error, OSError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise StoreWriteError(
            f"cannot write the store {path}: {reason} (every response stored before is kept; free space "
            "or point TRUSTGAUGE_HOME elsewhere, then run the same command again)"
        ) from None


class StoreVersionError(UsageError):
    """The store was written by a newer trustgauge (a schema version this one does not read)."""


class StoreLocationError(UsageError):
    """The store's folder is on a network file system (SQLite's WAL cannot work there)."""


_HOST = socket.gethostname()


def journal_mode(path: Path, mountinfo: Path | None = None) -> str:
    """SQLite's journal mode for a store at ``path``: ``WAL`` on a local disk; on a network file
    system ``DELETE`` (the rollback journal, whose file locks NFSv4 and SMB provide) when the user
    opted in with ``TRUSTGAUGE_STORE_NETWORK_FS=delete``.

    Raises:
        StoreLocationError: on a network file system without the opt-in, or a bad opt-in value.
    """
    mount = network_mount(path.parent, mountinfo)
    if mount is None:
        return "WAL"
    choice = os.environ.get(NETWORK_FS_ENV, "").strip().lower()
    if choice == "delete":
        return "DELETE"
    if choice:
        raise StoreLocationError(f"{NETWORK_FS_ENV}={choice!r}: the only value is 'delete'")
    raise StoreLocationError(
        f"the store {path} is on a network file system ({mount.fstype} at {mount.point}): SQLite's WAL mode "
        "needs shared memory that network file systems do not provide, so runs sharing it could corrupt it; "
        f"set TRUSTGAUGE_HOME to a folder on a local disk (or {NETWORK_FS_ENV}=delete to use SQLite's "
        "rollback journal there, from one machine at a time)"
    )


def _newer(path: Path, version: int, written_by: str | None) -> StoreVersionError:
    by = f"trustgauge {written_by}" if written_by else "a newer trustgauge"
    return StoreVersionError(
        f"store {path} has schema version {version}, written by {by}; this trustgauge ({__version__}) reads up "
        f"to version {SCHEMA_VERSION}: upgrade trustgauge (or point TRUSTGAUGE_HOME elsewhere)"
    )


def check_store_file(path: Path, mountinfo: Path | None = None) -> None:
    """What opening the store would refuse, checked without writing to it (a run's preflight,
    before judges load or data is read): a network file system, a newer schema version.

    Raises:
        StoreLocationError, StoreVersionError: as :class:`Store` would.
    """
    journal_mode(path, mountinfo)
    if not path.is_file():
        return
    try:
        # not mode=ro: a read-only connection to a WAL file leaves -wal and -shm behind; this
        # one only reads, and the last connection to close removes them
        db = sqlite3.connect(str(path), timeout=5.0)
    except sqlite3.Error:
        return  # opening it for real gives the one line
    try:
        meta = dict(db.execute("SELECT key, value FROM meta WHERE key IN ('schema_version', 'written_by')"))
    except sqlite3.Error:
        return
    finally:
        db.close()
    version = meta.get("schema_version")
    if version is not None and version.isdigit() and int(version) > SCHEMA_VERSION:
        raise _newer(path, int(version), meta.get("written_by"))


class Store:
    """A thread-safe handle on the store file.

    Args:
        path: the SQLite file (created, or migrated to :data:`SCHEMA_VERSION`, when opened).
        mountinfo: where the mounts are read to refuse a network file system (default
            ``/proc/self/mountinfo``; tests give a fabricated one).

    Raises:
        StoreVersionError: the file has a newer schema version (nothing is written to it).
        StoreLocationError: its folder is on a network file system (see :func:`journal_mode`).
        StoreWriteError: it cannot be created or written.
    """

    def __init__(self, path: Path, *, mountinfo: Path | None = None) -> None:
        self.path = path
        #: who claims keys through this handle: host, pid and a token (two handles, two owners)
        self.owner = f"{_HOST}:{os.getpid()}:{secrets.token_hex(4)}"
        self._claimed: set[str] = set()  # claimed and not yet answered or released
        self._claims_made = False
        self._journal = journal_mode(path, mountinfo)
        with _writing(path):
            self._open(path)

    def _meta(self, key: str) -> str | None:
        try:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return None  # a new file
            raise
        return None if row is None else str(row[0])

    def _version(self) -> int | None:
        text = self._meta("schema_version")
        if text is None:
            return None
        try:
            return int(text)
        except ValueError:
            raise StoreVersionError(f"store {self.path} has an unreadable schema version {text!r}") from None

    def _open(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), timeout=60.0, isolation_level=None, check_same_thread=False)
        try:
            self._db.execute("PRAGMA busy_timeout=60000")
            # refuse a newer store before writing anything to it (not even the journal mode)
            version = self._version()
            if version is not None and version > SCHEMA_VERSION:
                raise _newer(path, version, self._meta("written_by"))
            self._db.execute(f"PRAGMA journal_mode={self._journal}")
            # NORMAL in WAL mode is durable against process crashes (kill -9); only an OS crash
            # may lose the last transactions.
            self._db.execute("PRAGMA synchronous=NORMAL")
            with self._lock:
                self._migrate(path)
        except BaseException:
            self._db.close()
            raise

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction, taken at once (``BEGIN IMMEDIATE``: another process waits its
        busy timeout instead of failing mid-way); committed when the block ends, rolled back when
        it raises (unless SQLite already did, as it does on SQLITE_FULL)."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
            raise

    def _migrate(self, path: Path) -> None:
        """Create the store or bring it to :data:`SCHEMA_VERSION`, in one transaction: a
        process opening it at the same time waits (busy timeout), then finds it done."""
        with self._transaction():
            version = self._version()  # again, under the write lock: another process may have migrated
            if version is not None and version > SCHEMA_VERSION:
                raise _newer(path, version, self._meta("written_by"))
            if version is None:
                for statement in _SCHEMA.strip().split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                version = 1
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for statement in _MIGRATIONS[target]:
                    self._db.execute(statement)
            if version < SCHEMA_VERSION or self._meta("written_by") is None:
                self._db.execute(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?), ('written_by', ?)",
                    (str(SCHEMA_VERSION), __version__),
                )
            # claims of processes long gone (kill -9 on another host) need not linger
            self._db.execute("DELETE FROM claims WHERE expires_at < ?", (time.time(),))

    # -- responses -------------------------------------------------------------------------
    def get_responses(self, keys: Sequence[str]) -> dict[str, Response]:
        """The stored responses among ``keys``."""
        found: dict[str, Response] = {}
        with self._lock:
            for chunk in _chunks(list(keys)):
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(f"SELECT key, response FROM responses WHERE key IN ({marks})", tuple(chunk))
                for key, blob in rows:
                    found[key] = redact_response(Response.model_validate_json(blob))
        return found

    def put_response(self, key: str, model_identity: dict[str, str], request: Request, response: Response) -> Response:
        """Commit one response now, redacted; returns the redacted response (what a later run
        reads back, so the caller uses the same)."""
        response = redact_response(response)
        row = (
            key,
            json.dumps(model_identity, sort_keys=True),
            request.model_dump_json(),
            response.model_dump_json(),
            time.time(),
        )
        with self._lock, _writing(self.path):
            self._db.execute("INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?)", row)
        # a claim on an answered key is moot (a stored answer comes first for every reader): it
        # is left in the table, saving a write per request, and deleted with the handle's others
        # when it closes (or when it expires)
        self._claimed.discard(key)
        return response

    def get_rows(self, keys: Sequence[str]) -> list[tuple[str, str, str, str, float]]:
        """The stored rows among ``keys`` as they are kept (key, model identity JSON, request
        JSON, response JSON, time stored): what another store takes with :meth:`put_rows`
        (the Ray executor's workers and the run's store exchange responses this way)."""
        found: list[tuple[str, str, str, str, float]] = []
        with self._lock:
            for chunk in _chunks(list(keys)):
                marks = ",".join("?" * len(chunk))
                found.extend(self._db.execute(f"SELECT * FROM responses WHERE key IN ({marks})", tuple(chunk)))
        return found

    def put_rows(self, rows: Sequence[tuple[str, str, str, str, float]]) -> int:
        """Keep rows of another store (:meth:`get_rows`' shape) in one transaction, each response
        redacted again; a key already kept keeps its row (two rows for one key are the same
        answer: keys hash the model identity and the whole request). Returns how many were new."""
        data = [
            (key, model, request, redact_response(Response.model_validate_json(response)).model_dump_json(), created)
            for key, model, request, response, created in rows
        ]
        if not data:
            return 0
        with self._lock, _writing(self.path), self._transaction():
            before = self._db.total_changes
            self._db.executemany("INSERT OR IGNORE INTO responses VALUES (?, ?, ?, ?, ?)", data)
            added = self._db.total_changes - before
        return added

    # -- claims (shared stores) -------------------------------------------------------------
    def _live(self, owner: str, host: str, pid: int, expires_at: float, now: float) -> bool:
        """Whether another owner's claim still stands: not expired, and on this host its
        process is alive (a killed run's claims are taken over at once)."""
        if owner == self.owner or expires_at <= now:
            return False
        return host != _HOST or pid_alive(pid)

    def _held(self, keys: Sequence[str], now: float) -> set[str]:
        held: set[str] = set()
        for chunk in _chunks(list(keys)):
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT key, owner, host, pid, expires_at FROM claims WHERE key IN ({marks})", tuple(chunk)
            )
            held.update(key for key, owner, host, pid, expires in rows if self._live(owner, host, pid, expires, now))
        return held

    def claim(self, keys: Sequence[str], lease: float) -> tuple[dict[str, Response], list[str], list[str]]:
        """Before sending ``keys``: in one transaction, the responses stored meanwhile (by
        another process), the keys now claimed for this handle (send them; the claim lasts
        ``lease`` seconds unless :meth:`refresh`-ed, and ends when the response is committed or
        :meth:`release`-d) and the keys another live process has claimed (wait for them).
        Returns ``(stored, mine, held)``, the lists in the order of ``keys``."""
        now = time.time()
        stored: dict[str, Response] = {}
        with self._lock, _writing(self.path), self._transaction():
            for chunk in _chunks(list(keys)):
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(f"SELECT key, response FROM responses WHERE key IN ({marks})", tuple(chunk))
                for key, blob in rows:
                    stored[key] = redact_response(Response.model_validate_json(blob))
            rest = [k for k in keys if k not in stored]
            held_set = self._held(rest, now)
            mine = [k for k in rest if k not in held_set]
            self._db.executemany(
                "INSERT OR REPLACE INTO claims VALUES (?, ?, ?, ?, ?)",
                [(k, self.owner, _HOST, os.getpid(), now + lease) for k in mine],
            )
        self._claimed.update(mine)
        self._claims_made = self._claims_made or bool(mine)
        return stored, mine, [k for k in rest if k in held_set]

    def held(self, keys: Sequence[str]) -> set[str]:
        """The keys among ``keys`` that another live process has claimed (a read)."""
        with self._lock:
            return self._held(keys, time.time())

    def refresh(self, keys: Sequence[str], lease: float) -> None:
        """Extend this handle's claims on ``keys`` (a request that is being retried)."""
        until = time.time() + lease
        with self._lock, _writing(self.path):
            for chunk in _chunks([k for k in keys if k in self._claimed]):
                marks = ",".join("?" * len(chunk))
                self._db.execute(
                    f"UPDATE claims SET expires_at = ? WHERE owner = ? AND key IN ({marks})", (until, self.owner, *chunk)
                )

    def release(self, keys: Sequence[str]) -> None:
        """Drop this handle's claims on ``keys`` (the request failed or was cancelled): another
        process may send them."""
        mine = [k for k in keys if k in self._claimed]
        if not mine:
            return
        with self._lock, _writing(self.path):
            for chunk in _chunks(mine):
                marks = ",".join("?" * len(chunk))
                self._db.execute(f"DELETE FROM claims WHERE owner = ? AND key IN ({marks})", (self.owner, *chunk))
        self._claimed.difference_update(mine)

    def count_responses(self) -> int:
        with self._lock:
            (n,) = self._db.execute("SELECT COUNT(*) FROM responses").fetchone()
        return int(n)

    # -- judgements ------------------------------------------------------------------------
    def get_judgements(self, keys: Sequence[str]) -> dict[str, Judgement]:
        found: dict[str, Judgement] = {}
        with self._lock:
            for chunk in _chunks(list(keys)):
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(f"SELECT key, judgement FROM judgements WHERE key IN ({marks})", tuple(chunk))
                for key, blob in rows:
                    found[key] = redact_judgement(Judgement.model_validate_json(blob))
        return found

    def put_judgements(self, rows: Iterable[tuple[str, Judgement]]) -> None:
        """Commit a batch of judgements in one transaction (redacted)."""
        now = time.time()
        data = [(key, j.judge, redact_judgement(j).model_dump_json(), now) for key, j in rows]
        if not data:
            return
        with self._lock, _writing(self.path), self._transaction():
            self._db.executemany("INSERT OR REPLACE INTO judgements VALUES (?, ?, ?, ?)", data)

    # -- provider batches (``--batch``) ---------------------------------------------------------
    def add_batch(
        self, batch_id: str, provider: str, model_identity: dict[str, str], items: Sequence[tuple[str, str, Request]]
    ) -> None:
        """Record a batch the provider has just created, with the ``(custom id, cache key,
        request)`` of each of its requests, in one transaction: a run killed after this resumes
        polling the batch instead of paying for it again. Requests hold no secret (as in
        ``responses``); API keys are never stored."""
        now = time.time()
        model = json.dumps(model_identity, sort_keys=True)
        rows = [(batch_id, cid, key, request.model_dump_json()) for cid, key, request in items]
        with self._lock, _writing(self.path), self._transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO provider_batches VALUES (?, ?, ?, 'open', ?, ?, ?)",
                (batch_id, provider, model, len(rows), now, now),
            )
            self._db.executemany("INSERT OR REPLACE INTO provider_batch_items VALUES (?, ?, ?, ?)", rows)

    def batches(
        self, provider: str | None = None, model_identity: dict[str, str] | None = None, state: str | None = None
    ) -> list[StoredBatch]:
        """The recorded batches (oldest first), optionally of one provider, model and state."""
        where, args = [], []
        if provider is not None:
            where.append("provider = ?")
            args.append(provider)
        if model_identity is not None:
            where.append("model = ?")
            args.append(json.dumps(model_identity, sort_keys=True))
        if state is not None:
            where.append("state = ?")
            args.append(state)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        with self._lock:
            heads = self._db.execute(
                f"SELECT batch_id, provider, state, created_at, model FROM provider_batches{clause} ORDER BY created_at, batch_id",
                tuple(args),
            ).fetchall()
            out = []
            for batch_id, prov, st, created, model in heads:
                rows = self._db.execute(
                    "SELECT custom_id, key, request FROM provider_batch_items WHERE batch_id = ?", (batch_id,)
                )
                items = {cid: (key, Request.model_validate_json(blob)) for cid, key, blob in rows}
                out.append(StoredBatch(batch_id, prov, st, items, float(created), json.loads(model)))
        return out

    def set_batch_state(self, batch_id: str, state: str) -> None:
        with self._lock, _writing(self.path):
            self._db.execute(
                "UPDATE provider_batches SET state = ?, updated_at = ? WHERE batch_id = ?", (state, time.time(), batch_id)
            )

    def close(self) -> None:
        with self._lock:
            if self._claims_made:  # answered keys' claims, and any left in flight (others may send them)
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("DELETE FROM claims WHERE owner = ?", (self.owner,))
                self._claimed.clear()
            self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
