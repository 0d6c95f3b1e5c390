"""Legacy `RequestScopedToolDispatcher(...)`, `ToolDispatcher.create_request_scoped_dispatcher`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, Self

from toolwire.legacy.dispatching import DISPATCHER_REPLACEMENT, LegacyDispatcher
from toolwire.legacy.policy import EntryPoint
from toolwire.legacy.scoped import UserContextLike, begin
from toolwire.services.tools.spec import ToolSpec

REQUEST_SCOPED: Final = EntryPoint("RequestScopedToolDispatcher", DISPATCHER_REPLACEMENT)
CREATE_REQUEST_SCOPED: Final = EntryPoint("ToolDispatcher.create_request_scoped_dispatcher",
                                          DISPATCHER_REPLACEMENT)


class RequestScopedToolDispatcher(LegacyDispatcher):
    """Deprecated: a dispatcher for one request; its scope opens when it is constructed."""

    __slots__ = ()

    def __init__(
        self,
        user_context: UserContextLike,
        tools: Iterable[ToolSpec] | None = None,
        websocket_emitter: object | None = None,
    ) -> None:
        super().__init__(begin(REQUEST_SCOPED, user_context, tools=tools,
                               emitter=websocket_emitter))


class ToolDispatcher:
    """Deprecated dispatcher core: only its `create_request_scoped_dispatcher` remains."""

    __slots__ = ()

    # Typed `Self`, not `NoReturn`: mypy reads a class whose `__new__` never returns as a
    # bare callable, and would then refuse `ToolDispatcher.create_request_scoped_dispatcher`.
    def __new__(cls) -> Self:
        raise TypeError(
            "toolwire.legacy.ToolDispatcher cannot be built; use "
            f"ToolDispatcher.create_request_scoped_dispatcher(ctx) or {DISPATCHER_REPLACEMENT}"
        )

    @staticmethod
    async def create_request_scoped_dispatcher(
        user_context: UserContextLike,
        tools: Iterable[ToolSpec] | None = None,
        websocket_manager: object | None = None,
    ) -> RequestScopedToolDispatcher:
        """Deprecated: open a request scope for `user_context` and return its dispatcher."""
        return RequestScopedToolDispatcher._adopt(
            begin(CREATE_REQUEST_SCOPED, user_context, tools=tools, emitter=websocket_manager)
        )
