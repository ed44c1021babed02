"""Deterministic built-in models for tests and dry runs; no network, no weights.

- ``scripted:refuse-all``   refuses every request
- ``scripted:comply-all``   complies with every request
- ``scripted:oracle``       answers every benchmark item correctly and refuses only what should
  be refused (each task's ``oracle_response``, :mod:`trustgauge.tasks.oracle`), from the
  packaged quick sample and the TrustLLM release when it is at hand (``$TRUSTGAUGE_DATA_DIR`` or
  the cached copy); ``scripted:oracle=DIR`` (or ``options.data_dir``) adds a folder laid out
  like the release. A prompt it does not know gets the comply-all answer. The table is built
  from the tasks, which sit above the models: the pipeline hands in the function that builds
  it (``load_model(config, oracle=trustgauge.tasks.oracle.oracle_table)``), and without one
  ``scripted:oracle`` does not load.
- ``scripted:echo``         repeats the prompt
- ``scripted:table``        answers from a table: ``options.table`` in a model config maps a
  prompt substring to a reply (first match wins), ``options.default`` answers the rest;
  ``scripted:table=<file.json>`` reads the same mapping from a JSON file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

from trustgauge.config import ModelConfig
from trustgauge.errors import ConfigError
from trustgauge.models.base import Model
from trustgauge.models.registry import register_backend
from trustgauge.types import Request, Response, Usage


class OracleAnswers(Protocol):
    """The oracle's answer table as ``scripted:oracle`` reads it (an
    :class:`~trustgauge.tasks.oracle.OracleTable`)."""

    @property
    def answers(self) -> Mapping[str, str]:
        """Prompt -> the answer the oracle gives."""
        ...

    @property
    def version(self) -> str:
        """Bumped when an oracle response changes (part of the model's identity)."""
        ...

    def digest(self) -> str:
        """SHA-256 of the answers (part of the model's identity, so of every cache key)."""
        ...


#: builds the oracle's table given the extra data folders (``scripted:oracle=DIR``,
#: ``options.data_dir``): :func:`trustgauge.tasks.oracle.oracle_table`, passed in by the pipeline
OracleProvider = Callable[[Sequence[str]], OracleAnswers]

REFUSAL = "I'm sorry, but I can't help with that request."
COMPLIANCE = "Sure, here is a detailed answer to your request."


class ScriptedModel(Model):
    """Answers by a fixed rule; the rule is part of its identity."""

    def __init__(
        self,
        name: str,
        table: dict[str, str] | None = None,
        default: str | None = None,
        *,
        oracle_dirs: Sequence[str] = (),
        oracle: OracleProvider | None = None,
    ) -> None:
        if name == "oracle" and oracle is None:
            raise ConfigError(
                "scripted:oracle answers from a table built from the tasks, which trustgauge's "
                "pipeline passes in (trustgauge run, trustgauge.evaluate, or "
                "load_model(config, oracle=trustgauge.tasks.oracle.oracle_table)); "
                "it cannot be loaded without it, e.g. as a judge model"
            )
        self.name = name
        self.spec = f"scripted:{name}"
        self.table = dict(table or {})
        self.default = default
        self.oracle_dirs = list(oracle_dirs)
        self._provider = oracle
        self._oracle: OracleAnswers | None = None

    def oracle(self) -> OracleAnswers:
        """The oracle's answer table (built on first use, by the provider given)."""
        if self._oracle is None:
            if self._provider is None:
                raise ConfigError(f"{self.spec} has no oracle table")
            self._oracle = self._provider(self.oracle_dirs)
        return self._oracle

    def identity(self) -> dict[str, str]:
        ident = {"backend": "scripted", "model": self.name}
        if self.name == "oracle":
            table = self.oracle()
            ident["oracle_version"] = table.version
            ident["table_sha256"] = table.digest()
            return ident
        if self.table or self.default is not None:
            blob = json.dumps([self.table, self.default], sort_keys=True).encode()
            ident["table_sha256"] = hashlib.sha256(blob).hexdigest()
        return ident

    def answer(self, prompt: str, conversation: str | None = None) -> str:
        """The answer to ``prompt`` (the last user turn); the oracle first looks up the whole
        ``conversation`` (:attr:`~trustgauge.types.Request.conversation_key`)."""
        if self.name == "refuse-all":
            return REFUSAL
        if self.name == "comply-all":
            return COMPLIANCE
        if self.name == "echo":
            return prompt
        if self.name == "oracle":
            answers = self.oracle().answers
            if conversation is not None and conversation in answers:
                return answers[conversation]
            return answers.get(prompt, COMPLIANCE)
        for needle, reply in self.table.items():
            if needle in prompt:
                return reply
        return self.default if self.default is not None else COMPLIANCE

    async def generate(self, requests: Sequence[Request]) -> list[Response]:
        self.refuse_unsupported(requests)  # canned text has no log-probabilities
        out = []
        for request in requests:
            text = self.answer(request.prompt, request.conversation_key)
            words = text.split()[: request.params.max_tokens]
            truncated = len(words) < len(text.split())
            text = " ".join(words) if truncated else text
            out.append(
                Response(
                    text=text,
                    finish_reason="length" if truncated else "stop",
                    usage=Usage(input_tokens=len(request.prompt.split()), output_tokens=len(words)),
                    model=self.spec,
                )
            )
        return out


@register_backend("scripted", oracle=True, options=("data_dir", "table", "default"))
def create(name: str, config: ModelConfig, *, oracle: OracleProvider | None = None) -> Model:
    """The scripted model ``name``; ``oracle`` builds ``scripted:oracle``'s table (required for
    it, unused by the others)."""
    base, sep, arg = name.partition("=")
    if base in ("refuse-all", "comply-all", "echo"):
        if sep:  # an argument silently dropped reads as if it did something
            raise ConfigError(f"scripted:{base} takes no '=' argument (got {' '.join(name.split())!r})")
        return ScriptedModel(base)
    if base == "oracle":
        dirs = [arg] if arg else []
        if config.options.get("data_dir"):
            dirs.append(str(config.options["data_dir"]))
        for folder in dirs:  # a typo would leave the oracle answering from the packaged sample only
            if not Path(folder).is_dir():
                where = f"scripted:oracle={folder}" if folder == arg else f"scripted:oracle options.data_dir {folder}"
                raise ConfigError(" ".join(f"{where}: no such folder (the TrustLLM release, unpacked)".split()))
        return ScriptedModel("oracle", oracle_dirs=dirs, oracle=oracle)
    if base == "table":
        table = config.options.get("table")
        default = config.options.get("default")
        if arg:
            try:
                data = json.loads(Path(arg).read_text(encoding="utf-8"))
            except (OSError, ValueError, RecursionError) as exc:  # RecursionError: nested thousands deep
                raise ConfigError(" ".join(f"scripted:table cannot read {arg}: {exc}".split())) from None
            if not isinstance(data, dict):
                raise ConfigError(f"scripted:table {' '.join(arg.split())} must hold a JSON object (prompt substring -> reply)")
            table, default = data.get("table", data), data.get("default", default)
        if not isinstance(table, dict):
            raise ConfigError("scripted:table needs options.table (prompt substring -> reply)")
        return ScriptedModel("table", {str(k): str(v) for k, v in table.items()}, default)
    raise ConfigError(f"unknown scripted model {name!r}; known: refuse-all, comply-all, oracle, echo, table")
