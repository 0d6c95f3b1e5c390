"""`ToolSpec` and the `@tool` decorator: a function plus its validated argument model."""

from __future__ import annotations

import asyncio
import inspect
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Final, get_type_hints, overload

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic_core import to_jsonable_python

TOOL_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")
"""What a tool name may look like: what the embedded agent's `/call` line and LLMs accept."""

_PARAMETERS_CONFIG: Final = ConfigDict(extra="forbid", protected_namespaces=())


@dataclass(frozen=True, slots=True, eq=False)
class ToolSpec:
    """A callable tool: name, description, argument model and where it came from.

    A sync tool runs in a worker thread, unless it is `inline`: quick, CPU-bound and never
    blocking, it then runs on the event loop and saves the thread hop. Only users whose
    scopes include all of `scopes` see and call it.
    """

    name: str
    description: str
    args_model: type[BaseModel]
    func: Callable[..., Any]
    takes_model: bool
    timeout_s: float | None = None
    origin: str = ""
    positional_only: int = 0
    inline: bool = False
    scopes: frozenset[str] = frozenset()

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
        call_args, call_kwargs = self._call_arguments(parsed)
        if self.is_async:
            return await self.func(*call_args, **call_kwargs)
        if self.inline:
            result = self.func(*call_args, **call_kwargs)
        else:
            result = await asyncio.to_thread(self.func, *call_args, **call_kwargs)
        if inspect.isawaitable(result):  # a plain function that returns a coroutine
            result = await result
        return result

    def _call_arguments(self, parsed: BaseModel) -> tuple[list[Any], dict[str, Any]]:
        if self.takes_model:
            return [parsed], {}
        values = [
            (info.alias or field_name, getattr(parsed, field_name))
            for field_name, info in type(parsed).model_fields.items()
        ]
        positional = [value for _, value in values[: self.positional_only]]
        return positional, dict(values[self.positional_only :])

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the underlying function directly (handy in unit tests)."""
        return self.func(*args, **kwargs)


def jsonable(value: Any) -> Any:
    """Convert a tool result to strict JSON data (raises `ValueError` when it cannot)."""
    return json_result(value)[0]


def json_result(value: Any) -> tuple[Any, int]:
    """Return a tool result as strict JSON data and the size of its JSON text in UTF-8 bytes.

    Raises `ValueError` when it is not JSON-serialisable.
    """
    try:
        data = to_jsonable_python(value)
        text = json.dumps(data, allow_nan=False, ensure_ascii=False)
    except Exception as exc:  # PydanticSerializationError, NaN/infinity, cycles
        raise ValueError(
            f"the result of type {type(value).__name__} is not JSON-serialisable ({exc})"
        ) from exc
    return data, len(text.encode("utf-8", "replace"))


def _args_model_for(
    func: Callable[..., Any], name: str
) -> tuple[type[BaseModel], bool, int]:
    """Return `func`'s argument model, whether it takes it whole, and its positional-only count."""
    try:
        hints = get_type_hints(func, include_extras=True)
        params = list(inspect.signature(func).parameters.values())
    except (NameError, TypeError, ValueError) as exc:
        raise TypeError(f"tool {name!r}: cannot read the parameters of {func!r}: {exc}") from exc
    variadic = [p.name for p in params if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if variadic:
        raise TypeError(
            f"tool {name!r}: *args/**kwargs ({', '.join(variadic)}) cannot be described by a "
            "JSON schema; name every argument or take one pydantic model"
        )
    if len(params) == 1:
        only = hints.get(params[0].name)
        if inspect.isclass(only) and issubclass(only, BaseModel):
            return only, True, 0
    fields: dict[str, Any] = {}
    for index, param in enumerate(params):
        annotation = hints.get(param.name, Any)
        default = ... if param.default is inspect.Parameter.empty else param.default
        # `default` may itself be a `Field(...)`. Names pydantic reserves (`json`, `schema`,
        # `_hidden`, ...) get a neutral field name with the parameter's name as alias.
        if param.name.startswith("_") or hasattr(BaseModel, param.name):
            fields[f"arg{index}_"] = (Annotated[annotation, Field(alias=param.name)], default)
        else:
            fields[param.name] = (annotation, default)
    model: type[BaseModel] = create_model(
        _model_name(name), __config__=_PARAMETERS_CONFIG, __module__=func.__module__, **fields
    )
    positional_only = sum(p.kind is p.POSITIONAL_ONLY for p in params)
    return model, False, positional_only


def _model_name(tool_name: str) -> str:
    words = re.split(r"[^A-Za-z0-9]+", tool_name)
    return "".join(word[:1].upper() + word[1:] for word in words) + "Args"


def _make_spec(
    func: Callable[..., Any], name: str | None, description: str | None,
    timeout_s: float | None, inline: bool, scopes: Iterable[str],
) -> ToolSpec:
    if isinstance(func, ToolSpec) or not callable(func):
        raise TypeError(f"@tool needs a function, got {func!r}")
    tool_name = name or str(getattr(func, "__name__", ""))
    if not TOOL_NAME.fullmatch(tool_name):
        raise ValueError(
            f"invalid tool name {tool_name!r}: use 1-64 letters, digits, '_', '.' or '-', "
            "starting with a letter or '_'"
        )
    if timeout_s is not None and timeout_s <= 0:
        raise ValueError(f"tool {tool_name!r}: timeout_s must be positive, got {timeout_s}")
    if inline and inspect.iscoroutinefunction(func):
        raise ValueError(f"tool {tool_name!r}: inline is for sync tools; async ones never "
                         "leave the event loop")
    required = frozenset(scopes)
    if isinstance(scopes, str) or not all(
            isinstance(scope, str) and scope.split() == [scope] for scope in required):
        raise ValueError(f"tool {tool_name!r}: scopes must be a list of scope names (non-empty "
                         f"strings without spaces), got {scopes!r}")
    doc = description or inspect.getdoc(func) or tool_name
    model, takes_model, positional_only = _args_model_for(func, tool_name)
    origin = f"{func.__module__}.{getattr(func, '__qualname__', tool_name)}"
    return ToolSpec(
        tool_name, doc, model, func, takes_model, timeout_s, origin, positional_only, inline,
        required,
    )


@overload
def tool(func: Callable[..., Any], /) -> ToolSpec: ...


@overload
def tool(
    name: str | None = None,
    description: str | None = None,
    *,
    timeout_s: float | None = None,
    inline: bool = False,
    scopes: Iterable[str] = (),
) -> Callable[[Callable[..., Any]], ToolSpec]: ...


def tool(
    name: str | Callable[..., Any] | None = None,
    description: str | None = None,
    *,
    timeout_s: float | None = None,
    inline: bool = False,
    scopes: Iterable[str] = (),
) -> ToolSpec | Callable[[Callable[..., Any]], ToolSpec]:
    """Make a function (sync or async) a tool; its arguments become a validated JSON schema.

    Use as `@tool`, `@tool("name")` or `@tool(name=..., description=..., timeout_s=...)`.
    The name defaults to the function's name, the description to its docstring. A sync tool
    runs in a worker thread; `inline=True` runs it on the event loop instead, for a tool that
    is quick and never blocks (no I/O, bounded work: a millisecond at most). With `scopes`,
    only users whose token grants all of them see and call the tool.
    """
    if callable(name):
        return _make_spec(name, None, description, timeout_s, inline, scopes)

    def wrap(func: Callable[..., Any]) -> ToolSpec:
        return _make_spec(func, name, description, timeout_s, inline, scopes)

    return wrap
