"""The frameworks, loaded from the JSON files shipped in ``taxonomy/data/`` (one per framework,
named by its id; each says where its content comes from under ``provenance``).

A framework is a list of categories, each a list of items (the leaves tasks are measured
against). :data:`BASE` (Liu et al.) is the one tasks are tagged with; every other framework's
items name the Liu sub-categories that evidence them (``from_liu2023``)."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

__all__ = ["BASE", "Category", "Framework", "Item", "framework", "framework_ids"]

#: the framework tasks are tagged with: a bare tag is one of its sub-category ids
BASE = "liu2023"
#: every framework shipped, in the order ``trustgauge taxonomy`` documents them
_IDS: tuple[str, ...] = (BASE, "fan2023", "owasp-llm-2025", "nist-ai-600-1")


@dataclass(frozen=True)
class Item:
    """A leaf: what a task can measure.

    Attributes:
        id: Unique in its framework (``safety/privacy-violation``, ``llm01``).
        name: The display name, as the framework's authors spell it.
        meaning: One line.
        from_base: The :data:`BASE` sub-category ids whose measurements evidence this item
            (empty in :data:`BASE` itself).
    """

    id: str
    name: str
    meaning: str
    from_base: tuple[str, ...] = ()


@dataclass(frozen=True)
class Category:
    """A group of items (Liu's category, Fan's dimension; OWASP and NIST have one)."""

    id: str
    name: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Framework:
    """One taxonomy: its categories and where its content comes from."""

    id: str
    title: str
    reference: str
    provenance: tuple[str, ...]
    categories: tuple[Category, ...]

    @property
    def items(self) -> tuple[Item, ...]:
        """Every leaf, in order."""
        return tuple(item for category in self.categories for item in category.items)

    def item(self, item_id: str) -> Item | None:
        """The leaf ``item_id``, or ``None``."""
        return next((item for item in self.items if item.id == item_id), None)

    def category(self, category_id: str) -> Category | None:
        """The category ``category_id``, or ``None``."""
        return next((c for c in self.categories if c.id == category_id), None)


def framework_ids() -> tuple[str, ...]:
    """The id of every shipped framework, :data:`BASE` first."""
    return _IDS


@functools.cache
def framework(framework_id: str) -> Framework:
    """The framework ``framework_id`` (read once from its data file).

    Raises:
        KeyError: no such framework (the message lists the known ones).
        ValueError: its data file is malformed (a duplicate id, a mapping to an unknown Liu
            sub-category, a missing field).
    """
    if framework_id not in _IDS:
        raise KeyError(f"unknown framework {framework_id!r}; known: {', '.join(_IDS)}")
    text = resources.files(__package__).joinpath("data").joinpath(f"{framework_id}.json").read_text(encoding="utf-8")
    base = frozenset(item.id for item in framework(BASE).items) if framework_id != BASE else frozenset()
    return _parse(json.loads(text), framework_id, base)


def _parse(data: dict[str, Any], framework_id: str, base: frozenset[str]) -> Framework:
    """The framework in ``data`` (a data file's JSON), checked: ``base`` holds the :data:`BASE`
    sub-category ids its items may map from."""
    try:
        if data["id"] != framework_id:
            raise ValueError(f"{framework_id}.json declares id {data['id']!r}")
        categories = tuple(
            Category(
                id=str(c["id"]),
                name=str(c["name"]),
                items=tuple(
                    Item(
                        id=str(i["id"]),
                        name=str(i["name"]),
                        meaning=str(i["meaning"]),
                        from_base=tuple(i.get(f"from_{BASE}", ())),
                    )
                    for i in c["items"]
                ),
            )
            for c in data["categories"]
        )
        loaded = Framework(
            id=framework_id,
            title=str(data["title"]),
            reference=str(data["reference"]),
            provenance=tuple(data["provenance"]),
            categories=categories,
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{framework_id}.json is malformed: missing or wrong field {exc}") from None
    ids = [c.id for c in categories] + [i.id for i in loaded.items]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"{framework_id}.json repeats ids {duplicates}")
    for item in loaded.items:
        unknown = [liu for liu in item.from_base if liu not in base]
        if unknown:
            raise ValueError(f"{framework_id}.json: item {item.id!r} maps from unknown {BASE} sub-categories {unknown}")
    return loaded
