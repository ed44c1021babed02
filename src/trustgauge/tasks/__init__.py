"""Tasks: TrustLLM sub-tasks as data plus pure functions (samples, score, aggregate)."""

from trustgauge.tasks.base import Task
from trustgauge.tasks.registry import TASKS, resolve_tasks
from trustgauge.types import DataRef, MetricValue, Sample, SampleScore

__all__ = ["TASKS", "DataRef", "MetricValue", "Sample", "SampleScore", "Task", "resolve_tasks"]
