"""Open a request scope for one legacy call and own it until the caller closes it."""

from __future__ import annotations

import warnings
import weakref
from collections.abc import Iterable
from types import TracebackType
from typing import Self

from toolwire.container import RequestScope, ScopeState, get_container
from toolwire.legacy.emitters import as_observer
from toolwire.legacy.policy import EntryPoint, announce
from toolwire.services.context import UserExecutionContext
from toolwire.services.tools.spec import ToolSpec

UserContextLike = UserExecutionContext | str
"""What legacy callers pass as `user_context`: a context, or (old callers) a user id."""


def as_user_context(user_context: UserContextLike) -> UserExecutionContext:
    """Return `user_context`, or a fresh context for a plain user id."""
    if isinstance(user_context, UserExecutionContext):
        return user_context
    if isinstance(user_context, str):
        return UserExecutionContext.for_user(user_context)
    raise TypeError(
        f"user_context must be a UserExecutionContext or a user id, not "
        f"{type(user_context).__name__}"
    )


def as_tools(tools: Iterable[ToolSpec] | None) -> tuple[ToolSpec, ...]:
    """Return `tools` as a tuple of `@tool` specs (anything else is a TypeError)."""
    specs = tuple(tools or ())
    for spec in specs:
        if not isinstance(spec, ToolSpec):
            raise TypeError(f"tools must be @tool functions, not {type(spec).__name__}")
    return specs


def begin(
    entry: EntryPoint,
    user_context: UserContextLike,
    *,
    tools: Iterable[ToolSpec] | None = None,
    emitter: object | None = None,
) -> RequestScope:
    """Count and announce a call of `entry`, then open its request scope on the current container.

    Call it directly from the public entry point, so the warning points at that one's caller.
    """
    container = get_container()
    announce(container, entry, stacklevel=3)
    ctx = as_user_context(user_context)
    observers = () if emitter is None else (as_observer(emitter, ctx.user_id),)
    scope: RequestScope = container.request_scope(ctx, tools=as_tools(tools), observers=observers)
    return scope.open()


def _warn_unclosed(scope: RequestScope, kind: str) -> None:
    if scope.state is ScopeState.OPEN:
        warnings.warn(
            f"{kind} of run {scope.user_context.run_id} was never closed; "
            "call `await obj.cleanup()` or use `async with`",
            ResourceWarning,
            stacklevel=1,
        )


class ScopeOwner:
    """Base of the legacy objects: owns one open request scope until `cleanup()`.

    Close with `await obj.cleanup()`, `await obj.aclose()` or `async with obj:`. An object
    collected unclosed emits a `ResourceWarning`; nothing global keeps its scope alive.
    """

    __slots__ = ("__weakref__", "_finalizer", "_scope")

    def __init__(self, scope: RequestScope) -> None:
        self._scope = scope
        self._finalizer = weakref.finalize(self, _warn_unclosed, scope, type(self).__name__)

    @classmethod
    def _adopt(cls, scope: RequestScope) -> Self:
        """Wrap `scope` without running a subclass `__init__` (which announces its own call)."""
        owner = cls.__new__(cls)
        ScopeOwner.__init__(owner, scope)
        return owner

    @property
    def user_context(self) -> UserExecutionContext:
        """Return the context of the scope's run."""
        return self._scope.user_context

    @property
    def closed(self) -> bool:
        """Return True once the scope is closed."""
        return self._scope.state is ScopeState.CLOSED

    async def cleanup(self) -> None:
        """Close the scope: its dispatcher, executor (pending tool calls cancelled) and bridge."""
        self._finalizer.detach()
        await self._scope.aclose()

    async def aclose(self) -> None:
        """Close the scope (same as `cleanup()`)."""
        await self.cleanup()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.cleanup()
