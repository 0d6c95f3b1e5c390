"""`ToolSpec` and the `@tool` decorator: a function plus its validated argument model."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, get_type_hints

from pydantic import BaseModel, ConfigDict, create_model
from pydantic_core import to_jsonable_python


@dataclass(frozen=True, slots=True, eq=False)
class ToolSpec:
    """A callable tool: name, description, argument model and where it came from."""

    name: str
    description: str
    args_model: type[BaseModel]
    func: Callable[..., Any]
    takes_model: bool
    timeout_s: float | None = None
    origin: str = ""

    @property
    def is_async(self) -> bool:
        """Return True when the tool is a coroutine function."""
        return inspect.iscoroutinefunction(self.func)

    def json_schema(self) -> dict[str, Any]:
        """Return the JSON schema of the tool's arguments."""
        return self.args_model.model_json_schema()

    def describe(self) -> dict[str, Any]:
        """Return name, description and argument schema, as `GET /tools` lists them."""
        return {"name": self.name, "description": self.description, "args": self.json_schema()}

    def parse(self, args: dict[str, Any]) -> BaseModel:
        """Validate raw arguments (raises `pydantic.ValidationError`)."""
        return self.args_model.model_validate(args)

    async def invoke(self, parsed: BaseModel) -> Any:
        """Run the tool on validated arguments; sync tools run in a worker thread."""
        if self.takes_model:
            call_args: tuple[Any, ...] = (parsed,)
            call_kwargs: dict[str, Any] = {}
        else:
            call_args = ()
            call_kwargs = {name: getattr(parsed, name) for name in type(parsed).model_fields}
        if self.is_async:
            return await self.func(*call_args, **call_kwargs)
        return await asyncio.to_thread(self.func, *call_args, **call_kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the underlying function directly (handy in unit tests)."""
        return self.func(*args, **kwargs)


def jsonable(value: Any) -> Any:
    """Convert a tool result to JSON-ready data (raises `ValueError` when it cannot)."""
    try:
        return to_jsonable_python(value)
    except Exception as exc:  # pydantic_core.PydanticSerializationError and friends
        raise ValueError(f"result of type {type(value).__name__} is not JSON-serialisable") from exc


def _args_model_for(func: Callable[..., Any], name: str) -> tuple[type[BaseModel], bool]:
    """Return the argument model of `func` and whether it takes that model as its one argument."""
    hints = get_type_hints(func, include_extras=True)
    params = [
        p for p in inspect.signature(func).parameters.values()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    if len(params) == 1:
        only = hints.get(params[0].name)
        if inspect.isclass(only) and issubclass(only, BaseModel):
            return only, True
    fields: dict[str, Any] = {}
    for param in params:
        annotation = hints.get(param.name, Any)
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[param.name] = (annotation, default)
    model = create_model(  # type: ignore[call-overload]
        f"{name.title().replace('_', '')}Args",
        __config__=ConfigDict(extra="forbid"),
        **fields,
    )
    return model, False


def tool(
    name: str | None = None,
    description: str | None = None,
    *,
    timeout_s: float | None = None,
) -> Callable[[Callable[..., Any]], ToolSpec]:
    """Make a function (sync or async) a tool; its arguments become a validated JSON schema."""

    def wrap(func: Callable[..., Any]) -> ToolSpec:
        tool_name = name or func.__name__
        doc = description or inspect.getdoc(func) or tool_name
        model, takes_model = _args_model_for(func, tool_name)
        origin = f"{func.__module__}.{func.__qualname__}"
        return ToolSpec(tool_name, doc, model, func, takes_model, timeout_s, origin)

    return wrap
