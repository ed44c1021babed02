"""Defects a careful new user met following README.md and docs/*.md with offline models
(``scripted:*``): each test fails on the code before its fix.

Every bad input here must end in ONE line on stderr and exit 2, never a traceback, a silent
success or output that mixes two formats."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import cli_env


def _cli(args: list[str], home: Path, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "trustgauge", *args], env=cli_env(home, **env), capture_output=True,
                          text=True, timeout=300, input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL)


def _one_error_line(out: subprocess.CompletedProcess[str], needle: str) -> None:
    assert out.returncode == 2, (out.returncode, out.stdout, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], out.stderr
    assert "Traceback" not in out.stderr


# -- a model config naming its key variable ------------------------------------------------------


def test_api_key_env_that_is_not_set_is_a_missing_key_not_the_openai_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """README's model config names ``api_key_env: MY_SERVER_KEY`` for an openai-compatible
    server. With that variable unset the model silently fell back to ``OPENAI_API_KEY``: the
    user's OpenAI key was sent to the other server (or no key at all, a 401 mid-run). A key
    variable the user named and did not set is a missing key: one line, before any request."""
    from trustgauge.config import ModelConfig
    from trustgauge.errors import ConfigError
    from trustgauge.models.registry import load_model

    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-must-not-travel-0123456789")
    monkeypatch.delenv("MY_SERVER_KEY", raising=False)
    spec = "openai-compatible:llama3@http://127.0.0.1:9/v1"
    with pytest.raises(ConfigError, match=r"missing API key for .*set MY_SERVER_KEY"):
        load_model(ModelConfig(model=spec, api_key_env="MY_SERVER_KEY"))
    monkeypatch.setenv("MY_SERVER_KEY", "server-key-abcdef")
    model = load_model(ModelConfig(model=spec, api_key_env="MY_SERVER_KEY"))
    assert model._api_key == "server-key-abcdef"  # type: ignore[attr-defined]
    model = load_model(ModelConfig(model=spec))  # no api_key_env: OPENAI_API_KEY, as before
    assert model._api_key == "sk-openai-must-not-travel-0123456789"  # type: ignore[attr-defined]


def test_api_key_env_not_set_through_the_cli_is_one_line(tmp_path: Path, tg_home: Path) -> None:
    config = tmp_path / "model.yaml"
    config.write_text("model: openai-compatible:llama3@http://127.0.0.1:9/v1\napi_key_env: MY_SERVER_KEY\n")
    out = _cli(["run", "--model-config", str(config), "--suite", "quick-safety", "-n", "1",
                "-o", str(tmp_path / "run"), "-q"], tg_home, OPENAI_API_KEY="sk-openai-must-not-travel-0123456789")
    _one_error_line(out, "set MY_SERVER_KEY")
    assert not (tmp_path / "run").exists()


# -- compare: one stdout ---------------------------------------------------------------------------

FIXTURE_RUN = Path(__file__).parent / "fixtures" / "run-v2"


@pytest.mark.parametrize("by", ["task", "category"])
def test_compare_with_two_outputs_on_stdout_is_refused(tg_home: Path, by: str) -> None:
    """``--json - --markdown -`` (or ``--html -``) printed both documents one after the other
    on stdout, exit 0: neither ``jq`` nor a browser can read the result. One of them may be
    '-'; asking for two is a usage error, before anything is written."""
    run = str(FIXTURE_RUN)
    out = _cli(["compare", run, run, "--by", by, "--json", "-", "--markdown", "-"], tg_home)
    _one_error_line(out, "--json and --markdown both write to stdout")
    assert out.stdout == ""
    out = _cli(["compare", run, run, "--by", by, "--html", "-", "--json", "-", "--markdown", "-"], tg_home)
    _one_error_line(out, "--html, --json and --markdown all write to stdout")
    single = _cli(["compare", run, run, "--by", by, "--json", "-"], tg_home)
    assert single.returncode == 0 and single.stdout.lstrip().startswith("{"), single.stderr
