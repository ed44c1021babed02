"""``robustness.ood_generalization``: sentiment of recent Flipkart product reviews and diagnosis
of synthetic DDXPlus patients, read offline (answer extraction; an optional LLM fallback for
DDXPlus answers TrustLLM would send to GPT-4).

Also the DDXPlus readers (:func:`ddxplus_candidates`, :func:`ddxplus_answer`,
:func:`trustllm_ddxplus_target`) and their aliases. The metrics come from the stored aggregator
``trustllm.robustness.ood_generalization@1``
(:mod:`trustgauge.stats.aggregators.trustllm.robustness`, which also holds :data:`OOD_SOURCES`).
"""

from __future__ import annotations

import ast
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Final

from trustgauge.data.trustllm import TRUSTLLM
from trustgauge.errors import DataError
from trustgauge.readers.answers import Extraction, clean_response, extract_label
from trustgauge.stats.aggregators.trustllm.robustness import OOD_SOURCES
from trustgauge.tasks._common import get_field, get_prompt
from trustgauge.tasks.base import DocRow, Task
from trustgauge.tasks.outcome import Outcome
from trustgauge.tasks.quick import QuickPlan, field
from trustgauge.tasks.registry import register_task
from trustgauge.types import (
    DataRef,
    Direction,
    JudgeItem,
    Judgement,
    JudgeSlot,
    Sample,
    SampleScore,
)

#: the judge kind of the optional LLM fallback for DDXPlus diagnoses (``--judge-model``)
DIAGNOSIS_FALLBACK: Final = "diagnosis"
SENTIMENTS: Final = ("positive", "neutral", "negative")

_CANDIDATES_RE: Final = re.compile(r"Select one answer among\s*(\[[^\]]*\])")

#: other names of the DDXPlus pathologies (lower case), so that "GERD (gastroesophageal reflux
#: disease)" or "NSTEMI" name a candidate; only the candidates listed in a prompt are looked for
DDXPLUS_ALIASES: Final[Mapping[str, tuple[str, ...]]] = {
    "acute copd exacerbation / infection": (
        "acute copd exacerbation",
        "copd exacerbation",
        "acute exacerbation of copd",
    ),
    "acute dystonic reactions": ("acute dystonic reaction", "dystonic reaction"),
    "acute laryngitis": ("laryngitis",),
    "acute otitis media": ("otitis media",),
    "acute pulmonary edema": ("pulmonary edema", "acute pulmonary oedema", "pulmonary oedema"),
    "acute rhinosinusitis": ("acute sinusitis",),
    "anaphylaxis": ("anaphylactic reaction", "anaphylactic shock"),
    "anemia": ("anaemia",),
    "atrial fibrillation": ("afib", "a-fib"),
    "boerhaave": ("boerhaave syndrome", "boerhaave's syndrome", "esophageal rupture"),
    "bronchospasm / acute asthma exacerbation": (
        "bronchospasm",
        "acute asthma exacerbation",
        "asthma exacerbation",
        "asthma attack",
    ),
    "chronic rhinosinusitis": ("chronic sinusitis",),
    "gerd": (
        "gastroesophageal reflux disease",
        "gastro-esophageal reflux disease",
        "gastro-oesophageal reflux disease",
    ),
    "guillain-barré syndrome": ("guillain-barre syndrome", "guillain barre syndrome"),
    "hiv (initial infection)": ("hiv", "acute hiv infection", "initial hiv infection"),
    "influenza": ("flu",),
    "larygospasm": ("laryngospasm",),
    "localized edema": ("localised edema", "localized oedema", "localised oedema"),
    "pancreatic neoplasm": ("pancreatic cancer", "pancreatic tumor", "pancreatic tumour"),
    "possible nstemi / stemi": ("nstemi", "stemi", "possible nstemi", "myocardial infarction"),
    "psvt": ("paroxysmal supraventricular tachycardia", "supraventricular tachycardia"),
    "pulmonary neoplasm": ("lung cancer", "lung neoplasm", "pulmonary cancer"),
    "scombroid food poisoning": ("scombroid poisoning", "scombroid"),
    "sle": ("systemic lupus erythematosus", "lupus"),
    "spontaneous pneumothorax": ("pneumothorax",),
    "spontaneous rib fracture": ("rib fracture",),
    "tuberculosis": ("tb",),
    "urti": ("upper respiratory tract infection", "upper respiratory infection"),
    "viral pharyngitis": ("pharyngitis",),
    "whooping cough": ("pertussis",),
}

#: TrustLLM's ``extract_target`` phrases, in its order (it tests them case-sensitively)
TRUSTLLM_DIAGNOSIS_CUES: Final = (
    "diagnosis is",
    "most likely",
    "most consistent",
    "diagnosis for this patient is",
    "most appropriate diagnosis",
)
_DIAGNOSIS_CUES: Final = (
    *(re.compile(r"\b" + r"\s+".join(c.split()) + r"\b", re.I) for c in TRUSTLLM_DIAGNOSIS_CUES),
    re.compile(r"\bdiagnosis\s*:", re.I),
)
_PHRASE_END: Final = re.compile(r"[.,;!?\n]")


def ddxplus_candidates(prompt: str) -> list[str] | None:
    """The candidate pathologies of a DDXPlus prompt ("... Select one answer among ['a', 'b']"),
    or ``None`` when the prompt has no readable list."""
    found = _CANDIDATES_RE.findall(prompt)
    if not found:
        return None
    try:
        value = ast.literal_eval(found[-1])
    except (ValueError, SyntaxError):
        return None
    if not isinstance(value, list) or not value:
        return None
    if not all(isinstance(v, str) and v.strip() for v in value):
        return None
    return [str(v) for v in value]


def _fold_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _diagnosis_synonyms(candidates: Sequence[str]) -> dict[str, list[str]]:
    synonyms: dict[str, list[str]] = {}
    for candidate in candidates:
        names = list(DDXPLUS_ALIASES.get(candidate.lower(), ()))
        folded = _fold_accents(candidate)
        if folded != candidate:
            names.append(folded)
        synonyms[candidate] = names
    return synonyms


def ddxplus_answer(response: str, candidates: Sequence[str]) -> Extraction:
    """Which of the candidate diagnoses a response gives (our offline stand-in for TrustLLM's
    phrase extraction + GPT-4 fallback).

    1. TrustLLM's phrases ("diagnosis is", "most likely", "most consistent", "diagnosis for
       this patient is", "most appropriate diagnosis"; case-insensitive) and "diagnosis:", in
       that order, each occurrence left to right: the text after the phrase up to the next
       ``. , ; ! ?`` or line break is read for candidate names; the first phrase that names
       one decides (several candidates named there -> ``ambiguous``).
    2. Otherwise the whole response is read
       (:func:`~trustgauge.readers.answers.extract_label`): one candidate named -> it; a
       clearly stated answer (an answer cue, or the response opening with it) wins over
       passing mentions; negated or dismissed mentions ("not GERD", "GERD is less likely")
       do not count; several candidates named on an equal footing -> ``ambiguous``; a refusal
       -> ``refused``; none -> ``unparsed``.

    Names are whole words, case-insensitive, with the aliases of :data:`DDXPLUS_ALIASES` and
    accents optional ("Guillain-Barre"). The value is the candidate as listed in the prompt.
    """
    synonyms = _diagnosis_synonyms(candidates)
    text = clean_response(response)
    for cue in _DIAGNOSIS_CUES:
        for match in cue.finditer(text):
            end = _PHRASE_END.search(text, match.end())
            phrase = text[match.end() : end.start() if end else len(text)]
            read = extract_label(phrase, candidates, synonyms=synonyms, detect_refusal=False)
            if read.status != "unparsed":
                span = f"{match.group(0)}{phrase}".strip()
                return Extraction(
                    read.value, read.status, span, "diagnosis phrase", read.candidates
                )
    return extract_label(response, candidates, synonyms=synonyms)


def trustllm_ddxplus_target(response: str) -> str | None:
    """TrustLLM's ``extract_target`` for DDXPlus: the text after the first of
    :data:`TRUSTLLM_DIAGNOSIS_CUES` present (case-sensitive) up to the next '.', else the next
    ',', else the end; with no phrase, a response of 1-49 characters is the target; otherwise
    ``None``: TrustLLM asks GPT-4 (``task_prompt['ood_generalization']``)."""
    for cue in TRUSTLLM_DIAGNOSIS_CUES:
        if cue in response:
            start = response.index(cue) + len(cue)
            end = response.find(".", start)
            if end == -1:
                end = response.find(",", start)
            if end == -1:
                end = len(response)
            return response[start:end]
    if 0 < len(response) < 50:
        return response
    return None


@register_task
class OODGeneralization(Task):
    """OOD generalization: sentiment of recent (2022+) Flipkart product reviews and diagnosis
    of synthetic DDXPlus patients, data the model is unlikely to have seen.

    data ``robustness/ood_generalization.json`` (500 = flipkart 400 + ddxplus 100) -> prompt
    verbatim, T=0.0 -> answer read offline, no judge: flipkart -> the sentiment word read by
    answer extraction (:func:`~trustgauge.readers.answers.extract_label` over positive /
    neutral / negative), correct iff it is the gold label; ddxplus -> the candidate diagnosis
    read by :func:`ddxplus_answer`, correct iff it is the gold pathology (naming several
    candidates is wrong, as TrustLLM's GPT-4 prompt says) -> ``accuracy`` ↑ = mean of the two
    sources' accuracies; ``f1_reference`` ↑ = TrustLLM's reported "F1", the mean over the
    sources of 2·acc/(1+acc) (:func:`~trustgauge.stats.metrics.f1_when_all_predicted_correct`);
    ``accuracy[flipkart]``, ``accuracy[ddxplus]``.

    As in TrustLLM every response counts: an answer that cannot be read (no class or
    candidate named, several named, a refusal) is wrong. Only empty responses are invalid.

    With a judge model (``--judge-model``), DDXPlus answers naming no single candidate that
    TrustLLM would send to GPT-4 (:meth:`needs_fallback`) go to an LLM with TrustLLM's prompt
    (optional slot ``diagnosis?``, the gold label as reference); its correct / incorrect
    replaces the offline verdict (an unreadable or failed judgement keeps it, noted).

    Args:
        reference: TrustLLM's readers (``task/robustness.py::extract_target``): flipkart is
            correct iff the lower-cased label is a substring of the lower-cased response ("not
            positive", "non-negative" or an echo of the three options count); ddxplus reads
            :func:`trustllm_ddxplus_target` and checks the label as a substring; the responses
            for which TrustLLM would ask GPT-4 are invalid (``n_invalid``), or read by the LLM
            fallback when there is a judge model.
    """

    id = "robustness.ood_generalization"
    size = 500
    dimension = "robustness"
    title = "OOD generalization (Flipkart, DDXPlus)"
    description = "Sentiment of recent product reviews and diagnosis of synthetic patients."
    data = DataRef(dataset=TRUSTLLM.id, path="robustness/ood_generalization.json")
    temperature = 0.0
    metrics: ClassVar[tuple[tuple[str, Direction], ...]] = (
        ("accuracy", "higher"),
        ("f1_reference", "higher"),
        *((f"accuracy[{s}]", "higher") for s in OOD_SOURCES),
    )
    taxonomy = ("robustness/paradigm-and-distribution-shifts",)
    judges: ClassVar[tuple[JudgeSlot, ...]] = (JudgeSlot(DIAGNOSIS_FALLBACK, optional=True),)
    quick = QuickPlan(
        24,
        field("source"),
        built_from="Flipkart product reviews (Kaggle); DDXPlus (Fansi Tchango et al. 2022)",
        licence="CC0 (Flipkart, unverified); CC BY 4.0 (DDXPlus)",
    )
    doc = DocRow(
        explained_by=(
            "`robustness.ood_generalization` (Flipkart)",
            "`robustness.ood_generalization` (DDXPlus)",
        )
    )

    has_reference = True
    #: the same in reference mode (only the readers differ): no params
    aggregator: ClassVar[str] = "trustllm.robustness.ood_generalization@1"

    def samples(self, records: Sequence[Mapping[str, Any]]) -> list[Sample]:
        """One sample per record, id = index; target = the sentiment (lower case) or the
        candidate pathology equal to the label; ddxplus samples carry their ``candidates``."""
        samples: list[Sample] = []
        for i, record in enumerate(records):
            prompt = get_prompt(self, i, record)
            source = get_field(self, i, record, "source", choices=OOD_SOURCES)
            label = get_field(self, i, record, "label", str)
            where = f"{self.data.path} record {i}"
            metadata: dict[str, Any] = {"source": source}
            if source == "flipkart":
                if label.lower() not in SENTIMENTS:
                    raise DataError(
                        f"{where}: field 'label' is {label!r}, expected one of "
                        + ", ".join(repr(s) for s in SENTIMENTS)
                    )
                target = label.lower()
            else:
                candidates = ddxplus_candidates(prompt)
                if candidates is None:
                    raise DataError(
                        f"{where}: field 'prompt' has no candidate list "
                        "(\"Select one answer among ['...', ...]\")"
                    )
                matching = [c for c in candidates if c.lower() == label.lower()]
                if not matching:
                    raise DataError(
                        f"{where}: field 'label' is {label!r}, not one of the candidates its "
                        "prompt lists"
                    )
                target = matching[0]
                metadata["candidates"] = candidates
            samples.append(Sample(id=str(i), prompt=prompt, target=target, metadata=metadata))
        return samples

    def needs_fallback(self, sample: Sample, response: str) -> bool:
        """Whether the optional LLM fallback reads this answer: DDXPlus only (flipkart never),
        when TrustLLM's ``extract_target`` would ask GPT-4 (no diagnosis phrase and 50
        characters or more, :func:`trustllm_ddxplus_target` is ``None``) and, outside reference
        mode, the offline reading (:func:`ddxplus_answer`) names no single candidate (none,
        several, or a refusal; an empty response stays invalid). TrustLLM reads the text after
        a diagnosis phrase, or a short response, by substring and never asks GPT-4 about them;
        its GPT-4 prompt says naming several diagnoses is wrong, as our reading does."""
        if sample.metadata.get("source") != "ddxplus":
            return False
        if trustllm_ddxplus_target(response) is not None:
            return False
        if self.reference:
            return True
        if not response.strip():
            return False
        return not ddxplus_answer(response, list(sample.metadata["candidates"])).parsed

    def wants_judgement(
        self,
        slot: JudgeSlot,
        sample: Sample,
        earlier: Mapping[str, Judgement],
        response: str | None = None,
    ) -> bool:
        """DDXPlus samples whose answer :meth:`needs_fallback` (all DDXPlus samples when the
        response is not given)."""
        if response is None:
            return sample.metadata.get("source") == "ddxplus"
        return self.needs_fallback(sample, response)

    def judge_item(
        self, slot: JudgeSlot, sample: Sample, response: str, peer_response: str | None = None
    ) -> JudgeItem:
        """The response and the gold pathology (TrustLLM's ``[res]`` and ``[label]``)."""
        return JudgeItem(prompt=sample.prompt, response=response, reference=str(sample.target))

    def oracle_response(self, sample: Sample) -> str:
        """The gold sentiment, or the gold diagnosis in TrustLLM's phrase."""
        if sample.metadata["source"] == "flipkart":
            return str(sample.target)
        return f"The diagnosis is {sample.target}."

    def score(
        self, sample: Sample, response: str, judgements: Mapping[str, Judgement]
    ) -> SampleScore:
        """1.0 when the answer read is the gold label, else 0.0 (unreadable answers included);
        an empty response is invalid (reference mode: the responses TrustLLM sends to GPT-4).
        The LLM fallback's correct / incorrect decides the answers of :meth:`needs_fallback`."""
        offline = self._score_offline(sample, response)
        fallback = judgements.get(f"{DIAGNOSIS_FALLBACK}?")
        if fallback is None or not self.needs_fallback(sample, response):
            return offline
        if fallback.label not in ("correct", "incorrect"):
            kept = "offline verdict kept" if offline.valid else "left invalid"
            note = f"{offline.note}; fallback judge said {fallback.label!r}, {kept}"
            return offline.model_copy(update={"note": note})
        correct = fallback.label == "correct"
        label: str | None = fallback.label
        if not self.reference:
            label = str(sample.target) if correct else offline.label
        return SampleScore(
            label=label,
            values={"correct": float(correct)},
            note=f"{offline.note}; fallback judge: {fallback.label}",
        )

    def outcome(self, score: SampleScore) -> Outcome:
        """A wrong answer fails (an unreadable one counts as wrong, as in TrustLLM); an invalid
        score (an empty response; reference mode: one TrustLLM would ask GPT-4 about, left
        unread) has no verdict."""
        correct = score.values.get("correct")
        if not score.valid or correct is None:
            return "none"
        return "fail" if correct == 0 else "pass"

    def _score_offline(self, sample: Sample, response: str) -> SampleScore:
        """:meth:`score` without the LLM fallback."""
        source = str(sample.metadata["source"])
        gold = str(sample.target)
        if self.reference:
            target = response if source == "flipkart" else trustllm_ddxplus_target(response)
            if target is None:
                return SampleScore(
                    valid=False, note="TrustLLM asks GPT-4 here (no diagnosis phrase)"
                )
            correct = gold.lower() in target.lower()
            return SampleScore(
                label="correct" if correct else "incorrect",
                values={"correct": float(correct)},
                note=None if source == "flipkart" else f"target {target!r}",
            )
        if not response.strip():
            return SampleScore(valid=False, note="empty response")
        if source == "flipkart":
            read = extract_label(response, SENTIMENTS)
        else:
            read = ddxplus_answer(response, list(sample.metadata["candidates"]))
        answer = str(read.value) if read.parsed else read.status
        note = None if read.parsed else f"{read.status}: {read.span or read.rule}"
        return SampleScore(label=answer, values={"correct": float(answer == gold)}, note=note)
