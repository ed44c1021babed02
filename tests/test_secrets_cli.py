"""Secrets by construction, end to end: a server that reflects every credential it receives
(tests/fake_server.py ``echo_credentials``) in its answers and in 401 messages, a key in each
place a key can go, and a grep of every byte the run writes (run directory, store, cache
markers, stdout, stderr) for the key in every encoding a file could hold it."""

from __future__ import annotations

import base64
import html
import http.server
import json
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import SHARED, cli_env
from fake_server import FakeServer

TASK = "safety.exaggerated"

#: keys of different shapes (each unique, so a leak names its placement)
KEYS = {
    "env": "sk-proj-EnvKey0123456789abcdefABCDEF",  # the provider shape
    "api_key_env": "hunter42",  # short, a plain word-like key
    "key_file": "k3y.*+?[a]{2}(x)|^$\\d\"q",  # regex metacharacters, a quote, a backslash
    "header": "QmFzZTY0S2V5K3dpdGgvc2xhc2hlcz0/+==",  # base64-ish
    "userinfo": "pässwörd-ключ-🔑-Zz9",  # unicode, in the URL's user:password
    "query": "qk_LongQueryToken+With/Slash=and&amp",  # needs URL-encoding in a query
}


def forms(key: str) -> set[str]:
    """Every way ``key`` could appear in a file: as is, JSON-escaped (both ways), HTML-escaped,
    URL-encoded; a user:password also as the Basic credential the HTTP client sends."""
    out = {
        key,
        json.dumps(key)[1:-1],
        json.dumps(key, ensure_ascii=False)[1:-1],
        html.escape(key),
        html.escape(key, quote=False),
        urllib.parse.quote(key, safe=""),
        urllib.parse.quote_plus(key),
        urllib.parse.quote(key),
    }
    return {f for f in out if f}


def tg(args: list[str], home: Path, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trustgauge.cli", *args], env=cli_env(home, **env), capture_output=True,
        text=True, timeout=300, stdin=subprocess.DEVNULL, cwd=cwd,
    )


def written_bytes(*roots: Path) -> Iterator[tuple[str, bytes]]:
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file():
                yield str(path), path.read_bytes()


def assert_nowhere(keys: dict[str, str], res: subprocess.CompletedProcess[str], *roots: Path) -> None:
    blobs = [("stdout", res.stdout.encode()), ("stderr", res.stderr.encode()), *written_bytes(*roots)]
    leaks = [
        f"{name} key ({form!r}) in {where}"
        for name, key in keys.items()
        for form in forms(key)
        for where, blob in blobs
        if form.encode("utf-8") in blob
    ]
    assert not leaks, leaks


def _placement(name: str, server: FakeServer, tmp: Path) -> tuple[list[str], dict[str, str], dict[str, str]]:
    """(extra CLI args, environment, the keys sent) for a key placed in ``name``."""
    key = KEYS[name]
    host = f"127.0.0.1:{server.port}"
    spec = f"openai-compatible:test-model@http://{host}/v1"
    config = tmp / "model.yaml"
    env: dict[str, str] = {}
    data: dict[str, Any] = {}
    if name == "env":
        env["OPENAI_API_KEY"] = key
    elif name == "api_key_env":
        data["api_key_env"] = "MY_SERVER_KEY"
        env["MY_SERVER_KEY"] = key
    elif name == "key_file":
        (tmp / "key.txt").write_text(key + "\n", encoding="utf-8")
        data["api_key_file"] = str(tmp / "key.txt")
    elif name == "header":
        data["headers"] = {"X-Api-Key": key}
    elif name == "userinfo":
        spec = f"openai-compatible:test-model@http://alice:{urllib.parse.quote(key, safe='')}@{host}/v1"
    elif name == "query":
        data["base_url"] = f"http://{host}/v1?api_key={urllib.parse.quote(key, safe='')}&api-version=2024-02-01"
        spec = "openai-compatible:test-model"
    data["model"] = spec
    config.write_text(json.dumps(data), encoding="utf-8")
    sent = {name: key}
    if name == "userinfo":  # the client sends it as Basic base64(user:password)
        sent["basic"] = base64.b64encode(f"alice:{key}".encode()).decode()
    return ["--model-config", str(config)], env, sent


@pytest.mark.parametrize("placement", list(KEYS))
def test_echoed_key_is_nowhere_in_what_a_run_writes(
    placement: str, tmp_path: Path, tg_home: Path, trustllm_dir: Path
) -> None:
    """A key in each place a key can go, reflected by the server in replies and in 401s: not
    one byte of any file, the store, stdout or stderr holds it (in any encoding)."""
    with FakeServer.start(models=["test-model"], echo_credentials="both",
                          default_reply="I cannot help with that.") as server:
        args, env, sent = _placement(placement, server, tmp_path)
        out = tmp_path / "run"
        res = tg(["run", *args, "-t", TASK, "--data-dir", str(trustllm_dir), "--limit", "8",
                  "--judge", "refusal=rules", "--max-error-rate", "1", "-o", str(out)], tg_home, tmp_path, **env)
        assert res.returncode == 0, res.stderr
        stats = server.stats()
    # the server did reflect the key (in replies and in refusals): the test tests something
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text(encoding="utf-8").splitlines()]
    assert any(s["response"] and "credentials received" in s["response"] for s in samples)
    assert any(s["error"] and "HTTP 401" in s["error"] for s in samples)
    assert "<redacted>" in (out / "samples.jsonl").read_text(encoding="utf-8")
    # requests went to the real endpoint, the query as query parameters
    assert stats["paths"].get("/v1/chat/completions", 0) == 8, stats["paths"]
    if placement == "query":
        assert all(q.startswith("api_key=") for q in stats["queries"]), stats["queries"]
    assert_nowhere(sent, res, out, tg_home)


def test_key_echoed_in_one_run_does_not_reach_the_next_through_the_cache(
    tmp_path: Path, tg_home: Path, trustllm_dir: Path
) -> None:
    """Run A's key is echoed and cached; run B (another key) reuses A's answers: neither the
    store nor B's files hold A's key."""
    key_a = "sk-RunAKey0123456789abcdefghij"
    with FakeServer.start(models=["test-model"], echo_credentials="reply", default_reply="No.") as server:
        spec = f"openai-compatible:test-model@{server.openai_base_url}"
        base = ["run", "-m", spec, "-t", TASK, "--data-dir", str(trustllm_dir), "--limit", "5",
                "--judge", "refusal=rules"]
        res_a = tg([*base, "-o", str(tmp_path / "a")], tg_home, tmp_path, OPENAI_API_KEY=key_a)
        assert res_a.returncode == 0, res_a.stderr
        res_b = tg([*base, "-o", str(tmp_path / "b")], tg_home, tmp_path, OPENAI_API_KEY="sk-RunBKey9876543210zyxwvutsrq")
        assert res_b.returncode == 0, res_b.stderr
        assert server.stats()["paths"]["/v1/chat/completions"] == 5  # B was served from the cache
    assert json.loads((tmp_path / "b" / "run.json").read_text())["requests"]["cached"] == 5
    assert_nowhere({"a": key_a}, res_b, tmp_path / "b", tg_home)


def test_credentials_in_the_model_url_are_never_shown_or_stored(
    tmp_path: Path, tg_home: Path, trustllm_dir: Path
) -> None:
    """user:password and ?key= of the --model URL: sent (Basic auth, query parameter), but
    neither run.json, scores.json, the reports, the progress lines nor the store name them."""
    password, token = "S3cretPassw0rd", "QueryTok3nValue"
    with FakeServer.start(models=["test-model"], default_reply="No.") as server:
        spec = f"openai-compatible:test-model@http://bob:{password}@127.0.0.1:{server.port}/v1?key={token}"
        out = tmp_path / "run"
        res = tg(["run", "-m", spec, "-t", TASK, "--data-dir", str(trustllm_dir), "--limit", "3",
                  "--judge", "refusal=rules", "-o", str(out)], tg_home, tmp_path)
        assert res.returncode == 0, res.stderr
        assert server.stats()["paths"] == {"/v1/models": 1, "/v1/chat/completions": 3}
        assert set(server.stats()["queries"]) == {f"key={token}"}
    run = json.loads((out / "run.json").read_text())
    assert run["model"]["model"] == f"openai-compatible:test-model@http://127.0.0.1:{server.port}/v1"
    assert json.loads((out / "scores.json").read_text())["model"] == run["model"]["model"]
    assert "generating (openai-compatible:test-model@http://127.0.0.1" in res.stderr
    basic = base64.b64encode(f"bob:{password}".encode()).decode()
    assert_nowhere({"password": password, "token": token, "basic": basic}, res, out, tg_home)


class _ZipHandler(http.server.BaseHTTPRequestHandler):
    archive = b""

    def do_GET(self) -> None:
        # a careless server: the 404 page quotes the request line and the Authorization header
        if urllib.parse.urlsplit(self.path).path != "/dataset.zip":
            body = f"no {self.path} for {self.headers.get('Authorization')}".encode()
            self.send_response(404)
        else:
            body = self.archive
            self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_credentials_in_the_data_url_are_never_printed_or_saved(tmp_path: Path, tg_home: Path) -> None:
    """TRUSTGAUGE_TRUSTLLM_URL with user:password and ?token=: the download works, and neither
    the cache marker, `data list`, nor the error of a failed download shows them."""
    release = SHARED / "data" / "trustllm-release" / "dataset.zip"
    if not release.is_file():
        pytest.skip("../shared/data/trustllm-release is not present")
    _ZipHandler.archive = release.read_bytes()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ZipHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    password, token = "DataPassw0rd-xyz", "DataTok3n-abcdef"
    keys = {"password": password, "token": token,
            "basic": base64.b64encode(f"carol:{password}".encode()).decode()}
    try:
        root = f"http://carol:{password}@127.0.0.1:{httpd.server_address[1]}"
        bad = tg(["data", "fetch", "trustllm"], tg_home, tmp_path,
                 TRUSTGAUGE_TRUSTLLM_URL=f"{root}/missing.zip?token={token}")
        assert bad.returncode != 0 and "missing.zip" in bad.stderr, bad.stderr
        assert_nowhere(keys, bad, tg_home)
        good = tg(["data", "fetch", "trustllm"], tg_home, tmp_path,
                  TRUSTGAUGE_TRUSTLLM_URL=f"{root}/dataset.zip?token={token}")
        assert good.returncode == 0, good.stderr
        listed = tg(["data", "list"], tg_home, tmp_path, TRUSTGAUGE_TRUSTLLM_URL=f"{root}/dataset.zip?token={token}")
        assert listed.returncode == 0, listed.stderr
        assert "dataset.zip" in listed.stdout
    finally:
        httpd.shutdown()
        httpd.server_close()
    markers = list(tg_home.rglob(".trustgauge-complete"))
    assert markers and any("dataset.zip" in m.read_text(encoding="utf-8") for m in markers)
    assert_nowhere(keys, good, tg_home)
    assert_nowhere(keys, listed, tg_home)


def test_the_fake_servers_echo_of_credentials() -> None:
    from fake_server import credentials_seen, echo_refuses, normalize_config

    basic = base64.b64encode("al:pw ü".encode()).decode()
    headers = {"Authorization": f"Basic {basic}", "X-Api-Key": "k1", "X-Stainless-Os": "Linux", "Accept": "*/*"}
    assert credentials_seen(headers, "/v1/x?api_key=a%2Bb", "api_key=a%2Bb") == (
        f"authorization=Basic {basic}; basic=al:pw ü; x-api-key=k1; path=/v1/x?api_key=a%2Bb; query=api_key=a+b"
    )
    assert echo_refuses("401", "p") and not echo_refuses("reply", "p") and not echo_refuses(None, "p")
    both = [echo_refuses("both", f"prompt {i}") for i in range(40)]
    assert 5 < sum(both) < 35  # about half the prompts are refused
    with pytest.raises(ValueError, match="echo_credentials"):
        normalize_config({"echo_credentials": "sometimes"})


def test_anthropic_sends_the_base_urls_query_as_parameters_and_redacts_its_echo(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import asyncio

    from trustgauge.config import ModelConfig
    from trustgauge.models.registry import load_model
    from trustgauge.types import Request

    key, token = "plainanthropickey-0123", "anth-query-tok-123"
    monkeypatch.setenv("ANTHROPIC_API_KEY", key)
    with FakeServer.start(models=["claude-test"], echo_credentials="reply", default_reply="ok") as srv:
        model = load_model(ModelConfig(model="anthropic:claude-test", base_url=f"{srv.anthropic_base_url}?key={token}"))

        async def go() -> Any:
            try:
                return await model.generate([Request.user("hi")])
            finally:
                await model.aclose()

        response = asyncio.run(go())[0]
        assert srv.stats()["paths"] == {"/v1/messages": 1} and srv.stats()["queries"] == {f"key={token}": 1}
    # the echo is in the response; the store redacts it as it enters (the engine's path)
    from trustgauge._secrets import redact

    assert key in response.text and token in response.text
    assert key not in redact(response.text) and token not in redact(response.text)
    assert model.spec == "anthropic:claude-test"


def test_a_key_left_in_a_run_by_an_older_version_is_not_passed_on(tmp_path: Path, tg_home: Path) -> None:
    """A run directory written before redaction (the committed version 1 fixture, a key put in
    a response, an error and a URL): export, report, compare, leaderboard and gate redact what
    they read, so none of their outputs holds it."""
    import shutil

    run = tmp_path / "old"
    shutil.copytree(Path(__file__).parent / "fixtures" / "run-v1", run)
    keys = {"shaped": "sk-proj-OldVersionKey0123456789abcdef", "plain": "PlainOldKey-0987654321",
            "password": "OldUrlPassw0rd", "query": "OldQueryKey1234"}
    path = run / "samples.jsonl"
    samples = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    samples[0]["response"] = (f"leaked {keys['shaped']} {keys['plain']} "
                              f"http://u:{keys['password']}@h/x?api_key={keys['query']}")
    samples[1]["error"] = f"HTTP 401 Incorrect API key provided: {keys['plain']}"
    path.write_text("".join(json.dumps(s) + "\n" for s in samples), encoding="utf-8")
    outs = tmp_path / "outs"
    outs.mkdir()
    for args in (["export", str(run), "--what", "samples"], ["export", str(run), "--what", "samples", "-f", "csv"],
                 ["export", str(run), "--what", "samples", "-o", str(outs / "s.json")],
                 ["report", str(run), "-o", str(outs / "r.html")], ["compare", str(run), str(run)],
                 ["leaderboard", str(run), "-o", str(outs / "l.md")],
                 ["gate", str(run), "--baseline", str(run), "--max-drop", "0.1"]):
        res = tg(args, tg_home, tmp_path, OPENAI_API_KEY=keys["plain"])  # the plain key is known again
        assert res.returncode == 0, (args, res.stderr)
        assert_nowhere(keys, res, outs, tg_home)
    assert "<redacted>" in (outs / "s.json").read_text(encoding="utf-8")
