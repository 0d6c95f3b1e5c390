"""Benchmark 7: validating arguments against an MCP server's schema, hostile and ordinary.

An MCP server's `inputSchema` is foreign: its `pattern` may backtrack exponentially. Three
ways to validate are timed on the same inputs, interleaved: `jsonschema` as is (Python's
backtracking `re`), `jsonschema` with its `pattern` keyword swapped for `google-re2` (linear
time), and `jsonschema-rs` as toolwire uses it (`toolwire.adapters.mcp.specs`). The hostile
case is `^(a|aa)+$` against n a's and a "!"; Python's `re` runs only on short n (its time
grows x2.6 per two characters: 38 a's take seconds), the linear engines on 38 and on 100 000.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any, Final

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError
from referencing import Registry

from benchmarks.config import RunConfig
from benchmarks.stats import summarise
from benchmarks.targets import Target, target
from toolwire.adapters.mcp.specs import foreign_validator

NAME: Final = "schemas"
HOSTILE: Final = {"type": "object", "properties": {"word": {"type": "string",
                                                            "pattern": "^(a|aa)+$"}}}
ORDINARY: Final = {"type": "object", "required": ["path"], "additionalProperties": False,
                   "properties": {"path": {"type": "string", "pattern": "^[\\w./-]+$",
                                           "maxLength": 200},
                                  "lines": {"type": "integer", "minimum": 0},
                                  "tags": {"type": "array", "items": {"type": "string"}}}}
ORDINARY_ARGS: Final = {"path": "docs/guide.md", "lines": 40, "tags": ["a", "b", "c"]}

Validate = Callable[[dict[str, Any]], list[Any]]


def _python(schema: dict[str, Any]) -> Validate:
    validator = Draft202012Validator(schema, registry=Registry())
    return lambda instance: list(validator.iter_errors(instance))


def _re2(schema: dict[str, Any]) -> Validate | None:
    try:
        import re2  # type: ignore[import-not-found, unused-ignore]
    except ImportError:  # the `bench` extra installs it
        return None
    compiled: dict[str, Any] = {}

    def pattern(validator: Any, regex: str, instance: Any, _: Any) -> Iterator[ValidationError]:
        if not validator.is_type(instance, "string"):
            return
        if regex not in compiled:
            compiled[regex] = re2.compile(regex)
        if not compiled[regex].search(instance):
            yield ValidationError(f"does not match {regex!r}")

    checker = validators.extend(Draft202012Validator, {"pattern": pattern})(
        schema, registry=Registry())
    return lambda instance: list(checker.iter_errors(instance))


def _rust(schema: dict[str, Any]) -> Validate:
    validator = foreign_validator(schema)
    return lambda instance: list(validator.iter_errors(instance))


ENGINES: Final[dict[str, Callable[[dict[str, Any]], Validate | None]]] = {
    "jsonschema (Python re)": _python,
    "jsonschema + google-re2": _re2,
    "jsonschema-rs (toolwire)": _rust,
}


def _time_us(validate: Validate, instance: dict[str, Any], loops: int) -> float:
    started = time.perf_counter()
    for _ in range(loops):
        validate(instance)
    return (time.perf_counter() - started) / loops * 1e6


def measure(cfg: RunConfig) -> dict[str, list[float]]:
    """Time every engine on every case, `repeats` times, in a fresh random order each."""
    python_n, linear_ns = cfg.size(24, 18), (38, cfg.size(100_000, 1_000))
    cases: list[tuple[str, dict[str, Any], dict[str, Any], int, bool]] = [
        (f"hostile, {python_n} a's", HOSTILE, {"word": "a" * python_n + "!"}, 3, True),
        *[(f"hostile, {n:,} a's", HOSTILE, {"word": "a" * n + "!"}, 3, False)
          for n in linear_ns],
        ("ordinary schema, valid arguments", ORDINARY, ORDINARY_ARGS, cfg.size(2000, 50), True),
    ]
    samples: dict[str, list[float]] = {}
    rng = cfg.rng(NAME)
    for _ in range(cfg.size(7, 2)):
        order = [(case, engine) for case in cases for engine in ENGINES]
        rng.shuffle(order)
        for (label, schema, instance, loops, python_too), engine in order:
            if engine == "jsonschema (Python re)" and not python_too:
                continue
            validate = ENGINES[engine](schema)
            if validate is not None:
                key = f"{label}: {engine}"
                samples.setdefault(key, []).append(_time_us(validate, instance, loops))
    return samples


async def run(cfg: RunConfig) -> dict[str, Any]:
    """Time the engines (in a thread: they block)."""
    samples = await asyncio.to_thread(measure, cfg)
    figures = {name: summarise(values) for name, values in sorted(samples.items())}
    return {"params": {"repeats": cfg.size(7, 2)}, "unit": "µs", "figures": figures,
            "samples": samples, "targets": targets(figures)}


def targets(figures: dict[str, Any]) -> list[Target]:
    """Return the worst time toolwire's validator spends on a hostile pattern."""
    hostile = [figure["max"] for name, figure in figures.items()
               if name.startswith("hostile") and name.endswith("(toolwire)")]
    return [target("longest validation of a hostile MCP schema pattern (issue 22)",
                   "– (reported)", f"{max(hostile):.0f} µs", None)]
