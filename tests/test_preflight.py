"""Output locations and inputs are validated before the first request (issue 12, item 10): a
bad -o, TRUSTGAUGE_HOME, a model config that is not UTF-8, an invalid server URL and a report
of a file are one line and exit 2, and the OpenAI-compatible test server receives nothing."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from compare_fixtures import tg
from fake_server import FakeServer
from trustgauge.errors import ConfigError, UsageError
from trustgauge.models._http import check_server_url
from trustgauge.pipeline.preflight import check_output_dir, check_run_locations

ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
#: /proc takes no new files, even from root: an unwritable location wherever the tests run
PROC = Path("/proc")


@pytest.fixture(scope="module")
def server() -> Iterator[FakeServer]:
    with FakeServer.start(models=["test-model"]) as srv:
        yield srv


def _received(srv: FakeServer) -> int:
    """Every request the server saw (chat completions and model listings alike)."""
    stats = srv.stats()
    return int(stats["requests"]) + sum(stats["by_endpoint"].values())


def _run_args(srv: FakeServer, out: Path) -> list[str]:
    return ["run", "-m", f"openai-compatible:test-model@{srv.openai_base_url}", "--suite", "quick",
            "-t", "safety.misuse", "-n", "2", "-q", "-o", str(out)]


def _refused(srv: FakeServer, args: list[str], home: Path, needle: str, **env: str) -> None:
    before = _received(srv)
    res = tg(args, home, **env)
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert res.stderr.startswith("error: ") and res.stderr.count("\n") == 1, res.stderr
    assert needle in res.stderr, res.stderr
    assert "Traceback" not in res.stderr
    assert _received(srv) == before, "a request was sent before the check"


def test_a_good_run_does_reach_the_server(server: FakeServer, tmp_path: Path, tg_home: Path) -> None:
    # the control: the counting used below sees the requests of a run that can be saved
    before = _received(server)
    res = tg(_run_args(server, tmp_path / "run"), tg_home)
    assert res.returncode == 0, res.stderr
    assert _received(server) > before and (tmp_path / "run" / "scores.json").is_file()


def test_bad_output_location(server: FakeServer, tmp_path: Path, tg_home: Path) -> None:
    existing = tmp_path / "results.txt"
    existing.write_text("not a run\n")
    _refused(server, _run_args(server, existing), tg_home, "a file of that name exists")
    assert existing.read_text() == "not a run\n"
    _refused(server, _run_args(server, existing / "run"), tg_home, f"{existing} is a file, not a folder")
    if PROC.is_dir():
        _refused(server, _run_args(server, PROC / "trustgauge-run"), tg_home, "cannot write in /proc")
    # a folder holding something other than a run is never replaced (report/rundir.py), so it
    # is refused before the first request, not after every answer was paid for
    other = tmp_path / "notes"
    other.mkdir()
    (other / "todo.txt").write_text("mine\n")
    _refused(server, _run_args(server, other), tg_home, "holds something other than a run")
    assert (other / "todo.txt").read_text() == "mine\n"


@pytest.mark.skipif(ROOT, reason="root writes through permission bits")
def test_read_only_output_folder(server: FakeServer, tmp_path: Path, tg_home: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        _refused(server, _run_args(server, locked / "run"), tg_home, "cannot write in")
        existing = tmp_path / "old-run"
        existing.mkdir()
        existing.chmod(0o555)
        _refused(server, _run_args(server, existing), tg_home, "cannot write in")
    finally:
        locked.chmod(0o755)
        (tmp_path / "old-run").chmod(0o755)


def test_bad_trustgauge_home(server: FakeServer, tmp_path: Path) -> None:
    home_file = tmp_path / "home-is-a-file"
    home_file.write_text("x")
    out = tmp_path / "run"
    _refused(server, _run_args(server, out), home_file, f"TRUSTGAUGE_HOME={home_file}: cannot use it as "
             "trustgauge's home (a file, not a folder)")
    _refused(server, _run_args(server, out), home_file / "sub", f"TRUSTGAUGE_HOME={home_file / 'sub'}")
    if PROC.is_dir():
        _refused(server, _run_args(server, out), PROC / "trustgauge-home", "TRUSTGAUGE_HOME=/proc/trustgauge-home")
    if not ROOT:
        locked = tmp_path / "locked-home"
        locked.mkdir()
        locked.chmod(0o555)
        try:
            _refused(server, _run_args(server, out), locked, f"TRUSTGAUGE_HOME={locked}: cannot write in")
        finally:
            locked.chmod(0o755)
    assert not out.exists()


def test_model_config_not_utf8(server: FakeServer, tmp_path: Path, tg_home: Path) -> None:
    config = tmp_path / "model.yaml"
    config.write_bytes(
        f"model: openai-compatible:test-model@{server.openai_base_url}\nsystem_prompt: Caf\xe9\n".encode("latin-1")
    )
    args = ["run", "--model-config", str(config), "--suite", "quick", "-t", "safety.misuse", "-n", "2", "-q",
            "-o", str(tmp_path / "run")]
    _refused(server, args, tg_home, f"cannot read config {config}: not UTF-8 text (byte 0xe9 at offset")


def test_invalid_server_url(server: FakeServer, tmp_path: Path, tg_home: Path) -> None:
    args = ["run", "-m", "openai-compatible:m@http://[::1", "--suite", "quick", "-t", "safety.misuse", "-q",
            "-o", str(tmp_path / "run")]
    _refused(server, args, tg_home, "bad server URL 'http://[::1': Invalid IPv6 URL")


@pytest.mark.parametrize("where", ["spec", "base_url"])
def test_invalid_server_url_before_a_dataset_download(server: FakeServer, tmp_path: Path, tg_home: Path,
                                                      where: str) -> None:
    """Without local data the URL error came only after the dataset download (and behind its
    failure): the URL is checked first, and nothing is downloaded."""
    args = ["run", "-t", "safety.exaggerated", "-n", "2", "-q", "-o", str(tmp_path / "run")]
    if where == "spec":
        args += ["-m", "openai-compatible:m@http://u:pw@h st/v1"]
    else:
        config = tmp_path / "model.yaml"
        config.write_text("model: openai-compatible:m\nbase_url: http://[::1/v1\n", encoding="utf-8")
        args += ["--model-config", str(config)]
    needle = "it contains white space" if where == "spec" else "Invalid IPv6 URL"
    _refused(server, args, tg_home, needle, TRUSTGAUGE_TRUSTLLM_URL="http://127.0.0.1:9/dataset.zip")
    assert not list(tg_home.rglob("*.zip*"))


def test_report_of_a_file(server: FakeServer, tmp_path: Path, tg_home: Path) -> None:
    target = tmp_path / "scores.json"
    target.write_text("{}")
    _refused(server, ["report", str(target)], tg_home, f"{target} is not a trustgauge run directory (a file, not a folder)")
    _refused(server, ["compare", str(target), str(target)], tg_home, "(a file, not a folder)")


def test_check_server_url_by_hand() -> None:
    check_server_url("http://127.0.0.1:8000/v1")
    check_server_url("https://[::1]:8443/v1")
    for url, why in (
        ("http://[::1", "Invalid IPv6 URL"),
        ("http://127.0.0.1:99999/v1", "out of range"),
        ("http://host:abc/v1", "Port could not be cast"),
        ("http:///v1", "no host name"),
        ("ftp://host/v1", "must start with http:// or https://"),
        ("http://host/v 1", "white space"),
    ):
        with pytest.raises(ConfigError, match=why):
            check_server_url(url)
    # a message never shows user-info or a query string (they may hold credentials)
    with pytest.raises(ConfigError) as info:
        check_server_url("http://user:s3cret@[::1/v1?api_key=k3y")
    assert "s3cret" not in str(info.value) and "k3y" not in str(info.value)


def test_probes_leave_nothing_behind(tmp_path: Path) -> None:
    check_output_dir(tmp_path / "new" / "run")
    assert list(tmp_path.iterdir()) == []  # nothing created, the probe file removed
    (tmp_path / "old").mkdir()
    check_run_locations(tmp_path / "old", tmp_path / "store.sqlite3")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old"] and list((tmp_path / "old").iterdir()) == []
    (tmp_path / "store.sqlite3").mkdir()
    with pytest.raises(UsageError, match="is a folder, not a file"):
        check_run_locations(tmp_path / "old", tmp_path / "store.sqlite3")


def test_check_server_url_lives_in_models_http_and_the_preflight_uses_it() -> None:
    """Moved to ``models/_http.py`` (the backends call it; models importing the preflight made a
    package cycle); the preflight (now ``pipeline/preflight.py``) calls that one function, and the
    old ``trustgauge._preflight`` path is gone (issue 13 step 13)."""
    import importlib.util

    from trustgauge.pipeline import preflight

    assert preflight.check_server_url is check_server_url
    assert importlib.util.find_spec("trustgauge._preflight") is None
