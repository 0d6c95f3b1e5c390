"""`ToolRegistry`: unique names, sorted listings, and overlays that leave their parent alone."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pydantic import BaseModel

from toolwire.services.errors import ToolConflictError
from toolwire.services.tools.registry import ToolRegistry
from toolwire.services.tools.spec import ToolSpec, tool


class NoArgs(BaseModel):
    """No arguments."""


def _greet() -> str:
    return "hi"


def _wave() -> str:
    return "o/"


@tool(name="beta", description="Second by name.")
def beta() -> str:
    return "b"


@tool(name="alpha", description="First by name.")
def alpha() -> str:
    return "a"


@tool(name="gamma", description="Third by name.")
def gamma() -> str:
    return "c"


def spec(name: str, func: Callable[..., object] = _greet, origin: str = "") -> ToolSpec:
    """Return a hand-made spec, so a test controls its function and origin exactly."""
    return ToolSpec(name, f"The {name} tool.", NoArgs, func, takes_model=False, origin=origin)


def test_get_returns_the_registered_tool_and_none_for_an_unknown_name() -> None:
    registry = ToolRegistry([alpha, beta])
    assert registry.get("alpha") is alpha
    assert registry.get("beta") is beta
    assert registry.get("gamma") is None


def test_register_adds_a_tool_after_construction() -> None:
    registry = ToolRegistry()
    assert len(registry) == 0
    registry.register(gamma)
    assert registry.get("gamma") is gamma
    assert registry.names() == ["gamma"]


def test_a_second_tool_with_the_same_name_is_refused_naming_the_tool_and_both_origins() -> None:
    first = spec("greet", _greet, origin="pkg.first.greet")
    second = spec("greet", _wave, origin="pkg.second.greet")
    registry = ToolRegistry([first])
    with pytest.raises(ToolConflictError) as caught:
        registry.register(second)
    message = str(caught.value)
    assert "'greet'" in message
    assert "pkg.first.greet" in message and "pkg.second.greet" in message
    assert message.index("pkg.first.greet") < message.index("pkg.second.greet")
    assert registry.get("greet") is first  # the refused tool did not replace the first


def test_a_clash_in_the_constructor_is_refused_too() -> None:
    with pytest.raises(ToolConflictError, match="'greet'"):
        ToolRegistry([spec("greet", _greet), spec("greet", _wave)])


def test_a_clash_between_tools_without_origin_still_reads() -> None:
    registry = ToolRegistry([spec("greet", _greet)])
    with pytest.raises(ToolConflictError) as caught:
        registry.register(spec("greet", _wave))
    assert str(caught.value) == "two tools are named 'greet': ? and ?; rename one of them"


def test_registering_the_same_function_again_is_a_no_op() -> None:
    registry = ToolRegistry([alpha, beta])
    registry.register(alpha)
    # The same function reached twice (a module and an entry point) as two spec objects.
    again = spec("alpha", alpha.func, origin="entry point")
    registry.register(again)
    assert registry.names() == ["alpha", "beta"]
    assert registry.get("alpha") is alpha


def test_specs_names_iteration_and_length_are_sorted_by_name() -> None:
    registry = ToolRegistry([gamma, alpha, beta])
    assert registry.specs() == [alpha, beta, gamma]
    assert registry.names() == ["alpha", "beta", "gamma"]
    assert list(registry) == [alpha, beta, gamma]
    assert len(registry) == 3


def test_contains_takes_names_only() -> None:
    registry = ToolRegistry([alpha])
    assert "alpha" in registry
    assert "beta" not in registry
    assert alpha not in registry
    assert None not in registry
    assert 1 not in registry
    assert ["alpha"] not in registry  # unhashable: a plain False, not a TypeError


def test_an_overlay_adds_its_tools_without_changing_the_parent() -> None:
    parent = ToolRegistry([alpha, gamma])
    child = parent.overlay([beta])
    assert child.get("beta") is beta
    assert child.get("alpha") is alpha  # the parent's tools show through
    assert child.names() == ["alpha", "beta", "gamma"]
    assert list(child) == [alpha, beta, gamma]
    assert len(child) == 3
    assert "beta" in child and "alpha" in child
    assert parent.names() == ["alpha", "gamma"]
    assert parent.get("beta") is None
    assert "beta" not in parent


def test_tools_registered_on_an_overlay_stay_out_of_the_parent() -> None:
    parent = ToolRegistry([alpha])
    child = parent.overlay([])
    child.register(beta)
    assert child.names() == ["alpha", "beta"]
    assert parent.names() == ["alpha"]


def test_two_overlays_of_one_registry_do_not_see_each_other() -> None:
    parent = ToolRegistry([alpha])
    first = parent.overlay([beta])
    second = parent.overlay([gamma])
    assert first.names() == ["alpha", "beta"]
    assert second.names() == ["alpha", "gamma"]
    assert first.get("gamma") is None and second.get("beta") is None


def test_an_overlay_may_not_shadow_a_tool_of_its_parent() -> None:
    parent = ToolRegistry([spec("greet", _greet, origin="app.greet")])
    with pytest.raises(ToolConflictError) as caught:
        parent.overlay([spec("greet", _wave, origin="scope.greet")])
    assert "app.greet" in str(caught.value) and "scope.greet" in str(caught.value)
    child = parent.overlay([])
    with pytest.raises(ToolConflictError, match="'greet'"):
        child.register(spec("greet", _wave))
    assert child.get("greet") is parent.get("greet")


def test_an_overlay_repeating_a_parent_tool_is_a_no_op() -> None:
    parent = ToolRegistry([alpha])
    child = parent.overlay([alpha, beta])
    assert child.names() == ["alpha", "beta"]
    assert child.get("alpha") is alpha


def test_overlays_stack_and_each_level_sees_everything_below_it() -> None:
    base = ToolRegistry([alpha])
    middle = base.overlay([beta])
    top = middle.overlay([gamma])
    assert top.names() == ["alpha", "beta", "gamma"]
    assert top.get("alpha") is alpha and top.get("beta") is beta
    assert middle.names() == ["alpha", "beta"]
    with pytest.raises(ToolConflictError):
        top.register(spec("alpha", _wave))
