"""`WebState`: what the handlers share, kept on the app under one typed key."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from aiohttp import web

from toolwire.adapters.auth import TokenVerifier
from toolwire.adapters.metrics import Metrics
from toolwire.adapters.web.slots import SocketSlots
from toolwire.adapters.web.ws.connection import Connection
from toolwire.config import Settings
from toolwire.services.ports import EventBus, ThreadStore
from toolwire.services.supervisor import RunSupervisor
from toolwire.services.tools.permissions import ToolPermissions
from toolwire.services.tools.registry import ToolRegistry


@dataclass(frozen=True, slots=True)
class WebDeps:
    """What the web app needs, as providers: each is resolved where it is used.

    The composition root hands in the container's providers, so an override made after the
    app was built still reaches the next request and the next socket.
    """

    settings: Callable[[], Settings]
    bus: Callable[[], EventBus]
    verifier: Callable[[], TokenVerifier]
    runs: Callable[[], RunSupervisor]
    tools: Callable[[], ToolRegistry]
    permissions: Callable[[], ToolPermissions]
    metrics: Callable[[], Metrics]
    threads: Callable[[], ThreadStore]


@dataclass(slots=True, eq=False)
class WebState:
    """App-wide state of the web adapter."""

    deps: WebDeps
    slots: SocketSlots
    connections: weakref.WeakSet[Connection] = field(default_factory=weakref.WeakSet)
    shutting_down: bool = False
    shutdown_task: asyncio.Task[None] | None = None


STATE: Final = web.AppKey("toolwire_web_state", WebState)
