"""The `openai` agent backend through the container, against a scripted model on loopback."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any
from unittest.mock import AsyncMock

import pytest
import pytest_asyncio
from dependency_injector import providers
from openai import AsyncOpenAI
from pytest_aiohttp import AiohttpServer

from tests.fixtures_models import (
    API_KEY,
    MODEL,
    ScriptedModel,
    StartModel,
    answer,
    answer_from_tools,
    http_error,
    slow,
    tool_calls,
)
from tests.support import free_port, run_in_scope
from toolwire.commands.run import run_once
from toolwire.config import Settings
from toolwire.container import (
    ApplicationContainer,
    close_resources,
    create_app,
    create_container,
)
from toolwire.services.events import EVENT_TYPES, RunEvent

MakeContainer = Callable[..., ApplicationContainer]


@pytest_asyncio.fixture
async def make_container() -> AsyncIterator[MakeContainer]:
    """Build containers on the openai backend; close their resources afterwards."""
    made: list[ApplicationContainer] = []

    def make(model: ScriptedModel, runs: dict[str, Any] | None = None,
             **agent: Any) -> ApplicationContainer:
        container = create_container(Settings(
            env="test", agent=model.agent_settings(**agent), runs=runs or {}))
        made.append(container)
        return container

    yield make
    for container in made:
        await close_resources(container)




def of_type(events: list[RunEvent], kind: str) -> list[dict[str, Any]]:
    return [event.data for event in events if event.type == kind]


async def test_a_streamed_answer_is_thought_aloud_in_coalesced_pieces(
    scripted_model: StartModel, make_container: MakeContainer
) -> None:
    pieces = ["The ", "answer ", "is ", "forty", "-", "two", "."]
    model = await scripted_model(answer(*pieces))
    container = make_container(model, think_chars=8, think_interval_s=60)
    final, events = await run_in_scope(container, "what is the answer?")

    assert final.status == "ok" and final.answer == "The answer is forty-two."
    thoughts = [t["text"] for t in of_type(events, "agent_thinking")]
    assert "".join(thoughts) == final.answer
    assert 1 < len(thoughts) < len(pieces), thoughts  # coalesced, yet live
    assert all(len(text) >= 8 for text in thoughts[:-1])
    [(headers, payload)] = model.requests
    assert headers["Authorization"] == f"Bearer {API_KEY}"
    assert payload["model"] == MODEL and payload["stream"] is True
    assert [m["role"] for m in payload["messages"]] == ["system", "user"]
    calculator = next(t for t in payload["tools"] if t["function"]["name"] == "calculator")
    assert calculator["function"]["parameters"]["properties"]["expression"]["type"] == "string"


async def test_a_time_interval_flushes_a_slow_stream_before_it_is_big(
    scripted_model: StartModel, make_container: MakeContainer
) -> None:
    model = await scripted_model(answer("one ", "two ", "three", pause_s=0.15))
    final, events = await run_in_scope(
        make_container(model, think_chars=10_000, think_interval_s=0.1), "count")
    thoughts = [t["text"] for t in of_type(events, "agent_thinking")]
    assert len(thoughts) >= 2 and "".join(thoughts) == final.answer == "one two three"


async def test_one_tool_call_runs_and_its_result_goes_back_to_the_model(
    scripted_model: StartModel, make_container: MakeContainer
) -> None:
    model = await scripted_model(
        tool_calls(("calculator", '{"expression": "6*7"}')), answer_from_tools)
    final, events = await run_in_scope(make_container(model), "what is 6*7?")

    assert {event.type for event in events} == set(EVENT_TYPES)
    assert events[0].data["agent"] == "openai"
    assert [e.type for e in events] == [
        "agent_started", "agent_thinking", "tool_executing", "tool_completed",
        "agent_thinking", "agent_completed"]
    assert of_type(events, "agent_thinking")[0]["text"] == "Calling calculator."
    [completed] = of_type(events, "tool_completed")
    assert completed["status"] == "ok" and completed["result"] == 42
    assert json.loads(final.answer or "") == [{"status": "ok", "result": 42}]
    second = model.payload(1)["messages"]
    assert [m["role"] for m in second] == ["system", "user", "assistant", "tool"]
    assert second[2]["tool_calls"] == [{"id": "call_0", "type": "function", "function": {
        "name": "calculator", "arguments": '{"expression": "6*7"}'}}]
    assert second[3]["tool_call_id"] == "call_0"


async def test_the_models_own_words_before_tool_calls_are_its_thought(
    scripted_model: StartModel, make_container: MakeContainer
) -> None:
    model = await scripted_model(
        tool_calls(("echo", '{"text": "hi"}'), content="Let me echo that."), answer("hi"))
    final, events = await run_in_scope(make_container(model), "say hi")
    assert final.answer == "hi"
    assert [t["text"] for t in of_type(events, "agent_thinking")] == ["Let me echo that.", "hi"]


async def test_parallel_tool_calls_of_one_turn_run_concurrently(
    scripted_model: StartModel, make_container: MakeContainer
) -> None:
    model = await scripted_model(
        tool_calls(("sleep", '{"seconds": 0.3}'), ("sleep", '{"seconds": 0.3}'),
                   ("echo", '{"text": "three"}')),
        answer_from_tools)
    final, events = await run_in_scope(make_container(model), "three at once")

    kinds = [e.type for e in events if e.type.startswith("tool_")]
    assert kinds[:3] == ["tool_executing"] * 3, kinds  # all started before any ended
    assert len(of_type(events, "tool_completed")) == 3
    fed_back = [m for m in model.payload(1)["messages"] if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in fed_back] == ["call_0", "call_1", "call_2"]
    assert json.loads(fed_back[2]["content"]) == {"status": "ok", "result": "three"}
    assert final.status == "ok"


async def test_malformed_arguments_are_a_tool_error_fed_back_to_the_model(
    scripted_model: StartModel, make_container: MakeContainer
) -> None:
    model = await scripted_model(
        tool_calls(("calculator", '{"expression": '), ("echo", "[1, 2]")),
        answer("I could not."))
    final, events = await run_in_scope(make_container(model), "what is 6*7?")
    first, second = of_type(events, "tool_completed")
    assert first["error"]["type"] == second["error"]["type"] == "invalid_arguments"
    assert "not JSON" in first["error"]["message"]
    assert "must be a JSON object" in second["error"]["message"]
    assert final.status == "ok" and final.answer == "I could not."
    fed_back = [json.loads(m["content"]) for m in model.payload(1)["messages"]
                if m["role"] == "tool"]
    assert [body["error"]["type"] for body in fed_back] == ["invalid_arguments"] * 2


async def test_an_unknown_tool_is_a_tool_error_and_the_run_goes_on(
    scripted_model: StartModel, make_container: MakeContainer
) -> None:
    model = await scripted_model(tool_calls(("launch_rockets", "{}")), answer("No such tool."))
    final, events = await run_in_scope(make_container(model), "launch")
    [completed] = of_type(events, "tool_completed")
    assert completed["tool"] == "launch_rockets"
    assert completed["status"] == "error" and completed["error"]["type"] == "unknown_tool"
    assert final.status == "ok"


async def test_a_429_is_retried_and_the_run_succeeds(
    scripted_model: StartModel, make_container: MakeContainer
) -> None:
    model = await scripted_model(
        http_error(429, "Rate limit reached for gpt-test", **{"retry-after-ms": "20"}),
        answer("after a retry"))
    final, _ = await run_in_scope(make_container(model), "hello")
    assert final.status == "ok" and final.answer == "after a retry"
    assert len(model.requests) == 2


async def test_a_500_forever_ends_the_run_with_the_apis_message_after_the_retries(
    scripted_model: StartModel, make_container: MakeContainer
) -> None:
    model = await scripted_model(forever=http_error(
        500, "The server had an error while processing your request.", **{"retry-after-ms": "1"}))
    final, events = await run_in_scope(make_container(model, max_retries=1), "hello")
    assert final.status == "error" and final.error is not None
    assert final.error.type == "agent_error"
    assert "HTTP 500" in final.error.message and "The server had an error" in final.error.message
    assert len(model.requests) == 2  # the first try and one retry (agent.max_retries=1)
    assert [e.type for e in events] == ["agent_started", "agent_completed"]


async def test_a_response_slower_than_the_timeout_ends_the_run_naming_the_setting(
    scripted_model: StartModel, make_container: MakeContainer
) -> None:
    model = await scripted_model(forever=slow(2))
    final, _ = await run_in_scope(
        make_container(model, request_timeout_s=0.2, max_retries=1), "hello")
    assert final.status == "error" and final.error is not None
    assert "agent.request_timeout_s" in final.error.message
    assert "after 1 retry (agent.max_retries)" in final.error.message
    assert len(model.requests) == 2


async def test_a_stream_that_stalls_midway_is_not_said_to_be_retried(
    scripted_model: StartModel, make_container: MakeContainer
) -> None:
    model = await scripted_model(forever=answer("one", "two", pause_s=2))
    final, _ = await run_in_scope(
        make_container(model, request_timeout_s=0.3, max_retries=2), "hello")
    assert final.status == "error" and final.error is not None
    assert "agent.request_timeout_s" in final.error.message
    assert "retr" not in final.error.message  # the SDK retries opening a stream, not reading it
    assert len(model.requests) == 1


async def test_max_tool_calls_ends_the_run_after_the_allowed_calls_of_the_turn(
    scripted_model: StartModel, make_container: MakeContainer
) -> None:
    model = await scripted_model(
        tool_calls(("echo", '{"text": "a"}'), ("echo", '{"text": "b"}'), ("echo", '{"text": "c"}')))
    final, events = await run_in_scope(
        make_container(model, runs={"max_tool_calls": 2}), "echo thrice")
    assert final.status == "error" and final.error is not None
    assert final.error.type == "limit_exceeded" and "runs.max_tool_calls" in final.error.message
    assert [c["status"] for c in of_type(events, "tool_completed")] == ["ok", "ok"]


async def test_a_model_that_never_stops_is_cut_at_max_steps(
    scripted_model: StartModel, make_container: MakeContainer
) -> None:
    model = await scripted_model(forever=tool_calls(("echo", '{"text": "again"}')))
    final, events = await run_in_scope(make_container(model, max_steps=2), "loop forever")
    assert final.status == "error" and final.error is not None
    assert final.error.type == "limit_exceeded" and "agent.max_steps" in final.error.message
    assert len(model.requests) == 2
    assert len(of_type(events, "tool_completed")) == 2


@pytest.mark.parametrize("failure", ["echoed_key_401", "500_forever", "timeout", "unreachable"])
async def test_the_api_key_appears_in_no_error_event_or_log(
    scripted_model: StartModel, make_container: MakeContainer,
    caplog: pytest.LogCaptureFixture, failure: str,
) -> None:
    caplog.set_level(logging.DEBUG)  # the SDK's and httpx's debug logs included
    steps = {
        "echoed_key_401": http_error(401, f"Incorrect API key provided: {API_KEY}."),
        "500_forever": http_error(500, f"internal error for key {API_KEY}",
                                  **{"retry-after-ms": "1"}),
        "timeout": slow(2),
    }
    model = await scripted_model(forever=steps.get(failure, answer("unused")))
    if failure == "unreachable":
        model.url = f"http://127.0.0.1:{free_port()}/v1"
    final, events = await run_in_scope(
        make_container(model, request_timeout_s=0.2, max_retries=1), "hello")

    assert final.status == "error" and final.error is not None
    shown = json.dumps([event.to_wire() for event in events])
    assert API_KEY not in shown
    assert caplog.records, "the failure was logged"
    assert API_KEY not in caplog.text
    assert all(API_KEY not in str(record.exc_info) for record in caplog.records)
    if failure == "echoed_key_401":
        assert "HTTP 401" in final.error.message and "Incorrect API key provided" in shown


async def test_an_agent_override_still_wins_over_the_backend_selector(
    scripted_model: StartModel, make_container: MakeContainer
) -> None:
    model = await scripted_model()
    container = make_container(model)
    with container.agent.override(providers.Factory(EchoAgent)):
        final, _ = await run_in_scope(container, "hello")
    assert final.answer == "echo: hello"
    assert model.requests == []


class EchoAgent:
    """A stand-in agent for the override check."""

    name = "echo"

    async def run(self, message: str, runtime: Any) -> str:
        await runtime.think("Echoing.")
        return f"echo: {message}"


async def test_the_web_app_closes_the_model_client_on_cleanup(
    aiohttp_server: AiohttpServer, scripted_model: StartModel, make_container: MakeContainer
) -> None:
    container = make_container(await scripted_model())
    client = AsyncMock(spec=AsyncOpenAI)
    with container.llm_client.override(providers.Object(client)):
        server = await aiohttp_server(create_app(container))
        client.close.assert_not_awaited()
        await server.close()
    client.close.assert_awaited_once()


async def test_toolwire_run_answers_from_the_model_and_closes_its_client(
    scripted_model: StartModel, make_container: MakeContainer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    model = await scripted_model(answer("4", "2"))
    container = make_container(model)
    status = await run_once(container, "cli", "what is 6*7?")
    assert status == "ok"
    assert not container.llm_client.initialized  # closed, and rebuilt on a later use
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[-1]["data"]["answer"] == "42"


async def test_the_embedded_backend_never_builds_a_model_client() -> None:
    container = create_container(Settings(env="test"))
    await close_resources(container)
    assert not container.llm_client.initialized


async def test_the_second_chat_of_a_thread_sends_the_first_exchange(
    scripted_model: StartModel, make_container: MakeContainer
) -> None:
    model = await scripted_model(
        tool_calls(("calculator", '{"expression": "6*7"}')), answer("It is 42."),
        answer("84."), answer("Hi."))
    container = make_container(model)
    first, events = await run_in_scope(container, "what is 6*7?", thread_id="maths")
    second, _ = await run_in_scope(container, "and double that?", thread_id="maths")
    assert (first.answer, second.answer) == ("It is 42.", "84.")
    sent = model.payload(2)["messages"]
    assert [m["role"] for m in sent] == [
        "system", "user", "assistant", "tool", "assistant", "user"]
    assert sent[1]["content"] == "what is 6*7?"
    [call_id] = [e.data["call_id"] for e in events if e.type == "tool_executing"]
    assert sent[2]["tool_calls"] == [{"id": call_id, "type": "function", "function": {
        "name": "calculator", "arguments": '{"expression": "6*7"}'}}]
    assert sent[3] == {"role": "tool", "tool_call_id": call_id,
                       "content": '{"status": "ok", "result": 42}'}
    assert sent[4] == {"role": "assistant", "content": "It is 42."}
    assert sent[5] == {"role": "user", "content": "and double that?"}
    await run_in_scope(container, "hello", thread_id="elsewhere")
    assert [m["role"] for m in model.payload(3)["messages"]] == ["system", "user"]
