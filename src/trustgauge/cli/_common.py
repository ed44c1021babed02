"""Option parsing and the signal-aware event loop shared by the commands."""

from __future__ import annotations

import signal
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

from trustgauge.cli._errors import fail as _fail

T = TypeVar("T")

def _split(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


def _parse_value(text: str) -> Any:
    """A judge option's value: true/false, none/null, an int, a float, else the string
    ("quoted" keeps a string that looks like a number)."""
    value = text.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    low = value.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


_SECRET_OPTIONS = frozenset({"api_key", "api-key", "apikey", "key", "token", "access_token", "secret", "password"})


def _judge_option(item: str, flag: str) -> tuple[str, Any]:
    key, sep, value = item.partition("=")
    key = key.strip()
    if not sep or not key:
        _fail(f"bad {flag} {item!r}: expected OPTION=VALUE, e.g. qps=0.5")
    if key.lower() in _SECRET_OPTIONS:
        _fail(
            # the value is not shown: it is a key, and this line would put it in a CI log
            f"bad {flag} '{key}=…': keys are not taken on the command line (they would land in "
            "shell history); set the environment variable the judge names (see 'trustgauge judges')"
        )
    return key, _parse_value(value)


def _parse_judges(values: list[str] | None) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """``--judge KIND=NAME[,opt=value,...]`` (repeatable; ``refusal=rules,toxicity=minilm``
    also works: an item whose key is a judge kind starts the next judge)."""
    from trustgauge.judges.registry import JUDGES

    judges: dict[str, str] = {}
    options: dict[str, dict[str, Any]] = {}
    for value in values or []:
        kind = ""
        for item in (x.strip() for x in value.split(",")):
            if not item:
                continue
            key, sep, rest = item.partition("=")
            key, rest = key.strip(), rest.strip()
            if not kind or key in JUDGES:
                if not sep or not key or not rest:
                    _fail(f"bad --judge {value!r}: expected KIND=NAME[,OPTION=VALUE...], e.g. --judge refusal=rules")
                if key in judges:  # the last one silently winning would run a judge the user did not mean
                    _fail(f"--judge {key} is given twice ({key}={judges[key]} and {key}={rest}): give each judge kind once")
                kind = key
                judges[kind] = rest
                continue
            opt, parsed = _judge_option(item, "--judge")
            if opt in options.get(kind, {}):
                _fail(f"--judge {kind}: option {opt!r} is given twice: give it once")
            options.setdefault(kind, {})[opt] = parsed
    return judges, options



def _raise_keyboard_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _run_async(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coro)``, where Ctrl-C (SIGINT) and SIGTERM cancel the work cleanly and then
    raise KeyboardInterrupt (a KeyboardInterrupt raised inside some task instead would leave
    tasks with unretrieved exceptions behind, and tracebacks on stderr). A second Ctrl-C while
    the work is being cancelled stops at once, as plain asyncio does.

    Both signals reach the loop through its wakeup pipe (``loop.add_signal_handler``), not through
    a Python-level handler: a library may swap the SIGINT handler for a moment and drop a signal
    that arrives then (Ray defers SIGINT while it submits a task and forgets it when the
    submission raises), and the pipe is written by the C-level handler whatever the Python one
    is."""
    import asyncio  # here: `trustgauge --help` and `trustgauge tasks` need no event loop (cold start)

    async def main() -> T:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        stopping = False

        def on_signal(signum: int) -> None:
            nonlocal stopping
            if stopping and signum == signal.SIGINT:
                raise KeyboardInterrupt  # a second Ctrl-C: stop now
            stopping = True
            if task is not None:
                task.cancel()

        installed: list[signal.Signals] = []
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(signum, on_signal, signum)
                installed.append(signum)
            except (NotImplementedError, RuntimeError, ValueError):  # Windows, or not the main thread
                break
        try:
            return await coro
        except asyncio.CancelledError:
            if stopping:
                raise KeyboardInterrupt from None
            raise
        finally:
            for signum in installed:
                loop.remove_signal_handler(signum)  # SIGINT back to Python's default, SIGTERM to SIG_DFL ...
            if signal.SIGTERM in installed:
                signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)  # ... so put ours back

    return asyncio.run(main())



def _safe_argv() -> list[str]:
    from trustgauge._secrets import redact

    return [redact(a) for a in sys.argv[1:]]



_JUDGE_HELP = (
    "Judge per kind, KIND=NAME[,OPTION=VALUE...], e.g. refusal=longformer or "
    "toxicity=perspective,qps=0.5; repeatable. See 'trustgauge judges'."
)
_JUDGE_MODEL_HELP = (
    "Model spec of the llm judges (e.g. openai:gpt-4o): used where TrustLLM used GPT-4 "
    "(correctness, adversarial factuality, sycophancy preference; the last two are not scored "
    "without it) and for kinds given --judge KIND=llm."
)

