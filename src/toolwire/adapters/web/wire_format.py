"""`WireFormat`: how a socket reads client frames and writes server frames (`?protocol=`)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from aiohttp import web

from toolwire.adapters.web.connection import json_frames
from toolwire.adapters.web.protocol import (
    ClientFrame,
    error_message,
    parse_frame,
    pong_message,
    request_id_of,
)
from toolwire.services.events import RunEvent


@dataclass(frozen=True, slots=True)
class WireFormat:
    """The functions one socket protocol is made of."""

    parse: Callable[[str], ClientFrame]
    render: Callable[[RunEvent], Sequence[str]]
    error: Callable[[str, str, str | None], str]
    pong: Callable[[], str]
    request_id_of: Callable[[str], str | None]


TOOLWIRE: Final = WireFormat(parse_frame, json_frames, error_message, pong_message,
                             request_id_of)
PROTOCOLS: Final = ("toolwire", "ag-ui")


@functools.cache
def ag_ui_format() -> WireFormat:
    """Return the AG-UI format (its models were loaded when the app was built)."""
    from toolwire.adapters.web import agui_ws

    return WireFormat(agui_ws.parse_frame, agui_ws.render, agui_ws.error_frame,
                      agui_ws.pong_frame, agui_ws.request_id_of)


def wire_format(request: web.Request) -> WireFormat:
    """Return the format `?protocol=` names (default `toolwire`); HTTP 400 for another."""
    name = request.query.get("protocol", "toolwire")
    if name == "toolwire":
        return TOOLWIRE
    if name == "ag-ui":
        return ag_ui_format()
    raise web.HTTPBadRequest(
        text=f"unknown protocol {name[:40]!r}; expected one of {', '.join(PROTOCOLS)}")
