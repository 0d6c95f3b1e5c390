"""Adapt the WebSocket emitters legacy callers pass in to the scope's event observers."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from toolwire.services.events import RunEvent
from toolwire.services.ports import EventObserver

SUPPORTED = ("an object with send_event(event), an object with send_to_user(user_id, event), "
             "or a callable(event); each may be sync or async and gets the wire envelope dict")


def as_observer(emitter: object, user_id: str) -> EventObserver:
    """Return an observer that forwards each stamped event of `user_id` to `emitter`."""
    send: Callable[[dict[str, Any]], Any]
    send_event = getattr(emitter, "send_event", None)
    send_to_user = getattr(emitter, "send_to_user", None)
    if callable(send_event):
        send = send_event
    elif callable(send_to_user):
        def send(wire: dict[str, Any]) -> Any:
            return send_to_user(user_id, wire)
    elif callable(emitter):
        send = emitter
    else:
        raise TypeError(
            f"cannot forward events to a {type(emitter).__name__}: pass {SUPPORTED}"
        )

    async def observe(event: RunEvent) -> None:
        sent = send(event.to_wire())
        if inspect.isawaitable(sent):
            await sent

    return observe
