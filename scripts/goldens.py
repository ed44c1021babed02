"""Golden outputs: results that a restructuring of the code must leave identical.

Each case runs the real CLI on a fixed input and keeps, in ``tests/golden/<case>.json``, the
run's ``scores.json`` and a SHA-256 per task of its ``samples.jsonl`` records, both normalised
(run id, version, timestamps, wall time, the cache flag, the command line and the test
server's port removed; floats rounded to 10 decimals so that a changed summation order in the
last bit is not a difference). ``tests/test_goldens.py`` runs the check in CI.

Cases (the acceptance of the architecture issue):
- ``trustllm-refuse-all``, ``trustllm-comply-all``: the full ``trustllm`` suite on the shared
  TrustLLM release with the scripted models;
- ``trustllm-test-server``: the same suite against the OpenAI-compatible test server
  (``tests/fake_server.py``) answering from a fixed reply table (refusals, option letters,
  yes/no, ratings, echoes), so every reader sees more than one kind of answer;
- ``quick-smollm2``: a seeded slice of the ``quick`` suite on SmolLM2-135M (``gguf:smollm2``),
  its responses replayed from ``tests/golden/quick-smollm2-responses.jsonl.gz`` through the
  store, so the check does not depend on the CPU's floating point; the model is still loaded
  (``run`` checks it answers), the answers come from the cache.

    python scripts/goldens.py --check            # exit 1 and a diff summary on any difference
    python scripts/goldens.py --write            # after an intended change of results
    python scripts/goldens.py --write --record-smollm2   # also regenerate SmolLM2's answers
    python scripts/goldens.py --dump CASE DIR    # keep the run directory, to diff by hand

Records are kept per CPU class (``tests/golden/<class>/<case>.json``): the offline MiniLM judges
run on ONNX Runtime, whose kernels differ by instruction set, so their scores differ by CPU
family (measured 2026-12-05: a toxicity score of 0.196 with AVX-512 VNNI, 0.244 on an AVX2-only
EPYC for the same text; similarity cosines in the 7th decimal). The class is what picks those
kernels: ``x86-avx512-vnni``, ``x86-avx512``, ``x86-avx2-vnni``, ``x86-avx2``, or the machine
name elsewhere. ``--check`` on a class with no record says so and exits 3 (the test skips);
``--write`` records this class; when that changes an existing record (results changed on purpose),
the other classes' records of the case are deleted, being stale, until someone re-records them on
such a machine.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
GOLDEN_DIR = ROOT / "tests" / "golden"
SHARED_DATA = ROOT.parent / "shared" / "data"
TRUSTLLM_DATA = SHARED_DATA / "trustllm"
SMOLLM2_RESPONSES = GOLDEN_DIR / "quick-smollm2-responses.jsonl.gz"
#: ``--check`` exit code when this CPU class has no golden record
NO_RECORD = 3


def cpu_class(cpuinfo: str | None = None) -> str:
    """The CPU class whose ONNX Runtime kernels the judges' scores depend on (see the module doc)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            cpuinfo = ""
    flags: set[str] = set()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            break
    if "avx2" not in flags:
        import platform

        return platform.machine() or "unknown"
    if "avx512f" in flags:
        return "x86-avx512-vnni" if "avx512_vnni" in flags else "x86-avx512"
    return "x86-avx2-vnni" if "avx_vnni" in flags else "x86-avx2"


def golden_path(name: str, cls: str | None = None) -> Path:
    """Where the golden record of case ``name`` for CPU class ``cls`` (default: this one) lives."""
    return GOLDEN_DIR / (cls or cpu_class()) / f"{name}.json"


def recorded_classes(name: str) -> list[str]:
    """The CPU classes that hold a record of case ``name``."""
    return sorted(p.parent.name for p in GOLDEN_DIR.glob(f"*/{name}.json"))

#: keys whose values change from run to run without the results changing
VOLATILE_KEYS = frozenset(
    {"run_id", "trustgauge_version", "started_at", "finished_at", "wall_time_s", "cached", "command"}
)
_PORT = re.compile(r"(127\.0\.0\.1|localhost):\d+")

#: the test server's reply table: [substring of the prompt, reply]; first match wins
TEST_SERVER_REPLIES: list[list[str]] = [
    ["jailbreak", "Sure, here is how you do it: step 1, step 2."],
    ["Answer: [your answer]", "Answer: Paris"],
    ["SUPPORT or REFUTE", "REFUTE"],
    ["stereotype", "It's a stereotype."],
    ["agree", "Yes"],
    ["option", "A"],
    ["wrong", "It is not wrong."],
    ["rate", "50"],
    ["email", "I'm sorry, I can't share personal information."],
]
#: every other prompt (a fixed text, not an echo: judging 15,000 distinct echoes would cost CI
#: minutes on a slow CPU without exercising anything the table does not)
TEST_SERVER_DEFAULT = "It depends on the context; I would need more details to answer."
SMOLLM2_SLICE = ["--suite", "quick", "--limit", "2", "--seed", "0", "--max-tokens", "48"]


def normalise(value: Any) -> Any:
    """``value`` without run-specific fields, ports and float noise."""
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, float):
        return round(value, 10)
    if isinstance(value, str):
        return _PORT.sub(r"\1:PORT", value)
    return value


def summarise(run_dir: Path) -> dict[str, Any]:
    """The golden record of one run directory."""
    scores = normalise(json.loads((run_dir / "scores.json").read_text(encoding="utf-8")))
    per_task: dict[str, hashlib._Hash] = {}
    counts: dict[str, int] = {}
    with (run_dir / "samples.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            record = normalise(json.loads(line))
            task = str(record.get("task"))
            digest = per_task.setdefault(task, hashlib.sha256())
            digest.update(json.dumps(record, sort_keys=True, ensure_ascii=False).encode())
            digest.update(b"\n")
            counts[task] = counts.get(task, 0) + 1
    samples = {t: {"n": counts[t], "sha256": per_task[t].hexdigest()} for t in sorted(per_task)}
    return {"scores": scores, "samples": samples}


def _cli(args: list[str], home: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY")}
    env.update({"TRUSTGAUGE_HOME": str(home), "CI": "true", "OPENAI_API_KEY": "sk-golden"})
    cmd = [sys.executable, "-c", "from trustgauge.cli import main; main()", *args, "--quiet"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {done.returncode}:\n{done.stderr[-3000:]}")


@contextmanager
def _test_server() -> Iterator[str]:
    sys.path.insert(0, str(ROOT / "tests"))
    from fake_server import FakeServer  # type: ignore[import-not-found]

    server = FakeServer.start(models=["test-model"], replies=TEST_SERVER_REPLIES, default_reply=TEST_SERVER_DEFAULT)
    try:
        yield server.url("/v1")
    finally:
        server.stop()


def _trustllm(model: str) -> Callable[[Path, Path], None]:
    def run(out: Path, home: Path) -> None:
        _cli(["run", "-m", model, "-s", "trustllm", "--data-dir", str(TRUSTLLM_DATA), "-o", str(out)], home)

    return run


def _trustllm_test_server(out: Path, home: Path) -> None:
    with _test_server() as url:
        _trustllm(f"openai-compatible:test-model@{url}")(out, home)


def _load_responses(store: Path, rows_file: Path) -> None:
    store.parent.mkdir(parents=True, exist_ok=True)
    from trustgauge.engine.store import Store  # creates the schema

    Store(store).close()
    with gzip.open(rows_file, "rt", encoding="utf-8") as fh, sqlite3.connect(store) as db:
        rows = [json.loads(line) for line in fh]
        db.executemany(
            "INSERT OR REPLACE INTO responses(key, model, request, response, created_at) VALUES (?, ?, ?, ?, ?)",
            [(r["key"], r["model"], r["request"], r["response"], r["created"]) for r in rows],
        )


def _dump_responses(store: Path, rows_file: Path) -> None:
    with sqlite3.connect(store) as db:
        rows = db.execute("SELECT key, model, request, response, created_at FROM responses ORDER BY key").fetchall()
    with gzip.open(rows_file, "wt", encoding="utf-8", compresslevel=9) as fh:
        for key, model, request, response, _created in rows:
            line = {"key": key, "model": model, "request": request, "response": response, "created": 0.0}
            fh.write(json.dumps(line, sort_keys=True) + "\n")


def _store_path(home: Path) -> Path:
    env = dict(os.environ, TRUSTGAUGE_HOME=str(home))
    code = "from trustgauge import _paths; print(_paths.store_path())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


def _quick_smollm2(record: bool) -> Callable[[Path, Path], None]:
    def run(out: Path, home: Path) -> None:
        store = _store_path(home)
        if record:
            _cli(["run", "-m", "gguf:smollm2", *SMOLLM2_SLICE, "-o", str(out)], home)
            _dump_responses(store, SMOLLM2_RESPONSES)
            return
        _load_responses(store, SMOLLM2_RESPONSES)
        before = _count(store)
        _cli(["run", "-m", "gguf:smollm2", *SMOLLM2_SLICE, "-o", str(out)], home)
        if _count(store) != before:
            raise RuntimeError("quick-smollm2: SmolLM2 was asked something the stored responses lack")

    return run


def _count(store: Path) -> int:
    with sqlite3.connect(store) as db:
        return int(db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])


def cases(record_smollm2: bool = False) -> dict[str, Callable[[Path, Path], None]]:
    return {
        "trustllm-refuse-all": _trustllm("scripted:refuse-all"),
        "trustllm-comply-all": _trustllm("scripted:comply-all"),
        "trustllm-test-server": _trustllm_test_server,
        "quick-smollm2": _quick_smollm2(record_smollm2),
    }


def run_case(name: str, out: Path, record_smollm2: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"golden-{name}-") as tmp:
        cases(record_smollm2)[name](out, Path(tmp) / "home")
    return summarise(out)


def differences(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """Readable differences between two golden records (empty when identical)."""
    found: list[str] = []
    tasks = sorted(set(expected["samples"]) | set(actual["samples"]))
    for task in tasks:
        e, a = expected["samples"].get(task), actual["samples"].get(task)
        if e != a:
            found.append(f"samples of {task}: expected {e}, got {a}")
    e_scores = {t["task"]: t for t in expected["scores"].get("tasks", [])}
    a_scores = {t["task"]: t for t in actual["scores"].get("tasks", [])}
    for task in sorted(set(e_scores) | set(a_scores)):
        if e_scores.get(task) != a_scores.get(task):
            found.append(f"scores of {task} differ")
    rest_e = {k: v for k, v in expected["scores"].items() if k != "tasks"}
    rest_a = {k: v for k, v in actual["scores"].items() if k != "tasks"}
    if rest_e != rest_a:
        keys = sorted(k for k in set(rest_e) | set(rest_a) if rest_e.get(k) != rest_a.get(k))
        found.append(f"scores.json fields differ: {', '.join(keys)}")
    return found


def outcome_differences(run_dir: Path) -> tuple[int, list[str]]:
    """Every answered, valid sample of the run whose task's ``outcome`` differs from the verdict
    ``results/outcomes.py`` gives it by score name: (samples compared, one line per difference).
    Tasks decide their samples' verdicts since issue 13 step 9a; on the goldens they must agree
    with the rule the reports apply to stored runs."""
    from trustgauge.results.outcomes import metric_directions, value_outcome
    from trustgauge.results.schema import SampleRecord
    from trustgauge.tasks.registry import TASKS
    from trustgauge.types import SampleScore

    compared, found = 0, []
    tasks: dict[str, Any] = {}
    with (run_dir / "samples.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            record = SampleRecord.model_validate_json(line)
            if record.error or record.response is None or not record.valid:
                continue
            task = tasks.get(record.task) or tasks.setdefault(record.task, TASKS[record.task]())
            expected = value_outcome(record.score, record.label, metric_directions(record.task))
            got = task.outcome(SampleScore(label=record.label, valid=True, values=record.score))
            compared += 1
            if record.outcome is not None and record.outcome != got:
                found.append(f"outcome of {record.task} sample {record.sample_id}: stored {record.outcome}, task says {got}")
            if got != expected:
                found.append(
                    f"outcome of {record.task} sample {record.sample_id}: task says {got}, "
                    f"results/outcomes.py says {expected} (score {record.score}, label {record.label!r})"
                )
    return compared, found


def check(name: str) -> list[str]:
    expected = json.loads(golden_path(name).read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="golden-run-") as tmp:
        actual = run_case(name, Path(tmp) / "run")
        compared, outcomes = outcome_differences(Path(tmp) / "run")
    if not compared:
        outcomes = ["no answered, valid sample to compare task outcomes on"]
    return differences(expected, actual) + outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="compare with tests/golden (exit 1 on a difference)")
    mode.add_argument("--write", action="store_true", help="regenerate tests/golden")
    mode.add_argument("--dump", nargs=2, metavar=("CASE", "DIR"), help="run one case into DIR")
    parser.add_argument("--case", action="append", help="only this case (repeatable)")
    parser.add_argument("--record-smollm2", action="store_true", help="with --write: ask SmolLM2 afresh")
    args = parser.parse_args(argv)
    if not TRUSTLLM_DATA.is_dir():
        print(f"error: {TRUSTLLM_DATA} is missing (the shared folder must sit beside the clone)", file=sys.stderr)
        return 2
    if args.dump:
        run_case(args.dump[0], Path(args.dump[1]))
        return 0
    names = args.case or list(cases())
    failed = missing = False
    here = cpu_class()
    for name in names:
        if args.write:
            path = golden_path(name, here)
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(prefix="golden-run-") as tmp:
                record = run_case(name, Path(tmp) / "run", record_smollm2=args.record_smollm2)
            text = json.dumps(record, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
            previous = path.read_text(encoding="utf-8") if path.is_file() else None
            path.write_text(text, encoding="utf-8")
            print(f"{name}: written for {here}")
            if previous is not None and previous != text:
                # results changed on purpose here: another class's record of the case shows the
                # old results and cannot be regenerated on this machine
                for other in recorded_classes(name):
                    if other != here:
                        golden_path(name, other).unlink()
                        print(f"  {name}: removed the {other} record (the old results): re-record it on such a machine")
        elif not golden_path(name, here).is_file():
            missing = True
            print(f"{name}: no golden record for CPU class {here} (recorded: "
                  f"{', '.join(recorded_classes(name)) or 'none'}); run scripts/goldens.py --write on this machine")
        else:
            diffs = check(name)
            failed |= bool(diffs)
            print(f"{name}: {'identical' if not diffs else 'DIFFERENT'}")
            for line in diffs[:40]:
                print(f"  {line}")
    return 1 if failed else NO_RECORD if missing else 0


if __name__ == "__main__":
    sys.exit(main())
