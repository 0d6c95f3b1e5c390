"""Legacy `UnifiedToolDispatcher.create_for_user` and `UnifiedToolDispatcherFactory().create`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from toolwire.legacy.dispatching import DISPATCHER_REPLACEMENT, LegacyDispatcher
from toolwire.legacy.policy import EntryPoint
from toolwire.legacy.scoped import UserContextLike, begin
from toolwire.services.tools.spec import ToolSpec

CREATE_FOR_USER: Final = EntryPoint("UnifiedToolDispatcher.create_for_user",
                                    DISPATCHER_REPLACEMENT)
FACTORY_CREATE: Final = EntryPoint("UnifiedToolDispatcherFactory.create", DISPATCHER_REPLACEMENT)


class UnifiedToolDispatcher(LegacyDispatcher):
    """Deprecated: a dispatcher for one user; build it with `create_for_user`."""

    __slots__ = ()

    @classmethod
    async def create_for_user(
        cls,
        user_context: UserContextLike,
        websocket_bridge: object | None = None,
        tools: Iterable[ToolSpec] | None = None,
    ) -> UnifiedToolDispatcher:
        """Deprecated: open a request scope for `user_context` and return its dispatcher."""
        return cls._adopt(begin(CREATE_FOR_USER, user_context, tools=tools,
                                emitter=websocket_bridge))


class UnifiedToolDispatcherFactory:
    """Deprecated: builds `UnifiedToolDispatcher`s."""

    __slots__ = ()

    async def create(
        self,
        user_context: UserContextLike,
        websocket_bridge: object | None = None,
        tools: Iterable[ToolSpec] | None = None,
    ) -> UnifiedToolDispatcher:
        """Deprecated: open a request scope for `user_context` and return its dispatcher."""
        return UnifiedToolDispatcher._adopt(begin(FACTORY_CREATE, user_context, tools=tools,
                                                  emitter=websocket_bridge))
