"""What an MCP tool call returns, as the `result` of a `tool_completed`."""

from __future__ import annotations

from typing import Any

from mcp import types

from toolwire.services.errors import ToolError


def tool_result(result: types.CallToolResult) -> Any:
    """Return the structured content, else the text (one block) or the blocks as JSON data.

    A result the server flags `isError` raises `ToolError` with its text: the tool failed.
    """
    if result.isError:
        raise ToolError(_text(result.content) or "the MCP tool reported an error")
    if result.structuredContent is not None:
        return result.structuredContent
    if all(isinstance(block, types.TextContent) for block in result.content):
        texts = [block.text for block in result.content if isinstance(block, types.TextContent)]
        return texts[0] if len(texts) == 1 else texts
    return [block.model_dump(mode="json", by_alias=True, exclude_none=True)
            for block in result.content]


def _text(blocks: list[types.ContentBlock]) -> str:
    return "\n".join(block.text for block in blocks if isinstance(block, types.TextContent))
