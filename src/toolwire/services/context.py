"""`UserExecutionContext`: who a run belongs to, fixed for its whole life."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace


def new_id(prefix: str) -> str:
    """Return a fresh random identifier such as `r_3f9a…`."""
    return f"{prefix}_{secrets.token_hex(8)}"


@dataclass(frozen=True, slots=True)
class UserExecutionContext:
    """Immutable identity of one run: the verified user and the server-chosen ids."""

    user_id: str
    thread_id: str = field(default_factory=lambda: new_id("t"))
    run_id: str = field(default_factory=lambda: new_id("r"))
    request_id: str = field(default_factory=lambda: new_id("q"))
    connection_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("user_id", "thread_id", "run_id", "request_id"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ValueError(f"UserExecutionContext.{name} must be a non-empty string")

    @classmethod
    def for_user(
        cls,
        user_id: str,
        *,
        thread_id: str | None = None,
        request_id: str | None = None,
        connection_ids: tuple[str, ...] = (),
    ) -> UserExecutionContext:
        """Build a context for a new run of `user_id`, generating the ids not given."""
        return cls(
            user_id=user_id,
            thread_id=thread_id or new_id("t"),
            request_id=request_id or new_id("q"),
            connection_ids=connection_ids,
        )

    def with_connection(self, connection_id: str) -> UserExecutionContext:
        """Return a copy that also names `connection_id`."""
        return replace(self, connection_ids=(*self.connection_ids, connection_id))
