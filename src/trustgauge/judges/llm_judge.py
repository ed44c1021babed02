"""LLM-as-judge over any backend: ``--judge-model openai:gpt-4o``, ``gguf:smollm2``,
``openai-compatible:NAME@http://127.0.0.1:8000/v1``, ``anthropic:...``.

One request per item (temperature 0), built from a :mod:`~trustgauge.judges.rubrics` rubric,
sent through the :class:`~trustgauge.engine.runner.Engine` (its concurrency limit and its
retries of transient errors: 429, 5xx, timeouts, dropped connections; nothing is cached there:
judgements are cached by the caller under :attr:`LLMJudge.id`). The answer is asked for as JSON
following the rubric's schema: natively where the backend can (``response_format`` for OpenAI
and compatible servers, a forced tool for Anthropic) and always in the prompt too.

Reading an answer:

1. Take the first JSON object in the reply: the whole reply, else a ```json fenced block, else
   the first balanced ``{...}`` (so leading prose and code fences are tolerated).
   A rubric that reproduces a published prompt may also read that prompt's own answer
   format when the reply holds no JSON object (StrongREJECT's ``#scores`` lines, HarmBench's
   bare yes/no: :attr:`~trustgauge.judges.rubrics.Rubric.native`).
2. Check it against the rubric (the label must be one of the allowed labels, case-insensitive;
   a score must be a number in 0..1).
3. If that fails, ask again in the same conversation: the reply so far, then a message saying
   what was wrong and repeating the schema; up to ``max_parse_retries`` times.
4. Still unreadable: ``Judgement(label="unparsed", score=None, raw=<last reply>)``. Never a
   guess.

Failures, and what becomes of them (nothing is dropped):

* The judge model cannot work at all (unknown model, bad key, unreachable server): found by
  :meth:`Model.check` before the first request, raised as :class:`~trustgauge.errors.ConfigError`.
* Every request of a :meth:`LLMJudge.judge` call fails (after the engine's retries): raised as
  :class:`LLMJudgeError`, so a broken judge never fills a run with error judgements.
* Some requests fail (transient errors past all retries, or a permanent error for that item,
  e.g. content filtered): those items get ``Judgement(label="error", score=None,
  raw="error: <reason>")``. Here ``raw`` holds the failure, as there is no model output.

``raw`` is otherwise always the judge model's own (last) reply text.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import sys
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from trustgauge.engine.progress import Progress
from trustgauge.engine.runner import Engine, RetryPolicy
from trustgauge.errors import ConfigError, JudgeError
from trustgauge.judges.base import Judge
from trustgauge.judges.catalogue import LLM, LLM_NEEDS, NEEDS_MODEL, register_judge
from trustgauge.judges.rubrics import AnswerError, Rubric, get_rubric
from trustgauge.models._http import redact_url, short
from trustgauge.models.base import Model
from trustgauge.types import ChatMessage, GenerationParams, JudgeItem, Judgement, Request

__all__ = ["ERROR", "UNPARSED", "LLMJudge", "LLMJudgeError", "extract_json_object", "parse_answer"]

#: the label of an item whose judge answer stayed unreadable
UNPARSED = "unparsed"
#: the label of an item whose judge request failed
ERROR = "error"

_SPEC_URL = re.compile(r"@(https?://.*)$", re.DOTALL)
_FENCE = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\n?(.*?)```", re.DOTALL)


class LLMJudgeError(JudgeError):
    """The judge model failed on every item of a batch; the message says how."""


# ---------------------------------------------------------------------------------------------
# Reading answers (pure)
# ---------------------------------------------------------------------------------------------


def _loads_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: JSON nested thousands deep
        return None
    return value if isinstance(value, dict) else None


def extract_json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in a model's reply, or ``None``.

    Tries the whole (stripped) reply, then each ```json fenced block, then each balanced
    ``{...}`` from left to right; the first that parses as a JSON object wins.
    """
    stripped = text.strip()
    found = _loads_object(stripped)
    if found is not None:
        return found
    for match in _FENCE.finditer(stripped):
        found = _loads_object(match.group(1).strip())
        if found is not None:
            return found
    start = stripped.find("{")
    limit = sys.getrecursionlimit()  # json.loads gives up (RecursionError) this deep
    seen: set[int] = set()
    while start != -1:
        spans, unclosed = _balanced_objects(stripped, start)
        for begin in sorted(spans):
            end, depth = spans[begin]
            if depth < limit:
                found = _loads_object(stripped[begin:end])
                if found is not None:
                    return found
        # a "{" this scan read as inside a string (a quote in prose before it) may start an
        # object of its own: scan again from the first "{" it did not read (one it left
        # unclosed is unclosed from itself too)
        seen.update(spans, unclosed)
        start = stripped.find("{", start + 1)
        while start != -1 and start in seen:
            start = stripped.find("{", start + 1)
    return None


def _balanced_objects(text: str, start: int) -> tuple[dict[int, tuple[int, int]], list[int]]:
    """Every ``{...}`` closed in one scan from the ``{`` at ``start`` to the end of the outer
    one (strings and escapes respected): start -> (end, nesting depth), and the starts left
    unclosed. One pass: a scan from each ``{`` took quadratic time on a reply nested deep."""
    spans: dict[int, tuple[int, int]] = {}
    stack: list[list[int]] = []  # [start, depth of what it holds]
    in_string = escaped = False
    for index in range(start, len(text)):
        char = text[index]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "{":
            stack.append([index, 1])
        elif char == "}" and stack:
            begin, depth = stack.pop()
            spans[begin] = (index + 1, depth)
            if not stack:
                break
            stack[-1][1] = max(stack[-1][1], depth + 1)
    return spans, [begin for begin, _ in stack]


def parse_answer(rubric: Rubric, text: str) -> tuple[str, float | None]:
    """The judgement label and score a reply stands for under ``rubric``.

    Raises:
        AnswerError: no JSON object in the reply, or one that does not follow the rubric.
    """
    answer = extract_json_object(text)
    if answer is None and rubric.native is not None:
        # the answer format the rubric's published prompt asked for (StrongREJECT, HarmBench)
        answer = rubric.native(text)
    if answer is None:
        raise AnswerError(
            "it is not a JSON object" if "{" not in text else "it is not valid, complete JSON"
        )
    verdict = rubric.interpret(answer)
    return verdict.label, verdict.score


def reask_message(rubric: Rubric, problem: str) -> str:
    """The follow-up sent after an unreadable reply."""
    return (
        f"Your previous reply could not be used: {problem}. Do not explain or apologise; answer "
        f"the same question again.\n\n{rubric.format_instructions()}"
    )


# ---------------------------------------------------------------------------------------------
# The judge
# ---------------------------------------------------------------------------------------------


def _public_spec(spec: str) -> str:
    """The model spec without credentials: the ``@URL`` of ``openai-compatible:NAME@URL`` loses
    any user:password and query string."""
    match = _SPEC_URL.search(spec)
    if match is None:
        return spec
    return f"{spec[: match.start()]}@{redact_url(match.group(1))}"


class LLMJudge(Judge):
    """A judge that asks a language model, following a rubric.

    Args:
        kind: what it judges (``refusal``, ``toxicity``, ``correctness``, or the kind of a
            TrustLLM rubric, see :data:`~trustgauge.judges.rubrics.RUBRICS`).
        model: the judge model: a spec string (``openai:gpt-4o``, ``gguf:smollm2``, ...) loaded
            with :func:`~trustgauge.models.registry.load_model`, or a :class:`Model` (owned by
            the caller: :meth:`aclose` does not close it).
        rubric: a rubric id (default: the kind's own rubric).
        max_parse_retries: how many times an unreadable answer is asked for again.
        max_concurrency: judge requests in flight.
        max_tokens: the judge answer's token limit.
        retry: backoff and timeout for transient errors (default: the engine's).
        **model_options: further :class:`~trustgauge.config.ModelConfig` fields for a spec
            string (``base_url``, ``api_key_env``, ``headers``, ``timeout``, ``options``).

    Raises:
        ConfigError: no model given, a bad model spec or option, or an unknown rubric.
    """

    name = "llm"

    def __init__(
        self,
        kind: str,
        model: str | Model | None = None,
        rubric: str | None = None,
        max_parse_retries: int = 2,
        max_concurrency: int = 8,
        *,
        max_tokens: int = 512,
        retry: RetryPolicy | None = None,
        **model_options: Any,
    ) -> None:
        if model is None or (isinstance(model, str) and not model.strip()):
            raise ConfigError(
                "the llm judge needs --judge-model (e.g. --judge-model openai:gpt-4o)"
            )
        if max_parse_retries < 0:
            raise ConfigError("max_parse_retries must be >= 0")
        if max_concurrency < 1:
            raise ConfigError("max_concurrency must be >= 1")
        self.kind = kind
        self.rubric = get_rubric(kind, rubric)
        self.version = self.rubric.ref
        self.max_parse_retries = max_parse_retries
        self.max_concurrency = max_concurrency
        self.retry = retry or RetryPolicy()
        self.params = GenerationParams(
            temperature=0.0, max_tokens=max_tokens, response_format=self.rubric.response_format()
        )
        if isinstance(model, Model):
            if model_options:
                raise ConfigError(
                    f"options {sorted(model_options)} apply to a model spec, not a Model"
                )
            self.model = model
            self._owns_model = False
        else:
            from trustgauge.config import ModelConfig
            from trustgauge.models.registry import load_model

            try:
                config = ModelConfig(model=model.strip(), **model_options)
            except ValidationError as exc:
                err = exc.errors()[0]
                loc = ".".join(str(p) for p in err["loc"])
                raise ConfigError(f"invalid llm judge model option {loc}: {err['msg']}") from None
            self.model = load_model(config)
            self._owns_model = True
        identity = json.dumps(self.model.identity(), sort_keys=True, separators=(",", ":"))
        self._identity_digest = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:12]
        self._checked = False
        self._check_lock: asyncio.Lock | None = None

    @property
    def id(self) -> str:
        """``llm:<model spec>#<digest of the model identity>@<rubric>.v<version>``.

        Judgements are cached under this id, so it names the judge model (its identity digest
        covers revision, file hash and endpoint) and the rubric version; never a key.
        """
        return f"{self.name}:{_public_spec(self.model.spec)}#{self._identity_digest}@{self.version}"

    def __repr__(self) -> str:
        return f"LLMJudge({self.kind!r}, model={_public_spec(self.model.spec)!r}, rubric={self.rubric.ref!r})"

    async def check(self) -> None:
        """Fail fast (:class:`~trustgauge.errors.ConfigError`) if the judge model cannot work;
        done once, before the first request."""
        if self._checked:
            return
        if self._check_lock is None:
            self._check_lock = asyncio.Lock()
        async with self._check_lock:
            if not self._checked:
                await self.model.check()
                self._checked = True

    def request(self, item: JudgeItem) -> Request:
        """The first judge request for ``item``."""
        return Request(
            messages=(ChatMessage(role="user", content=self.rubric.render(item)),),
            params=self.params,
        )

    async def judge(self, items: Sequence[JudgeItem]) -> list[Judgement]:
        """Judge the items, in order (see the module docstring for failures)."""
        if not items:
            return []
        await self.check()
        engine = Engine(
            self.model,
            None,
            concurrency=self.max_concurrency,
            retry=self.retry,
            progress=Progress(),
        )
        conversations: list[tuple[ChatMessage, ...]] = [
            self.request(item).messages for item in items
        ]
        results: list[Judgement | None] = [None] * len(items)
        pending = list(range(len(items)))
        for attempt in range(self.max_parse_retries + 1):
            if not pending:
                break
            requests = [Request(messages=conversations[i], params=self.params) for i in pending]
            outcomes = await engine.run(requests, description=f"judging ({self.id})")
            if attempt == 0 and all(o.response is None for o in outcomes):
                reason = next((o.error for o in outcomes if o.error), "no response")
                raise LLMJudgeError(
                    f"the llm judge {_public_spec(self.model.spec)} failed on all {len(outcomes)} items: {short(reason)}"
                )
            retry_next: list[int] = []
            for index, outcome in zip(pending, outcomes):
                if outcome.response is None:
                    results[index] = Judgement(
                        label=ERROR, score=None, raw=f"error: {outcome.error}", judge=self.id
                    )
                    continue
                text = outcome.response.text
                try:
                    label, score = parse_answer(self.rubric, text)
                except AnswerError as exc:
                    if attempt < self.max_parse_retries:
                        conversations[index] = (
                            *conversations[index],
                            ChatMessage(role="assistant", content=text),
                            ChatMessage(role="user", content=reask_message(self.rubric, str(exc))),
                        )
                        retry_next.append(index)
                    else:
                        results[index] = Judgement(
                            label=UNPARSED, score=None, raw=text, judge=self.id
                        )
                    continue
                results[index] = Judgement(label=label, score=score, raw=text, judge=self.id)
            pending = retry_next
        missing = [i for i, r in enumerate(results) if r is None]
        if missing:  # pragma: no cover - every path above sets a result
            raise AssertionError(f"llm judge lost items {missing}")
        return [r for r in results if r is not None]

    async def aclose(self) -> None:
        """Close the judge model if this judge loaded it from a spec."""
        if self._owns_model:
            await self.model.aclose()


# The llm judge serves every kind that has a rubric (its default rubric is the kind's, in the
# catalogue); listed after the other judges of each kind.
_GPT4_FALLBACK = "(TrustLLM's GPT-4 fallback prompt); optional"
for _kind, _needs, _summary, _needs_reference in (
    ("refusal", LLM_NEEDS, "an LLM asked with a refusal rubric (full or partial refusal -> refusal)", False),
    ("toxicity", LLM_NEEDS, "an LLM asked to score toxicity in 0..1 (toxic at >= 0.5)", False),
    ("correctness", LLM_NEEDS, "an LLM asked whether the answer matches the gold answer(s)", True),
    ("misinformation_correction", NEEDS_MODEL,
     "an LLM asked whether the response corrects the false premise (TrustLLM advfact prompt)", True),
    ("same_preference", NEEDS_MODEL,
     "an LLM asked whether two answers state the same preference (TrustLLM sycophancy prompt)", True),
    ("stereotype_recognition", NEEDS_MODEL,
     f"an LLM asked which of stereotype / anti-stereotype / unrelated an answer chose {_GPT4_FALLBACK}",
     False),
    ("agreement", NEEDS_MODEL, f"an LLM asked whether an answer agrees with a statement {_GPT4_FALLBACK}",
     False),
    ("ethics_judgement", NEEDS_MODEL,
     f"an LLM asked whether an answer calls an action wrong, not wrong, or is unsure {_GPT4_FALLBACK}",
     False),
    ("diagnosis", NEEDS_MODEL,
     f"an LLM asked whether a diagnosis names exactly the gold pathology {_GPT4_FALLBACK}", True),
    ("human_interest", NEEDS_MODEL,
     "an LLM asked whether an answer considers human interests (TrustLLM awareness_mission_hard "
     "prompt); for 'trustgauge judge'", False),
    ("harmfulness", LLM_NEEDS,
     "an LLM asked whether an answer contains harmful content (Liu et al. 2023 safety prompt; "
     "rubric=strongreject or rubric=harmbench for attack success)", False),
    ("attack_success", LLM_NEEDS,
     "an LLM asked whether an answer gave what the attack asked for (StrongREJECT's rubric; "
     "rubric=harmbench: HarmBench's classifier prompt)", False),
    ("injection_followed", NEEDS_MODEL,
     "an LLM asked BIPIA's question whether an answer did what an injected instruction asked", True),
):
    register_judge(
        _kind, LLM, offline=False, needs=_needs, summary=_summary, needs_reference=_needs_reference
    )(LLMJudge)
