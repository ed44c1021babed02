"""The HTML report on big runs: generation time, file size, and time until the page is
interactive in headless Chromium.

Usage::

    python benchmarks/report.py [--sizes 1000,10000,100000] [--loads 3] [--json out.json]

For each size, a synthetic run (``tests/html_report_fixtures.py``: every registered sub-task,
prompts of 180-820 characters (a 120-character template per task, then random words), responses of log-normal length, median ~500 characters, capped
at 3,000, made of Zipf-distributed words; 2% failed requests, 6% invalid answers) is written
to a temporary directory with ``write_run``, then measured:

* **render**: ``write_report`` from the records in memory (what ``write_run`` adds to every run);
* **CLI**: ``trustgauge report RUN_DIR`` in a fresh process: start-up, ``read_run`` of the three
  files, render and write (the issue's "report generation time");
* **size** of report.html, and the raw text it was made from;
* **interactive**: the page opened from a file:// URL in headless Chromium (``/usr/bin/chromium``
  through Playwright), ``performance.now()`` when the first page of examples is drawn
  (``window.__readyMs``: after HTML parsing, decoding the base64, gunzip and JSON.parse),
  median of ``--loads`` fresh pages; also DOMContentLoaded and a search over all samples.

Targets (issue 6): 100k samples -> report in under 10 s, file under 30 MB, interactive in
under 3 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

CHROMIUM = os.environ.get("TRUSTGAUGE_CHROMIUM", "/usr/bin/chromium")
TARGET_S, TARGET_MB, TARGET_READY_MS = 10.0, 30.0, 3000.0


def measure_browser(path: Path, loads: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    ready, dcl, search = [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        try:
            for _ in range(loads):
                page = browser.new_page(viewport={"width": 1320, "height": 1000})
                page.goto(path.resolve().as_uri(), wait_until="commit")
                page.wait_for_selector("body[data-ready]", state="attached", timeout=120_000)
                if page.get_attribute("body", "data-ready") != "1":
                    raise SystemExit(f"{path}: the page failed to load its samples")
                ready.append(float(page.evaluate("window.__readyMs")))
                dcl.append(float(page.evaluate(
                    "performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd")))
                # a search over every sample (first keystroke builds the lowercase index)
                page.select_option("#f-show", "all")
                total = page.get_attribute("body", "data-matches")
                t0 = time.perf_counter()
                page.fill("#f-q", "question 1")
                page.wait_for_selector(f'body:not([data-matches="{total}"])', state="attached", timeout=60_000)
                search.append((time.perf_counter() - t0) * 1000 - 180)  # minus the debounce delay
                page.close()
        finally:
            browser.close()
    return {
        "ready_ms": statistics.median(ready), "ready_all": ready,
        "dcl_ms": statistics.median(dcl), "search_ms": statistics.median(search),
    }


def run_size(n: int, loads: int, browser: bool) -> dict[str, Any]:
    from html_report_fixtures import synthetic_run
    from trustgauge.report.htmlreport import text_cap, write_report
    from trustgauge.report.writer import write_run

    t0 = time.perf_counter()
    run, scores, samples = synthetic_run(n, seed=1)
    synth_s = time.perf_counter() - t0
    raw_mb = sum(len(s.prompt) + len(s.response or "") for s in samples) / 1e6
    with tempfile.TemporaryDirectory(prefix="tg-bench-report-") as tmp:
        out = Path(tmp) / "run"
        t0 = time.perf_counter()
        write_run(out, run, scores, samples)
        write_run_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        write_report(out / "report.html", run, scores, samples)
        render_s = time.perf_counter() - t0
        del run, scores, samples
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "trustgauge.cli", "report", str(out), "-o", str(out / "cli.html")],
            capture_output=True, text=True, stdin=subprocess.DEVNULL,
        )
        cli_s = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"trustgauge report failed: {proc.stderr}")
        size_mb = (out / "cli.html").stat().st_size / 1e6
        row: dict[str, Any] = {
            "samples": n, "synth_s": synth_s, "raw_text_mb": raw_mb, "cap": text_cap(n),
            "write_run_s": write_run_s, "render_s": render_s, "cli_s": cli_s, "size_mb": size_mb,
        }
        if browser:
            row.update(measure_browser(out / "cli.html", loads))
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated sample counts")
    parser.add_argument("--loads", type=int, default=3, help="page loads per size (median)")
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium measurements")
    parser.add_argument("--json", type=Path, help="also write the raw numbers here")
    args = parser.parse_args(argv)
    browser = not args.no_browser
    if browser and not Path(CHROMIUM).is_file():
        print(f"chromium not found at {CHROMIUM}: browser measurements skipped", file=sys.stderr)
        browser = False
    print(f"load average before: {os.getloadavg()[0]:.2f}; {os.cpu_count()} CPUs", file=sys.stderr)
    rows = []
    for n in (int(x) for x in args.sizes.split(",")):
        print(f"{n:,} samples ...", file=sys.stderr, flush=True)
        rows.append(run_size(n, args.loads, browser))
    print(f"\n{'samples':>8} {'text/field':>10} {'write_run s':>11} {'render s':>9} {'CLI s':>7} "
          f"{'HTML MB':>8} {'raw MB':>7} {'ready ms':>9} {'DCL ms':>7} {'search ms':>10}")
    ok = True
    for r in rows:
        ready = f"{r['ready_ms']:9.0f} {r['dcl_ms']:7.0f} {r['search_ms']:10.0f}" if "ready_ms" in r else f"{'-':>9} {'-':>7} {'-':>10}"
        print(f"{r['samples']:>8,} {r['cap']:>10,} {r['write_run_s']:11.2f} {r['render_s']:9.2f} {r['cli_s']:7.2f} "
              f"{r['size_mb']:8.1f} {r['raw_text_mb']:7.1f} {ready}")
        if r["samples"] >= 100_000:
            ok = ok and r["cli_s"] < TARGET_S and r["size_mb"] < TARGET_MB
            if "ready_ms" in r:
                ok = ok and r["ready_ms"] < TARGET_READY_MS
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if any(r["samples"] >= 100_000 for r in rows):
        print(f"target (100k: CLI < {TARGET_S:.0f} s, file < {TARGET_MB:.0f} MB, interactive < "
              f"{TARGET_READY_MS / 1000:.0f} s): {'met' if ok else 'NOT met'}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
