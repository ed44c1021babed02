"""``--role NAME=SPEC`` and ``--role NAME=FILE``: a role's model given by a model config file,
so its backend options reach it (found by running the security suite with SmolLM2 as its own
attacker: PAIR's attacker prompts outgrow llama.cpp's default 2,048-token context, and a spec
string cannot say ``n_ctx``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import cli_env
from trustgauge.cli.run import _parse_roles


def test_a_spec_is_a_bare_model_config() -> None:
    roles = _parse_roles(["attacker=gguf:smollm2", "judge=openai:gpt-4o-mini"])
    assert {k: v.model for k, v in roles.items()} == {"attacker": "gguf:smollm2", "judge": "openai:gpt-4o-mini"}
    assert roles["attacker"].options == {}


def test_a_config_file_gives_the_role_its_options(tmp_path: Path) -> None:
    yaml = tmp_path / "attacker.yaml"
    yaml.write_text("model: gguf:smollm2\noptions:\n  n_ctx: 8192\ngeneration:\n  temperature: 0.7\n")
    toml = tmp_path / "judge.TOML"
    toml.write_text('model = "openai:gpt-4o-mini"\ntimeout = 30\n')
    roles = _parse_roles([f"attacker={yaml}", f"judge={toml}"])
    assert roles["attacker"].model == "gguf:smollm2" and roles["attacker"].options == {"n_ctx": 8192}
    assert roles["attacker"].generation.temperature == 0.7
    assert roles["judge"].model == "openai:gpt-4o-mini" and roles["judge"].timeout == 30.0


def test_a_bad_role_config_file_is_one_clear_error(tmp_path: Path, tg_home: Path) -> None:
    missing = tmp_path / "nowhere.yaml"
    nameless = tmp_path / "nameless.json"
    nameless.write_text('{"options": {"n_ctx": 8192}}')
    for role, says in ((f"attacker={missing}", "cannot read config"), (f"attacker={nameless}", f"error: --role attacker={nameless}: the file has no 'model:'")):
        res = subprocess.run([sys.executable, "-m", "trustgauge", "run", "-m", "scripted:oracle", "-t",
                              "fan2023.jailbreak_pair", "--role", role, "-o", str(tmp_path / "run")],
                             env=cli_env(tg_home), capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        assert res.returncode == 2, res.stderr
        assert says in res.stderr and "Traceback" not in res.stderr
        assert "pass --model" not in res.stderr  # the role's file, not --model, lacks the spec
        assert not (tmp_path / "run" / "scores.json").exists()
