"""`McpToolSpec`: a tool of an MCP server, validated against the server's JSON schema."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from jsonschema import SchemaError, ValidationError, validators
from mcp import types
from pydantic import BaseModel, ConfigDict
from pydantic_core import InitErrorDetails, PydanticCustomError
from pydantic_core import ValidationError as PydanticValidationError
from referencing import Registry

from toolwire.config import McpServerSettings
from toolwire.services.tools.spec import TOOL_NAME, ToolSpec

log = logging.getLogger(__name__)

CallRemote = Callable[[str, dict[str, Any]], Awaitable[Any]]
"""Calls the server's tool (by its name on the server) with arguments; returns the result."""

MAX_PROBLEMS = 5


class McpArguments(BaseModel):
    """Arguments of an MCP tool: any JSON object (the server's schema validates it)."""

    model_config = ConfigDict(extra="allow")


@dataclass(frozen=True, slots=True, eq=False)
class McpToolSpec(ToolSpec):
    """A `ToolSpec` whose schema is the server's `inputSchema` and whose call goes to the server."""

    remote_name: str = ""
    input_schema: dict[str, Any] = field(default_factory=dict)
    validator: Any = None

    def json_schema(self) -> dict[str, Any]:
        """Return the server's JSON schema of the tool's arguments."""
        return self.input_schema

    def parse(self, args: dict[str, Any]) -> BaseModel:
        """Validate `args` against the server's schema (raises `pydantic.ValidationError`)."""
        problems = [
            InitErrorDetails(
                type=PydanticCustomError("json_schema", "{problem}", {"problem": _problem(error)}),
                loc=tuple(error.absolute_path), input=None,
            )
            for error in sorted(self.validator.iter_errors(args), key=_error_order)[:MAX_PROBLEMS]
        ]
        if problems:
            raise PydanticValidationError.from_exception_data(self.name, problems)
        return McpArguments.model_validate(args)

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
            validator_class = validators.validator_for(
                schema, default=validators.Draft202012Validator)
            validator_class.check_schema(schema)
        except SchemaError as exc:
            log.warning("skipping %s: its input schema is invalid: %s", origin, exc.message)
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
            validator=validator_class(schema, registry=Registry()),
        ))
    return specs


def _problem(error: ValidationError) -> str:
    """Say what broke the schema, without echoing the value the caller sent."""
    rule, expected = error.validator, error.validator_value
    if rule == "required" and isinstance(error.instance, dict) and isinstance(expected, list):
        missing = [name for name in expected if name not in error.instance]
        return "missing required argument " + ", ".join(map(repr, missing))
    if rule == "additionalProperties" and isinstance(error.instance, dict):
        known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        extra = [str(name)[:40] for name in error.instance if name not in known]
        return "unexpected argument " + ", ".join(map(repr, extra[:MAX_PROBLEMS]))
    if rule == "type":
        return f"should be of type {json.dumps(expected)}"
    shown = json.dumps(expected, ensure_ascii=False, default=str)
    return f"fails the schema's {rule!r} rule ({shown[:80]})"


def _error_order(error: ValidationError) -> tuple[str, ...]:
    return tuple(str(part) for part in error.absolute_path)
