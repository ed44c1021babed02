"""A toy task with parameters for the tests of ``--task-param`` (tests/test_task_params.py),
registered from here, never shipped: ``toy.styled`` asks about each topic of the toy chat
dataset (tests/chat_toy.py), written as its ``style`` parameter says (``plain`` or ``shout``:
upper case) and repeated ``repeat`` times (a free-form value its ``check_params`` refuses unless
it is a whole number from 1 to 3). Against ``scripted:echo`` (which answers with the prompt) its
metric ``shouted`` is 1 exactly when the prompt was shouted.

Run as a script, it registers the task and the toy dataset and runs the trustgauge CLI with the
remaining arguments, as ``tests/chat_toy.py`` does:
``python tests/params_toy.py run -m scripted:echo -t toy.styled --data-dir DIR --task-param toy.styled:style=shout``.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import chat_toy
from trustgauge.errors import ConfigError
from trustgauge.tasks.base import Task, TaskParameter
from trustgauge.types import DataRef, Judgement, Sample, SampleScore

STYLES = ("plain", "shout")


def styled_prompt(topic: str, style: str, repeat: int) -> str:
    """The prompt ``toy.styled`` sends about ``topic``."""
    prompt = f"Tell me about {topic}."
    if style == "shout":
        prompt = prompt.upper()
    return " ".join([prompt] * repeat)


class ToyStyled(Task):
    """One question per topic, in the style its parameters set."""

    id = "toy.styled"
    dimension = "toy"
    size = len(chat_toy.PROBE_RECORDS)
    title = "Toy task with parameters"
    data = DataRef(dataset=chat_toy.DATASET, path=chat_toy.PROBE_FILE)
    metrics = (("shouted", "higher"),)
    parameters: ClassVar[dict[str, TaskParameter]] = {
        "style": TaskParameter("plain", "how the question is written", choices=STYLES),
        "repeat": TaskParameter("1", "how many times the question is said (1 to 3)"),
    }

    def check_params(self) -> None:
        if self.params["repeat"] not in ("1", "2", "3"):
            raise ConfigError(f"task {self.id}: repeat={self.params['repeat']!r} is not a whole number from 1 to 3")

    def samples(self, records: Sequence[Mapping[str, Any]]) -> list[Sample]:
        style, repeat = self.params["style"], int(self.params["repeat"])
        return [
            Sample(id=str(r["id"]), prompt=styled_prompt(str(r["topic"]), style, repeat), target=r["topic"],
                   metadata={"style": style})
            for r in records
        ]

    def score(self, sample: Sample, response: str, judgements: Mapping[str, Judgement]) -> SampleScore:
        shouted = response.isupper()
        return SampleScore(label="shouted" if shouted else "plain", values={"shouted": float(shouted)})

    aggregator = "mean@1"

    def aggregator_params(self) -> dict[str, Any]:
        return {"metrics": [["shouted", "shouted", "higher"]]}


def register() -> None:
    """Add the toy task and the toy dataset to this process's registries (the CLI subprocess)."""
    from trustgauge.data.sources import register_source
    from trustgauge.tasks.registry import register_task

    register_source(chat_toy.source())
    register_task(ToyStyled)


if __name__ == "__main__":
    register()
    from trustgauge.cli import main

    sys.argv[0] = "trustgauge"
    main()
