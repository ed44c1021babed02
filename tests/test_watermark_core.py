"""The watermark core (issue 18): the request-side spec never dumps its key, keys and their
fingerprints, the z-test and its undetermined verdict, option parsing, the backends' refusal."""

from __future__ import annotations

import asyncio
import json
import math

import pytest

from trustgauge._secrets import redact
from trustgauge.errors import CapabilityError, ConfigError
from trustgauge.models.base import cannot_watermark
from trustgauge.types import GenerationParams, Request, WatermarkSpec
from trustgauge.watermark import PUBLIC_KEY, WatermarkKey, key_from_environment, parse_watermark
from trustgauge.watermark.base import SchemeParameter, min_tokens_for, normal_sf, z_test
from trustgauge.watermark.keys import fingerprint

SECRET = "Zq8-very-secret-watermark-key-9f1"


def _spec(secret: str = SECRET) -> WatermarkSpec:
    return WatermarkSpec(scheme="kgw", params=(("gamma", "0.25"),), key=secret, key_id=fingerprint(secret))  # type: ignore[arg-type]


def test_spec_dump_holds_the_fingerprint_never_the_key() -> None:
    params = GenerationParams(max_tokens=16, watermark=_spec())
    request = Request.user("hello", params)
    blob = json.dumps(request.model_dump(mode="json"))
    assert SECRET not in blob and SECRET not in repr(request) and SECRET not in str(params)
    assert fingerprint(SECRET) in blob
    assert request.model_dump()["params"]["watermark"] == {
        "scheme": "kgw", "params": (("gamma", "0.25"),), "key_id": fingerprint(SECRET)
    }


def test_cache_key_separates_keys_and_unmarked_requests() -> None:
    identity = {"backend": "hf", "model": "m"}
    plain = Request.user("hello", GenerationParams(max_tokens=16))
    one = Request.user("hello", GenerationParams(max_tokens=16, watermark=_spec()))
    same = Request.user("hello", GenerationParams(max_tokens=16, watermark=_spec()))
    other = Request.user("hello", GenerationParams(max_tokens=16, watermark=_spec("another-long-secret-key")))
    keys = {r.cache_key(identity) for r in (plain, one, other)}
    assert len(keys) == 3
    assert one.cache_key(identity) == same.cache_key(identity)
    assert "watermark" not in plain.model_dump()["params"]  # unmarked keys as before the field


def test_merged_keeps_the_key() -> None:
    params = GenerationParams(watermark=_spec()).merged(temperature=0.7, max_tokens=9)
    assert params.watermark is not None
    assert params.watermark.key.get_secret_value() == SECRET
    assert params.temperature == 0.7 and params.max_tokens == 9


def test_keys() -> None:
    assert WatermarkKey("15485863").seed == 15485863  # the authors' and transformers' hash key
    a, b = WatermarkKey("alpha-key"), WatermarkKey("beta-key")
    assert a.seed != b.seed and 0 <= a.seed < 2**63
    assert a.fingerprint != b.fingerprint and len(a.fingerprint) == 16
    assert "alpha-key" not in repr(a) and "alpha-key" not in str(a)
    with pytest.raises(ValueError):
        WatermarkKey("")


def test_key_from_environment_registers_the_secret() -> None:
    assert key_from_environment({}).secret == PUBLIC_KEY
    assert key_from_environment({"TRUSTGAUGE_WATERMARK_KEY": "   "}).secret == PUBLIC_KEY
    key = key_from_environment({"TRUSTGAUGE_WATERMARK_KEY": SECRET})
    assert key.secret == SECRET
    assert SECRET not in redact(f"the key is {SECRET}, json {json.dumps(SECRET)}")


def test_z_test_by_hand() -> None:
    # 15 green of 20 at gamma 0.25: z = (15 - 5) / sqrt(20 * 0.25 * 0.75) = 10 / 1.93649 = 5.1640
    d = z_test("kgw", 15, 20, 0.25, scored=20, min_tokens=20)
    assert d.z == pytest.approx(5.163978, abs=1e-6)
    assert d.verdict == "watermarked"
    assert d.p_value == pytest.approx(normal_sf(5.163978), rel=1e-6)
    assert normal_sf(0.0) == 0.5 and normal_sf(2.326348) == pytest.approx(0.01, abs=1e-6)
    # 5 of 20: exactly chance
    d = z_test("kgw", 5, 20, 0.25, scored=20, min_tokens=20)
    assert d.z == 0.0 and d.verdict == "not_watermarked"
    # all green but too short: a number, and an undetermined verdict with the reason
    d = z_test("kgw", 10, 10, 0.25, scored=10, min_tokens=20)
    assert d.verdict == "undetermined" and d.z is not None and "fewer than the 20" in (d.reason or "")
    d = z_test("kgw", 0, 0, 0.25, scored=0, min_tokens=20)
    assert d.verdict == "undetermined" and d.z is None and d.p_value is None


def test_min_tokens() -> None:
    # gamma 0.25: 5 expected green tokens need 20 tokens; reaching z = 4 needs 6
    assert min_tokens_for(0.25) == 20
    # gamma 0.5: 10 by the rule of thumb, 16 to reach z = 4 even when every token is green
    assert min_tokens_for(0.5) == 16
    # half-probability trials, 4 per token (SynthID-like layers): max(ceil(10/4), ceil(16/4)) = 4
    assert min_tokens_for(0.5, trials_per_token=4) == 4


def test_scheme_parameter_parsing() -> None:
    assert SchemeParameter(0.25, "").parse("gamma", "0.5") == 0.5
    assert SchemeParameter(1, "").parse("w", "3") == 3
    assert SchemeParameter(True, "").parse("r", "false") is False
    assert SchemeParameter("hash", "", ("hash", "permutation")).parse("g", "permutation") == "permutation"
    for setting, raw in ((SchemeParameter(0.25, ""), "x"), (SchemeParameter(1, ""), "1.5"),
                         (SchemeParameter(True, ""), "maybe"), (SchemeParameter(0.1, ""), "nan"),
                         (SchemeParameter("a", "", ("a", "b")), "c")):
        with pytest.raises(ConfigError):
            setting.parse("p", raw)


def test_parse_watermark_option() -> None:
    assert parse_watermark("kgw") == ("kgw", {})
    assert parse_watermark(" KGW:gamma=0.25, delta=2 ") == ("kgw", {"gamma": "0.25", "delta": "2"})
    for bad in (":gamma=1", "kgw:gamma", "kgw:=1"):
        with pytest.raises(ConfigError):
            parse_watermark(bad)


def test_backends_without_the_hook_refuse_a_watermark_in_one_line() -> None:
    from trustgauge.config import ModelConfig
    from trustgauge.models.registry import load_model

    model = load_model(ModelConfig(model="scripted:comply-all"))
    request = Request.user("hi", GenerationParams(watermark=_spec()))
    with pytest.raises(CapabilityError) as caught:
        asyncio.run(model.generate([request]))
    message = str(caught.value)
    assert message == cannot_watermark("scripted:comply-all")
    assert "\n" not in message and "cannot watermark" in message and SECRET not in message
    with pytest.raises(CapabilityError, match="tokenizer"):
        model.tokenizer()


def test_z_is_standard_normal_for_chance() -> None:
    # a sanity check of the formula: the z of the expected count is 0; one sd above is 1
    t, gamma = 100, 0.25
    sd = math.sqrt(t * gamma * (1 - gamma))
    assert z_test("s", t * gamma + sd, t, gamma, scored=t, min_tokens=1).z == pytest.approx(1.0)
