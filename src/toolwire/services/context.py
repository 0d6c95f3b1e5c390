"""`UserExecutionContext`: who a run belongs to, fixed for its whole life."""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Final, NoReturn

# Identifiers must be unique, not secret (every use of a run id is checked against its
# owner), so a fast generator does. It is toolwire's own: code that seeds the global
# `random` (hypothesis does, for every example) must not make two runs share an id. It is
# seeded from the OS, and again in a forked child.
_generator: Final = random.Random(os.urandom(32))
os.register_at_fork(after_in_child=lambda: _generator.seed(os.urandom(32)))
_random_bits: Final = _generator.getrandbits


def new_id(prefix: str) -> str:
    """Return a fresh random identifier such as `r_3f9a…` (64 random bits)."""
    return f"{prefix}_{_random_bits(64):016x}"


class _Slots:
    __slots__ = ("connection_ids", "request_id", "run_id", "scopes", "thread_id", "user_id")


Setter = Callable[[object, object], None]
# The slots' own descriptors set them; `__setattr__` below refuses every other assignment.
_set_user: Final[Setter] = _Slots.__dict__["user_id"].__set__
_set_thread: Final[Setter] = _Slots.__dict__["thread_id"].__set__
_set_run: Final[Setter] = _Slots.__dict__["run_id"].__set__
_set_request: Final[Setter] = _Slots.__dict__["request_id"].__set__
_set_connections: Final[Setter] = _Slots.__dict__["connection_ids"].__set__
_set_scopes: Final[Setter] = _Slots.__dict__["scopes"].__set__
_new: Final = object.__new__
NO_SCOPES: Final[frozenset[str]] = frozenset()


def _as_scopes(scopes: Iterable[str]) -> frozenset[str]:
    if type(scopes) is frozenset:
        return scopes
    if isinstance(scopes, str):
        raise ValueError("UserExecutionContext.scopes must be a collection of scope names, "
                         "not one string")
    frozen = frozenset(scopes)
    if not all(type(scope) is str for scope in frozen):
        raise ValueError("UserExecutionContext.scopes must be strings")
    return frozen


class UserExecutionContext(_Slots):
    """Immutable identity of one run: the verified user and the server-chosen ids.

    `connection_ids` names the sockets the run was started from (empty for in-process runs);
    `scopes` are what the user's token grants (the tools they may call depend on them).
    Built on every run, so it is a plain slotted class rather than a frozen dataclass
    (a third of the cost); it compares and hashes by value like one.
    """

    __slots__ = ()
    if TYPE_CHECKING:  # read-only to the type checker; `__setattr__` enforces it at run time
        @property
        def user_id(self) -> str: ...
        @property
        def thread_id(self) -> str: ...
        @property
        def run_id(self) -> str: ...
        @property
        def request_id(self) -> str: ...
        @property
        def connection_ids(self) -> tuple[str, ...]: ...
        @property
        def scopes(self) -> frozenset[str]: ...

    def __init__(
        self,
        user_id: str,
        thread_id: str = "",
        run_id: str = "",
        request_id: str = "",
        connection_ids: tuple[str, ...] = (),
        scopes: Iterable[str] = NO_SCOPES,
    ) -> None:
        if type(user_id) is not str or not user_id:
            raise ValueError("UserExecutionContext.user_id must be a non-empty string")
        if not (thread_id and run_id and request_id):
            # One random draw per context; each kind of id has its own prefix, so sharing
            # the 64-bit suffix keeps every run id, thread id and request id unique.
            suffix = f"{_random_bits(64):016x}"
            thread_id = thread_id or "t_" + suffix
            run_id = run_id or "r_" + suffix
            request_id = request_id or "q_" + suffix
        if not (type(thread_id) is str and type(run_id) is str and type(request_id) is str):
            raise ValueError("UserExecutionContext ids must be strings")
        _set_user(self, user_id)
        _set_thread(self, thread_id)
        _set_run(self, run_id)
        _set_request(self, request_id)
        _set_connections(self, connection_ids if type(connection_ids) is tuple
                         else tuple(connection_ids))
        _set_scopes(self, _as_scopes(scopes))

    @classmethod
    def for_user(
        cls,
        user_id: str,
        *,
        thread_id: str | None = None,
        request_id: str | None = None,
        connection_ids: tuple[str, ...] = (),
        scopes: Iterable[str] = NO_SCOPES,
    ) -> UserExecutionContext:
        """Build a context for a new run of `user_id`, generating the ids not given."""
        if type(user_id) is not str or not user_id:
            raise ValueError("UserExecutionContext.user_id must be a non-empty string")
        if not (thread_id is None or type(thread_id) is str) or not (
                request_id is None or type(request_id) is str):
            raise ValueError("UserExecutionContext ids must be strings")
        suffix = f"{_random_bits(64):016x}"  # the run's: see __init__
        ctx = _new(cls)
        _set_user(ctx, user_id)
        _set_thread(ctx, thread_id or "t_" + suffix)
        _set_run(ctx, "r_" + suffix)
        _set_request(ctx, request_id or "q_" + suffix)
        _set_connections(ctx, connection_ids if type(connection_ids) is tuple
                         else tuple(connection_ids))
        _set_scopes(ctx, scopes if type(scopes) is frozenset else _as_scopes(scopes))
        return ctx

    def _key(self) -> tuple[str, str, str, str, tuple[str, ...], frozenset[str]]:
        return (self.user_id, self.thread_id, self.run_id, self.request_id,
                self.connection_ids, self.scopes)

    def __eq__(self, other: object) -> bool:
        if type(other) is not UserExecutionContext:
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (f"UserExecutionContext(user_id={self.user_id!r}, thread_id={self.thread_id!r}, "
                f"run_id={self.run_id!r}, request_id={self.request_id!r}, "
                f"connection_ids={self.connection_ids!r}, scopes={sorted(self.scopes)!r})")

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError(f"UserExecutionContext is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"UserExecutionContext is immutable: cannot delete {name!r}")

    def __reduce__(self) -> tuple[type[UserExecutionContext], tuple[Any, ...]]:
        return (UserExecutionContext, self._key())
