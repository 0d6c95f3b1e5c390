"""The composition root: the only place dispatcher, executor and bridge are built."""

from toolwire.container.application import ApplicationContainer
from toolwire.container.bootstrap import close_resources, create_container, start_resources
from toolwire.container.current import get_container, set_container, use_container
from toolwire.container.scope import RequestScope, ScopeState
from toolwire.container.web import create_app

__all__ = [
    "ApplicationContainer",
    "RequestScope",
    "ScopeState",
    "close_resources",
    "create_app",
    "create_container",
    "get_container",
    "set_container",
    "start_resources",
    "use_container",
]
