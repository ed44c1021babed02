"""Which framework items a set of tagged tasks measures: pure functions of the frameworks and a
``{task id: tags}`` mapping (the task registry builds that mapping; nothing here imports it).

A tag is a :data:`~trustgauge.taxonomy.frameworks.BASE` (Liu) sub-category id
(``reliability/misinformation``) or ``framework:item`` for an item of another framework that no
Liu sub-category maps to (``fan2023:security/jailbreak``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from trustgauge.taxonomy.frameworks import BASE, Category, Framework, Item, framework, framework_ids

__all__ = ["Coverage", "ItemCoverage", "check_tag", "coverage", "items_measured", "select"]


def _split(tag: str) -> tuple[str, str]:
    """``(framework id, item id)`` of a tag (a bare tag is a :data:`BASE` one)."""
    fw, sep, item = tag.partition(":")
    return (fw, item) if sep else (BASE, tag)


def check_tag(tag: str) -> None:
    """Raise ``ValueError`` with a message saying what is wrong, unless ``tag`` names an item
    (a leaf) of a known framework."""
    fw_id, item_id = _split(tag)
    if fw_id not in framework_ids():
        raise ValueError(f"taxonomy tag {tag!r} names unknown framework {fw_id!r} (known: {', '.join(framework_ids())})")
    fw = framework(fw_id)
    if fw.item(item_id) is not None:
        return
    category = fw.category(item_id)
    if category is not None:
        raise ValueError(
            f"taxonomy tag {tag!r} is a {fw_id} category: tag the sub-categories the task measures "
            f"({', '.join(i.id for i in category.items)})"
        )
    prefix = "" if fw_id == BASE else f"{fw_id}:"
    raise ValueError(
        f"unknown taxonomy tag {tag!r}: not an item of {fw_id} (`trustgauge taxonomy"
        f"{'' if fw_id == BASE else ' --framework ' + fw_id}` lists them; e.g. {prefix}{fw.items[0].id})"
    )


def items_measured(fw: Framework, tags: Iterable[str]) -> list[str]:
    """The ids of ``fw``'s items a task with ``tags`` measures, in framework order: in
    :data:`BASE`, its bare tags; elsewhere the items mapped from them plus its ``fw.id:`` tags."""
    base: set[str] = set()
    own: set[str] = set()
    for tag in tags:
        fw_id, item_id = _split(tag)
        if fw_id == BASE:
            base.add(item_id)
        if fw_id == fw.id:
            own.add(item_id)
    return [item.id for item in fw.items if item.id in own or base.intersection(item.from_base)]


@dataclass(frozen=True)
class ItemCoverage:
    """One item and the tasks that measure it (empty: not measured)."""

    item: Item
    category: Category
    tasks: tuple[str, ...]


@dataclass(frozen=True)
class Coverage:
    """A framework's items with the tasks measuring each."""

    framework: Framework
    items: tuple[ItemCoverage, ...]

    def in_category(self, category_id: str) -> tuple[ItemCoverage, ...]:
        """The items of one category."""
        return tuple(i for i in self.items if i.category.id == category_id)

    def counts(self, category_id: str | None = None) -> tuple[int, int]:
        """``(measured, total)`` items of one category, or of the framework (``None``)."""
        items = self.items if category_id is None else self.in_category(category_id)
        return sum(1 for i in items if i.tasks), len(items)

    @property
    def unmeasured(self) -> tuple[Item, ...]:
        """The items no task measures, in framework order."""
        return tuple(i.item for i in self.items if not i.tasks)


def coverage(fw: Framework, tags_by_task: Mapping[str, Iterable[str]]) -> Coverage:
    """Which tasks of ``tags_by_task`` (task id -> tags, in listing order) measure each item of ``fw``."""
    measured = {task_id: set(items_measured(fw, tags)) for task_id, tags in tags_by_task.items()}
    return Coverage(
        framework=fw,
        items=tuple(
            ItemCoverage(item, category, tuple(t for t, ids in measured.items() if item.id in ids))
            for category in fw.categories
            for item in category.items
        ),
    )


def select(selector: str, tags_by_task: Mapping[str, Iterable[str]]) -> list[str] | None:
    """The tasks (in ``tags_by_task`` order) measuring the category or item ``selector`` names,
    or ``None`` when it names neither. ``selector`` is a :data:`BASE` id (``reliability``,
    ``safety/privacy-violation``) or ``framework:id`` (``liu2023:safety``, ``fan2023:privacy``,
    ``owasp-llm-2025:llm01``); an empty list: a known node that no task measures."""
    fw_id, node = _split(selector.strip())
    if fw_id not in framework_ids():
        return None
    fw = framework(fw_id)
    category = fw.category(node)
    if category is not None:
        wanted = {item.id for item in category.items}
    elif fw.item(node) is not None:
        wanted = {node}
    else:
        return None
    return [t for t, tags in tags_by_task.items() if wanted.intersection(items_measured(fw, tags))]
