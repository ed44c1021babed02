"""The SQLite store: round trips, crash safety, several writers at once."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

from trustgauge.engine.store import Store
from trustgauge.types import Judgement, Request, Response, Usage

IDENT = {"backend": "test", "model": "m"}


def _writer(path: str, prefix: str, n: int) -> None:
    store = Store(Path(path))
    for i in range(n):
        req = Request.user(f"{prefix}-{i}")
        store.put_response(req.cache_key(IDENT), IDENT, req, Response(text=f"r{i}"))
    store.close()


def test_round_trip(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        req = Request.user("hello")
        key = req.cache_key(IDENT)
        store.put_response(key, IDENT, req, Response(text="hi", usage=Usage(input_tokens=1, output_tokens=1)))
        assert store.get_responses([key, "missing"]) == {key: Response(text="hi", usage=Usage(input_tokens=1, output_tokens=1))}
        j = Judgement(label="refusal", score=0.9, raw="rule", judge="rules@1")
        store.put_judgements([("k1", j)])
        assert store.get_judgements(["k1", "k2"]) == {"k1": j}


def test_lookup_of_many_keys(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        keys = []
        for i in range(1200):  # more than one SELECT chunk
            req = Request.user(f"p{i}")
            keys.append(req.cache_key(IDENT))
            store.put_response(keys[-1], IDENT, req, Response(text=str(i)))
        found = store.get_responses(keys)
    assert len(found) == 1200 and found[keys[1100]].text == "1100"


def test_committed_immediately_visible_to_another_connection(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = Store(path)
    req = Request.user("x")
    store.put_response(req.cache_key(IDENT), IDENT, req, Response(text="y"))
    # another process/connection sees it without the first one closing: no open transaction
    other = sqlite3.connect(path)
    assert other.execute("SELECT COUNT(*) FROM responses").fetchone() == (1,)
    other.close()
    store.close()


def test_concurrent_writers_do_not_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    Store(path).close()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(path), f"w{j}", 300)) for j in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert db.execute("SELECT COUNT(*) FROM responses").fetchone() == (900,)
    db.close()


def test_nothing_secret_in_the_store(tmp_path: Path) -> None:
    # the store holds identities and requests only; no field for keys exists
    with Store(tmp_path / "s.db") as store:
        req = Request.user("p")
        store.put_response(req.cache_key(IDENT), IDENT, req, Response(text="r"))
    cols = [r[1] for r in sqlite3.connect(tmp_path / "s.db").execute("PRAGMA table_info(responses)")]
    assert cols == ["key", "model", "request", "response", "created_at"]
