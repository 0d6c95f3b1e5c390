"""What the container holds: each provider's kind, lifetime, dependencies, selection, overrides.

The providers are walked generically (`container.providers`, `provider.related`), so a
provider added to the container shows up without a change here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from dependency_injector import containers, providers

Lifetime = Literal["app-wide", "per request"]

APP_WIDE_KINDS = (providers.BaseSingleton, providers.Resource, providers.Object,
                  providers.Configuration)


@dataclass(frozen=True, slots=True)
class Branch:
    """One branch of a selector: its key, kind, dependencies and whether it is picked."""

    key: str
    kind: str
    depends_on: tuple[str, ...]
    selected: bool


@dataclass(frozen=True, slots=True)
class ProviderInfo:
    """One named provider of a container."""

    name: str
    kind: str
    lifetime: Lifetime
    depends_on: tuple[str, ...]
    overridden_by: str | None = None
    """The kind of the provider that overrides it, when one does."""
    branches: tuple[Branch, ...] = ()
    selected: str | None = None
    """The branch a selector picks under the current settings (None: not a selector)."""


def describe(container: containers.Container) -> list[ProviderInfo]:
    """Return every provider of `container`, in the order the container declares them."""
    named = {id(provider): name for name, provider in container.providers.items()}
    return [_describe(name, provider, named) for name, provider in container.providers.items()]


def kind_of(provider: providers.Provider[Any]) -> str:
    """Return a provider's kind as a lower-case name: `singleton`, `factory`, `selector`, …"""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(provider).__name__).lower()


def _describe(name: str, provider: providers.Provider[Any], named: Mapping[int, str]
              ) -> ProviderInfo:
    overriding = provider.last_overriding
    overridden_by = kind_of(overriding) if overriding is not None else None
    if not isinstance(provider, providers.Selector):
        return ProviderInfo(name, kind_of(provider), _lifetime(provider),
                            _dependencies(provider.related, named, skip=id(provider)),
                            overridden_by)
    selected = _selected(provider)
    branches = tuple(
        Branch(key, kind_of(branch), _dependencies(_own(branch, named), named, id(provider)),
               key == selected)
        for key, branch in provider.providers.items())
    picked = provider.providers.get(selected) if selected is not None else None
    seen = (picked,) if picked is not None else tuple(provider.providers.values())
    choose = provider.selector
    links = [choose, *seen] if isinstance(choose, providers.Provider) else list(seen)
    depends_on = _dependencies(links, named, skip=id(provider))
    lifetime = _lifetime(picked) if picked is not None else "per request"
    return ProviderInfo(name, "selector", lifetime, depends_on, overridden_by, branches,
                        selected)


def _selected(selector: providers.Selector[Any]) -> str | None:
    """Return the key the selector picks now, or None when it cannot be worked out."""
    choose = selector.selector
    if choose is None:
        return None
    try:
        key = choose()
    except Exception:  # settings that do not resolve: the graph is still worth printing
        return None
    return str(key) if key in selector.providers else None


def _lifetime(provider: providers.Provider[Any]) -> Lifetime:
    return "app-wide" if isinstance(provider, APP_WIDE_KINDS) else "per request"


def _own(provider: providers.Provider[Any], named: Mapping[int, str]
         ) -> Iterable[providers.Provider[Any]]:
    """Return what a branch depends on: itself when it is a named provider, else its links."""
    return (provider,) if id(provider) in named else provider.related


def _dependencies(related: Iterable[providers.Provider[Any]], named: Mapping[int, str],
                  skip: int) -> tuple[str, ...]:
    """Return the named providers reachable through `related` without passing a named one."""
    found: dict[str, None] = {}
    stack = list(related)
    seen: set[int] = set()
    while stack:
        provider = stack.pop()
        if id(provider) in seen or id(provider) == skip:
            continue
        seen.add(id(provider))
        name = named.get(id(provider))
        if name is not None:
            found[name] = None
        else:
            stack.extend(provider.related)
    return tuple(sorted(found))
