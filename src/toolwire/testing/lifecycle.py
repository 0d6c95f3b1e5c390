"""Build test containers and put them back as they were: overrides, singletons, the bus."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dependency_injector import providers

from toolwire.config import Settings
from toolwire.container import ApplicationContainer, close_resources, create_container

OverrideSnapshot = Mapping[str, tuple[providers.Provider[Any], ...]]


def settings_for_tests(**overrides: Any) -> Settings:
    """Return settings on the `test` profile with `overrides` (e.g. `runs={...}`) on top."""
    return Settings(env="test", **overrides)


def snapshot_overrides(container: ApplicationContainer) -> OverrideSnapshot:
    """Return the override stack of every provider of `container`."""
    return {name: tuple(p.overridden) for name, p in container.providers.items()}


def restore_overrides(container: ApplicationContainer, snapshot: OverrideSnapshot) -> None:
    """Put every provider's override stack back to `snapshot`, dropping later overrides."""
    for name, provider in container.providers.items():
        kept = snapshot.get(name, ())
        if tuple(provider.overridden) == kept:
            continue
        provider.reset_override()
        for overriding in kept:
            provider.override(overriding)


class ManagedContainer:
    """A container on test settings that `aclose()` returns to the state it was built in."""

    def __init__(self, settings: Settings) -> None:
        self.container = create_container(settings)
        self._snapshot = snapshot_overrides(self.container)

    async def aclose(self) -> None:
        """Undo overrides made since creation, close bus and LLM client, reset the singletons."""
        restore_overrides(self.container, self._snapshot)
        await close_resources(self.container)
        self.container.reset_singletons()


class ContainerFactory:
    """`factory(**settings)`: more test containers, each cleaned up when the test ends."""

    def __init__(self) -> None:
        self._made: list[ManagedContainer] = []

    def __call__(self, **settings: Any) -> ApplicationContainer:
        """Return a new container on the test profile with `settings` overrides."""
        made = ManagedContainer(settings_for_tests(**settings))
        self._made.append(made)
        return made.container

    async def aclose(self) -> None:
        """Clean up every container made, newest first."""
        while self._made:
            await self._made.pop().aclose()

