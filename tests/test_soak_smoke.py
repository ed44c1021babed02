"""The soak benchmark (``benchmarks/soak.py``, issue 20 item 2) at a few hundred requests, so
the script does not rot between full runs; and the fake server's fault kinds it relies on
(``429_no_retry_after``, ``slow``) and its ``GET /_summary``."""

from __future__ import annotations

import csv
import http.client
import importlib.util
import json
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

from fake_server import FakeServer, conversation_key, keys_digest

SOAK = Path(__file__).resolve().parents[1] / "benchmarks" / "soak.py"


def _soak_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("soak_benchmark", SOAK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _post_chat(port: int, prompt: str) -> tuple[int, dict[str, str], dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    body = json.dumps({"model": "fake-model", "messages": [{"role": "user", "content": prompt}]})
    conn.request("POST", "/v1/chat/completions", body=body, headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    data = json.loads(resp.read())
    headers = {k.lower(): v for k, v in resp.getheaders()}
    conn.close()
    return resp.status, headers, data


def test_new_fault_kinds_and_summary() -> None:
    with FakeServer.start(fault_rate=1.0, faults=["429_no_retry_after"], retry_after=3, slow_fault_seconds=0.3) as srv:
        status, headers, data = _post_chat(srv.port, "a")
        assert status == 429
        assert "retry-after" not in headers  # the 429 fault proper sends one; this kind does not
        assert data["error"]["code"] == "rate_limit_exceeded"
        srv.configure(faults=["slow"])
        t0 = time.monotonic()
        status, _, data = _post_chat(srv.port, "b")
        assert status == 200 and data["choices"][0]["message"]["content"] == "Echo: b"
        assert time.monotonic() - t0 >= 0.3  # late, but answered
        srv.configure(fault_rate=0.0)
        _post_chat(srv.port, "b")
        summary = srv.summary()
    assert summary["requests"] == 3
    assert summary["faults"] == {"429_no_retry_after": 1, "slow": 1}
    assert summary["successes"] == 2  # the slow answer counts as answered
    assert summary["conversations"] == 2
    # "a" was received once and never answered; "b" twice, answered twice
    assert summary["conversation_requests_hist"] == {"1": 1, "2": 1}
    assert summary["conversation_successes_hist"] == {"0": 1, "2": 1}
    key_b = conversation_key("fake-model", [{"role": "user", "content": "b"}])
    assert summary["succeeded_digest"] == keys_digest([key_b])
    assert "prompt_requests" not in summary  # no per-prompt tables (100k entries in a soak)


def test_soak_smoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    soak = _soak_module()
    out_csv = tmp_path / "soak.csv"
    code = soak.main([
        "--requests", "300", "--chunk", "150", "--concurrency", "32", "--latency", "0.005",
        "--timeout", "1.0", "--retry-delay", "0.05", "--retry-after", "0.05",
        "--csv", str(out_csv), "--plot", str(tmp_path / "soak.png"), "--json", str(tmp_path / "soak.json"),
    ])
    out = capsys.readouterr().out
    verdicts = [line for line in out.splitlines() if line.startswith(("[ok]", "[FAIL]"))]
    assert len(verdicts) == 6, out
    assert code == 0, out
    assert all(line.startswith("[ok]") for line in verdicts)
    assert all("| CPU " in line for line in verdicts)  # every figure with the machine it ran on
    assert "300 distinct conversations answered 1 time(s): 300; digest matches" in out
    assert "second pass sends 0 requests: 0 requests, 300/300 from the store" in out
    rows = list(csv.DictReader(out_csv.open()))
    assert [int(r["done"]) for r in rows] == [0, 150, 300]
    assert all(int(r["tasks"]) == 1 for r in rows)
    result = json.loads((tmp_path / "soak.json").read_text())["result"]
    assert result["server"]["faults_total"] > 0  # 10% of ~330 attempts: faults did happen
    assert result["retries"] == result["server"]["by_endpoint"]["chat.completions"] - 300
