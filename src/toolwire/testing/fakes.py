"""`FakeTool` and `FakeTools`: tools that exist for one test, on top of the real registry."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any, TypedDict, Unpack

from dependency_injector import providers
from pydantic import BaseModel, ConfigDict

from toolwire.container import ApplicationContainer
from toolwire.services.tools.registry import ToolRegistry
from toolwire.services.tools.spec import ToolSpec
from toolwire.testing.overrides import ProviderOverrides


class AnyArgs(BaseModel):
    """Arguments of a fake tool that has no tool of the same name to copy: anything goes."""

    model_config = ConfigDict(extra="allow")


class FakeBehaviour(TypedDict, total=False):
    """How a fake tool behaves; every key is optional."""

    result: Any  # returned when neither `raises` nor `func` is given
    raises: BaseException | type[BaseException] | None
    func: Callable[..., Any] | None  # called with the validated arguments
    delay: float  # seconds to wait before answering
    description: str | None
    timeout_s: float | None


class FakeTool:
    """A test-only tool: returns `result`, raises `raises` or calls `func`, after `delay` s.

    Every call's validated arguments are appended to `calls`, before the delay. A sync
    `func` runs in a worker thread, as a real sync tool would.
    """

    def __init__(
        self, name: str, *, shadows: ToolSpec | None = None, **behaviour: Unpack[FakeBehaviour]
    ) -> None:
        self.name = name
        self.result = behaviour.get("result")
        self.raises = behaviour.get("raises")
        self.func = behaviour.get("func")
        self.delay = behaviour.get("delay", 0.0)
        description = behaviour.get("description")
        timeout_s = behaviour.get("timeout_s")
        self.calls: list[dict[str, Any]] = []
        self.spec = ToolSpec(
            name=name,
            description=description or (shadows.description if shadows else f"Fake {name}."),
            args_model=shadows.args_model if shadows else AnyArgs,
            func=self._invoke,
            takes_model=True,
            timeout_s=timeout_s if timeout_s is not None or shadows is None else shadows.timeout_s,
            origin=f"fake_tool({name!r})",
            scopes=shadows.scopes if shadows else frozenset(),
        )

    @property
    def call_count(self) -> int:
        """Return how many times the tool was called."""
        return len(self.calls)

    async def _invoke(self, args: BaseModel) -> Any:
        kwargs = args.model_dump(by_alias=True)
        self.calls.append(kwargs)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.raises is not None:
            raise self.raises
        if self.func is None:
            return self.result
        if inspect.iscoroutinefunction(self.func):
            return await self.func(**kwargs)
        value = await asyncio.to_thread(self.func, **kwargs)  # like a real sync tool
        return await value if inspect.isawaitable(value) else value


class FakeTools:
    """The fake tools of one test and the registry they make with the real one underneath."""

    def __init__(self, base: ToolRegistry) -> None:
        self._base = base
        self._fakes: dict[str, FakeTool] = {}
        self._registry: ToolRegistry | None = None

    def add(self, name: str, **behaviour: Unpack[FakeBehaviour]) -> FakeTool:
        """Create the fake tool `name` (replacing a real or earlier fake tool of that name)."""
        fake = FakeTool(name, shadows=self._base.get(name), **behaviour)
        self._fakes[name] = fake
        self._registry = None
        return fake

    def registry(self) -> ToolRegistry:
        """Return a registry of the real tools with the fakes in place of same-named ones."""
        if self._registry is None:
            real = [spec for spec in self._base if spec.name not in self._fakes]
            self._registry = ToolRegistry([*real, *(f.spec for f in self._fakes.values())])
        return self._registry


class FakeToolFactory:
    """`fake_tool(name, result=…, raises=…, func=…, delay=…)`: a tool for this test only."""

    def __init__(self, container: ApplicationContainer, overrides: ProviderOverrides) -> None:
        self._container = container
        self._overrides = overrides
        self._fakes: FakeTools | None = None

    def __call__(self, name: str, **behaviour: Unpack[FakeBehaviour]) -> FakeTool:
        """Register the fake tool `name` (replacing a real tool of that name) and return it.

        `behaviour`: `result`, `raises`, `func`, `delay`, `description`, `timeout_s`.
        """
        if self._fakes is None:
            self._fakes = FakeTools(self._container.tool_registry())
            self._overrides(tool_registry=providers.Callable(self._fakes.registry))
        return self._fakes.add(name, **behaviour)
