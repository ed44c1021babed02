"""The response and judgement store: one SQLite file in WAL mode.

Every response is committed the moment it arrives, in its own transaction, so a crash, Ctrl-C
or ``kill -9`` loses at most the requests in flight. WAL plus a busy timeout lets several runs
share one store without corrupting it. Nothing secret is stored: keys are hashes of the model
identity (no API keys) and the request, and every response and judgement is redacted
(:func:`trustgauge._secrets.redact`) as it enters the store and again as it leaves it (rows
stored by older versions, or before a key was known, never reach a run's files unredacted).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from trustgauge._secrets import redact
from trustgauge.errors import UsageError
from trustgauge.types import Judgement, Request, Response

SCHEMA_VERSION = 1
_CHUNK = 500  # keys per SELECT ... IN (...)

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


class Store:
    """A thread-safe handle on the store file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with _writing(path):
            self._open(path)

    def _open(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), timeout=60.0, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode is durable against process crashes (kill -9); only an OS crash
        # may lose the last transactions.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=60000")
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            for statement in _SCHEMA.strip().split(";"):
                if statement.strip():
                    self._db.execute(statement)
            self._db.execute(
                "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
            self._db.execute("COMMIT")

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
        with self._lock, _writing(self.path):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                before = self._db.total_changes
                self._db.executemany("INSERT OR IGNORE INTO responses VALUES (?, ?, ?, ?, ?)", data)
                added = self._db.total_changes - before
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        self._db.execute("ROLLBACK")
                raise
        return added

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
        with self._lock, _writing(self.path):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany("INSERT OR REPLACE INTO judgements VALUES (?, ?, ?, ?)", data)
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:  # SQLite may have rolled back already (SQLITE_FULL)
                    with contextlib.suppress(sqlite3.Error):
                        self._db.execute("ROLLBACK")
                raise

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
        with self._lock, _writing(self.path):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT OR REPLACE INTO provider_batches VALUES (?, ?, ?, 'open', ?, ?, ?)",
                    (batch_id, provider, model, len(rows), now, now),
                )
                self._db.executemany("INSERT OR REPLACE INTO provider_batch_items VALUES (?, ?, ?, ?)", rows)
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        self._db.execute("ROLLBACK")
                raise

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
            self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
