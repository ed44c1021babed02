"""Untrusted text (model output, prompts, error messages, names) inside Markdown.

A Markdown viewer (GitHub, GitLab, IDEs) renders raw HTML and inline syntax, so text from a
model must be escaped before it goes into ``report.md``: ``<img src=x onerror=...>`` would run,
``[click](https://...)`` / ``![](https://tracker)`` would become a link or a remote image, a
backtick or a ``|`` would break the code span or the table around it, and a line break would
start a new block (a heading, a list, a table row, an HTML block).
"""

from __future__ import annotations

import re

#: HTML: as entities (CommonMark renders ``&lt;`` as ``<`` text and never as a tag)
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
#: inline syntax, backslash-escaped (any ASCII punctuation may be, in CommonMark and GFM)
#: (``!`` and ``(`` need none: without an unescaped ``[`` there is no link or image)
_SPECIAL = re.compile(r"[&<>\\`*_\[\]|~\r\n\x00]")
_LINE_BREAKS = re.compile(r"\r\n|\r|\n")


def _escape(match: re.Match[str]) -> str:
    char = match.group(0)
    if char in _HTML:
        return _HTML[char]
    if char in "\r\n":
        return " "
    if char == "\x00":
        return "\ufffd"  # as CommonMark itself says, and never a NUL in the file
    return "\\" + char


def md_text(text: str) -> str:
    """``text`` as literal inline Markdown, on one line: HTML characters as entities, inline
    syntax (code, emphasis, links and images, strikethrough, table pipes) backslash-escaped,
    line breaks as spaces. Safe in a paragraph, a list item and a table cell (not at the start
    of a line)."""
    if _SPECIAL.search(text) is None:
        return text
    text = _LINE_BREAKS.sub(" ", text)
    return _SPECIAL.sub(_escape, text)


def md_code(text: str) -> str:
    """``text`` as an inline code span, on one line: fenced with one backtick more than its
    longest run of backticks (a code span shows its content literally, HTML included). Not
    for table cells (GFM splits cells at a ``|`` before it reads code spans)."""
    text = _LINE_BREAKS.sub(" ", text).replace("\x00", "\ufffd")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"
