"""Write a run directory: run.json, samples.jsonl, scores.json, a readable summary (report.md)
and the HTML report (report.html). Everything passes through secret redaction. The directory is
written as a whole and verified when read (:mod:`trustgauge.results.rundir`).

The run-dir format is the contract between the code that writes a run and the readers (report,
compare, leaderboard, gate, export), so it sits below both (docs/architecture.md §2.1). The two
human-readable files are rendered by the report layer, which this module may not import: the
writer gets them as :class:`Renderers` (``trustgauge.report.writer.RENDERERS``). ``report.md``
is hashed in run.json like the data files; ``report.html`` is not (``trustgauge report``
rewrites it)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from trustgauge._secrets import redact
from trustgauge.results.schema import FileDigest, RunInfo, SampleRecord, ScoresFile


@dataclass(frozen=True)
class Renderers:
    """How the human-readable files of a run directory are made.

    ``markdown(run, scores, samples)`` returns the text of ``report.md`` (redacted here, then
    hashed in run.json); ``html(path, run, scores, samples)`` writes ``report.html`` at
    ``path`` and redacts its own parts (its compressed sample data must not be rewritten
    afterwards); ``None``: no ``report.html``."""

    markdown: Callable[[RunInfo, ScoresFile, Sequence[SampleRecord]], str]
    html: Callable[[Path, RunInfo, ScoresFile, Sequence[SampleRecord]], object] | None = None


def write_run(
    out_dir: Path, run: RunInfo, scores: ScoresFile, samples: Sequence[SampleRecord], render: Renderers
) -> RunInfo:
    """Write (or replace) the run directory as a whole, atomically (:mod:`trustgauge.results.rundir`);
    returns ``run`` as written (with the hashes of its files)."""
    from trustgauge.results.rundir import HASHED, FileContent, digest, write_run_dir

    scores_bytes = redact(scores.model_dump_json(indent=2) + "\n").encode("utf-8")
    report_md = redact(render.markdown(run, scores, samples)).encode("utf-8")
    digests = {"scores.json": digest(scores_bytes, len(scores.tasks)), "report.md": digest(report_md)}
    written: list[RunInfo] = []

    def write_samples(fh: BinaryIO) -> None:
        """``samples.jsonl`` record by record (a run of 100,000 samples never holds the file in
        memory), each line redacted (JSON escapes newlines, so no secret spans two lines) and
        hashed as it is written."""
        hashed, size = hashlib.sha256(), 0
        for s in samples:
            line = (redact(json.dumps(s.model_dump(mode="json"), ensure_ascii=False)) + "\n").encode("utf-8")
            hashed.update(line)
            size += len(line)
            fh.write(line)
        digests["samples.jsonl"] = FileDigest(sha256=hashed.hexdigest(), bytes=size, records=len(samples))

    def write_run_json(fh: BinaryIO) -> None:
        """Last: it vouches for the rest (their hashes, known once they are written)."""
        final = run.model_copy(update={"files": {name: digests[name] for name in HASHED}})
        fh.write(redact(final.model_dump_json(indent=2) + "\n").encode("utf-8"))
        written.append(final)

    files: dict[str, FileContent] = {
        "scores.json": scores_bytes, "samples.jsonl": write_samples, "report.md": report_md, "run.json": write_run_json,
    }
    html = render.html

    def write_html(tmp: Path) -> None:
        assert html is not None
        html(tmp / "report.html", run, scores, samples)

    write_run_dir(out_dir, files, write_html if html is not None else None)
    return written[0]


def read_run(out_dir: Path) -> tuple[RunInfo, ScoresFile, list[SampleRecord]]:
    """Load a run directory written by :func:`write_run` (any readable schema version) and verify
    that it is one whole run (:func:`trustgauge.results.rundir.verify`)."""
    from trustgauge.errors import UsageError
    from trustgauge.results.rundir import HASHED, RunDirError, check_version, verify

    reading = "run.json"  # the file being parsed, for the message when it is damaged
    try:
        raw_run = (out_dir / "run.json").read_bytes()
        # a newer run is refused first, whatever else its files hold (one line, exit 2)
        check_version(out_dir, json.loads(raw_run.decode("utf-8")))
        raw = {name: (out_dir / name).read_bytes() for name in HASHED if (out_dir / name).is_file()}
        if "scores.json" not in raw or "samples.jsonl" not in raw:
            missing = "scores.json" if "scores.json" not in raw else "samples.jsonl"
            raise FileNotFoundError(2, "missing", str(out_dir / missing))
        # a run written before every key was redacted on entry (results schema 1) may hold one:
        # it is redacted as read (the hashes are checked on the raw bytes), so compare, export,
        # report ... do not pass it on; later runs were redacted when written (~0.1 s a MB saved)
        run = RunInfo.model_validate_json(redact(raw_run.decode("utf-8")))
        clean = redact if run.schema_version < 2 else str
        reading = "scores.json"
        scores = ScoresFile.model_validate_json(clean(raw["scores.json"].decode("utf-8")))
        reading = "samples.jsonl"
        text = clean(raw["samples.jsonl"].decode("utf-8"))
        samples = []
        # split on "\n" only: str.splitlines() also splits inside a JSON string that holds
        # U+2028, U+2029 or \x85 (written raw, ensure_ascii=False) and would break the record
        for number, line in enumerate(text.split("\n"), start=1):
            if line.strip():
                reading = f"samples.jsonl:{number}"
                samples.append(SampleRecord.model_validate_json(line))
    except FileNotFoundError as exc:
        raise UsageError(f"{out_dir} is not a trustgauge run directory (missing {Path(exc.filename).name})") from None
    except IsADirectoryError as exc:
        raise UsageError(f"{out_dir} is not a trustgauge run directory ({Path(exc.filename).name} is a folder)") from None
    except NotADirectoryError:
        raise UsageError(f"{out_dir} is not a trustgauge run directory (not a folder)") from None
    except OSError as exc:
        raise UsageError(f"{out_dir}: cannot read the run ({exc.strerror or exc})") from None
    except (ValueError, RecursionError) as exc:  # bad UTF-8 or JSON: a truncated or damaged file
        raise RunDirError(f"{out_dir}: unreadable results ({reading}: {_first_problem(exc)})") from None
    verify(out_dir, run, scores, samples, raw)
    return run, scores, samples


def _first_problem(exc: ValueError | RecursionError) -> str:
    """One line saying what is wrong: a validation error's first field and message (not
    pydantic's "1 validation error for X" header), else the exception's first line."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError) and exc.errors():
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        text = f"{where}: {error['msg']}" if where else error["msg"]
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())
