"""`ProviderOverrides`: replace container providers for a test and always undo it."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

from dependency_injector import containers, providers


def as_provider(value: Any) -> providers.Provider[Any]:
    """Return `value` when it is a provider, else a `providers.Object` holding it."""
    return value if isinstance(value, providers.Provider) else providers.Object(value)


def remove_overriding(provider: providers.Provider[Any], overriding: Any) -> None:
    """Take `overriding` off `provider`'s override stack, wherever it sits in it."""
    stack = list(provider.overridden)
    if overriding not in stack:
        return
    if stack[-1] is overriding:
        provider.reset_last_overriding()
        return
    provider.reset_override()
    for other in stack:
        if other is not overriding:
            provider.override(other)


class Override:
    """Overrides applied by one call; a context manager that undoes them on exit."""

    def __init__(self, owner: ProviderOverrides,
                 applied: list[tuple[providers.Provider[Any], Any]]) -> None:
        self._owner = owner
        self._applied = applied

    def undo(self) -> None:
        """Put the replaced providers back (idempotent)."""
        for provider, overriding in reversed(self._applied):
            remove_overriding(provider, overriding)
        self._owner.forget(self)
        self._applied = []

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.undo()


class ProviderOverrides:
    """`overrides(executor=mock, agent=...)`: each keyword names a provider of the container."""

    def __init__(self, container: containers.Container) -> None:
        self._container = container
        self._active: list[Override] = []

    def __call__(self, **replacements: Any) -> Override:
        """Override the named providers now; non-providers become `providers.Object`."""
        known = self._container.providers
        unknown = sorted(set(replacements) - set(known))
        if unknown:
            raise ValueError(
                f"the container has no provider named {', '.join(map(repr, unknown))}; "
                f"it has {', '.join(sorted(known))}"
            )
        applied = []
        for name, value in replacements.items():
            provider = known[name]
            overriding = as_provider(value)
            provider.override(overriding)
            applied.append((provider, overriding))
        handle = Override(self, applied)
        self._active.append(handle)
        return handle

    def forget(self, handle: Override) -> None:
        """Stop tracking an undone `handle`."""
        if handle in self._active:
            self._active.remove(handle)

    def undo_all(self) -> None:
        """Undo every override still in place, newest first."""
        for handle in reversed(list(self._active)):
            handle.undo()
