"""Issue 20 item 4: the store and the run directory carry schema versions; an older one is read
or migrated, a newer one is refused with one line saying which trustgauge reads it.

The store fixture ``tests/fixtures/store-v1.sqlite`` was written by the code before schema 2
(commit fae6030's parent): ``trustgauge run -m openai-compatible:test-model@http://127.0.0.1:47391/v1
-t truthfulness.hallucination -n 3`` against the fake server, plus one judgement.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fake_server import FakeServer
from rundir_fixtures import reading_commands, write_synthetic_run
from trustgauge._version import __version__
from trustgauge.cli import app
from trustgauge.config import ModelConfig
from trustgauge.engine import store as store_module
from trustgauge.engine.runner import Engine, RetryPolicy
from trustgauge.engine.store import SCHEMA_VERSION, Store, StoreVersionError
from trustgauge.errors import UsageError
from trustgauge.models.openai_compat import OpenAICompatModel
from trustgauge.types import Request, Response

FIXTURES = Path(__file__).parent / "fixtures"
STORE_V1 = FIXTURES / "store-v1.sqlite"
V1_URL = "http://127.0.0.1:47391/v1"  # where the fixture's responses came from (in their keys)
TASK = "truthfulness.hallucination"


def _copy_v1(home: Path) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    path = home / "store.sqlite3"
    shutil.copyfile(STORE_V1, path)
    return path


def _meta(path: Path) -> dict[str, str]:
    db = sqlite3.connect(path)
    try:
        return dict(db.execute("SELECT key, value FROM meta"))
    finally:
        db.close()


def _tables(path: Path) -> set[str]:
    db = sqlite3.connect(path)
    try:
        return {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        db.close()


def _integrity(path: Path) -> str:
    db = sqlite3.connect(path)
    try:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        db.close()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in text, text
    return lines[0]


# ---------------------------------------------------------------------------------- the store


def test_the_fixture_is_a_version_1_store() -> None:
    assert _meta(STORE_V1) == {"schema_version": "1"}
    assert "claims" not in _tables(STORE_V1)
    assert STORE_V1.stat().st_size < 64 * 1024


def test_a_version_1_store_is_migrated_in_place_and_its_responses_are_read(tmp_path: Path) -> None:
    """The migrated store answers every request it held: the model is never called (its
    server is given a retry policy that would fail at once: nothing listens on the port)."""
    path = _copy_v1(tmp_path / "home")
    with Store(path) as store:
        rows = store.get_rows([key for (key,) in sqlite3.connect(path).execute("SELECT key FROM responses")])
    assert _meta(path) == {"schema_version": str(SCHEMA_VERSION), "written_by": __version__}
    assert SCHEMA_VERSION == 2 and "claims" in _tables(path)
    assert _integrity(path) == "ok"
    assert len(rows) == 3
    # today's cache keys of the stored requests are the keys the old code stored them under
    model = OpenAICompatModel("test-model", V1_URL, None, ModelConfig(model=f"openai-compatible:test-model@{V1_URL}"))
    requests = [Request.model_validate_json(request) for _key, _model, request, _response, _at in rows]
    assert sorted(r.cache_key(model.identity()) for r in requests) == sorted(key for key, *_ in rows)
    with Store(path) as store:
        engine = Engine(model, store, concurrency=2, retry=RetryPolicy(max_retries=0, timeout=2))
        import asyncio

        outcomes = asyncio.run(engine.run(requests))
        judgement = store.get_judgements(["fixture-judgement-key"])["fixture-judgement-key"]
    assert [o.cached for o in outcomes] == [True, True, True] and engine.stats.sent == 0
    expected = {key: Response.model_validate_json(resp).text for key, _m, _r, resp, _a in rows}
    assert {o.key: o.response.text for o in outcomes if o.response} == expected
    assert judgement.label == "refusal" and judgement.raw == "I cannot help with that."


def test_a_run_on_a_version_1_store_sends_nothing_it_holds(tmp_path: Path, tg_home: Path, trustllm_dir: Path) -> None:
    """The whole pipeline (``trustgauge run``) on the fixture: 3 stored answers, 0 requests."""
    if not _port_free(47391):
        pytest.skip("port 47391 (in the fixture's cache keys) is taken on this machine")
    _copy_v1(tg_home)
    with FakeServer.start(port=47391, models=["test-model"]) as server:
        res = CliRunner().invoke(app, ["run", "-m", f"openai-compatible:test-model@{V1_URL}", "-t", TASK,
                                       "--data-dir", str(trustllm_dir), "-q", "-n", "3", "-o", str(tg_home / "run")])
        assert res.exit_code == 0, res.output
        assert server.stats()["requests"] == 0
    run = json.loads((tg_home / "run" / "run.json").read_text())
    assert run["requests"]["cached"] == 3 and run["requests"]["sent"] == 0
    assert _meta(tg_home / "store.sqlite3")["schema_version"] == "2"


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds (TIME_WAIT is fine)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _open_at_once(path: str, barrier: multiprocessing.synchronize.Barrier, results: multiprocessing.Queue) -> None:  # type: ignore[name-defined]
    barrier.wait()
    try:
        with Store(Path(path)) as store:
            results.put(("ok", store.count_responses()))
    except Exception as exc:  # reported to the test
        results.put(("error", repr(exc)))


def test_two_processes_migrating_one_store_at_once(tmp_path: Path) -> None:
    """Four processes open the v1 store at the same instant: one migrates, the others wait for
    its transaction and find version 2; the store is whole."""
    path = _copy_v1(tmp_path / "home")
    ctx = multiprocessing.get_context("fork")  # no new interpreter to import trustgauge in: fast
    barrier, results = ctx.Barrier(4), ctx.Queue()
    procs = [ctx.Process(target=_open_at_once, args=(str(path), barrier, results)) for _ in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
    got = [results.get(timeout=5) for _ in procs]
    assert got == [("ok", 3)] * 4
    assert _meta(path) == {"schema_version": "2", "written_by": __version__}
    assert _integrity(path) == "ok"


def test_a_migration_that_fails_leaves_the_store_at_its_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One transaction: a failure half-way (the claims table made, then an error) undoes it all."""
    path = _copy_v1(tmp_path / "home")
    good = store_module._MIGRATIONS[2]
    monkeypatch.setitem(store_module._MIGRATIONS, 2, (*good, "CREATE TABLE broken (x"))
    with pytest.raises(store_module.StoreWriteError, match="cannot write the store"):
        Store(path)
    assert _meta(path) == {"schema_version": "1"} and "claims" not in _tables(path)
    monkeypatch.setitem(store_module._MIGRATIONS, 2, good)
    with Store(path) as store:
        assert store.count_responses() == 3
    assert _meta(path)["schema_version"] == "2"


def test_a_new_store_is_created_at_the_current_version(tmp_path: Path) -> None:
    path = tmp_path / "new" / "store.sqlite3"
    Store(path).close()
    assert _meta(path) == {"schema_version": str(SCHEMA_VERSION), "written_by": __version__}
    assert {"responses", "judgements", "provider_batches", "provider_batch_items", "claims", "meta"} <= _tables(path)


def _make_newer(path: Path, version: int = 3, written_by: str | None = "9.4.1") -> None:
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(version),))
    if written_by is not None:
        db.execute("INSERT OR REPLACE INTO meta VALUES ('written_by', ?)", (written_by,))
    else:
        db.execute("DELETE FROM meta WHERE key = 'written_by'")
    db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def test_a_newer_store_is_refused_with_one_line_and_left_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "home" / "store.sqlite3"
    Store(path).close()
    _make_newer(path)
    before = _sha(path)
    with pytest.raises(StoreVersionError) as caught:
        Store(path)
    assert str(caught.value) == (
        f"store {path} has schema version 3, written by trustgauge 9.4.1; this trustgauge ({__version__}) "
        "reads up to version 2: upgrade trustgauge (or point TRUSTGAUGE_HOME elsewhere)"
    )
    assert _sha(path) == before and _meta(path)["schema_version"] == "3"
    _make_newer(path, 7, written_by=None)
    with pytest.raises(StoreVersionError, match="schema version 7, written by a newer trustgauge"):
        Store(path)


def test_a_newer_store_stops_a_run_before_any_request(tmp_path: Path, tg_home: Path, trustllm_dir: Path) -> None:
    Store(tg_home / "store.sqlite3").close()
    _make_newer(tg_home / "store.sqlite3")
    with FakeServer.start(models=["test-model"]) as server:
        res = CliRunner().invoke(app, ["run", "-m", f"openai-compatible:test-model@{server.openai_base_url}",
                                       "-t", TASK, "--data-dir", str(trustllm_dir), "-q", "-n", "3",
                                       "-o", str(tmp_path / "run")])
        assert res.exit_code == 2, res.output
        line = one_line(res.output)
        assert "has schema version 3, written by trustgauge 9.4.1" in line and "upgrade trustgauge" in line
        assert server.stats()["requests"] == 0
    assert not (tmp_path / "run").exists()


# ---------------------------------------------------------------------------------- run directories


def _as_newer(run_dir: Path, version: int, writer: str | None) -> None:
    """What a future trustgauge might write: a new schema version, and fields today's reader
    would choke on (a renamed file, a changed type)."""
    run = json.loads((run_dir / "run.json").read_text())
    run["schema_version"] = version
    if writer is None:
        run.pop("trustgauge_version")
    else:
        run["trustgauge_version"] = writer
    run["files"] = [{"name": "samples.parquet"}]  # a list now: today's RunInfo would refuse it
    (run_dir / "run.json").write_text(json.dumps(run))
    (run_dir / "samples.jsonl").unlink()  # moved to another file


def test_a_newer_run_directory_is_refused_by_every_command(tmp_path: Path) -> None:
    good = write_synthetic_run(tmp_path / "good", seed=1, n=20)
    newer = write_synthetic_run(tmp_path / "newer", seed=2, n=20)
    _as_newer(newer, 4, "9.4.1")
    expected = (
        f"{newer} has results schema version 4, written by trustgauge 9.4.1; this trustgauge ({__version__}) "
        "reads versions 1 to 3: upgrade trustgauge (trustgauge 9.4.1 or later reads it)"
    )
    runner = CliRunner()
    for args in reading_commands(newer, good, tmp_path):
        res = runner.invoke(app, args)
        assert res.exit_code == 2, (args, res.output)
        assert one_line(res.output) == f"error: {expected}", (args, res.output)
    from trustgauge.results.results import Results

    with pytest.raises(UsageError, match=re.escape("results schema version 4, written by trustgauge 9.4.1")):
        Results.load(newer)


def test_a_newer_run_without_a_writer_version_still_gets_one_line(tmp_path: Path) -> None:
    newer = write_synthetic_run(tmp_path / "newer", seed=2, n=20)
    _as_newer(newer, 5, None)
    res = CliRunner().invoke(app, ["export", str(newer), "-o", str(tmp_path / "x.json")])
    assert res.exit_code == 2
    assert "results schema version 5, written by a newer trustgauge" in one_line(res.output)


def test_every_older_run_directory_version_is_still_read(tmp_path: Path) -> None:
    """Versions 1 (tests/fixtures/run-v1), 2 (run-v2) and 3 (written now) pass the version check
    and are read by the commands; an unknown older version (0) is one line too."""
    from trustgauge.results.results import Results

    now = write_synthetic_run(tmp_path / "now", seed=3, n=20)
    for run_dir, version in ((FIXTURES / "run-v1", 1), (FIXTURES / "run-v2", 2), (now, 3)):
        assert Results.load(run_dir).run.schema_version == version
        res = CliRunner().invoke(app, ["export", str(run_dir), "-o", str(tmp_path / f"v{version}.json")])
        assert res.exit_code == 0, res.output
    old = write_synthetic_run(tmp_path / "zero", seed=4, n=20)
    run = json.loads((old / "run.json").read_text())
    run["schema_version"] = 0
    (old / "run.json").write_text(json.dumps(run))
    res = CliRunner().invoke(app, ["export", str(old), "-o", str(tmp_path / "z.json")])
    assert res.exit_code == 2 and "results schema version 0 is not supported" in one_line(res.output)


def test_the_preflight_check_reads_the_version_without_writing(tmp_path: Path) -> None:
    """``check_store_file`` (a run's preflight, before judges load or data is read) refuses a
    newer store as :class:`Store` would, and leaves an older one as it is (no migration yet)."""
    from trustgauge.engine.store import check_store_file

    old = _copy_v1(tmp_path / "old")
    before = _sha(old)
    check_store_file(old)
    check_store_file(tmp_path / "none" / "store.sqlite3")  # not there yet: nothing to check
    assert _sha(old) == before and sorted(p.name for p in old.parent.iterdir()) == ["store.sqlite3"]
    newer = tmp_path / "newer" / "store.sqlite3"
    Store(newer).close()
    _make_newer(newer)
    with pytest.raises(StoreVersionError, match=re.escape("has schema version 3, written by trustgauge 9.4.1")):
        check_store_file(newer)
