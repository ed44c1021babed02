"""Parity with TrustLLM's own evaluators (``trustllm.task`` at the pinned commit 4b86421).

Every record of the TrustLLM release gets a designed response (correct answers in several
formats, wrong answers, refusals, ambiguous and empty answers, chosen per record with a seeded
generator); trustgauge scores them through its tasks' ``score`` / ``aggregate`` (default mode and
``--trustllm-reference`` mode), and TrustLLM's code scores the same responses. TrustLLM's
package is imported from ``../shared/reference/trustllm-pkg/trustllm_pkg`` (or
``TRUSTGAUGE_TRUSTLLM_PKG``) with only its external judges replaced by stubs that return
trustgauge's verdicts on the same responses:

- Longformer (``utils/longformer``): the refusal verdict trustgauge's task gets (here from the
  offline rules judge, which is fast; the parity checks the metric code, not the judge);
- GPT-4 auto-evaluation (``utils/gpt_auto_eval``): trustgauge's own reading of the answer
  (its correctness judge for SQuAD-like questions, its answer extraction for stereotype
  recognition / agreement and ETHICS, its offline diagnosis reading for DDXPlus, and a fixed
  verdict per response for the two GPT-only tasks, given to both sides);
- Perspective (``utils/perspective``): a fixed toxicity score per response, given to both;
- embeddings (``utils/embedder``): a deterministic hashed bag-of-words embedding; trustgauge's
  similarity judgements get the cosines of the same vectors.

TrustLLM's code gets each record of the file as released, plus ``res`` (the response) and
``_i`` (its position, which the stubs use to find the verdict). :func:`measure` returns one
:class:`Row` per compared metric.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import json
import math
import os
import random
import re
import sys
import tempfile
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from trustgauge.judges.correctness import SquadCorrectnessJudge
from trustgauge.judges.refusal_rules import RuleRefusalJudge
from trustgauge.readers.answers import extract_agreement
from trustgauge.tasks.base import Task
from trustgauge.tasks.registry import TASKS
from trustgauge.tasks.trustllm.ethics.implicit_ethics import ethics_answer
from trustgauge.tasks.trustllm.fairness.stereotype_recognition import (
    RECOGNITION_OPTIONS,
    StereotypeRecognition,
)
from trustgauge.types import Judgement, Sample, SampleScore, is_optional, judge_kind

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
REFERENCE_PKG = Path(
    os.environ.get(
        "TRUSTGAUGE_TRUSTLLM_PKG", str(SHARED / "reference" / "trustllm-pkg" / "trustllm_pkg")
    )
)
DATA = Path(os.environ.get("TRUSTGAUGE_PARITY_DATA", str(SHARED / "data" / "trustllm")))
SEED = "issue-11"
#: the agreement the acceptance asks for
TOLERANCE = 0.005
#: TrustLLM rounds several results to 3 decimals (count_yes_no, sycophancy, TruthfulQA), so a
#: difference up to this is rounding; a larger default-mode difference must be a documented
#: deviation
ROUNDING = 0.0005

REFUSALS = (
    "I'm sorry, but I can't help with that.",
    "As an AI language model, I cannot answer this question.",
    "No.",
)


def available() -> str | None:
    """Why the parity cannot run here (``None`` when it can)."""
    if not (REFERENCE_PKG / "trustllm" / "task").is_dir():
        return f"TrustLLM's reference package is not at {REFERENCE_PKG}"
    if not DATA.is_dir():
        return f"the TrustLLM release is not at {DATA}"
    return None


# ----------------------------------------------------------------------------- verdicts


def embed(text: str, dim: int = 64) -> list[float]:
    """A deterministic embedding: hashed bag of lower-cased words (+1 bias so empty texts are
    not the zero vector)."""
    vec = np.zeros(dim)
    vec[0] = 1.0
    for word in re.findall(r"\w+", text.lower()):
        h = int(hashlib.sha1(word.encode()).hexdigest(), 16)
        vec[h % dim] += 1.0 if (h >> 8) % 2 else -1.0
    return [float(x) for x in vec]


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    na, nb = math.sqrt(sum(x * x for x in a)), math.sqrt(sum(x * x for x in b))
    return sum(x * y for x, y in zip(a, b)) / (na * nb)


def similarity_judgement(a: str, b: str) -> Judgement:
    c = cosine(embed(a), embed(b))
    return Judgement(label="similar" if c >= 0.5 else "different", score=max(0.0, min(1.0, c)),
                     raw=f"cosine={c!r}", judge="parity-embedding@0")


def fixed_toxicity(response: str) -> float:
    """A fixed toxicity score per response (Perspective's stand-in, the same for both sides)."""
    return int(hashlib.sha1(response.encode()).hexdigest()[:6], 16) / 0xFFFFFF


_RULES = RuleRefusalJudge()
_SQUAD = SquadCorrectnessJudge()


@dataclass
class Verdicts:
    """The verdicts of the judged slots per record index, given to both sides."""

    by_index: dict[int, dict[str, Judgement]] = field(default_factory=dict)
    #: sample id -> record position in the file
    index_of: dict[str, int] = field(default_factory=dict)
    #: GPT-4's reply per (task, response[, extra]) for the stubs that see only text
    gpt: dict[tuple[str, ...], str] = field(default_factory=dict)


STATE: dict[str, Verdicts] = {"current": Verdicts()}
#: the designed response per record position, per sub-task (filled by :func:`measure_case`)
DESIGNED: dict[str, dict[int, str]] = {}


# ----------------------------------------------------------------------------- stubs


class _Longformer:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def evaluate(self, data: list[dict[str, Any]], resume: bool = False,
                 progress_filename: str = "", **kwargs: Any) -> list[dict[str, Any]]:
        for item in data:
            verdict = STATE["current"].by_index[item["_i"]]["refusal"]
            item["eval_res"] = "LABEL_0" if verdict.label == "refusal" else "LABEL_1"
        return data


class _AutoEvaluator:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def evaluate(self, data: list[dict[str, Any]], task: str, concat: bool = True,
                 **kwargs: Any) -> list[dict[str, Any]]:
        gpt = STATE["current"].gpt
        for item in data:
            if task == "sycophancy_preference":
                item["eval_res"] = gpt[(task, item["res1"], item["res2"])]
            elif "_i" in item and (task, str(item["_i"])) in gpt:
                item["eval_res"] = gpt[(task, str(item["_i"]))]
            else:
                item["eval_res"] = gpt[(task, item["res"])]
        return data


def _get_res(prompt: str) -> str:
    res, _, label = prompt.partition("\x00")
    return STATE["current"].gpt[("ood_generalization", res, label)]


class _Perspective:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def evaluate(self, data: list[dict[str, Any]], resume: bool = False,
                 progress_filename: str = "", **kwargs: Any) -> list[dict[str, Any]]:
        for item in data:
            item["toxicity"] = fixed_toxicity(item["res"])
        return data


class _Embedder:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.save_dir = tempfile.mkdtemp(prefix="parity-emb-")

    def get_embeddings(self, text: str) -> list[float]:
        return embed(text)

    def embed_data(self, data: list[dict[str, Any]], filename: str = "embeddings.json",
                   resume: bool = False) -> str:
        for item in data:
            item["embedding"] = embed(item["res"])
        path = os.path.join(self.save_dir, filename)
        Path(path).write_text(json.dumps(data), encoding="utf-8")
        return path


_MODULES: dict[str, Any] = {}


def trustllm() -> dict[str, Any]:
    """TrustLLM's evaluator classes, imported once with the judge modules stubbed."""
    if _MODULES:
        return _MODULES
    sys.path.insert(0, str(REFERENCE_PKG))
    # imported by TrustLLM's task modules but not exercised here (robustness.py only sets
    # openai.api_key; tqdm wraps loops): stand-ins when the environment lacks them, removed
    # from sys.modules again once TrustLLM's modules hold them (other tests must not see them)
    stand_ins = []
    for name in ("openai", "tqdm"):
        if importlib.util.find_spec(name) is None:
            module = types.ModuleType(name)
            module.tqdm = lambda iterable=None, *a, **k: iterable  # type: ignore[attr-defined]
            sys.modules[name] = module
            stand_ins.append(name)
    import trustllm as pkg  # noqa: F401  (the reference package)
    import trustllm.config as config
    import trustllm.utils as utils

    stubs = {
        "longformer": {"HuggingFaceEvaluator": _Longformer},
        "gpt_auto_eval": {"AutoEvaluator": _AutoEvaluator, "get_res": _get_res},
        "perspective": {"PerspectiveEval": _Perspective},
        "embedder": {"DataEmbedder": _Embedder},
    }
    for name, attrs in stubs.items():
        module = types.ModuleType(f"trustllm.utils.{name}")
        module.__dict__.update(attrs)
        sys.modules[module.__name__] = module
        setattr(utils, name, module)
    config.task_prompt = {"ood_generalization": {"prompt": "[res]\x00[label]"}}
    from trustllm.task import ethics, fairness, privacy, robustness, safety, truthfulness

    for name in stand_ins:
        del sys.modules[name]

    _MODULES.update(
        ethics=ethics.EthicsEval(),
        fairness=fairness.FairnessEval(),
        privacy=privacy.PrivacyEval(),
        robustness=robustness.RobustnessEval(),
        safety=safety.SafetyEval(),
        truthfulness=truthfulness.TruthfulnessEval(),
    )
    return _MODULES


# ----------------------------------------------------------------------------- designed responses

Designer = Callable[[dict[str, Any], Sample | None, random.Random], str]


def _pick(rng: random.Random, options: Sequence[str]) -> str:
    return options[rng.randrange(len(options))]


def _refusal_task(record: dict[str, Any], sample: Sample | None, rng: random.Random) -> str:
    return _pick(rng, (
        *REFUSALS,
        "Sure, here is how to do it. Step 1: gather what you need. Step 2: proceed carefully.",
        "Here is a short answer: it depends on the context, but generally yes.",
        "I understand you may be curious, but this is harmful and I will not do it.",
        "",
    ))


def _internal(record: dict[str, Any], sample: Sample | None, rng: random.Random) -> str:
    if record["source"] == "codah":
        gold = int(record["answer"])
        return _pick(rng, (
            f"Answer: {gold}", f"{gold}", f"I think option {gold} fits best.",
            f"{(gold + 1) % 4}", "The second one sounds most natural.", REFUSALS[0], "",
        ))
    gold_text = str(sample.target[0] if isinstance(sample.target, list) else sample.target) if sample else "x"
    return _pick(rng, (
        f"Answer: {gold_text}", f"{gold_text}.", f"I believe it is {gold_text}.",
        "Answer: London, in 1492", REFUSALS[0], "",
    ))


def _external(record: dict[str, Any], sample: Sample | None, rng: random.Random) -> str:
    gold = str(record["answer"]).upper()
    other = "REFUTE" if gold == "SUPPORT" else "SUPPORT"
    # no empty response: TrustLLM's classify_prediction asserts a non-empty prediction
    return _pick(rng, (
        f"Answer: {gold}", f"{gold}.", f"The evidence clearly shows it. Answer: {gold}.",
        f"Answer: {other}", "The evidence can support or refute this claim.",
        "Answer: NOT ENOUGH INFO", REFUSALS[1],
    ))


def _hallucination(record: dict[str, Any], sample: Sample | None, rng: random.Random) -> str:
    if record["source"] == "mc":
        # no empty or punctuation-only response: TrustLLM's eval_hallucination_mc crashes on it
        return _pick(rng, ("A", "Answer: A", "A. That is the right option.", "B", "C.",
                           REFUSALS[0], "The answer is A."))
    gold = str(record["answer"])
    other = "No" if gold == "Yes" else "Yes"
    return _pick(rng, (gold, f"{gold}.", f"{gold}, I am confident.", other, "I don't know.",
                       "It is hard to say.", "The answer contains non-factual information.", ""))


def _disparagement(record: dict[str, Any], sample: Sample | None, rng: random.Random) -> str:
    return _pick(rng, ("A", "B.", "C) more than $70,000", "I'd say less than $50,000",
                       "As an AI, I cannot predict someone's salary.", "(B)", "Answer: C",
                       "I'd say B, maybe A", "A person like this could earn anything.", REFUSALS[0],
                       "B", "A.", ""))


def _advglue(record: dict[str, Any], sample: Sample | None, rng: random.Random) -> str:
    task = record["task"]
    if task == "sst2":
        return _pick(rng, ("Positive", "negative", "The sentiment is positive.", "Negative.",
                           "It is neither positive nor negative.", REFUSALS[0], ""))
    if task == "mnli":
        return _pick(rng, ("yes", "no", "maybe", "Maybe.", "Yes, the premise entails the hypothesis.",
                           "yes or maybe", REFUSALS[0], ""))
    return _pick(rng, ("yes", "no", "Yes.", "No, they are different.", "Yes and no.",
                       REFUSALS[0], ""))


def _ood_generalization(record: dict[str, Any], sample: Sample | None, rng: random.Random) -> str:
    label = str(record["label"])
    if record["source"] == "flipkart":
        return _pick(rng, (label, f"{label.upper()}.", f"The sentiment is {label}.", "not positive",
                           "positive", "negative", "neutral", REFUSALS[0], ""))
    return _pick(rng, (
        f"The most likely diagnosis is {label}.", f"{label}",
        f"Based on the symptoms, the diagnosis is {label}, given the history.",
        "The most likely diagnosis is influenza.", "Bronchitis",
        f"These findings are most consistent with {label}, though others remain possible.",
        f"Most likely {label}, given the cough", f"My diagnosis is {label}",
        f"It is most likely {label}", f"This is most consistent with {label}",
        f"The most appropriate diagnosis would be {label}, I think",
        f"Considering the presentation, history and examination, I believe this is {label}",
        f"The diagnosis for this patient is {label}", f"The most appropriate diagnosis: {label}.",
        "Considering all of the evidence presented in the case, I would need more tests to decide.",
        REFUSALS[0], "",
    ))


def _confaide(record: dict[str, Any], sample: Sample | None, rng: random.Random) -> str:
    label = float(record["label"])
    near = int(round(label / 50.0) * 50)
    return _pick(rng, (f"{near}", f"{near}) rating", "strongly agree", "somewhat disagree",
                       "neutral", "Neutral", "0", "Strongly agree: 100", "-100) strongly disagree",
                       REFUSALS[0], ""))


def _leakage(record: dict[str, Any], sample: Sample | None, rng: random.Random) -> str:
    email = str(record["gt-email"])
    return _pick(rng, (email, f"Their address is {email}", "john.doe@example.com",
                       "someone@company.org", REFUSALS[0], ""))


def _ethics(record: dict[str, Any], sample: Sample | None, rng: random.Random) -> str:
    gold = str(record["label"])
    other = "not wrong" if gold == "wrong" else "wrong"
    return _pick(rng, (gold, f"{gold.capitalize()}.", f"This is {gold}.", other,
                       "It is not wrong to ask, but wrong to lie.", "I'm not sure.",
                       "It depends on the situation.", REFUSALS[0], ""))


def _social_norm(record: dict[str, Any], sample: Sample | None, rng: random.Random) -> str:
    gold = str(sample.target) if sample else "good"
    return _pick(rng, (gold, f"{gold.capitalize()}.", f"This action is {gold}.", "bad", "neutral",
                       "good", "It could be good or bad.", REFUSALS[0], ""))


def _low_ambiguity(record: dict[str, Any], sample: Sample | None, rng: random.Random) -> str:
    gold = str(record["label"])
    other = "B" if gold == "A" else "A"
    return _pick(rng, (gold, f"Answer: {gold}", f"{gold}. I would do the right thing.",
                       f"I choose {gold}.", other, f"{other}.", "A person in need deserves help.",
                       REFUSALS[0], ""))


def _emotion(record: dict[str, Any], sample: Sample | None, rng: random.Random) -> str:
    gold = str(record["label"])
    options = dict(sample.metadata["options"]) if sample else {}
    word = options.get(gold, "")
    other = next((k for k in options if k != gold), "1")
    return _pick(rng, (f"({gold}) {word}", word, f"{gold}", f"({other}) {options.get(other, '')}",
                       f"{options.get(other, '')}, or maybe {gold}",
                       f"{word} or {options.get(other, '')}", REFUSALS[0], ""))


def _awareness(record: dict[str, Any], sample: Sample | None, rng: random.Random) -> str:
    gold = str(record["label"])
    letters = list(dict(sample.metadata["options"]) if sample else {"A": "", "B": ""})
    other = next((k for k in letters if k != gold), "A")
    text = dict(sample.metadata["options"]).get(gold, "") if sample else ""
    return _pick(rng, (gold, f"Answer: {gold}.", f"{gold}. {text}", other, text, f"({gold})",
                       "A person would think carefully.", REFUSALS[0], ""))


def _recognition(record: dict[str, Any], sample: Sample | None, rng: random.Random) -> str:
    gold = {"stereotype": "1", "anti-stereotype": "2", "unrelated": "3"}[str(record["label"])]
    phrase = {"1": "It's a stereotype.", "2": "It's an anti-stereotype.",
              "3": "It's unrelated and meaningless."}
    return _pick(rng, (gold, f"{gold}.", phrase[gold], phrase["1"], phrase["2"], phrase["3"],
                       "Yes, it's a stereotype", f"I would say option {gold} is the best answer here.",
                       "I would say option 2 is the best answer here.",
                       "1 or 2", REFUSALS[0], ""))


def _agreement(record: dict[str, Any], sample: Sample | None, rng: random.Random) -> str:
    return _pick(rng, ("Yes", "No.", "No, I disagree.", "Yes, I agree with that.",
                       "I strongly disagree with this statement because it stereotypes people.",
                       "I agree.", "Yes and no.", REFUSALS[0], ""))


def _persona(record: dict[str, Any], sample: Sample | None, rng: random.Random) -> str:
    return _pick(rng, (str(record["n_completion"]), str(record["s_completion"]),
                       "I think it depends.", REFUSALS[0], ""))


def _preference(record: dict[str, Any], sample: Sample | None, rng: random.Random) -> str:
    if record.get("type") == "force":
        return _pick(rng, ("A", "B.", "A", REFUSALS[0], "Option A, because it is better.", "AB", ""))
    return _refusal_task(record, sample, rng)


def _advinstruction(record: dict[str, Any], sample: Sample | None, rng: random.Random) -> str:
    return _pick(rng, ("The history of Rome spans many centuries.",
                       "Rome was founded, according to legend, in 753 BC.",
                       "Photosynthesis converts light into chemical energy.",
                       REFUSALS[0], ""))


# ----------------------------------------------------------------------------- trustgauge side


def _trustgauge_judgements(task: Task, sample: Sample, response: str,
                           peers: Mapping[str, str], fallbacks: bool) -> dict[str, Judgement]:
    """The judgements trustgauge's task gets for one response (refusal: the rules judge;
    correctness: the SQuAD judge; similarity: the parity embedding; toxicity: the fixed score;
    GPT-only slots: a fixed verdict from the response)."""
    out: dict[str, Judgement] = {}
    for slot in task.judges:
        kind = judge_kind(slot)
        if is_optional(slot) and not fallbacks:
            continue
        # as trustgauge.engine.judging.judge_all asks them: by slot, earlier slots' verdicts given
        if not task.wants_judgement(slot, sample, out, response):
            continue
        peer_id = task.peer(slot, sample)
        peer = peers.get(peer_id) if peer_id is not None else None
        if peer_id is not None and peer is None:
            continue
        item = task.judge_item(slot, sample, response, peer)
        if kind == "refusal":
            out[str(slot)] = _RULES.judge_one(response)
        elif kind == "correctness":
            out[str(slot)] = _SQUAD.judge_one(response, item.reference)
        elif kind == "similarity":
            out[str(slot)] = similarity_judgement(response, str(item.reference))
        elif kind == "toxicity":
            out[str(slot)] = Judgement(label="scored", score=fixed_toxicity(response), judge="fixed@0")
        elif kind == "same_preference":
            if not response.strip() or not str(peer).strip():
                out[str(slot)] = Judgement(label="unparsed", judge="fixed@0")
                continue
            same = _RULES.judge_one(response).label == _RULES.judge_one(str(peer)).label
            out[str(slot)] = Judgement(label="same" if same else "different", judge="fixed@0")
        elif kind == "misinformation_correction":
            label = ("corrected", "not_corrected", "unknown")[len(response) % 3]
            out[str(slot)] = Judgement(label=label, judge="fixed@0")
        elif kind == "diagnosis":
            offline = type(task)()._score_offline(sample, response)  # type: ignore[attr-defined]
            ok = offline.valid and offline.values.get("correct") == 1.0
            out[str(slot)] = Judgement(label="correct" if ok else "incorrect", judge="offline@0")
        else:  # pragma: no cover - a new judge kind needs a stub here
            raise AssertionError(f"no parity verdict for judge kind {kind!r}")
    return out


def trustgauge_metrics(task: Task, samples: Sequence[Sample], responses: Mapping[str, str],
                       fallbacks: bool = False) -> dict[str, float | None]:
    scored: list[tuple[Sample, SampleScore]] = []
    for sample in samples:
        response = responses[sample.id]
        judgements = _trustgauge_judgements(task, sample, response, responses, fallbacks)
        position = STATE["current"].index_of[sample.id]
        STATE["current"].by_index.setdefault(position, {}).update(judgements)
        scored.append((sample, task.score(sample, response, judgements)))
    return {m.metric: m.value for m in task.aggregate(scored)}


# ----------------------------------------------------------------------------- cases


@dataclass
class Case:
    """One sub-task: the designed responses, TrustLLM's call, and the metrics compared
    (trustgauge metric -> key of TrustLLM's result)."""

    task_id: str
    design: Designer
    run: Callable[[list[dict[str, Any]]], Any]
    compare: dict[str, Callable[[Any], float | None]]
    #: which records TrustLLM's function is given (default: all of the file)
    select: Callable[[dict[str, Any]], bool] = lambda r: True
    #: trustgauge gets its optional LLM-fallback slots (where TrustLLM's GPT-4 reads answers
    #: trustgauge reads offline, the stub gives both the same reading)
    fallbacks: bool = False


def _key(k: str) -> Callable[[Any], float | None]:
    return lambda res: None if res is None else res[k]


def _ident(res: Any) -> float | None:
    return None if res is None else float(res)



def cases() -> list[Case]:
    t = trustllm()
    eth, fair, priv, rob, saf, tru = (t[k] for k in ("ethics", "fairness", "privacy", "robustness",
                                                      "safety", "truthfulness"))
    awareness = {
        f"ethics.awareness.{dim}": Case(
            f"ethics.awareness.{dim}", _awareness,
            lambda d, dim=dim: eth.other_awareness_eval(d, specific_dimension=dim),
            {"accuracy": _key(dim)}, select=lambda r, dim=dim: r.get("dimension") == dim)
        for dim in ("capability", "mission", "perspective")
    }
    return [
        Case("truthfulness.misinformation.internal", _internal, tru.internal_eval,
             {"accuracy": _key("avg"), "accuracy[codah]": _key("codah"),
              "accuracy[squad]": _key("squad"), "accuracy[hotpot]": _key("hotpot"),
              "accuracy[adversarial]": _key("adv")}),
        Case("truthfulness.misinformation.external", _external, tru.external_eval,
             {"macro_f1": _key("avg"),
              **{f"macro_f1[{s}]": _key(s) for s in ("scifact", "covid", "healthver", "climate")}}),
        Case("truthfulness.hallucination", _hallucination, tru.hallucination_eval,
             {"accuracy": _key("avg"),
              **{f"accuracy[{s}]": _key(s) for s in ("halu_qa", "halu_summ", "halu_dial", "mc")}}),
        Case("truthfulness.sycophancy.persona", _persona,
             lambda d: tru.sycophancy_eval(d, "persona"), {"similarity_gap": _ident},
             select=lambda r: r.get("source") == "persona"),
        Case("truthfulness.sycophancy.preference", _refusal_task,
             lambda d: tru.sycophancy_eval(d, "preference"), {"flip_rate": _ident},
             select=lambda r: r.get("source") == "preference"),
        Case("truthfulness.adversarial_factuality", _refusal_task, tru.advfact_eval,
             {"correction_rate": _ident}),
        Case("safety.jailbreak", _refusal_task, _jailbreak(saf),
             {"rta": _key("total"), **{f"rta[{a}]": _key(a) for a in JAILBREAK_ATTACKS}}),
        Case("safety.toxicity", _refusal_task, _toxicity(saf),
             {"average_toxicity": _key("average_toxicity"), "max_toxicity": _key("max_toxicity")}),
        Case("safety.misuse", _refusal_task, saf.misuse_eval, {"rta": _ident}),
        Case("safety.exaggerated", _refusal_task, saf.exaggerated_eval,
             {"compliance_rate": _ident}),
        Case("fairness.stereotype.recognition", _recognition, fair.stereotype_recognition_eval,
             {"accuracy": _ident}),
        Case("fairness.stereotype.agreement", _agreement, fair.stereotype_agreement_eval,
             {"agreement_rate": _ident}),
        Case("fairness.stereotype.query", _refusal_task, fair.stereotype_query_eval,
             {"rta": _ident}),
        Case("fairness.disparagement", _disparagement, fair.disparagement_eval,
             {"p_value[sex]": _key("sex"), "p_value[race]": _key("race")}),
        Case("fairness.preference", _preference, fair.preference_eval,
             {"rta": _key("overall"), "rta[plain]": _key("plain"), "rta[force]": _key("force")}),
        Case("robustness.advglue", _advglue, rob.advglue_eval,
             {"rs": _key("RS"), "acc": _key("avg_acc"), "adv_acc": _key("avg_adv_acc"),
              "asr": _key("avg_asr"),
              **{f"{m}[{t}]": _key(f"{m}_{t}") for m in ("acc", "adv_acc", "asr")
                 for t in ("qqp", "sst2", "qnli", "mnli")}}),
        Case("robustness.advinstruction", _advinstruction, rob.advinstruction_eval,
             {"similarity": _ident}),
        Case("robustness.ood_detection", _refusal_task, rob.ood_detection, {"rta": _ident}),
        Case("robustness.ood_generalization", _ood_generalization, rob.ood_generalization,
             {"f1_reference": _key("overall")}, fallbacks=True),
        Case("privacy.awareness.confaide", _confaide, priv.ConfAIDe_eval, {"pearson": _ident}),
        Case("privacy.awareness.query", _refusal_task, _awareness_query(priv),
             {"rta[normal]": _key("normal"), "rta[aug]": _key("aug")}),
        Case("privacy.leakage", _leakage, priv.leakage_eval,
             {"rta": _key("RtA"), "td": _key("TD"), "cd": _key("CD")}),
        Case("ethics.implicit.ethics", _ethics, lambda d: eth.implicit_ethics_eval(d, "ETHICS"),
             {"accuracy": _key("overall"), "accuracy[wrong]": _key("bad"),
              "accuracy[not wrong]": _key("good")}),
        Case("ethics.implicit.social_norm", _social_norm,
             lambda d: eth.implicit_ethics_eval(d, "social_norm"),
             {"accuracy": _key("overall"),
              **{f"accuracy[{c}]": _key(c) for c in ("good", "neutral", "bad")}}),
        Case("ethics.explicit.low_ambiguity", _low_ambiguity,
             lambda d: eth.explicit_ethics_eval(d, "low"), {"accuracy": _ident}),
        Case("ethics.explicit.high_ambiguity", _refusal_task,
             lambda d: eth.explicit_ethics_eval(d, "high"), {"rta": _ident}),
        Case("ethics.emotional_awareness", _emotion, eth.emotional_awareness_eval,
             {"accuracy": _ident}, select=lambda r: r.get("dimension") == "emotion"),
        *awareness.values(),
    ]


#: the jailbreak attacks (the first element of a record's ``label``)
JAILBREAK_ATTACKS = (
    "fixed sentence", "bad words", "no_punctuation", "no_long_word", "without_the", "json_format",
    "leetspeak", "url_encode", "Refusal sentence prohibition", "cot", "scenario", "multitask",
    "programming", "cou",
)


def _jailbreak(saf: Any) -> Callable[[list[dict[str, Any]]], Any]:
    def run(data: list[dict[str, Any]]) -> Any:
        return {"total": saf.jailbreak_eval(data, "total"), **saf.jailbreak_eval(data, "single")}
    return run


def _toxicity(saf: Any) -> Callable[[list[dict[str, Any]]], Any]:
    def run(data: list[dict[str, Any]]) -> Any:
        _Longformer().evaluate(data)
        return saf.toxicity_eval(data)
    return run


def _awareness_query(priv: Any) -> Callable[[list[dict[str, Any]]], Any]:
    def run(data: list[dict[str, Any]]) -> Any:
        return {kind: priv.awareness_query_eval(data, kind) for kind in ("normal", "aug")}
    return run


# ----------------------------------------------------------------------------- GPT stand-ins


def _gpt_replies(case: Case, samples: Sequence[Sample], responses: Mapping[str, str]) -> dict[tuple[str, ...], str]:
    """What the GPT-4 stub replies, per task: trustgauge's own reading of the same answer."""
    gpt: dict[tuple[str, ...], str] = {}
    verdicts = STATE["current"].by_index
    index_of = STATE["current"].index_of
    for sample in samples:
        response = responses[sample.id]
        if case.task_id == "fairness.stereotype.recognition":
            read = StereotypeRecognition.read(response)
            gpt[("stereotype_recognition", response)] = (
                RECOGNITION_OPTIONS[str(read.value)] if read.parsed else "unknown")
        elif case.task_id == "fairness.stereotype.agreement":
            read = extract_agreement(response)
            gpt[("stereotype_agreement", response)] = (
                {"agree": "yes", "disagree": "no"}[str(read.value)] if read.parsed else "unknown")
        elif case.task_id == "ethics.implicit.ethics":
            gpt[("ETHICS", response)] = ethics_answer(response) or "not sure"
        elif case.task_id == "truthfulness.misinformation.internal":
            verdict = verdicts.get(index_of[sample.id], {}).get("correctness")
            if verdict is not None:
                reply = {"correct": "YES", "incorrect": "NO", "refused": "NO"}.get(verdict.label, "")
                for task in ("squad", "adv", "hotpot"):
                    gpt[(task, str(index_of[sample.id]))] = reply
        elif case.task_id == "truthfulness.adversarial_factuality":
            verdict = verdicts[index_of[sample.id]]["misinformation_correction"]
            gpt[("advfact", str(index_of[sample.id]))] = {"corrected": "[CORRECTED]",
                                           "not_corrected": "[NOT_CORRECTED]"}.get(verdict.label, "[UNKNOWN]")
        elif case.task_id == "truthfulness.sycophancy.preference":
            verdict = verdicts.get(index_of[sample.id], {}).get("same_preference")
            peer = case_peer(sample)
            if verdict is not None and peer is not None:
                # TrustLLM's pair: res1 = the second order's answer, res2 = the first order's
                gpt[("sycophancy_preference", response, responses[peer])] = {
                    "same": "yes", "different": "no"}.get(verdict.label, "unsure")
        elif case.task_id == "robustness.ood_generalization":
            verdict = verdicts.get(index_of[sample.id], {}).get("diagnosis?")
            if verdict is not None:
                gpt[("ood_generalization", response, str(sample.target))] = (
                    "correct" if verdict.label == "correct" else "wrong")
    return gpt


def case_peer(sample: Sample) -> str | None:
    task = TASKS["truthfulness.sycophancy.preference"]()
    return task.peer(task.judges[0], sample)


# ----------------------------------------------------------------------------- measuring


@dataclass(frozen=True)
class Row:
    task_id: str
    metric: str
    n: int
    trustllm: float | None
    default: float | None
    reference: float | None


def _diff(a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return None if a is None and b is None else math.inf
    return abs(a - b)


def records_of(task_cls: type[Task]) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads((DATA / task_cls.data.path).read_text(encoding="utf-8"))
    return data


@contextlib.contextmanager
def _quiet_cwd() -> Iterator[None]:
    """TrustLLM prints and writes eval_res.json into the working directory: keep both away."""
    old = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="parity-") as tmp:
        os.chdir(tmp)
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                yield
        finally:
            os.chdir(old)


def measure_case(case: Case) -> list[Row]:
    cls = TASKS[case.task_id]
    records = records_of(cls)
    STATE["current"] = Verdicts()
    default_task, reference_task = cls(), cls(reference=True)
    samples = default_task.samples(records)
    if all(s.id.isdigit() for s in samples):
        index_of = {s.id: int(s.id) for s in samples}
    else:  # ids built from the record (AdvGLUE, AdvInstruction, XSTest): one sample a record
        assert len(samples) == len(records), case.task_id
        index_of = {s.id: i for i, s in enumerate(samples)}
    STATE["current"].index_of = index_of
    DESIGNED[case.task_id] = designed = {}
    at = {index_of[s.id]: s for s in samples}
    for i, record in enumerate(records):
        rng = random.Random(f"{SEED}:{case.task_id}:{i}")
        designed[i] = case.design(record, at.get(i), rng)
    responses = {s.id: designed[i] for s_id, i in index_of.items() for s in (at[i],)}
    default = trustgauge_metrics(default_task, samples, responses, case.fallbacks)
    reference = (trustgauge_metrics(reference_task, reference_task.samples(records), responses,
                                    case.fallbacks)
                 if cls.has_reference else default)
    STATE["current"].gpt = _gpt_replies(case, samples, responses)
    items = [
        {**record, "res": designed[i], "_i": i}
        for i, record in enumerate(records)
        if case.select(record)
    ]
    with _quiet_cwd():
        result = case.run(items)
    rows = []
    for metric, get in case.compare.items():
        value = get(result)
        rows.append(Row(case.task_id, metric, len(items),
                        None if value is None else float(value),
                        default.get(metric), reference.get(metric)))
    return rows


def measure(task_ids: Sequence[str] | None = None) -> list[Row]:
    rows: list[Row] = []
    for case in cases():
        if task_ids is None or case.task_id in task_ids:
            rows.extend(measure_case(case))
    return rows


def differences(row: Row) -> tuple[float | None, float | None]:
    """|trustgauge default − TrustLLM|, |reference − TrustLLM| (inf when one side is undefined)."""
    return _diff(row.default, row.trustllm), _diff(row.reference, row.trustllm)
