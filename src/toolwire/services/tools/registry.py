"""`ToolRegistry`: the tools by name, with an overlay for tools local to one scope."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from toolwire.services.errors import ToolConflictError
from toolwire.services.tools.spec import ToolSpec


class ToolRegistry:
    """Tools by unique name; safe to share because it is only read after start-up."""

    __slots__ = ("_parent", "_specs")

    def __init__(self, specs: Iterable[ToolSpec] = (), *, parent: ToolRegistry | None = None):
        self._specs: dict[str, ToolSpec] = {}
        self._parent = parent
        for spec in specs:
            self.register(spec)

    def register(self, spec: ToolSpec) -> None:
        """Add `spec`; another tool with the same name is an error naming both origins.

        Registering the same function again (say, from a module and an entry point) is a no-op.
        """
        existing = self.get(spec.name)
        if existing is not None:
            if existing.func is spec.func:
                return
            raise ToolConflictError(
                f"two tools are named {spec.name!r}: {existing.origin or '?'} "
                f"and {spec.origin or '?'}; rename one of them"
            )
        self._specs[spec.name] = spec

    def get(self, name: str) -> ToolSpec | None:
        """Return the tool called `name`, or None."""
        spec = self._specs.get(name)
        if spec is None and self._parent is not None:
            return self._parent.get(name)
        return spec

    def overlay(self, specs: Iterable[ToolSpec]) -> ToolRegistry:
        """Return a registry that adds `specs` on top of this one without changing it."""
        return ToolRegistry(specs, parent=self)

    def specs(self) -> list[ToolSpec]:
        """Return every tool, sorted by name."""
        merged = {s.name: s for s in (self._parent.specs() if self._parent else [])}
        merged.update(self._specs)
        return [merged[name] for name in sorted(merged)]

    def names(self) -> list[str]:
        """Return every tool name, sorted."""
        return [spec.name for spec in self.specs()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __iter__(self) -> Iterator[ToolSpec]:
        return iter(self.specs())

    def __len__(self) -> int:
        return len(self.specs())
