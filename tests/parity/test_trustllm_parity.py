"""Parity with TrustLLM's own evaluators on a designed response set covering the whole release
(see harness.py): ``--trustllm-reference`` agrees within 0.005 on every sub-task, every
default-mode difference is a documented deviation, and docs/trustllm.md's parity table is the
measurement. Runs offline in about 10 s (the reference package and the data are in
../shared)."""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType, ModuleType

import pytest

from _scripts import load_script

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import harness  # noqa: E402

ROOT = HERE.parents[1]
DOC = ROOT / "docs" / "trustllm.md"

pytestmark = pytest.mark.skipif(harness.available() is not None, reason=str(harness.available()))


def _doc_script() -> ModuleType:
    return load_script("make_trustllm_doc")


#: the statements of TrustLLM's task code and metrics the designed set does not reach, and
#: why: options trustgauge does not use (``return_data``, ``return_info_type``, ``awareness_eval``
#: over every dimension, the open-ended mission items that are not in the release, Chinese
#: counting, the evaluators' empty ``__init__``, built before tracing starts), defensive branches (``res is None``, an unknown AdvGLUE task, an exception in the
#: ETHICS loop, a zero-variance Pearson, a GPT reply with both YES and NO) and a DDXPlus cue
#: followed by neither "." nor "," that an earlier cue always catches. Line numbers of the
#: pinned commit. Every other statement, so every reading branch, runs on the designed set.
UNREACHED: dict[str, dict[int, str]] = {
    'trustllm/task/ethics.py': {
        14: 'pass',
        107: "dimensions = ['mission_implicit', 'mission_explicit', 'missi",
        114: "dimension_data = [el for el in data if el['res']]",
        118: 'evaluator = gpt_auto_eval.AutoEvaluator()',
        119: 'res_1 = evaluator.evaluate(data=dimension_data, task="awaren',
        120: 'res_2 = evaluator.evaluate(data=dimension_data, task="awaren',
        121: "performance_1 = len([el for el in res_1 if 'yes' in el['eval",
        122: "performance_2 = len([el for el in res_2 if 'yes' in el['eval",
        123: 'performance = (performance_1 + performance_2) / 2',
        150: "emotional_data = [el for el in data if el['dimension'] == 'e",
        151: 'awareness_res = self.other_awareness_eval(data)',
        154: "awareness_res['emotion'] = self.emotional_awareness_eval(emo",
        156: 'return awareness_res',
        305: 'print(e)',
        306: 'continue',
    },
    'trustllm/task/fairness.py': {
        13: 'pass',
        44: 'return eval_res, metrics.count_agreement(eval_res)',
        71: 'return eval_res, metrics.count_stereotype_recognition(eval_r',
        89: 'return eval_res, metrics.RtA(eval_res)',
        128: "return data, metrics.p_value(data, 'sex'), metrics.p_value(d",
    },
    'trustllm/task/privacy.py': {
        14: 'pass',
        78: 'assert all(\'privacy_information\' in d for d in data), "All d',
        79: 'info_type_data = {}',
        80: 'for el in data:',
        81: "info_type = el['privacy_information']",
        82: "info_type_data.setdefault(info_type, []).append(el['eval_res",
        84: 'info_type_RtA = {key: metrics.RtA(value) for key, value in i',
        85: 'return info_type_RtA',
    },
    'trustllm/task/robustness.py': {
        13: 'pass',
        97: 'raise ValueError(f"Unknown task type: {task}")',
        144: 'return eval_res, metrics.RtA(eval_res)',
        163: 'res = ""',
        217: 'end_index = len(res)',
        235: 'target = " "',
        266: 'f1_scores[source] = None',
    },
    'trustllm/task/safety.py': {
        13: 'pass',
        33: 'return res_data, metrics.RtA(res_data)',
        52: 'return total_res_data, rta_dict',
        69: 'return res_data, metrics.calculate_toxicity(res_data)',
        85: 'return res_data, metrics.RtA(res_data)',
        101: 'return res_data, 1 - metrics.RtA(res_data)',
    },
    'trustllm/task/truthfulness.py': {
        10: 'pass',
    },
    'trustllm/utils/metrics.py': {
        26: 'return None, None',
        38: 'if not text:',
        39: 'return False',
        41: 'chinese_count = 0',
        42: 'total_count = len(text)',
        44: 'for char in text:',
        45: "if '\\u4e00' <= char <= '\\u9fff':",
        46: 'chinese_count += 1',
        48: 'chinese_ratio = chinese_count / total_count',
        50: 'return chinese_ratio > ratio',
        72: 'for item in data:',
        73: "if is_chinese_ratio(item['res'], ratio):",
        74: "item['ch'] = True",
        76: "item['ch'] = False",
        77: "data = [d for d in data if d['ch']]",
        99: 'raise ValueError("Input data should be a list of pairs.")',
        107: 'return None',
        136: 'pass',
        151: 'return False',
        350: 'print("None")',
        351: 'continue;',
        353: 'continue',
    },
}


HITS: dict[str, set[int]] = {}


@pytest.fixture(scope="module")
def rows() -> list[harness.Row]:
    """The parity measurement, with line coverage of TrustLLM's code recorded in HITS."""
    root = str(harness.REFERENCE_PKG)

    def tracer(frame: FrameType, event: str, arg: object) -> Callable[..., object] | None:
        if not frame.f_code.co_filename.startswith(root):
            return None

        def local(frame: FrameType, event: str, arg: object) -> Callable[..., object]:
            if event == "line":
                HITS.setdefault(frame.f_code.co_filename, set()).add(frame.f_lineno)
            return local

        return local

    harness.trustllm()
    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        return harness.measure()
    finally:
        sys.settrace(previous)


def test_designed_set_reaches_every_reading_branch(rows: list[harness.Row]) -> None:
    missed: dict[str, list[int]] = {}
    for rel in UNREACHED:
        path = harness.REFERENCE_PKG / rel
        tree = ast.parse(path.read_text(encoding="utf-8"))
        statements = {
            node.lineno
            for node in ast.walk(tree)
            if isinstance(node, ast.stmt)
            and not isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom))
            and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
        }
        left = sorted(statements - HITS.get(str(path), set()) - set(UNREACHED[rel]))
        if left:
            missed[rel] = left
    assert missed == {}


def test_every_subtask_is_compared(rows: list[harness.Row]) -> None:
    from trustgauge.tasks.registry import TASKS

    assert {r.task_id for r in rows} == {t for t, c in TASKS.items() if c.benchmark == "trustllm"}
    # every record of the release was given to TrustLLM's code (filtered there by type / source
    # where its evaluator filters itself)
    assert all(r.n == len(harness.records_of(TASKS[r.task_id])) or r.task_id.startswith(
        ("ethics.emotional", "ethics.awareness", "truthfulness.sycophancy")) for r in rows)
    assert all(r.trustllm is not None for r in rows)


def test_reference_mode_matches_trustllm_code(rows: list[harness.Row]) -> None:
    script = _doc_script()
    off = [
        (r.task_id, r.metric, r.trustllm, r.reference)
        for r in rows
        if (d := harness.differences(r)[1]) is not None and d > harness.TOLERANCE
        and not script.reference_reason(r.task_id)
    ]
    assert off == []


def test_default_differences_are_documented_deviations(rows: list[harness.Row]) -> None:
    script = _doc_script()
    doc = DOC.read_text(encoding="utf-8")
    deviations = doc.split("## Deviations from TrustLLM's code", 1)[1].split("\n## ", 1)[0]
    undocumented = []
    for r in rows:
        d = harness.differences(r)[0]
        if d is None or d <= harness.ROUNDING:
            continue
        keys = script.explained_by(r.task_id)
        if not keys or not all(f"\n| {k} |" in deviations for k in keys):
            undocumented.append((r.task_id, r.metric, r.trustllm, r.default, keys))
    assert undocumented == []


def test_doc_parity_table_is_the_measurement(rows: list[harness.Row]) -> None:
    script = _doc_script()
    text = DOC.read_text(encoding="utf-8")
    assert script.render(text, rows) == text, (
        "docs/trustllm.md is out of date: run python scripts/make_trustllm_doc.py"
    )


def test_stubs_are_the_only_replaced_modules() -> None:
    # TrustLLM's task modules and its metrics are its own code; only the judge modules are ours
    harness.trustllm()
    import trustllm.task.ethics
    import trustllm.utils.metrics

    for module in (trustllm.task.ethics, trustllm.utils.metrics):
        assert Path(module.__file__ or "").resolve().is_relative_to(harness.REFERENCE_PKG.resolve())
    for name in ("longformer", "gpt_auto_eval", "perspective", "embedder"):
        assert getattr(sys.modules[f"trustllm.utils.{name}"], "__file__", None) is None


def test_designed_set_has_every_kind_of_answer(rows: list[harness.Row]) -> None:
    # every sub-task gets empty answers and refusals besides its correct / wrong / ambiguous
    # ones, except the two inputs that crash TrustLLM's code (docs/trustllm.md)
    for task_id, designed in harness.DESIGNED.items():
        answers = set(designed.values())
        assert len(answers) >= 4, task_id
        assert answers & set(harness.REFUSALS), task_id
        if task_id != "truthfulness.misinformation.external":
            assert "" in answers, task_id
