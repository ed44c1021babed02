"""Watermarking generated text and detecting the mark (Fan et al.'s responsibility dimension).

:mod:`~trustgauge.watermark.base` says what a scheme is; each scheme is one module
(:mod:`~trustgauge.watermark.kgw`, :mod:`~trustgauge.watermark.synthid`); keys in
:mod:`~trustgauge.watermark.keys`; the edits a mark must survive in
:mod:`~trustgauge.watermark.edits`. This package imports no torch or transformers at import
time: only building a logits processor does.
"""

from trustgauge.watermark.base import (
    Detection,
    WatermarkScheme,
    from_spec,
    get_scheme,
    make_scheme,
    make_spec,
    parse_watermark,
    register_scheme,
    schemes,
)
from trustgauge.watermark.keys import PUBLIC_KEY, WatermarkKey, key_from_environment
from trustgauge.watermark.tokenizer import HFTokenizer, TextTokenizer

__all__ = [
    "PUBLIC_KEY",
    "Detection",
    "HFTokenizer",
    "TextTokenizer",
    "WatermarkKey",
    "WatermarkScheme",
    "from_spec",
    "get_scheme",
    "key_from_environment",
    "make_scheme",
    "make_spec",
    "parse_watermark",
    "register_scheme",
    "schemes",
]
