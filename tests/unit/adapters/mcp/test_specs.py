"""MCP tools as specs: names and prefixes, the server's schema, validation, results."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from mcp import types
from pydantic import ValidationError

from toolwire.adapters.mcp.results import tool_result
from toolwire.adapters.mcp.specs import mcp_tool_specs
from toolwire.config import McpServerSettings
from toolwire.services.errors import ToolError
from toolwire.services.validation import describe_validation_error

SCHEMA = {"type": "object", "properties": {"path": {"type": "string", "maxLength": 8},
                                           "lines": {"type": "integer"}},
          "required": ["path"], "additionalProperties": False}
SERVER = McpServerSettings(name="files", command=["files-server"], prefix="fs_")
calls: list[tuple[str, dict[str, Any]]] = []


async def remote(name: str, arguments: dict[str, Any]) -> Any:
    calls.append((name, arguments))
    return "done"


def specs(*tools: types.Tool, server: McpServerSettings = SERVER) -> dict[str, Any]:
    return {spec.name: spec for spec in mcp_tool_specs(server, tools, remote)}


def test_names_are_prefixed_and_the_schema_is_the_servers() -> None:
    listed = specs(types.Tool(name="read", description="Read a file.", inputSchema=SCHEMA))
    read = listed["fs_read"]
    assert read.json_schema() == SCHEMA
    assert read.describe() == {"name": "fs_read", "description": "Read a file.", "args": SCHEMA}
    assert read.origin == "MCP server 'files' (stdio: files-server), tool 'read'"


async def test_valid_arguments_go_to_the_server_under_its_own_tool_name() -> None:
    read = specs(types.Tool(name="read", inputSchema=SCHEMA))["fs_read"]
    assert await read.invoke(read.parse({"path": "a.txt", "lines": 3})) == "done"
    assert calls[-1] == ("read", {"path": "a.txt", "lines": 3})


@pytest.mark.parametrize(("args", "problem"), [
    ({}, "missing required argument 'path'"),
    ({"path": "x", "lines": "many-secret"}, 'lines: should be of type "integer"'),
    ({"path": "x", "mode": "w"}, "unexpected argument 'mode'"),
    ({"path": "far-too-long-secret"}, "path: fails the schema's 'maxLength' rule (8)"),
])
def test_invalid_arguments_say_what_is_wrong_without_echoing_values(
    args: dict[str, Any], problem: str
) -> None:
    read = specs(types.Tool(name="read", inputSchema=SCHEMA))["fs_read"]
    with pytest.raises(ValidationError) as info:
        read.parse(args)
    described = describe_validation_error(info.value)
    assert problem in described and "secret" not in described


def test_unusable_names_and_invalid_schemas_are_skipped_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    listed = specs(
        types.Tool(name="has space", inputSchema={"type": "object"}),
        types.Tool(name="bad_schema", inputSchema={"type": "object", "properties": 3}),
        types.Tool(name="fine", inputSchema={"type": "object"}),
        server=McpServerSettings(name="x", url="http://127.0.0.1:1/mcp"))
    assert list(listed) == ["fine"]
    assert "has space" in caplog.text and "bad_schema" in caplog.text


def text(value: str) -> types.TextContent:
    return types.TextContent(type="text", text=value)


def test_results_prefer_structured_content_then_text_then_blocks() -> None:
    assert tool_result(types.CallToolResult(
        content=[text("5")], structuredContent={"result": 5})) == {"result": 5}
    assert tool_result(types.CallToolResult(content=[text("one")])) == "one"
    assert tool_result(types.CallToolResult(content=[text("a"), text("b")])) == ["a", "b"]
    image = types.ImageContent(type="image", data="aGk=", mimeType="image/png")
    assert tool_result(types.CallToolResult(content=[text("a"), image])) == [
        {"type": "text", "text": "a"}, {"type": "image", "data": "aGk=", "mimeType": "image/png"}]


def test_an_error_result_is_a_tool_error_with_its_text() -> None:
    with pytest.raises(ToolError, match="disk full"):
        tool_result(types.CallToolResult(content=[text("disk full")], isError=True))
