"""Model backends behind one async protocol; pick one with a spec string (``openai:gpt-4o``)."""

from trustgauge.models.base import Model
from trustgauge.models.registry import BACKENDS, load_model, parse_spec
from trustgauge.types import ChatMessage, GenerationParams, Request, Response, Usage

__all__ = [
    "BACKENDS",
    "ChatMessage",
    "GenerationParams",
    "Model",
    "Request",
    "Response",
    "Usage",
    "load_model",
    "parse_spec",
]
