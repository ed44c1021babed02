"""The settings every property-based test file uses (issue 20): reproducible in CI (derandomized,
no example database), no per-example deadline on a busy 2-core machine; each file picks how many
examples and which health checks to lift."""

from __future__ import annotations

from hypothesis import HealthCheck, settings


def props(max_examples: int, *suppress: HealthCheck) -> settings:
    """``settings`` for a property test file: ``max_examples`` examples, ``suppress`` lifted."""
    return settings(
        max_examples=max_examples, derandomize=True, database=None, deadline=None, suppress_health_check=list(suppress)
    )
