"""Carry a tool call's trace context in the HTTP headers of the MCP request too."""

from __future__ import annotations

import json
from typing import Final

import httpx

TRACE_HEADERS: Final = ("traceparent", "tracestate")


async def trace_headers(request: httpx.Request) -> None:
    """Copy the `_meta.traceparent` / `tracestate` of a JSON-RPC request into its headers."""
    try:
        body = request.content
    except httpx.RequestNotRead:  # a streamed body: nothing to look into
        return
    if b'"traceparent"' not in body:
        return
    try:
        message = json.loads(body)
    except ValueError:
        return
    params = message.get("params") if isinstance(message, dict) else None
    meta = params.get("_meta") if isinstance(params, dict) else None
    if isinstance(meta, dict):
        for name in TRACE_HEADERS:
            value = meta.get(name)
            if isinstance(value, str):
                request.headers[name] = value
