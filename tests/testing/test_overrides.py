"""`toolwire_override` and `ProviderOverrides`: replace providers, always put them back."""

from __future__ import annotations

import pytest
from dependency_injector import providers
from pytest_mock import MockerFixture

from toolwire.container import ApplicationContainer, get_container
from toolwire.services.context import UserExecutionContext
from toolwire.services.executor import ToolExecutor
from toolwire.testing import ProviderOverrides
from toolwire.testing.overrides import remove_overriding


def test_plain_values_become_object_providers(
    toolwire_container: ApplicationContainer, toolwire_override: ProviderOverrides
) -> None:
    marker = object()
    toolwire_override(agent=marker)
    assert toolwire_container.agent() is marker
    assert isinstance(toolwire_container.agent.last_overriding, providers.Object)


def test_an_unknown_provider_name_lists_the_real_ones(
    toolwire_override: ProviderOverrides,
) -> None:
    with pytest.raises(ValueError, match=r"no provider named 'exectuor'; it has .*executor"):
        toolwire_override(exectuor=object())


def test_the_context_manager_undoes_only_its_own_overrides(
    toolwire_container: ApplicationContainer, toolwire_override: ProviderOverrides
) -> None:
    outer, inner = object(), object()
    toolwire_override(agent=outer)
    with toolwire_override(agent=inner, legacy_calls={}):
        assert toolwire_container.agent() is inner
    assert toolwire_container.agent() is outer
    assert isinstance(toolwire_container.legacy_calls(), dict)
    toolwire_override.undo_all()
    assert toolwire_container.agent() is not outer


def test_an_override_under_a_newer_one_can_be_removed() -> None:
    provider: providers.Factory[object] = providers.Factory(object)
    first, second = providers.Object(1), providers.Object(2)
    provider.override(first)
    provider.override(second)
    remove_overriding(provider, first)
    assert provider.overridden == (second,)
    remove_overriding(provider, first)  # already gone: nothing happens
    assert provider() == 2


def test_the_test_container_is_current_for_legacy_callers(
    toolwire_container: ApplicationContainer,
) -> None:
    assert get_container() is toolwire_container


async def test_a_mocked_executor_reaches_every_new_scope(
    toolwire_container: ApplicationContainer,
    toolwire_override: ProviderOverrides,
    mocker: MockerFixture,
) -> None:
    executor = mocker.AsyncMock(spec=ToolExecutor)
    toolwire_override(executor=executor)
    async with toolwire_container.request_scope(UserExecutionContext.for_user("a")) as scope:
        assert scope.executor is executor
    toolwire_override.undo_all()
    async with toolwire_container.request_scope(UserExecutionContext.for_user("a")) as scope:
        assert type(scope.executor) is ToolExecutor
