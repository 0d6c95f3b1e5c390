"""`WebState`: what the handlers share, kept on the app under one typed key."""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass, field
from typing import Final

from aiohttp import web

from toolwire.adapters.metrics import Metrics
from toolwire.adapters.web.auth import TokenVerifier
from toolwire.adapters.web.connection import Connection
from toolwire.adapters.web.runs import RunManager, ScopeFactory
from toolwire.config import Settings
from toolwire.services.ports import EventBus
from toolwire.services.tools.spec import ToolSpec


@dataclass(frozen=True, slots=True)
class WebDeps:
    """Everything the web app needs, handed in by the composition root."""

    settings: Settings
    bus: EventBus
    verifier: TokenVerifier
    scope_factory: ScopeFactory
    tools: tuple[ToolSpec, ...]
    metrics: Metrics


@dataclass(slots=True, eq=False)
class WebState:
    """App-wide state of the web adapter."""

    deps: WebDeps
    runs: RunManager
    connections: weakref.WeakSet[Connection] = field(default_factory=weakref.WeakSet)
    sockets_per_user: dict[str, int] = field(default_factory=dict)
    shutting_down: bool = False
    shutdown_task: asyncio.Task[None] | None = None


STATE: Final = web.AppKey("toolwire_web_state", WebState)
