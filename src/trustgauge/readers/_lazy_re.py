"""Regular expressions compiled on first use.

The readers hold ~50 module-level patterns, some of them alternations of hundreds of phrases.
Compiling them all at import cost ~40 ms on a 2-core AVX2 machine, paid by every command that
loads the task modules (``trustgauge tasks`` among them, which should answer in under 0.5 s;
issue 14) although listing tasks reads none of them. A :class:`LazyPattern` compiles on its first
call; from then on its methods are the compiled pattern's own bound methods (stored on the
instance, which shadows the class's), so a call costs what it cost before.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from typing import Any

_METHODS = ("search", "match", "fullmatch", "finditer", "findall", "sub", "split")


class LazyPattern:
    """A stand-in for ``re.compile(pattern, flags)`` that compiles when first used (same methods)."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self.flags = flags

    def compiled(self) -> re.Pattern[str]:
        """The compiled pattern (compiled now if it was not yet; thread-safe: compiling twice is
        harmless, the result is the same)."""
        compiled = re.compile(self.pattern, self.flags)
        for name in _METHODS:
            self.__dict__[name] = getattr(compiled, name)
        self.__dict__["compiled"] = lambda: compiled
        return compiled

    def search(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.compiled().search(string, pos, endpos)

    def match(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.compiled().match(string, pos, endpos)

    def fullmatch(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.compiled().fullmatch(string, pos, endpos)

    def finditer(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> Iterator[re.Match[str]]:
        return self.compiled().finditer(string, pos, endpos)

    def findall(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> list[Any]:
        return self.compiled().findall(string, pos, endpos)

    def sub(self, repl: str | Callable[[re.Match[str]], str], string: str, count: int = 0) -> str:
        return self.compiled().sub(repl, string, count)

    def split(self, string: str, maxsplit: int = 0) -> list[str | Any]:
        return self.compiled().split(string, maxsplit)

    def __repr__(self) -> str:
        return f"LazyPattern({self.pattern!r}, {self.flags!r})"


def lazy_compile(pattern: str, flags: int | re.RegexFlag = 0) -> LazyPattern:
    """``re.compile`` deferred to the first use."""
    return LazyPattern(pattern, int(flags))
