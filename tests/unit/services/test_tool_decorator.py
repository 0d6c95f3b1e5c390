"""`@tool` makes a function a validated tool with a JSON schema."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field, ValidationError

from toolwire.services.tools.spec import ToolSpec, jsonable, tool


class Location(BaseModel, extra="forbid"):
    """Where to look."""

    city: str = Field(description="City name")
    country: str | None = None


@tool(name="weather", description="Forecast for a city.")
def weather(
    city: Annotated[str, Field(description="City name", min_length=1)],
    days: Annotated[int, Field(ge=1, le=7, description="How many days")] = 1,
    units: str = Field("metric", description="metric or imperial"),
) -> dict[str, Any]:
    return {"city": city, "days": days, "units": units}


@tool(name="locate", description="Takes one pydantic model.")
async def locate(where: Location) -> str:
    return f"{where.city}/{where.country or '?'}"


def test_annotated_parameters_become_the_json_schema() -> None:
    schema = weather.json_schema()
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["city"]
    props = schema["properties"]
    assert list(props) == ["city", "days", "units"]
    assert props["city"] == {
        "type": "string", "minLength": 1, "description": "City name", "title": "City",
    }
    assert props["days"]["default"] == 1
    assert (props["days"]["minimum"], props["days"]["maximum"]) == (1, 7)
    assert props["days"]["description"] == "How many days"
    assert props["units"] == {
        "type": "string", "default": "metric", "description": "metric or imperial",
        "title": "Units",
    }


def test_describe_gives_name_description_and_schema() -> None:
    assert weather.describe() == {
        "name": "weather", "description": "Forecast for a city.", "args": weather.json_schema(),
    }


def test_a_pydantic_model_parameter_is_the_schema_and_is_passed_whole() -> None:
    assert locate.takes_model
    assert locate.args_model is Location
    assert locate.json_schema() == Location.model_json_schema()


async def test_invoke_passes_validated_arguments_with_defaults() -> None:
    parsed = weather.parse({"city": "Paris", "days": "3"})  # lax, like validate_call
    assert parsed.model_dump() == {"city": "Paris", "days": 3, "units": "metric"}
    assert await weather.invoke(parsed) == {"city": "Paris", "days": 3, "units": "metric"}
    model_parsed = locate.parse({"city": "Oslo", "country": "NO"})
    assert await locate.invoke(model_parsed) == "Oslo/NO"


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        ({}, "missing"),
        ({"city": ""}, "string_too_short"),
        ({"city": "Paris", "days": 9}, "less_than_equal"),
        ({"city": "Paris", "days": "many"}, "int_parsing"),
        ({"city": "Paris", "colour": "red"}, "extra_forbidden"),
    ],
)
def test_parse_rejects_bad_arguments(args: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError) as caught:
        weather.parse(args)
    assert problem in {error["type"] for error in caught.value.errors()}


def test_model_parameter_validation_uses_the_model() -> None:
    with pytest.raises(ValidationError, match="city"):
        locate.parse({"country": "NO"})


async def test_sync_tools_run_in_a_worker_thread_and_async_ones_on_the_loop() -> None:
    @tool(name="where_sync")
    def where_sync() -> int:
        return threading.get_ident()

    @tool(name="where_async")
    async def where_async() -> int:
        return threading.get_ident()

    assert not where_sync.is_async
    assert where_async.is_async
    loop_thread = threading.get_ident()
    assert await where_sync.invoke(where_sync.parse({})) != loop_thread
    assert await where_async.invoke(where_async.parse({})) == loop_thread


async def test_a_sync_function_returning_an_awaitable_is_awaited() -> None:
    async def later(x: int) -> int:
        await asyncio.sleep(0)
        return x * 2

    @tool(name="deferred")
    def deferred(x: int) -> Any:
        return later(x)

    assert await deferred.invoke(deferred.parse({"x": 21})) == 42


def test_bare_decorator_uses_the_function_name_and_docstring() -> None:
    @tool
    def shout(text: str) -> str:
        """Return TEXT in capitals."""
        return text.upper()

    assert isinstance(shout, ToolSpec)
    assert (shout.name, shout.description) == ("shout", "Return TEXT in capitals.")
    assert shout("hi") == "HI"  # the spec still calls through to the function
    assert shout.origin.endswith("test_bare_decorator_uses_the_function_name_and_docstring"
                                 ".<locals>.shout")


def test_origin_names_module_and_function() -> None:
    assert weather.origin == f"{__name__}.weather"
    assert weather.args_model.__module__ == __name__


async def test_parameters_named_like_model_attributes_work() -> None:
    @tool(name="awkward")
    def awkward(
        json: str, schema: int = 0, model_config: bool = False, _hidden: str = ""
    ) -> list[Any]:
        return [json, schema, model_config, _hidden]

    assert set(awkward.json_schema()["properties"]) == {"json", "schema", "model_config", "_hidden"}
    parsed = awkward.parse({"json": "j", "schema": 2, "model_config": True, "_hidden": "h"})
    assert await awkward.invoke(parsed) == ["j", 2, True, "h"]


async def test_positional_only_parameters_are_passed_positionally() -> None:
    @tool(name="pos")
    def pos(a: int, /, b: int, *, c: int = 3) -> list[int]:
        return [a, b, c]

    assert await pos.invoke(pos.parse({"a": 1, "b": 2})) == [1, 2, 3]


def test_unannotated_parameters_accept_anything() -> None:
    @tool(name="loose")
    def loose(value):  # type: ignore[no-untyped-def]
        return value

    assert loose.json_schema()["properties"]["value"] == {"title": "Value"}
    assert loose.parse({"value": [1, {"a": None}]}) is not None


def test_timeout_is_kept_on_the_spec() -> None:
    @tool(name="patient", timeout_s=2.5)
    def patient() -> None:
        return None

    assert patient.timeout_s == 2.5
    assert weather.timeout_s is None


@pytest.mark.parametrize("bad_name", ["", "has space", "1starts_with_digit", "x" * 65, "naïve"])
def test_invalid_tool_names_are_refused(bad_name: str) -> None:
    with pytest.raises(ValueError, match="invalid tool name"):
        tool(name=bad_name)(lambda: None)


def test_variadic_parameters_are_refused() -> None:
    with pytest.raises(TypeError, match=r"\*args/\*\*kwargs \(rest\)"):
        @tool(name="variadic")
        def variadic(*rest: int) -> None:
            return None


def test_non_positive_timeout_is_refused() -> None:
    with pytest.raises(ValueError, match="timeout_s must be positive"):
        tool(name="t", timeout_s=0)(lambda: None)


def test_unresolvable_annotations_name_the_tool() -> None:
    def broken(x: NotDefinedAnywhere) -> None:  # type: ignore[name-defined]  # noqa: F821
        return None

    with pytest.raises(TypeError, match=r"tool 'broken'.*NotDefinedAnywhere"):
        tool(name="broken")(broken)


class Reading(BaseModel):
    """A tool result that is a model."""

    at: datetime
    tags: set[str]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Reading(at=datetime(2026, 1, 2, tzinfo=UTC), tags={"a"}),
         {"at": "2026-01-02T00:00:00Z", "tags": ["a"]}),
        ((1, "two"), [1, "two"]),
        ({"n": 1.5, "none": None}, {"n": 1.5, "none": None}),
    ],
)
def test_results_become_json_data(value: Any, expected: Any) -> None:
    assert jsonable(value) == expected


@pytest.mark.parametrize("value", [object(), float("nan"), {"inf": float("inf")}, threading.Lock()])
def test_results_that_are_not_json_raise_value_error_naming_the_type(value: Any) -> None:
    with pytest.raises(ValueError, match="not JSON-serialisable"):
        jsonable(value)
