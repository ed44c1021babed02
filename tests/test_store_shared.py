"""Issue 20 item 3: shared stores.

Two ``trustgauge run``s in two processes on one store (one ``TRUSTGAUGE_HOME``) with an
overlapping task, against the fake server (real HTTP on 127.0.0.1, counting the requests for
each prompt): no corruption, and each prompt is requested exactly once. The bound is exact
because a key is claimed (``claims`` table) before it is sent and the other run waits for it;
without the claims, the second run, which looks the whole task up when it starts, would send
every shared prompt the first had not answered yet. A server latency of 0.3 s with 2 requests
in flight per run keeps the shared task in flight for seconds, so the runs overlap for real
(checked from their run.json times).

Also: the claim rules one by one (two handles on one file), and the network file system check
against fabricated ``mountinfo`` files (no network mount can be made here: no NFS/SMB server,
no sshfs; a real local mount, a tmpfs, is checked where root can mount one).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import cli_env
from fake_server import FakeServer
from trustgauge.cli import app
from trustgauge.engine.localfs import mount_of, network_mount, parse_mountinfo
from trustgauge.engine.runner import Engine, RetryPolicy
from trustgauge.engine.store import NETWORK_FS_ENV, Store, StoreLocationError, journal_mode
from trustgauge.errors import PermanentModelError
from trustgauge.models.base import Model
from trustgauge.results.results import Results
from trustgauge.types import Request, Response

SHARED_TASK = "truthfulness.hallucination"
ONLY_A = "fairness.disparagement"
ONLY_B = "ethics.implicit.social_norm"
N = 4  # samples per task


def _start(server: FakeServer, home: Path, tasks: list[str], out: Path, data: Path) -> subprocess.Popen[str]:
    args = [sys.executable, "-m", "trustgauge.cli", "run", "-m", f"openai-compatible:test-model@{server.openai_base_url}",
            "-t", ",".join(tasks), "--data-dir", str(data), "-q", "-n", str(N), "-c", "2", "-o", str(out)]
    return subprocess.Popen(args, env=cli_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)


def _when(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


def test_two_runs_in_two_processes_share_one_store(tmp_path: Path, tg_home: Path, trustllm_dir: Path) -> None:
    with FakeServer.start(models=["test-model"], latency=0.3) as server:
        a = _start(server, tg_home, [ONLY_A, SHARED_TASK], tmp_path / "a", trustllm_dir)
        b = _start(server, tg_home, [SHARED_TASK, ONLY_B], tmp_path / "b", trustllm_dir)
        outs = [p.communicate(timeout=240) for p in (a, b)]
        assert a.returncode == 0 and b.returncode == 0, outs
        stats = server.stats()
    # no corruption: SQLite's own check, and both run directories read and verified whole
    db = sqlite3.connect(tg_home / "store.sqlite3")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored = db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
    claims_left = db.execute("SELECT COUNT(*) FROM claims").fetchone()[0]
    db.close()
    ra, rb = Results.load(tmp_path / "a"), Results.load(tmp_path / "b")
    # the runs really overlapped, by more than the shared task takes to send (N / 2 * 0.3 s)
    start = max(_when(ra.run.started_at), _when(rb.run.started_at))
    end = min(_when(ra.run.finished_at), _when(rb.run.finished_at))
    assert end - start > N / 2 * 0.3, (ra.run.started_at, ra.run.finished_at, rb.run.started_at, rb.run.finished_at)
    # each prompt requested exactly once (a sample may send more than one prompt: count them)
    per_prompt = stats["prompt_requests"]
    prompts = {task: {s.prompt for s in r.samples if s.task == task} for r in (ra, rb) for task in r.run.tasks}
    union = len(prompts[ONLY_A] | prompts[SHARED_TASK] | prompts[ONLY_B])
    assert union >= 3 * N and prompts[SHARED_TASK] and set(per_prompt.values()) == {1}, per_prompt
    assert len(per_prompt) == stats["requests"] == stored and claims_left == 0
    ta, tb = ra.run.requests, rb.run.requests
    assert ta["sent"] + tb["sent"] == stored and ta["failed"] == tb["failed"] == 0
    assert ta["sent"] + ta["cached"] == ta["unique"] and tb["sent"] + tb["cached"] == tb["unique"]
    assert ta["unique"] + tb["unique"] - stored > 0  # the overlap: requests both runs needed
    # both runs answered the shared task alike, whichever process sent each prompt
    shared_a = {s.sample_id: s.response for s in ra.samples if s.task == SHARED_TASK}
    shared_b = {s.sample_id: s.response for s in rb.samples if s.task == SHARED_TASK}
    assert shared_a == shared_b and len(shared_a) == N and all(shared_a.values())


# ---------------------------------------------------------------------------------- claim rules


def _request(i: int) -> Request:
    return Request.user(f"question {i}")


def _put(store: Store, key: str) -> None:
    store.put_response(key, {"backend": "test"}, _request(0), Response(text=f"answer {key}"))


def test_a_claimed_key_is_held_for_others_until_answered(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    with Store(path) as one, Store(path) as two:
        assert one.claim(["k1", "k2"], lease=60) == ({}, ["k1", "k2"], [])
        stored, mine, held = two.claim(["k1", "k2", "k3"], lease=60)
        assert (stored, mine, held) == ({}, ["k3"], ["k1", "k2"])
        assert two.held(["k1", "k2", "k3"]) == {"k1", "k2"} and one.held(["k1", "k3"]) == {"k3"}
        _put(one, "k1")  # the answer and the end of the claim, in one transaction
        one.release(["k2"])  # a failed request: another process may send it
        stored, mine, held = two.claim(["k1", "k2"], lease=60)
        assert set(stored) == {"k1"} and stored["k1"].text == "answer k1" and mine == ["k2"] and held == []
    with Store(path) as three:  # closing dropped every claim its handles still had
        assert three.held(["k2", "k3"]) == set()


def _claims(path: Path, rows: list[tuple[str, str, str, int, float]]) -> None:
    db = sqlite3.connect(path)
    db.executemany("INSERT OR REPLACE INTO claims VALUES (?, ?, ?, ?, ?)", rows)
    db.commit()
    db.close()


def test_claims_of_dead_or_expired_owners_are_taken_over(tmp_path: Path) -> None:
    from trustgauge.engine.store import _HOST

    path = tmp_path / "store.sqlite3"
    Store(path).close()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)  # a process that has exited (kill -9 of a run looks the same)
    alive_pid = os.getppid()
    future, past = time.time() + 600, time.time() - 1
    _claims(path, [
        ("dead", f"{_HOST}:{dead_pid}:x", _HOST, dead_pid, future),
        ("alive", f"{_HOST}:{alive_pid}:x", _HOST, alive_pid, future),
        ("expired", f"{_HOST}:{alive_pid}:x", _HOST, alive_pid, past),
        ("elsewhere", "other-host:1:x", "other-host", 1, future),  # cannot check its pid: trust the expiry
        ("elsewhere-expired", "other-host:1:x", "other-host", 1, past),
    ])
    with Store(path) as store:
        stored, mine, held = store.claim(["dead", "alive", "expired", "elsewhere", "elsewhere-expired"], lease=60)
        assert stored == {} and mine == ["dead", "expired", "elsewhere-expired"] and held == ["alive", "elsewhere"]


def test_a_store_opened_removes_long_expired_claims(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    Store(path).close()
    _claims(path, [("old", "h:1:x", "h", 1, time.time() - 10)])
    Store(path).close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT COUNT(*) FROM claims").fetchone()[0] == 0
    db.close()


class _Model(Model):
    """Answers 'A:<prompt>' after ``delay`` seconds, counting the calls of each prompt."""

    def __init__(self, delay: float = 0.0, fail: bool = False) -> None:
        self.spec = "test:shared"
        self.calls: Counter[str] = Counter()
        self.delay = delay
        self.fail = fail

    def identity(self) -> dict[str, str]:
        return {"backend": "test", "model": "shared"}

    async def generate(self, requests: Sequence[Request]) -> list[Response]:
        for r in requests:
            self.calls[r.prompt] += 1
        await asyncio.sleep(self.delay)
        if self.fail:
            raise PermanentModelError("refused")
        return [Response(text=f"A:{r.prompt}") for r in requests]


def _requests(n: int) -> list[Request]:
    return [Request.user(f"p{i}") for i in range(n)]


def test_two_engines_on_one_store_send_each_request_once(tmp_path: Path) -> None:
    """Two handles (two owners) on one file, in one event loop: the engines run the same
    requests side by side; every prompt reaches a model once, and both get every answer."""
    path = tmp_path / "store.sqlite3"
    one, two = _Model(delay=0.05), _Model(delay=0.05)
    with Store(path) as s1, Store(path) as s2:
        e1, e2 = Engine(one, s1, concurrency=4), Engine(two, s2, concurrency=4)

        async def both() -> tuple[list[Any], list[Any]]:
            return await asyncio.gather(e1.run(_requests(40)), e2.run(_requests(40)))

        out1, out2 = asyncio.run(both())
    calls = one.calls + two.calls
    assert set(calls) == {f"p{i}" for i in range(40)} and set(calls.values()) == {1}, calls
    assert one.calls and two.calls  # the work was shared, not done by one while the other waited
    assert [o.response.text for o in out1] == [o.response.text for o in out2] == [f"A:p{i}" for i in range(40)]
    assert e1.stats.sent + e2.stats.sent == 40 and e1.stats.cached + e2.stats.cached == 40


def test_a_failed_request_is_sent_again_by_the_waiting_run(tmp_path: Path) -> None:
    """A claim ends when its request fails: the run waiting for it sends it itself."""
    path = tmp_path / "store.sqlite3"
    bad, good = _Model(delay=0.2, fail=True), _Model()
    with Store(path) as s1, Store(path) as s2:
        e1 = Engine(bad, s1, concurrency=2, retry=RetryPolicy(max_retries=0, timeout=5))
        e2 = Engine(good, s2, concurrency=2)

        async def both() -> tuple[list[Any], list[Any]]:
            first = asyncio.ensure_future(e1.run(_requests(2)))
            await asyncio.sleep(0.05)  # the first engine has claimed both
            assert s2.held([r.cache_key(bad.identity()) for r in _requests(2)])
            return await asyncio.gather(first, e2.run(_requests(2)))

        out1, out2 = asyncio.run(both())
    assert [o.ok for o in out1] == [False, False] and [o.ok for o in out2] == [True, True]
    assert good.calls == Counter({"p0": 1, "p1": 1})


def test_claims_of_a_killed_run_are_taken_over_at_once(tmp_path: Path) -> None:
    """A process that claimed keys and was killed (-9) leaves its claims; the next run takes
    them over at once (the pid is gone) instead of waiting for their lease (3.5 minutes)."""
    path = tmp_path / "store.sqlite3"
    Store(path).close()
    model = _Model()
    keys = [r.cache_key(model.identity()) for r in _requests(4)]
    code = (f"import sys; from pathlib import Path; from trustgauge.engine.store import Store; "
            f"s = Store(Path({str(path)!r})); s.claim({keys!r}, 600); print('claimed', flush=True); sys.stdin.read()")
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "claimed"
        with Store(path) as store:
            assert store.held(keys) == set(keys)  # alive: its claims stand
    finally:
        proc.kill()
        proc.wait(30)
    with Store(path) as store:
        assert store.held(keys) == set()
        engine = Engine(model, store, concurrency=2)
        started = time.monotonic()
        outcomes = asyncio.run(engine.run(_requests(4)))
    assert all(o.ok for o in outcomes) and engine.stats.sent == 4 and set(model.calls.values()) == {1}
    assert time.monotonic() - started < 5


# ---------------------------------------------------------------------------------- network file systems

MOUNTINFO = """\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
30 22 0:40 / /home rw,relatime shared:10 - nfs4 fileserver:/export/home rw,vers=4.2
31 30 8:2 / /home/u/scratch rw,relatime shared:11 - ext4 /dev/sdb1 rw
32 22 0:41 / /mnt/team\\040share rw,relatime - cifs //nas/team rw
33 22 0:42 / /mnt/remote rw,nosuid,nodev - fuse.sshfs u@host:/data rw
34 22 0:43 / /mnt/old rw - fuse sshfs#u@host:/x rw
35 22 0:44 / /mnt/c rw,noatime - 9p drvfs rw
36 22 0:45 / /mnt/local-fuse rw - fuse.gocryptfs /secret rw
37 22 0:46 / /tmp rw - tmpfs tmpfs rw
38 37 0:47 / /tmp/nfs-on-tmp rw - nfs srv:/x rw
"""


@pytest.fixture
def mountinfo(tmp_path: Path) -> Path:
    path = tmp_path / "mountinfo"
    path.write_text(MOUNTINFO + "garbage line without separator\n")
    return path


@pytest.mark.parametrize(("folder", "fstype"), [
    ("/home/u/.cache/trustgauge", "nfs4"),
    ("/home", "nfs4"),
    ("/home/u/scratch/tg", None),  # a local disk mounted inside the network home
    ("/home2/u", None),  # /home is not a prefix of /home2
    ("/mnt/team share/tg", "cifs"),  # mountinfo writes the space as \040
    ("/mnt/remote/tg", "fuse.sshfs"),
    ("/mnt/old/tg", "fuse"),  # an old sshfs: plain fuse, source sshfs#...
    ("/mnt/c/Users/u", "9p"),  # WSL2's Windows drives
    ("/mnt/local-fuse/tg", None),  # a FUSE file system that is not a network one
    ("/tmp/x", None),
    ("/tmp/nfs-on-tmp/deep/er", "nfs"),
    ("/var/lib/tg", None),
])
def test_the_mount_of_a_folder_is_its_longest_mount_point_prefix(mountinfo: Path, folder: str, fstype: str | None) -> None:
    found = network_mount(Path(folder), mountinfo)
    assert (found.fstype if found else None) == fstype


def test_mountinfo_parsing_and_no_mountinfo() -> None:
    mounts = parse_mountinfo(MOUNTINFO)
    assert len(mounts) == 10 and mounts[3].point == "/mnt/team share" and mounts[3].source == "//nas/team"
    assert mount_of(Path("/x"), Path("/nonexistent/mountinfo")) is None  # not Linux: a no-op
    assert network_mount(Path("/x"), Path("/nonexistent/mountinfo")) is None


def test_a_store_on_a_network_file_system_is_refused_with_one_line(mountinfo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(NETWORK_FS_ENV, raising=False)
    path = Path("/home/u/.cache/trustgauge/store.sqlite3")
    with pytest.raises(StoreLocationError) as caught:
        Store(path, mountinfo=mountinfo)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"the store {path} is on a network file system (nfs4 at /home): SQLite's WAL mode")
    assert "set TRUSTGAUGE_HOME to a folder on a local disk" in message and f"{NETWORK_FS_ENV}=delete" in message
    assert not path.parent.exists() or not path.exists()  # nothing created
    assert journal_mode(Path("/home/u/scratch/store.sqlite3"), mountinfo) == "WAL"


def test_the_network_opt_in_uses_the_rollback_journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``TRUSTGAUGE_STORE_NETWORK_FS=delete`` opens the store with journal_mode=DELETE (no shared
    memory: no ``-shm`` file); a wrong value is one line."""
    fake = tmp_path / "mountinfo"
    fake.write_text(f"22 1 8:1 / / rw - ext4 /dev/sda1 rw\n30 22 0:40 / {tmp_path} rw - nfs4 srv:/x rw\n")
    path = tmp_path / "home" / "store.sqlite3"
    monkeypatch.setenv(NETWORK_FS_ENV, "delete")
    with Store(path, mountinfo=fake) as store:
        assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        _put(store, "k")
        assert not Path(f"{path}-shm").exists() and not Path(f"{path}-wal").exists()
    monkeypatch.setenv(NETWORK_FS_ENV, "yes")
    with pytest.raises(StoreLocationError, match=f"{NETWORK_FS_ENV}='yes': the only value is 'delete'"):
        Store(path, mountinfo=fake)


def test_a_run_on_a_network_store_stops_before_any_request(tmp_path: Path, tg_home: Path, trustllm_dir: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from trustgauge.engine import localfs

    fake = tmp_path / "mountinfo"
    fake.write_text(f"22 1 8:1 / / rw - ext4 /dev/sda1 rw\n30 22 0:40 / {tg_home} rw - nfs srv:/x rw\n")
    monkeypatch.setattr(localfs, "MOUNTINFO", fake)
    monkeypatch.delenv(NETWORK_FS_ENV, raising=False)
    with FakeServer.start(models=["test-model"]) as server:
        res = CliRunner().invoke(app, ["run", "-m", f"openai-compatible:test-model@{server.openai_base_url}", "-t",
                                       SHARED_TASK, "--data-dir", str(trustllm_dir), "-q", "-n", "2",
                                       "-o", str(tmp_path / "run")])
        assert res.exit_code == 2, res.output
        lines = [line for line in res.output.splitlines() if line.strip()]
        assert len(lines) == 1 and "is on a network file system (nfs at" in lines[0], res.output
        assert server.stats()["requests"] == 0


def test_real_mounts_of_this_machine(tmp_path: Path) -> None:
    """The real /proc/self/mountinfo: the test's folder is local; where root can mount a tmpfs,
    a folder inside it is found on that mount (a real mount's longest prefix). No network file
    system can be mounted here (no server), so that branch is tested with fabricated files."""
    if not Path("/proc/self/mountinfo").is_file():
        pytest.skip("no /proc/self/mountinfo (not Linux)")
    assert network_mount(tmp_path) is None
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {res.stderr.decode().strip()}")
    try:
        found = mount_of(mnt / "home" / "store.sqlite3")
        assert found is not None and found.point == str(mnt) and found.fstype == "tmpfs" and not found.network
        with Store(mnt / "home" / "store.sqlite3") as store:
            assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        subprocess.run(["umount", str(mnt)], check=False)
