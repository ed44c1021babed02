"""Write a run directory: run.json, samples.jsonl, scores.json, a readable summary (report.md)
and the HTML report (report.html, :mod:`trustgauge.report.htmlreport`). Everything passes
through secret redaction; model output is escaped in HTML."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from trustgauge._secrets import redact
from trustgauge.report.htmlreport import write_report
from trustgauge.report.schema import RunInfo, SampleRecord, ScoresFile
from trustgauge.report.summary import render_markdown


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(redact(text))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_run(out_dir: Path, run: RunInfo, scores: ScoresFile, samples: Sequence[SampleRecord]) -> None:
    """Write (or overwrite) the run directory atomically file by file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    _atomic_write(out_dir / "run.json", run.model_dump_json(indent=2) + "\n")
    _atomic_write(out_dir / "scores.json", scores.model_dump_json(indent=2) + "\n")
    lines = (json.dumps(s.model_dump(mode="json"), ensure_ascii=False) for s in samples)
    _atomic_write(out_dir / "samples.jsonl", "\n".join(lines) + ("\n" if samples else ""))
    _atomic_write(out_dir / "report.md", render_markdown(run, scores, samples))
    # redacts its own parts (the compressed sample data must not be rewritten afterwards)
    write_report(out_dir / "report.html", run, scores, samples)


def read_run(out_dir: Path) -> tuple[RunInfo, ScoresFile, list[SampleRecord]]:
    """Load a run directory written by :func:`write_run`."""
    from trustgauge.errors import UsageError

    try:
        run = RunInfo.model_validate_json((out_dir / "run.json").read_text(encoding="utf-8"))
        scores = ScoresFile.model_validate_json((out_dir / "scores.json").read_text(encoding="utf-8"))
        samples = [
            SampleRecord.model_validate_json(line)
            # split on "\n" only: str.splitlines() also splits inside a JSON string that holds
            # U+2028, U+2029 or \x85 (written raw, ensure_ascii=False) and would break the record
            for line in (out_dir / "samples.jsonl").read_text(encoding="utf-8").split("\n")
            if line.strip()
        ]
    except FileNotFoundError as exc:
        raise UsageError(f"{out_dir} is not a trustgauge run directory (missing {Path(exc.filename).name})") from None
    except ValueError as exc:
        raise UsageError(f"{out_dir}: unreadable results ({str(exc).splitlines()[0]})") from None
    if run.schema_version != 1:
        raise UsageError(f"{out_dir}: results schema version {run.schema_version} is not supported")
    return run, scores, samples
