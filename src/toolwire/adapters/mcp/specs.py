"""`McpToolSpec`: a tool of an MCP server, validated against the server's JSON schema.

The schema is foreign: a hostile or careless server may put a pattern in it that makes a
backtracking regex engine run for seconds (`^(a|aa)+$` against "aaa…a!"). So arguments are
validated with `jsonschema-rs`, whose `pattern` engine runs in linear time (patterns with
lookaround or back-references fall back to a backtracking engine capped at
`BACKTRACK_LIMIT` steps), never with Python's `re` on the event loop.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final

import jsonschema_rs
from mcp import types
from pydantic import BaseModel, ConfigDict
from pydantic_core import InitErrorDetails, PydanticCustomError
from pydantic_core import ValidationError as PydanticValidationError

from toolwire.config import McpServerSettings
from toolwire.services.tools.spec import TOOL_NAME, ToolSpec

log = logging.getLogger(__name__)

CallRemote = Callable[[str, dict[str, Any]], Awaitable[Any]]
"""Calls the server's tool (by its name on the server) with arguments; returns the result."""

MAX_PROBLEMS: Final = 5
BACKTRACK_LIMIT: Final = 100_000
"""Steps a pattern with lookaround or back-references may take on one value (a few ms)."""


class McpArguments(BaseModel):
    """Arguments of an MCP tool: any JSON object (the server's schema validates it)."""

    model_config = ConfigDict(extra="allow")


@dataclass(frozen=True, slots=True, eq=False)
class McpToolSpec(ToolSpec):
    """A `ToolSpec` whose schema is the server's `inputSchema` and whose call goes to the server."""

    remote_name: str = ""
    input_schema: dict[str, Any] = field(default_factory=dict)
    validator: jsonschema_rs.Validator | None = None

    def json_schema(self) -> dict[str, Any]:
        """Return the server's JSON schema of the tool's arguments."""
        return self.input_schema

    def parse(self, args: dict[str, Any]) -> BaseModel:
        """Validate `args` against the server's schema (raises `pydantic.ValidationError`)."""
        problems = [
            InitErrorDetails(
                type=PydanticCustomError("json_schema", "{problem}",
                                     {"problem": _problem(error, self.input_schema)}),
                loc=tuple(error.instance_path), input=None,
            )
            for error in sorted(self._errors(args), key=_error_order)[:MAX_PROBLEMS]
        ]
        if problems:
            raise PydanticValidationError.from_exception_data(self.name, problems)
        return McpArguments.model_validate(args)

    def _errors(self, args: dict[str, Any]) -> list[jsonschema_rs.ValidationError]:
        if self.validator is None:
            return []
        return list(self.validator.iter_errors(args))

    async def invoke(self, parsed: BaseModel) -> Any:
        """Call the tool on its server with the validated arguments."""
        return await self.func(self.remote_name, dict(parsed.model_extra or {}))


def mcp_tool_specs(
    server: McpServerSettings, tools: Iterable[types.Tool], call: CallRemote
) -> list[ToolSpec]:
    """Return the server's tools as specs named `prefix + name`; skip (and log) unusable ones."""
    specs: list[ToolSpec] = []
    for remote in tools:
        name = server.prefix + remote.name
        origin = f"MCP server {server.name!r} ({server.describe()}), tool {remote.name!r}"
        if not TOOL_NAME.fullmatch(name):
            log.warning("skipping %s: %r is not a usable tool name (1-64 letters, digits, "
                        "'_', '.' or '-', starting with a letter or '_')", origin, name)
            continue
        schema = remote.inputSchema or {"type": "object"}
        try:
            validator = foreign_validator(schema)
        except (jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError,
                ValueError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            log.warning("skipping %s: its input schema is invalid: %s", origin, reason[:200])
            continue
        specs.append(McpToolSpec(
            name=name,
            description=remote.description or remote.title or remote.name,
            args_model=McpArguments,
            func=call,
            takes_model=True,
            origin=origin,
            scopes=frozenset(server.scopes),
            remote_name=remote.name,
            input_schema=schema,
            validator=validator,
        ))
    return specs


def foreign_validator(schema: dict[str, Any]) -> jsonschema_rs.Validator:
    """Return a validator of a schema toolwire did not write (raises when it is invalid).

    Its patterns match in bounded time, and it never fetches a remote `$ref`.
    """
    return jsonschema_rs.validator_for(
        schema, offline=True,
        pattern_options=jsonschema_rs.FancyRegexOptions(backtrack_limit=BACKTRACK_LIMIT))


def _problem(error: jsonschema_rs.ValidationError, schema: dict[str, Any]) -> str:
    """Say what broke the schema, without echoing the value the caller sent."""
    kind = error.kind
    rule, detail = kind.name, kind.as_dict()
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
        return f"missing required argument {kind.property!r}"
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
        extra = [str(name)[:40] for name in kind.unexpected]
        return "unexpected argument " + ", ".join(map(repr, extra[:MAX_PROBLEMS]))
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Type):
        types_ = list(kind.types)
        return f"should be of type {json.dumps(types_[0] if len(types_) == 1 else types_)}"
    expected = _rule_value(schema, list(error.schema_path), detail)
    shown = json.dumps(expected, ensure_ascii=False, default=str)
    return f"fails the schema's {rule!r} rule ({shown[:80]})"


def _rule_value(schema: Any, path: list[str | int], detail: dict[str, Any]) -> Any:
    """Return the value of the rule at `path` in `schema`, else what the error says of it."""
    node = schema
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return next(iter(detail.values()), None) if len(detail) == 1 else detail
    return node


def _error_order(error: jsonschema_rs.ValidationError) -> tuple[str, ...]:
    return tuple(str(part) for part in error.instance_path)
