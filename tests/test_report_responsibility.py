"""The report's responsibility section (issue 18 item 3, :mod:`trustgauge.report.responsibility`):
watermark strength (z histograms rebuilt from the samples, TPR at 1% / 0.1% FPR), robustness per
edit per scheme, the quality cost side by side, detection ROC curves, on synthetic run
directories with hand-computed numbers; escaping of hostile names and output; no section for a
run without responsibility tasks."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from html_report_fixtures import synthetic_run
from trustgauge.report.responsibility import (
    colour,
    cost_rows,
    detection_roc,
    detection_rows,
    histogram,
    kind,
    markdown_lines,
    responsibility_section,
    robustness_heatmap,
    strength_plot,
    z_values,
)
from trustgauge.report.writer import write_run
from trustgauge.results.schema import RunInfo, SampleRecord, ScoresFile, TaskScores
from trustgauge.types import MetricValue

WM, UT, DET = "fan2023.watermark", "fan2023.watermark_utility", "fan2023.generated_text_detection"
HALU = "truthfulness.hallucination"


@pytest.fixture(autouse=True)
def _no_registered_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Secrets registered by other tests would redact parts of the names read back here."""
    import trustgauge._secrets as secrets

    monkeypatch.setattr(secrets, "_SECRETS", set())


def mv(metric: str, value: float | None, direction: str = "higher", n: int = 10,
       ci: tuple[float, float] | None = None, reason: str | None = None) -> MetricValue:
    return MetricValue(metric=metric, value=value, direction=direction, n=n, ci=ci, reason=reason)  # type: ignore[arg-type]


def watermark_scores(schemes: tuple[str, ...] = ("kgw", "synthid"), edits: tuple[str, ...] = ("typos", "paraphrase"),
                     task: str = WM) -> TaskScores:
    metrics = [mv("tpr@1%fpr", 0.85, ci=(0.7, 0.95))]
    for i, s in enumerate(schemes):
        metrics += [mv(f"z_mean[{s}]", 8.0 + i), mv(f"tpr@1%fpr[{s}]", 0.9 - 0.1 * i, ci=(0.8 - 0.1 * i, 0.97)),
                    mv(f"tpr@0.1%fpr[{s}]", 0.8 - 0.1 * i), mv(f"fpr@z4[{s}]", 0.0, "lower"),
                    mv(f"undetermined[{s}]", 0.05, "lower"), mv(f"ppl[{s}]", 12.0 + i, "lower"),
                    mv(f"ppl_ratio[{s}]", 1.2 + 0.1 * i, "lower")]
        for j, a in enumerate(edits):
            value = None if (s, a) == (schemes[-1], edits[-1]) else 0.6 - 0.2 * j
            metrics += [mv(f"tpr@1%fpr[{s}/{a}]", value, reason=None if value is not None else "no paraphraser"),
                        mv(f"z_mean[{s}/{a}]", 5.0 - j)]
    metrics.append(mv("ppl[none]", 10.0, "lower"))
    return TaskScores(task=task, dimension="fan2023", title="Watermark strength", metrics=metrics, n_samples=4,
                      aggregator="fan2023.watermark@1")


def utility_scores(schemes: tuple[str, ...] = ("kgw", "synthid")) -> TaskScores:
    metrics = [mv("delta", -0.05, ci=(-0.2, 0.1))]
    metrics += [mv(f"delta[{s}]", -0.05 * (i + 1), ci=(-0.25, 0.125), n=40) for i, s in enumerate(schemes)]
    for arm in ("none", *schemes):
        metrics.append(mv(f"score[{arm}/{HALU}]", 0.75 if arm == "none" else 0.5))
    metrics += [mv(f"delta[{s}/{HALU}]", -0.25) for s in schemes]
    return TaskScores(task=UT, dimension="fan2023", title="Watermark quality cost", metrics=metrics, n_samples=48,
                      aggregator="fan2023.watermark_utility@1")


def detection_scores(detectors: tuple[str, ...] = ("fast_detectgpt", "likelihood")) -> TaskScores:
    metrics = []
    for i, d in enumerate(detectors):
        metrics += [mv(f"auroc[{d}]", 0.9 - 0.2 * i, ci=(0.6, 1.0)), mv(f"tpr@1%fpr[{d}]", 0.5 - 0.25 * i),
                    mv(f"auroc[{d}/len:short]", 0.7), mv(f"auroc[{d}/len:long]", 0.95),
                    mv(f"auroc[{d}/src:wikipedia]", 0.8)]
    return TaskScores(task=DET, dimension="fan2023", title="Detection", metrics=metrics, n_samples=6,
                      aggregator="fan2023.detection@1")


def wm_sample(i: int, z: dict[str, float | None], response: str = "a text") -> SampleRecord:
    return SampleRecord(task=WM, sample_id=f"w{i}", prompt=f"prompt {i}", response=response, score=z, outcome="none")


def wm_samples() -> list[SampleRecord]:
    # kgw: unmarked z -1, 0, 1, 0.5; marked z 5, 9, 7, 11; synthid: one sample only
    return [
        wm_sample(0, {"z[none/kgw]": -1.0, "z[kgw]": 5.0, "z[none/synthid]": 0.2, "z[synthid]": 6.0}),
        wm_sample(1, {"z[none/kgw]": 0.0, "z[kgw]": 9.0}),
        wm_sample(2, {"z[none/kgw]": 1.0, "z[kgw]": 7.0}),
        wm_sample(3, {"z[none/kgw]": 0.5, "z[kgw]": 11.0}),
    ]


def det_samples() -> list[SampleRecord]:
    """fast_detectgpt separates perfectly; likelihood mis-ranks one pair."""
    rows: list[tuple[Any, float, float]] = [(True, 3.0, 0.5), ("machine", 2.0, -1.0), (1, 1.5, 0.1),
                                            (False, 0.5, 0.3), ("human", -1.0, -0.5), (0, 0.0, -2.0)]
    return [SampleRecord(task=DET, sample_id=f"d{i}", prompt="prefix", response="text", target=t,
                         score={"fast_detectgpt": a, "likelihood": b}, outcome="none")
            for i, (t, a, b) in enumerate(rows)]


def responsibility_run(tasks: list[TaskScores], samples: list[SampleRecord],
                       taxonomy: dict[str, list[str]] | None = None) -> tuple[RunInfo, ScoresFile, list[SampleRecord]]:
    base_run, base_scores, base_samples = synthetic_run(6, seed=2, task_ids=["safety.exaggerated"])
    run = base_run.model_copy(update={"tasks": [*base_run.tasks, *(t.task for t in tasks)], "taxonomy": taxonomy})
    return (run, ScoresFile(run_id=run.run_id, model="m", tasks=[*base_scores.tasks, *tasks]),
            [*base_samples, *samples])


def full_run() -> tuple[RunInfo, ScoresFile, list[SampleRecord]]:
    return responsibility_run([watermark_scores(), utility_scores(), detection_scores()], [*wm_samples(), *det_samples()])


# ---------------------------------------------------------------------------------------------
# the numbers


def test_tasks_are_told_apart_by_their_metrics() -> None:
    assert kind(watermark_scores()) == "watermark"
    assert kind(utility_scores()) == "utility"
    assert kind(detection_scores()) == "detection"
    assert kind(TaskScores(task="x", dimension="fan2023", title="t", metrics=[mv("rate", 0.5)], n_samples=1)) is None


def test_z_values_and_histogram_by_hand() -> None:
    unmarked, marked = z_values(wm_samples(), WM, "kgw")
    assert unmarked == [-1.0, 0.0, 1.0, 0.5] and marked == [5.0, 9.0, 7.0, 11.0]
    assert z_values(wm_samples(), WM, "synthid") == ([0.2], [6.0])
    # 4 bins over [0, 8): width 2; -1 clips to the first bin, 9 and 11 to the last
    assert histogram([-1.0, 0.0, 1.9, 2.0, 7.9, 9.0, 11.0], 0.0, 8.0, bins=4) == [3, 1, 0, 3]
    plot = strength_plot("kgw", unmarked, marked)
    assert plot is not None
    assert (plot["n_unmarked"], plot["n_marked"]) == (4, 4)
    assert plot["mean_unmarked"] == pytest.approx(0.125) and plot["mean_marked"] == pytest.approx(8.0)
    assert [line["z"] for line in plot["lines"]] == [2.326, 3.090, 4.0]
    # 24 bins over [-4, 11] (width 0.625): every z in a bin of its own, so each group's 4 bars are
    # 25% of its texts, all the plot's full height (the tallest share)
    assert sum(1 for b in plot["bars"] if b["cls"] == "unmarked") == 4
    assert sum(1 for b in plot["bars"] if b["cls"] == "marked") == 4
    assert {b["h"] for b in plot["bars"]} == {plot["ph"]}
    assert plot["bars"][0]["title"] == "unmarked: 25.0% of texts with z in [-1.50, -0.88)"
    assert strength_plot("kgw", [], []) is None


def test_robustness_heatmap_cells() -> None:
    hm = robustness_heatmap(watermark_scores())
    assert hm is not None
    assert hm["schemes"] == ["kgw", "synthid"] and hm["edits"] == ["typos", "paraphrase"]
    assert [c["label"] for c in hm["columns"]] == ["no edit", "typos", "paraphrase"]
    kgw, synthid = hm["rows"]
    assert [c["value"] for c in kgw["cells"]] == ["0.90", "0.60", "0.40"]
    assert [c["value"] for c in synthid["cells"]] == ["0.80", "0.60", "—"]
    assert synthid["cells"][2]["fill"] is None and "not measured (no paraphraser)" in synthid["cells"][2]["title"]
    assert kgw["cells"][0]["title"] == "kgw × no edit: TPR at 1% FPR 0.900 (n=10), 95% CI [0.800, 0.970]; mean z 8.00"
    assert kgw["cells"][1]["sub"] == "z 5.0"
    assert colour(0.0) == "#f7fbff" and colour(1.0) == "#08306b" and colour(2.0) == colour(1.0)
    assert robustness_heatmap(watermark_scores(edits=())) is None


def test_cost_side_by_side() -> None:
    rows = cost_rows(watermark_scores(), utility_scores())
    assert [r["scheme"] for r in rows] == ["kgw", "synthid"]
    kgw = rows[0]
    assert kgw["ppl_none"].value == 10.0 and kgw["ppl"].value == 12.0 and kgw["ppl_ratio"].value == 1.2
    assert kgw["delta"].value == pytest.approx(-0.05) and rows[1]["delta"].value == pytest.approx(-0.10)
    # a utility run alone still shows its deltas; a scheme only one task measured gets a row
    only = cost_rows(None, utility_scores(("kgw", "unigram")))
    assert [(r["scheme"], r["ppl_ratio"], r["delta"].value) for r in only] == [
        ("kgw", None, pytest.approx(-0.05)), ("unigram", None, pytest.approx(-0.10))]


def test_detection_roc_by_hand() -> None:
    roc = detection_roc(detection_scores(), det_samples())
    assert roc is not None and (roc["machine"], roc["human"]) == (3, 3)
    fast, lik = roc["series"]
    assert fast["name"] == "fast_detectgpt" and fast["label"] == "fast_detectgpt: AUROC 0.900"
    # fast_detectgpt separates the classes: the curve goes (0,0) -> (0,1) -> (1,1)
    pts = [tuple(map(float, p.split(","))) for p in fast["path"].split()]
    left, top, pw, ph = roc["left"], roc["top"], roc["pw"], roc["ph"]
    unit = [(round((x - left) / pw, 3), round(1 - (y - top) / ph, 3)) for x, y in pts]
    assert (0.0, 1.0) in unit and unit[0] == (0.0, 0.0) and unit[-1] == (1.0, 1.0)
    # likelihood: 0.5 (m), 0.3 (h), 0.1 (m), -0.5 (h), -1.0 (m), -2.0 (h)
    pts = [tuple(map(float, p.split(","))) for p in lik["path"].split()]
    unit = [(round((x - left) / pw, 3), round(1 - (y - top) / ph, 3)) for x, y in pts]
    assert unit == [(0.0, 0.0), (0.0, 0.333), (0.333, 0.333), (0.333, 0.667), (0.667, 0.667), (0.667, 1.0),
                    (1.0, 1.0)]
    assert detection_roc(detection_scores(), [s for s in det_samples() if s.target in (True, "machine", 1)]) is None


def test_detection_pairs_and_named_slices() -> None:
    """The detection task's own layout: one sample per human passage with the human and the
    model continuation's statistics (``human:D`` / ``model:D``), slices named by the aggregator
    params (length buckets) and sources written plainly."""
    metrics = [mv("auroc[likelihood]", 0.75), mv("tpr@1%fpr[likelihood]", 0.25),
               mv("auroc[likelihood/news]", 0.5), mv("auroc[likelihood/tokens_0-63]", 1.0)]
    task = TaskScores(task=DET, dimension="fan2023", title="Detection", metrics=metrics, n_samples=2,
                      aggregator="fan2023.detection@1",
                      aggregator_params={"detectors": ["likelihood"], "sources": ["news"],
                                         "lengths": [["tokens_0-63", 0, 63], ["tokens_64+", 64, None]]})
    samples = [SampleRecord(task=DET, sample_id="p1", prompt="p", response="r", target="the human rest",
                            score={"human:likelihood": -3.0, "model:likelihood": -1.0}),
               SampleRecord(task=DET, sample_id="p2", prompt="p", response="r", target="another rest",
                            score={"human:likelihood": -0.5, "model:likelihood": -2.0}),
               SampleRecord(task=DET, sample_id="p3", prompt="p", response=None, error="HTTP 500",
                            score={"human:likelihood": 9.0, "model:likelihood": -9.0})]
    rows = detection_rows(task)
    assert rows["lengths"] == ["tokens_0-63"] and rows["sources"] == ["news"]
    assert [m.value for m in rows["rows"][0]["lengths"]] == [1.0] and rows["rows"][0]["sources"][0].value == 0.5
    roc = detection_roc(task, samples)
    assert roc is not None and (roc["machine"], roc["human"]) == (2, 2)  # the failed sample left out
    (series,) = roc["series"]
    # -0.5 (h), -1.0 (m), -2.0 (m), -3.0 (h): (0,0) (0.5,0) (0.5,1) (1,1)
    left, top, pw, ph = roc["left"], roc["top"], roc["pw"], roc["ph"]
    unit = [(round((float(x) - left) / pw, 3), round(1 - (float(y) - top) / ph, 3))
            for x, y in (p.split(",") for p in series["path"].split())]
    assert unit == [(0.0, 0.0), (0.5, 0.0), (0.5, 0.5), (0.5, 1.0), (1.0, 1.0)]


def test_section_reads_scores_and_tags() -> None:
    _, scores, samples = full_run()
    section = responsibility_section(scores, samples, None)
    assert section is not None
    (w,) = section["watermark"]
    assert [r["scheme"] for r in w["rows"]] == ["kgw", "synthid"]
    assert w["rows"][0]["tpr1"].value == 0.9 and w["rows"][1]["tpr01"].value == pytest.approx(0.7)
    assert [p["scheme"] for p in w["plots"]] == ["kgw", "synthid"]
    (u,) = section["utility"]
    assert u["arms"] == ["none", "kgw", "synthid"] and u["rows"][0]["task"] == HALU
    assert [m.value for m in u["rows"][0]["scores"]] == [0.75, 0.5, 0.5]
    (d,) = section["detection"]
    assert d["lengths"] == ["short", "long"] and d["sources"] == ["wikipedia"]
    assert section["cost_tasks"] == [WM, UT]
    # by tag: a task of another id, tagged with a responsibility item, is in the section
    other = watermark_scores(task="fan2023.watermark_v2")
    _, scores2, samples2 = responsibility_run([other], [])
    assert responsibility_section(scores2, samples2, None) is None
    section2 = responsibility_section(scores2, samples2, {
        "fan2023.watermark_v2": ["fan2023:responsibility/content-detection"],
        "safety.exaggerated": ["fan2023:responsibility/value-alignment"]})
    assert section2 is not None and [x["task"] for x in section2["watermark"]] == ["fan2023.watermark_v2"]
    assert section2["watermark"][0]["plots"] == []  # no z-scores in its samples: the table alone


# ---------------------------------------------------------------------------------------------
# the pages


def test_html_and_markdown_show_the_section(tmp_path: Path) -> None:
    run, scores, samples = full_run()
    out = tmp_path / "run"
    write_run(out, run, scores, samples)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert '<section id="responsibility">' in html and 'href="#responsibility"' in html
    section = html.split('<section id="responsibility">', 1)[1].split("</section>", 1)[0]
    assert section.count('class="z-hist"') == 2
    assert section.count('class="asr-heatmap tpr-heatmap"') == 1
    assert len(re.findall(r'<g class="hmcell', section)) == 6
    assert section.count('class="roc-plot detection-roc"') == 1
    assert section.count('<polyline class="roc roc-') == 2
    assert '<td class="num" data-metric="tpr1">0.900 [0.800, 0.970]</td>' in section
    assert '<td class="num" data-metric="ppl_ratio">1.200</td>' in section
    assert '<td class="num" data-metric="delta">-0.050 [-0.250, +0.125] (40)</td>' in section
    assert f'<tr data-subtask="{HALU}">' in section
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "## Responsibility: watermarking and detection of generated text" in md
    assert "| kgw | 8.00 | 0.900 [0.800, 0.970] | 0.800 | 0.000 | 0.050 |" in md
    assert "| kgw | 0.90 | 0.60 | 0.40 |" in md and "| synthid | 0.80 | 0.60 | — |" in md
    assert "| kgw | 10.00 | 12.00 | 1.200 | -0.050 [-0.250, 0.125] |" in md
    assert f"| {HALU} | 0.750 | 0.500 | 0.500 | -0.250 | -0.250 |" in md
    assert "| fast\\_detectgpt | 0.900 [0.600, 1.000] | 0.500 | 0.700 | 0.950 |" in md


# scheme and detector names cannot hold "/" (it separates a metric's group parts); edits may
HOSTILE_SCHEME = '<b onmouseover=alert("s")>|x"y'
HOSTILE_EDIT = "edit|<img src=x onerror=alert(1)>`*_[l](http://x)</text></svg><script>alert('e')</script>"
HOSTILE_DETECTOR = "<img src=y onerror=alert('d')>&amp;"


def test_hostile_names_and_output_are_escaped(tmp_path: Path) -> None:
    wm = watermark_scores(schemes=(HOSTILE_SCHEME,), edits=(HOSTILE_EDIT, "typos"))
    det = detection_scores(detectors=(HOSTILE_DETECTOR,))
    samples = [wm_sample(0, {f"z[none/{HOSTILE_SCHEME}]": 0.0, f"z[{HOSTILE_SCHEME}]": 9.0},
                         response="<script>alert('r')</script>"),
               *[SampleRecord(task=DET, sample_id=f"d{i}", prompt="p", response="<img src=x onerror=alert(2)>",
                              target=i % 2 == 0, score={HOSTILE_DETECTOR: float(i)}) for i in range(4)]]
    util = utility_scores(schemes=(HOSTILE_SCHEME,))
    run, scores, samples = responsibility_run([wm, util, det], samples)
    out = tmp_path / "run"
    write_run(out, run, scores, samples)
    html = (out / "report.html").read_text(encoding="utf-8")
    section = html.split('<section id="responsibility">', 1)[1].split("</section>", 1)[0]
    for raw in ("<script", "<img", "</svg><", 'x"y', "<b "):
        assert raw not in section, raw
    assert "&lt;b onmouseover=alert(&#34;s&#34;)&gt;|x&#34;y" in section  # text and attributes
    assert 'data-scheme="&lt;b onmouseover=alert(&#34;s&#34;)&gt;|x&#34;y"' in section
    assert "edit|&lt;img src=x onerror=alert(1)&gt;" in section
    assert "&lt;img src=y onerror=alert(&#39;d&#39;)&gt;&amp;amp;" in section
    assert section.count('<polyline class="roc roc-1"') == 1
    assert html.count("<script") == 3  # the page's own data blocks and script only
    md = (out / "report.md").read_text(encoding="utf-8")
    resp = md.split("## Responsibility", 1)[1]
    assert "<script" not in resp and "<img" not in resp and "<b " not in resp and "[l](" not in resp
    assert "&lt;b onmouseover=alert(\"s\")&gt;\\|x\"y" in resp
    for table in re.findall(r"((?:^\|.*\|$\n?)+)", resp, flags=re.M):
        widths = {len(re.findall(r"(?<!\\)\|", line)) for line in table.strip().splitlines()}
        assert len(widths) == 1, table


def test_no_section_without_responsibility_tasks(tmp_path: Path) -> None:
    run, scores, samples = synthetic_run(20, seed=5, task_ids=["ethics.implicit.ethics", "safety.exaggerated"])
    # TrustLLM's ethics tasks carry a fan2023:responsibility tag but are not Fan et al.'s probes
    assert responsibility_section(scores, samples, {
        "ethics.implicit.ethics": ["fan2023:responsibility/value-alignment"]}) is None
    assert markdown_lines(None) == []
    out = tmp_path / "run"
    write_run(out, run, scores, samples)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="responsibility"' not in html and 'href="#responsibility"' not in html
    assert "Responsibility" not in (out / "report.md").read_text(encoding="utf-8")
