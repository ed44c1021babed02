"""The GPU check scripts (``benchmarks/gpu/``) run here as far as a machine without a GPU allows:
their comparisons on hand-made results, their inputs, and their refusal to run without a GPU."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from trustgauge.types import Loglikelihood, TokenLogprob

GPU = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu"


def _load(name: str) -> ModuleType:
    sys.path.insert(0, str(GPU))
    try:
        spec = importlib.util.spec_from_file_location(f"gpu_{name}", GPU / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(GPU))


check_vllm = _load("check_vllm_backend")
check_hf = _load("check_hf_batching")
gpu = _load("_gpu")


def _ll(*pieces: tuple[int, float]) -> Loglikelihood:
    tokens = tuple(TokenLogprob(token=str(i), logprob=lp, id=i) for i, lp in pieces)
    return Loglikelihood(logprob=sum(lp for _, lp in pieces), tokens=tokens)


def test_loglikelihoods_are_compared_per_token_and_on_the_same_ids() -> None:
    a = [_ll((5, -1.0), (6, -2.0)), _ll((7, -0.5)), _ll((8, -1.0))]
    b = [_ll((5, -1.01), (6, -2.01)), _ll((7, -0.6)), _ll((9, -1.0))]
    same = check_vllm.compare_loglikelihoods(a, b, 0.05, same_tokens=True)
    assert same["pairs"] == 3 and same["same_token_count"] == 3 and not same["ok"]
    assert same["max_mean_abs_diff"] == pytest.approx(0.1)  # pair 1: 0.1 over one token
    assert [i for i, _ in same["failures"]] == [1, 2] and "token ids differ" in same["failures"][1][1]
    loose = check_vllm.compare_loglikelihoods(a, b, 0.2, same_tokens=False)
    assert loose["ok"] and loose["mean_mean_abs_diff"] == pytest.approx((0.01 + 0.1 + 0.0) / 3)
    with pytest.raises(ValueError, match="3 results against 2"):
        check_vllm.compare_loglikelihoods(a, b[:2], 0.1, same_tokens=False)


def test_answers_are_read_per_sample_and_turn_and_compared(tmp_path: Path) -> None:
    def write(path: Path, second: str, turn: str) -> Path:
        rows = [
            {"task": "t.a", "sample_id": "0", "response": "Paris."},
            {"task": "t.a", "sample_id": "1", "response": second},
            {"task": "t.b", "sample_id": "0", "response": "done",
             "turns": [{"role": "attacker", "response": {"text": "attack"}}, {"role": "target", "response": {"text": turn}}]},
        ]
        path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
        return path

    a = gpu.answers(write(tmp_path / "a.jsonl", "The capital is Lyon.", "no"))
    assert a == {"t.a/0": "Paris.", "t.a/1": "The capital is Lyon.", "t.b/0": "done", "t.b/0/turn 1": "no"}
    b = gpu.answers(write(tmp_path / "b.jsonl", "The capital is Paris.", "no"))
    result = gpu.compare_answers(a, b)
    assert result["compared"] == 4 and result["equal"] == 3 and result["agreement"] == 0.75
    assert result["differences"] == [{"sample": "t.a/1", "at": 15, "a": "The capital is Lyon.", "b": "The capital is Paris."}]
    assert gpu.compare_answers({}, {})["agreement"] == 0.0


def test_the_inputs_come_from_the_packaged_demo_split() -> None:
    passages = json.loads(check_vllm.MEMBERSHIP_DEMO.read_text(encoding="utf-8"))
    pairs = check_vllm.scoring_pairs()
    whole = [p for p in pairs if p[0] == ""]
    assert len(whole) == len(passages) == 56 and len(pairs) == 87  # 31 passages have a sentence to split after
    assert all(c + x in {r["text"] for r in passages} for c, x in pairs)
    assert len(check_hf.prompts()) == 112


@pytest.mark.skipif(gpu.gpu_description() != "no GPU", reason="this machine has a GPU")
def test_without_a_gpu_the_scripts_refuse_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_vllm.main(["--out", "/nonexistent/never-written"]) == 2
    assert check_hf.main([]) == 2
    err = capsys.readouterr().err.splitlines()
    assert [line.split(":")[0] for line in err] == ["error", "error"] and all("no GPU" in line for line in err)
