"""The composition root: the only place dispatcher, executor and bridge are built."""

from toolwire.container.application import ApplicationContainer
from toolwire.container.bootstrap import create_container
from toolwire.container.scope import RequestScope

__all__ = ["ApplicationContainer", "RequestScope", "create_container"]
