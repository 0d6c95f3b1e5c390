"""Fixtures for tests that go through the container."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from toolwire.config import Settings
from toolwire.container import ApplicationContainer, use_container
from toolwire.services.events import RunEvent
from toolwire.testing import settings_for_tests


@pytest.fixture
def settings_factory() -> Callable[..., Settings]:
    """Build test-profile settings with overrides, e.g. `settings_factory(runs={...})`."""
    return settings_for_tests


@pytest.fixture
def container(toolwire_container: ApplicationContainer) -> ApplicationContainer:
    """The plugin's fresh, self-cleaning `toolwire_container`, under the short name."""
    return toolwire_container


CurrentContainer = Callable[..., Any]


@pytest.fixture
def current_container(
    toolwire_container_factory: Callable[..., ApplicationContainer],
) -> CurrentContainer:
    """`with current_container(legacy={...}) as c:` — a test container legacy callers resolve."""

    @contextmanager
    def make(**settings: Any) -> Iterator[ApplicationContainer]:
        built = toolwire_container_factory(**settings)
        with use_container(built):
            yield built

    return make


@pytest.fixture
def warn(current_container: CurrentContainer) -> Iterator[ApplicationContainer]:
    """The current container, in the default `warn` legacy mode."""
    with current_container(legacy={"mode": "warn"}) as built:
        yield built


@pytest.fixture
def quiet(current_container: CurrentContainer) -> Iterator[ApplicationContainer]:
    """The current container with `legacy.mode=off`, for tests about something else."""
    with current_container(legacy={"mode": "off"}) as built:
        yield built


@pytest.fixture
def strict(current_container: CurrentContainer) -> Iterator[ApplicationContainer]:
    """The current container with `legacy.mode=error`."""
    with current_container(legacy={"mode": "error"}) as built:
        yield built


class Recorder:
    """Collects every event the bus delivers for the users it watches."""

    def __init__(self) -> None:
        self.events: list[RunEvent] = []

    def __call__(self, event: RunEvent) -> None:
        self.events.append(event)

    def run(self, run_id: str) -> list[RunEvent]:
        """Return the events of one run, in arrival order."""
        return [e for e in self.events if e.run_id == run_id]

    def types(self, run_id: str) -> list[str]:
        """Return the event types of one run."""
        return [e.type for e in self.run(run_id)]


@pytest.fixture
def recorder() -> Recorder:
    """A fresh event recorder (subscribe it with `await bus.subscribe(user, recorder)`)."""
    return Recorder()
