"""Old import path of :mod:`trustgauge.tasks.suites` (suites select tasks, so they live with
them; ``suites`` importing the task registry while ``tasks.oracle`` imported ``suites`` was a
package cycle). Kept so existing imports keep working."""

from __future__ import annotations

from trustgauge.tasks.suites import QUICK_SAMPLE, Suite, get_suite, suites

__all__ = ["QUICK_SAMPLE", "Suite", "get_suite", "suites"]
