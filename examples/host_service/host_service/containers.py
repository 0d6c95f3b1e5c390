"""The service's container: its own providers, with toolwire's container nested inside."""

from __future__ import annotations

from dependency_injector import containers, providers

from host_service.catalog import CATALOG
from toolwire import ApplicationContainer, Settings


class Container(containers.DeclarativeContainer):
    """Everything the service builds, in dependency order."""

    wiring_config = containers.WiringConfiguration(modules=[".handlers"])

    catalog = providers.Object(CATALOG)

    toolwire_settings = providers.Singleton(Settings)  # TOOLWIRE_* variables and .env

    toolwire = providers.Container(ApplicationContainer, settings=toolwire_settings)
