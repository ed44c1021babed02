"""A run's scores per taxonomy category and sub-category (Liu et al. by default): what the HTML
report's taxonomy view, ``leaderboard --by category`` and ``compare --by category`` show.

A pure function of the run's per-task results (``scores.json``) and the tasks' taxonomy tags
(``{task id: tags}``, which the caller takes from the task registry: a reader of run
directories never imports task code, and runs do not record tags).

- A sub-category is **measured** in the run when a task of the run is tagged with it (through
  :func:`trustgauge.taxonomy.coverage`, so another framework's items are reached through Liu
  as ``trustgauge taxonomy`` reaches them); otherwise it is **not measured**.
- Each task's score is its task score of the dimension summary
  (:func:`trustgauge.results.dimensions.task_summaries`): the primary metric oriented so that
  higher is better and mapped onto [0, 1], refusal rates corrected by the run's over-refusal
  control; a headline left undefined by the responses counts 0 (a failure); a task not scored
  (no judge model) or with nothing to score and no declared value has no score and is left out.
- A sub-category's score is the mean of the scores of its tasks in the run; a category's, the
  mean over the distinct tasks measuring any of its sub-categories (a task tagged with two of
  them counts once). ``None`` when no such task has a score.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from trustgauge.results.dimensions import TaskSummary, task_summaries
from trustgauge.results.schema import TaskScores
from trustgauge.taxonomy import BASE, Category, Framework, Item, coverage, framework

__all__ = ["CategoryScore", "RunTaxonomy", "SubcategoryScore", "run_taxonomy"]


def _mean(summaries: Iterable[TaskSummary]) -> float | None:
    values = [s.score for s in summaries if s.score is not None]
    return sum(values) / len(values) if values else None


@dataclass(frozen=True)
class SubcategoryScore:
    """One sub-category: the run's tasks measuring it (empty: not measured) and their mean score."""

    item: Item
    tasks: tuple[TaskSummary, ...]
    score: float | None

    @property
    def measured(self) -> bool:
        return bool(self.tasks)


@dataclass(frozen=True)
class CategoryScore:
    """One category: its sub-categories, the distinct tasks measuring any of them, their mean."""

    category: Category
    items: tuple[SubcategoryScore, ...]
    tasks: tuple[TaskSummary, ...]
    score: float | None

    @property
    def measured(self) -> int:
        """Sub-categories measured in the run."""
        return sum(1 for i in self.items if i.measured)

    @property
    def total(self) -> int:
        return len(self.items)


@dataclass(frozen=True)
class RunTaxonomy:
    """A run seen through a framework: per category its scores, and the run's tasks that no
    item of the framework covers (untagged, or tagged only with another framework's items)."""

    framework: Framework
    categories: tuple[CategoryScore, ...]
    untagged: tuple[str, ...]

    def category(self, category_id: str) -> CategoryScore | None:
        return next((c for c in self.categories if c.category.id == category_id), None)

    @property
    def unmeasured(self) -> tuple[Item, ...]:
        """The items no task of the run measures, in framework order."""
        return tuple(i.item for c in self.categories for i in c.items if not i.measured)


def run_taxonomy(
    tasks: Sequence[TaskScores],
    tags_by_task: Mapping[str, Iterable[str]],
    fw: Framework | None = None,
) -> RunTaxonomy:
    """The run's ``tasks`` (``scores.json``) per category and item of ``fw`` (default: Liu
    et al.), ``tags_by_task`` giving each task's tags (a task missing there is untagged)."""
    fw = fw if fw is not None else framework(BASE)
    summaries = {s.task: s for s in task_summaries(tasks)}
    cov = coverage(fw, {t.task: tuple(tags_by_task.get(t.task, ())) for t in tasks})
    covered: set[str] = set()
    categories = []
    for category in fw.categories:
        items = []
        for ic in cov.in_category(category.id):
            members = tuple(summaries[t] for t in ic.tasks)
            covered.update(ic.tasks)
            items.append(SubcategoryScore(ic.item, members, _mean(members)))
        in_category = {s.task for i in items for s in i.tasks}
        distinct = tuple(summaries[t.task] for t in tasks if t.task in in_category)
        categories.append(CategoryScore(category, tuple(items), distinct, _mean(distinct)))
    untagged = tuple(t.task for t in tasks if t.task not in covered)
    return RunTaxonomy(fw, tuple(categories), untagged)
