"""Ports: the protocols adapters implement so services never touch I/O."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from toolwire.services.events import EventPayload, RunEvent, ToolCompleted
from toolwire.services.threads.models import ThreadDetail, ThreadPage, Turn
from toolwire.services.tools.spec import ToolSpec

Deliver = Callable[[RunEvent], None]
"""A subscriber's callback: must not block; called once per event of the user."""

CancelHandler = Callable[[str], None]
"""A cancel listener's callback: must not block; called with the `run_id` to cancel."""

EventObserver = Callable[[RunEvent], Awaitable[None]]
"""Sees each event of a scope after it was published (the legacy emitters use this)."""


@runtime_checkable
class EventSink(Protocol):
    """Where a scope's services emit their events (the WebSocket bridge)."""

    async def emit(self, payload: EventPayload) -> RunEvent:
        """Stamp `payload` and publish it; return the stamped event.

        A `CancelledError` out of `emit` means the event WAS published (an emit finishes
        under cancellation), so the caller still ends what the event opened.
        """
        ...

    async def aclose(self) -> None:
        """Flush what is pending and refuse further events."""
        ...


class Subscription(Protocol):
    """A live subscription to one user's events."""

    async def close(self) -> None:
        """Stop delivering events."""
        ...


@runtime_checkable
class EventBus(Protocol):
    """Carries run events to every subscriber of the run's user and keeps them for resume."""

    async def publish(self, user_id: str, event: RunEvent) -> None:
        """Record `event` of a run of `user_id` and deliver it to the user's subscribers.

        Idempotent per `(run_id, seq)`: publishing an event again after an interrupted or
        uncertain attempt keeps and delivers it once.
        """
        ...

    async def subscribe(self, user_id: str, deliver: Deliver) -> Subscription:
        """Call `deliver` for every event of `user_id` published from now on."""
        ...

    async def replay(self, run_id: str, after_seq: int = 0) -> list[RunEvent]:
        """Return the kept events of `run_id` with `seq > after_seq`, in order."""
        ...

    async def run_owner(self, run_id: str) -> str | None:
        """Return the user a kept run belongs to, or None when unknown or expired."""
        ...

    async def request_cancel(self, run_id: str) -> None:
        """Ask every instance's cancel handlers to cancel `run_id` (the holder of its task acts)."""
        ...

    async def watched_elsewhere(self, user_id: str) -> bool:
        """Return True when another live instance holds a subscriber of `user_id`."""
        ...

    async def runs_elsewhere(self, user_id: str) -> list[str]:
        """Return the runs of `user_id` that other live instances are running."""
        ...

    async def run_closed(self, run_id: str) -> None:
        """This instance stopped publishing `run_id` (its scope closed): stop claiming it."""
        ...

    async def on_cancel(self, handler: CancelHandler) -> Subscription:
        """Call `handler` for every later `request_cancel`; closing the subscription stops it."""
        ...

    async def ping(self) -> bool:
        """Return True when the bus can publish."""
        ...

    async def aclose(self) -> None:
        """Release connections and stop background work."""
        ...


@runtime_checkable
class PipelinedBus(Protocol):
    """An `EventBus` that can take a run's next events before the earlier ones are stored
    (one round trip for several; the bridge uses it for the events it need not wait for)."""

    def publish_soon(self, user_id: str, event: RunEvent) -> asyncio.Future[None]:
        """Start publishing `event` as `publish` does; return the future of its outcome.

        Events handed over in order are stored and delivered in order. After a failure, the
        run's later events handed over this way fail too, unsent, until `publish` has
        published again: the caller publishes the failed event and every later one again, in
        order, with `publish`. Await it without cancelling it (`asyncio.wait`): a cancelled
        future may drop its event.
        """
        ...


@runtime_checkable
class ThreadStore(Protocol):
    """Keeps each user's threads, keyed by `(user_id, thread_id)`.

    No method ever reads or changes another user's thread, whatever `thread_id` it gets.
    """

    async def claim(
        self, user_id: str, thread_id: str, run_id: str, *, message: str, hold_s: float
    ) -> str | None:
        """Make `run_id` the run going on the thread (creating the thread on first use).

        Returns None when the claim holds (also when `run_id` held it already), or the id of
        the run that holds the thread. A claim lapses after `hold_s` or when its turn is added.
        """
        ...

    async def claim_reading(
        self, user_id: str, thread_id: str, run_id: str, *, message: str, hold_s: float,
        max_turns: int, max_bytes: int,
    ) -> tuple[str | None, Sequence[Turn]]:
        """`claim` and, when the claim holds, `history` within the bounds, in one step.

        Returns `(None, turns)` when the claim holds, else `(holder, ())`.
        """
        ...

    async def release(self, user_id: str, thread_id: str, run_id: str) -> None:
        """Drop the claim of `run_id` on the thread, if it holds it."""
        ...

    async def append(self, user_id: str, thread_id: str, turn: Turn) -> None:
        """Add `turn` at the end of the thread and drop the claim of its run.

        The run's `claim` created the thread; one deleted since stays deleted (no-op).
        """
        ...

    async def history(self, user_id: str, thread_id: str, *, max_turns: int,
                      max_bytes: int) -> Sequence[Turn]:
        """Return the thread's latest whole turns within the bounds, oldest first."""
        ...

    async def get(self, user_id: str, thread_id: str) -> ThreadDetail | None:
        """Return the thread with all its kept turns, or None when it is not the user's."""
        ...

    async def list_threads(
        self, user_id: str, *, limit: int, before: str | None = None
    ) -> ThreadPage:
        """Return the user's threads, most recently active first, after cursor `before`."""
        ...

    async def delete(self, user_id: str, thread_id: str) -> Sequence[str] | None:
        """Erase the thread; return the run ids of its turns, or None when there was none."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


RunEraser = Callable[[str, Sequence[str]], Awaitable[None]]
"""Erases the retained events of the runs (of one user) whose ids it is given."""
class RequestLedger(Protocol):
    """Which run each `(user, request_id)` started: what makes a retried chat a replay.

    A backend shared by every instance (Redis) makes a retry on another instance a replay too.
    """

    async def claim(self, user_id: str, request_id: str, run_id: str) -> str | None:
        """Record that `request_id` starts `run_id`.

        Return None when the claim is made now, or the run id an earlier claim holds (its
        run still going, or ended within the retention window).
        """
        ...

    async def settle(self, user_id: str, request_id: str, run_id: str) -> None:
        """The run ended: keep its claim for the retention window, then forget it."""
        ...

    async def release(self, user_id: str, request_id: str, run_id: str) -> None:
        """Forget the claim now, if `run_id` still holds it (the run published nothing)."""
        ...


class UserQuotas(Protocol):
    """Per-user limits on concurrent runs and on chats per minute."""

    async def admit(self, user_id: str, run_id: str) -> None:
        """Count a new run of `user_id`, or raise `RateLimitedError` saying which limit."""
        ...

    async def check(self, user_id: str) -> None:
        """Raise `RateLimitedError` when a new run of `user_id` would be refused now.

        It counts nothing: a cheap look before a request's costly part (its body).
        """
        ...

    async def release(self, user_id: str, run_id: str) -> None:
        """The run ended: free its place among the user's concurrent runs."""
        ...


@runtime_checkable
class RunAdmission(Protocol):
    """A run's quota place and request claim, taken and given back together (one step each).

    What the supervisor does per run; `RequestLedger` and `UserQuotas` remain for the rest.
    """

    async def admit(self, user_id: str, run_id: str, request_id: str | None) -> str | None:
        """Count `run_id` against its user's quotas and, with a `request_id`, claim it for the
        run: both or neither.

        Return the run id an earlier chat with `request_id` started (then nothing is
        counted), else None. Raise `RateLimitedError` past a quota (nothing is claimed).
        """
        ...

    async def release(self, user_id: str, run_id: str, request_id: str | None) -> None:
        """Undo `admit` (the chat was refused after all): free the place, forget the claim."""
        ...

    async def settle(self, user_id: str, run_id: str, request_id: str | None) -> None:
        """The run ended: free its place and keep its claim for the retention window."""
        ...


class AgentRuntime(Protocol):
    """What an agent may do during a run: think aloud, call tools, read the thread so far."""

    @property
    def history(self) -> Sequence[Turn]:
        """Return the thread's earlier turns, oldest first (bounded; empty on a new thread)."""
        ...

    async def think(self, text: str) -> None:
        """Emit an `agent_thinking` event."""
        ...

    async def call_tool(self, tool: str, args: dict[str, Any]) -> ToolCompleted:
        """Run one tool call through the scope's dispatcher."""
        ...

    def tools(self) -> Sequence[ToolSpec]:
        """Return the tools this run may call."""
        ...

    def may_call(self, tool: str) -> bool:
        """Return False when the run's user lacks a scope that `tool` needs."""
        ...


@runtime_checkable
class Agent(Protocol):
    """A planner: turns a user message into thoughts, tool calls and an answer."""

    name: str

    async def run(self, message: str, runtime: AgentRuntime) -> str:
        """Answer `message`, using `runtime` for thoughts and tool calls."""
        ...
