"""What a watermarking scheme is: a logits processor that marks text while it is sampled, and a
detector that needs only the key and the tokenizer.

A scheme marks text by nudging each sampling step with pseudo-random choices seeded from the
key and the tokens before it; detection recomputes those choices for a text's tokens and asks,
with a one-sided z-test, whether the text agrees with them more often than chance allows.
Unmarked text (or text checked with another key or tokenizer) agrees by chance only: its
z-score is about standard normal, so the p-value of a z-score is the chance that unmarked text
scores that high, and a verdict at ``z_threshold`` (4.0, Kirchenbauer et al. 2023) has a false
positive rate of about 3e-5 per text.

A text too short for the normal approximation to hold (:attr:`WatermarkScheme.min_tokens`) gets
the verdict ``undetermined``, not a number to misread.

Schemes register with :func:`register_scheme`; every module of this package is imported when
the registry is first read, so a new scheme is one new file.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import SecretStr

from trustgauge._plugins import import_modules
from trustgauge.errors import ConfigError
from trustgauge.types import WatermarkSpec
from trustgauge.watermark.keys import WatermarkKey
from trustgauge.watermark.tokenizer import TextTokenizer

Verdict = Literal["watermarked", "not_watermarked", "undetermined"]
#: Kirchenbauer et al.'s detection threshold (one-sided; p ~ 3.2e-5)
Z_THRESHOLD = 4.0


@dataclass(frozen=True)
class Detection:
    """One text's detection result.

    Attributes:
        scheme: The scheme's name.
        z: The z-score (``None`` when no token could be scored).
        p_value: One-sided p-value of ``z`` under "not marked with this key" (normal tail).
        scored: Tokens scored (after the context a token needs and repeats left out).
        hits: What the test counts (green tokens; for SynthID the sum of g-values).
        trials: How many Bernoulli trials ``hits`` is out of (tokens, or tokens x layers).
        verdict: ``watermarked`` when ``z >= z_threshold`` and the text is long enough,
            ``not_watermarked`` when it is long enough and below, ``undetermined`` when it is
            too short for the test to mean anything.
        reason: Why the verdict is ``undetermined``.
    """

    scheme: str
    z: float | None
    p_value: float | None
    scored: int
    hits: float
    trials: int
    verdict: Verdict
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "scheme": self.scheme, "z": self.z, "p_value": self.p_value, "scored": self.scored,
            "hits": self.hits, "trials": self.trials, "verdict": self.verdict, "reason": self.reason,
        }


def normal_sf(z: float) -> float:
    """P(Z >= z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def z_test(
    scheme: str,
    hits: float,
    trials: int,
    p: float,
    *,
    scored: int,
    min_tokens: int,
    z_threshold: float = Z_THRESHOLD,
) -> Detection:
    """The one-sided z-test of ``hits`` successes in ``trials`` Bernoulli(``p``) trials (the
    formula of Kirchenbauer et al. 2023, eq. 2: ``(|s|_G - gamma T) / sqrt(T gamma (1 - gamma))``).
    ``scored`` (the tokens behind the trials) below ``min_tokens``: ``undetermined``."""
    if trials <= 0 or scored <= 0:
        return Detection(scheme, None, None, scored, hits, trials, "undetermined",
                         "no token could be scored (the text is shorter than the context a token needs)")
    z = (hits - p * trials) / math.sqrt(trials * p * (1.0 - p))
    p_value = normal_sf(z)
    if scored < min_tokens:
        return Detection(scheme, z, p_value, scored, hits, trials, "undetermined",
                         f"{scored} tokens scored, fewer than the {min_tokens} a meaningful z-test needs")
    verdict: Verdict = "watermarked" if z >= z_threshold else "not_watermarked"
    return Detection(scheme, z, p_value, scored, hits, trials, verdict)


def min_tokens_for(p: float, trials_per_token: int = 1, z_threshold: float = Z_THRESHOLD) -> int:
    """The fewest scored tokens for a meaningful z-test: the normal approximation's rule of
    thumb (at least 5 expected successes and 5 expected failures), and enough tokens that a text
    marked in every position can reach ``z_threshold`` at all."""
    q = min(p, 1.0 - p)
    by_approximation = math.ceil(5.0 / (q * trials_per_token))
    # all hits: z = sqrt(T m (1-p)/p) >= threshold  <=>  T >= threshold^2 p / ((1-p) m)
    reachable = math.ceil(z_threshold**2 * p / ((1.0 - p) * trials_per_token))
    return max(1, by_approximation, reachable)


@dataclass(frozen=True)
class SchemeParameter:
    """A scheme's setting: its default (whose type values are parsed to), one line of help and,
    for a string, the allowed values."""

    default: float | int | str | bool
    help: str
    choices: tuple[str, ...] | None = None

    def parse(self, name: str, raw: object) -> float | int | str | bool:
        kind = type(self.default)
        try:
            if kind is bool:
                if isinstance(raw, bool):
                    value: float | int | str | bool = raw
                else:
                    text = str(raw).strip().lower()
                    if text not in ("true", "false", "1", "0", "yes", "no"):
                        raise ValueError(text)
                    value = text in ("true", "1", "yes")
            elif kind is int:
                if isinstance(raw, float) and not raw.is_integer():
                    raise ValueError(raw)
                value = int(str(raw).strip()) if not isinstance(raw, (int, float)) else int(raw)
            elif kind is float:
                value = float(raw)  # type: ignore[arg-type]
                if not math.isfinite(value):
                    raise ValueError(raw)
            else:
                value = str(raw).strip()
        except (TypeError, ValueError):
            raise ConfigError(f"watermark parameter {name}={raw!r}: expected {kind.__name__}") from None
        if self.choices is not None and value not in self.choices:
            raise ConfigError(f"watermark parameter {name}={value!r}: one of {', '.join(self.choices)}")
        return value


def _canonical(value: float | int | str | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


class WatermarkScheme(ABC):
    """A watermarking scheme with its key and parameters.

    Subclasses set :attr:`name`, :attr:`version`, :attr:`title`, :attr:`PARAMETERS` and
    implement :meth:`logits_processor` (marking, for backends that run the model) and
    :meth:`score_batch` (detection, vectorised: the hot path).
    """

    name: ClassVar[str]
    version: ClassVar[int] = 1
    title: ClassVar[str] = ""
    #: name -> setting; every scheme also takes ``z_threshold``
    PARAMETERS: ClassVar[Mapping[str, SchemeParameter]] = {}
    #: the scheme marks only a sampled decode (SynthID-Text's tournament sampling in
    #: transformers): a comparison with unmarked text then samples both alike
    #: (``fan2023.watermark_utility`` samples every arm at temperature 1 with one seed per item)
    needs_sampling: ClassVar[bool] = False

    def __init__(self, key: WatermarkKey, **params: object) -> None:
        self.key = key
        known = {**self.PARAMETERS, "z_threshold": SchemeParameter(Z_THRESHOLD, "z-score at which a text counts as watermarked")}
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise ConfigError(
                f"watermark scheme {self.name!r} has no parameter {', '.join(unknown)}; "
                f"its parameters: {', '.join(sorted(known))}"
            )
        self.params: dict[str, float | int | str | bool] = {
            name: setting.parse(name, params[name]) if name in params else setting.default
            for name, setting in known.items()
        }
        self.z_threshold = float(self.params["z_threshold"])
        self.check()

    def check(self) -> None:  # noqa: B027 - optional hook
        """Raise :class:`ConfigError` for parameter values that do not go together."""

    @property
    def canonical_params(self) -> tuple[tuple[str, str], ...]:
        """Every parameter (defaults too) as sorted ``(name, value)`` strings."""
        return tuple(sorted((k, _canonical(v)) for k, v in self.params.items()))

    def spec(self) -> WatermarkSpec:
        """The :class:`WatermarkSpec` that asks a backend to mark with this scheme and key."""
        return WatermarkSpec(
            scheme=self.name, params=self.canonical_params, key=SecretStr(self.key.secret), key_id=self.key.fingerprint
        )

    def describe(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in self.canonical_params)
        return f"{self.name} ({shown}; key {self.key.fingerprint})"

    @property
    @abstractmethod
    def min_tokens(self) -> int:
        """The fewest scored tokens for a meaningful test (shorter: ``undetermined``)."""

    @abstractmethod
    def logits_processor(self, vocab_size: int, device: str) -> Any:
        """A ``transformers.LogitsProcessor`` that marks what a model of ``vocab_size`` logits
        samples (imports torch and transformers)."""

    @abstractmethod
    def score_batch(self, ids: Sequence[Sequence[int]]) -> list[Detection]:
        """Detect the mark in each token sequence (ids without special tokens)."""

    def detect(self, ids: Sequence[int]) -> Detection:
        return self.score_batch([ids])[0]

    def detect_texts(self, tokenizer: TextTokenizer, texts: Sequence[str]) -> list[Detection]:
        """Tokenize ``texts`` with ``tokenizer`` and detect the mark in each."""
        return self.score_batch(tokenizer.encode_batch(texts))


# --- registry ---------------------------------------------------------------------------------

SCHEMES: dict[str, type[WatermarkScheme]] = {}
_loaded = False
S = TypeVar("S", bound=type[WatermarkScheme])


def register_scheme(cls: S) -> S:
    """Class decorator: register a scheme under its ``name``."""
    name = getattr(cls, "name", "")
    if not name or not name.replace("_", "").isalnum() or not name[0].isalpha() or name != name.lower():
        raise ValueError(f"watermark scheme name {name!r}: lower-case letters, digits and '_'")
    if name in SCHEMES and SCHEMES[name] is not cls:
        raise ValueError(f"watermark scheme {name!r} is registered twice")
    SCHEMES[name] = cls
    return cls


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    import trustgauge.watermark as package

    import_modules(package, skip={"base", "keys", "tokenizer", "edits"})


def schemes() -> dict[str, type[WatermarkScheme]]:
    """Every registered scheme by name."""
    _load()
    return dict(sorted(SCHEMES.items()))


def get_scheme(name: str) -> type[WatermarkScheme]:
    _load()
    cls = SCHEMES.get(name.strip().lower())
    if cls is None:
        raise ConfigError(f"unknown watermark scheme {name!r}; the schemes: {', '.join(sorted(SCHEMES)) or 'none'}")
    return cls


def make_scheme(name: str, key: WatermarkKey, **params: object) -> WatermarkScheme:
    return get_scheme(name)(key, **params)


def make_spec(name: str, key: WatermarkKey, **params: object) -> WatermarkSpec:
    """The request-side description of scheme ``name`` with ``key`` and ``params``."""
    return make_scheme(name, key, **params).spec()


def from_spec(spec: WatermarkSpec) -> WatermarkScheme:
    """The scheme a :class:`WatermarkSpec` describes, with its key."""
    key = WatermarkKey(spec.key.get_secret_value())
    if key.fingerprint != spec.key_id:
        raise ConfigError("watermark spec: the key does not match its key_id")
    return make_scheme(spec.scheme, key, **spec.param_dict())


def parse_watermark(text: str) -> tuple[str, dict[str, str]]:
    """``kgw:gamma=0.25,delta=2`` -> ``("kgw", {"gamma": "0.25", "delta": "2"})``."""
    name, _, rest = text.strip().partition(":")
    if not name:
        raise ConfigError(f"--watermark {text!r}: expected SCHEME or SCHEME:NAME=VALUE,...")
    params: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--watermark {text!r}: {part!r} is not NAME=VALUE")
        params[key.strip()] = value.strip()
    return name.strip().lower(), params
