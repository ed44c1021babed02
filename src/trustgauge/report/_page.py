"""Self-contained HTML pages for compare and leaderboard: one jinja2 environment with
autoescape on (run metadata and model names are untrusted text), inline CSS, no scripts
and nothing loaded from the network."""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem;color:#1f2328;max-width:90rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;font-size:.9rem}th,td{border:1px solid #d0d7de;padding:.3rem .55rem;text-align:left;vertical-align:top}
th{background:#f6f8fa;position:sticky;top:0}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.muted{color:#656d76}.bad{background:#ffebe9}.good{background:#dafbe1}.best{font-weight:600}
.tag{display:inline-block;padding:0 .4rem;border-radius:.6rem;font-size:.8rem}
.tag.bad{color:#82071e}.tag.good{color:#116329}ul.notes li{margin:.2rem 0}code{font-size:.85rem}
"""


def scale_colour(value: float, stops: Sequence[tuple[float, tuple[int, int, int]]]) -> str:
    """``value`` (clamped to 0-1) on a colour scale given as ``(position, (r, g, b))`` stops
    from 0 to 1, linearly interpolated, as ``#rrggbb`` (the heat maps of the security and
    responsibility sections)."""
    value = min(1.0, max(0.0, value))
    for (x0, c0), (x1, c1) in pairwise(stops):
        if value <= x1:
            f = (value - x0) / (x1 - x0)
            return "#" + "".join(f"{round(a + (b - a) * f):02x}" for a, b in zip(c0, c1))
    return "#" + "".join(f"{v:02x}" for v in stops[-1][1])  # pragma: no cover


def render(template: str, **context: Any) -> str:
    """Render ``template`` with autoescaping and strict undefined variables."""
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = fmt_num
    # a NUL is an HTML parse error (browsers show U+FFFD): written as U+FFFD, never as a NUL
    return env.from_string(template).render(style=STYLE, **context).replace("\x00", "\ufffd")


def fmt_num(value: float | None, digits: int = 3, signed: bool = False) -> str:
    """A number for a table cell; ``—`` for none."""
    if value is None:
        return "—"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def fmt_p(p: float | None) -> str:
    """A p-value: 3 significant digits, ``<0.001`` below that."""
    if p is None:
        return "—"
    if p < 0.001:
        return "<0.001"
    return f"{p:.3f}"


def fmt_ci(ci: tuple[float, float] | None, digits: int = 3, signed: bool = False) -> str:
    if ci is None:
        return "—"
    return f"[{fmt_num(ci[0], digits, signed)}, {fmt_num(ci[1], digits, signed)}]"


#: an ``&`` that a Markdown or HTML reader could take as the start of a character reference
_REFERENCE_START = re.compile(r"&(?=[#A-Za-z0-9])")


def md_cell(text: str) -> str:
    """Text safe inside a Markdown table cell: no pipes or line breaks, and no HTML (GitHub
    renders some tags in comments; model names and reasons are untrusted). An ``&`` is escaped
    only where it could start a character reference (``&lt;``, ``&#60;``): a bare one ("Privacy
    & safety") cannot, and stays readable where the Markdown is read as text, in a terminal."""
    # a backslash is doubled first (``x\\|`` must not turn the escaped pipe back into a cell
    # border), ``[`` is escaped (``[click](https://...)`` / ``![](https://tracker)`` would be a
    # link or a remote image), a NUL becomes U+FFFD
    return (
        _REFERENCE_START.sub("&amp;", text.replace("\\", "\\\\")).replace("<", "&lt;").replace(">", "&gt;")
        .replace("|", "\\|").replace("[", "\\[").replace("`", "'").replace("\r", " ").replace("\n", " ")
        .replace("\x00", "\ufffd")
    )
