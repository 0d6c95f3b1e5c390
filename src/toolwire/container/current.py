"""The process-wide current container, for callers that cannot be handed one (legacy shims)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from toolwire.container.application import ApplicationContainer
from toolwire.container.bootstrap import create_container

_lock = threading.Lock()
_current: ApplicationContainer | None = None


def get_container() -> ApplicationContainer:
    """Return the current container, building one from the environment on first use."""
    global _current
    with _lock:
        if _current is None:
            _current = create_container()
        return _current


def set_container(container: ApplicationContainer | None) -> None:
    """Make `container` the current one (`None`: build a fresh one from the environment later)."""
    global _current
    with _lock:
        _current = container


@contextmanager
def use_container(container: ApplicationContainer) -> Iterator[ApplicationContainer]:
    """Make `container` current inside the block, then restore the previous one."""
    global _current
    with _lock:
        previous, _current = _current, container
    try:
        yield container
    finally:
        with _lock:
            _current = previous
