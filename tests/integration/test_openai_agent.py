"""The `openai` agent backend end to end, against a scripted OpenAI-compatible loopback server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from unittest.mock import AsyncMock

import pytest
import pytest_asyncio
from aiohttp import web
from dependency_injector import providers
from pytest_aiohttp import AiohttpServer

from toolwire.adapters.llm import ChatReply, OpenAIChatClient
from toolwire.commands.run import run_once
from toolwire.config import Settings
from toolwire.container import ApplicationContainer, create_app, create_container
from toolwire.services.context import UserExecutionContext
from toolwire.services.events import EVENT_TYPES, AgentCompleted, RunEvent
from toolwire.testing import assert_well_formed

KEY = "sk-test-do-not-leak-4f1c"
Step = Callable[[dict[str, Any]], web.Response]


def tool_call(
    name: str, arguments: str, call_id: str = "call_1", content: str | None = None
) -> Step:
    """Script a reply that asks for one tool call (with `content` as the model's words)."""
    return lambda _: web.json_response({"choices": [{"message": {
        "role": "assistant", "content": content,
        "tool_calls": [{"id": call_id, "type": "function",
                        "function": {"name": name, "arguments": arguments}}],
    }, "finish_reason": "tool_calls"}]})


def answer(text: str) -> Step:
    """Script a final text reply."""
    return lambda _: web.json_response({"choices": [{"message": {
        "role": "assistant", "content": text}, "finish_reason": "stop"}]})


def answer_with_tool_result(payload: dict[str, Any]) -> web.Response:
    """Answer from the last tool result the request carried, as a model would."""
    tool_message = [m for m in payload["messages"] if m["role"] == "tool"][-1]
    result = json.loads(tool_message["content"])["result"]
    return answer(f"6*7 = {result}")(payload)


def http_error(status: int, message: str) -> Step:
    """Script an OpenAI-style error response."""
    return lambda _: web.json_response(
        {"error": {"message": message, "type": "server_error"}}, status=status)


@dataclass
class FakeOpenAI:
    """Answers each request with the next scripted step and records what it received."""

    script: list[Step]
    url: str = ""
    requests: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        payload = await request.json()
        self.requests.append((dict(request.headers), payload))
        if not self.script:
            return web.json_response({"error": {"message": "unscripted request"}}, status=500)
        return self.script.pop(0)(payload)

    def payload(self, index: int) -> dict[str, Any]:
        return self.requests[index][1]


StartAPI = Callable[..., Awaitable[FakeOpenAI]]
MakeContainer = Callable[..., ApplicationContainer]
Run = Callable[[ApplicationContainer, str], Awaitable[tuple[AgentCompleted, list[RunEvent]]]]


@pytest_asyncio.fixture
async def start_api(aiohttp_server: AiohttpServer) -> StartAPI:
    """Start a fake chat-completions API that plays `steps` in order."""

    async def start(*steps: Step) -> FakeOpenAI:
        fake = FakeOpenAI(list(steps))
        app = web.Application()
        app.router.add_post("/v1/chat/completions", fake.handle)
        server = await aiohttp_server(app)
        fake.url = str(server.make_url("/v1"))
        return fake

    return start


@pytest_asyncio.fixture
async def make_container() -> AsyncIterator[MakeContainer]:
    """Build containers on the openai backend; close their model client and bus afterwards."""
    made: list[ApplicationContainer] = []

    def make(fake: FakeOpenAI, **agent: Any) -> ApplicationContainer:
        container = create_container(Settings(env="test", agent={
            "backend": "openai", "base_url": fake.url, "api_key": KEY, **agent}))
        made.append(container)
        return container

    yield make
    for container in made:
        await container.llm_client().aclose()
        await container.event_bus().aclose()


async def run(container: ApplicationContainer, message: str) -> tuple[
    AgentCompleted, list[RunEvent]
]:
    """Run `message` in a request scope; check the run is well-formed; return end and events."""
    ctx = UserExecutionContext.for_user("alice")
    events: list[RunEvent] = []
    subscription = await container.event_bus().subscribe("alice", events.append)
    try:
        async with container.request_scope(ctx) as scope:
            final = await scope.run(message)
    finally:
        await subscription.close()
    assert_well_formed(events)
    return final, events


def of_type(events: list[RunEvent], kind: str) -> list[dict[str, Any]]:
    return [event.data for event in events if event.type == kind]


async def test_the_model_calls_the_calculator_and_answers_from_its_result(
    start_api: StartAPI, make_container: MakeContainer
) -> None:
    fake = await start_api(
        tool_call("calculator", '{"expression":"6*7"}'), answer_with_tool_result)
    container = make_container(fake, model="gpt-test")
    final, events = await run(container, "what is 6*7?")

    assert final.status == "ok" and final.answer is not None and "42" in final.answer
    assert {event.type for event in events} == set(EVENT_TYPES)
    assert events[0].data["agent"] == "openai"
    assert [e.type for e in events] == [
        "agent_started", "agent_thinking", "tool_executing", "tool_completed",
        "agent_thinking", "agent_completed"]
    assert of_type(events, "agent_thinking")[0]["text"] == "Calling calculator."
    [completed] = of_type(events, "tool_completed")
    assert completed["status"] == "ok" and completed["result"] == 42

    assert len(fake.requests) == 2
    for headers, payload in fake.requests:
        assert headers["Authorization"] == f"Bearer {KEY}"
        assert payload["model"] == "gpt-test"
        calculator = next(t for t in payload["tools"] if t["function"]["name"] == "calculator")
        assert calculator["type"] == "function"
        assert calculator["function"]["parameters"]["properties"]["expression"]["type"] == "string"
    first, second = fake.payload(0)["messages"], fake.payload(1)["messages"]
    assert [m["role"] for m in first] == ["system", "user"]
    assert first[1]["content"] == "what is 6*7?"
    assert [m["role"] for m in second] == ["system", "user", "assistant", "tool"]
    assert second[2]["tool_calls"][0]["function"]["name"] == "calculator"
    assert second[3]["tool_call_id"] == "call_1"
    assert json.loads(second[3]["content"]) == {"status": "ok", "result": 42}


async def test_the_models_own_words_are_its_thought_before_a_tool_call(
    start_api: StartAPI, make_container: MakeContainer
) -> None:
    fake = await start_api(
        tool_call("echo", '{"text": "hi"}', content="Let me echo that."), answer("hi"))
    final, events = await run(make_container(fake), "say hi")
    assert final.answer == "hi"
    assert [t["text"] for t in of_type(events, "agent_thinking")] == [
        "Let me echo that.", "Writing the answer."]


@pytest.mark.parametrize(
    ("status", "api_message", "shown"),
    [(500, "The server had an error while processing your request.", "The server had an error"),
     (401, f"Incorrect API key provided: {KEY}. Find your key at ...", "Incorrect API key")],
)
async def test_an_api_error_ends_the_run_with_a_clear_error_that_hides_the_key(
    start_api: StartAPI, make_container: MakeContainer, status: int, api_message: str, shown: str
) -> None:
    fake = await start_api(http_error(status, api_message))
    final, events = await run(make_container(fake), "what is 6*7?")
    assert final.status == "error" and final.error is not None
    assert final.error.type == "agent_error"
    assert f"HTTP {status}" in final.error.message
    assert shown in final.error.message
    assert KEY not in final.error.message
    assert KEY not in json.dumps([event.to_wire() for event in events])


async def test_bad_json_arguments_are_a_tool_error_and_the_run_goes_on(
    start_api: StartAPI, make_container: MakeContainer
) -> None:
    fake = await start_api(tool_call("calculator", '{"expression": '), answer("I could not."))
    final, events = await run(make_container(fake), "what is 6*7?")
    [completed] = of_type(events, "tool_completed")
    assert completed["status"] == "error"
    assert completed["error"]["type"] == "invalid_arguments"
    assert "not JSON" in completed["error"]["message"]
    assert final.status == "ok" and final.answer == "I could not."
    fed_back = json.loads(fake.payload(1)["messages"][-1]["content"])
    assert fed_back["error"]["type"] == "invalid_arguments"


async def test_an_unknown_tool_is_a_tool_error_and_the_run_goes_on(
    start_api: StartAPI, make_container: MakeContainer
) -> None:
    fake = await start_api(tool_call("launch_rockets", "{}"), answer("No such tool."))
    final, events = await run(make_container(fake), "launch")
    [completed] = of_type(events, "tool_completed")
    assert completed["tool"] == "launch_rockets"
    assert completed["status"] == "error" and completed["error"]["type"] == "unknown_tool"
    assert final.status == "ok"


async def test_more_round_trips_than_max_steps_is_limit_exceeded(
    start_api: StartAPI, make_container: MakeContainer
) -> None:
    fake = await start_api(*[tool_call("echo", '{"text": "again"}', f"call_{i}") for i in range(5)])
    final, events = await run(make_container(fake, max_steps=2), "loop forever")
    assert final.status == "error" and final.error is not None
    assert final.error.type == "limit_exceeded"
    assert "agent.max_steps" in final.error.message
    assert len(fake.requests) == 2
    assert len(of_type(events, "tool_completed")) == 2


async def test_an_agent_override_still_wins_over_the_backend_selector(
    start_api: StartAPI, make_container: MakeContainer
) -> None:
    fake = await start_api()
    container = make_container(fake)
    with container.agent.override(providers.Factory(EchoAgent)):
        final, _ = await run(container, "hello")
    assert final.answer == "echo: hello"
    assert fake.requests == []


class EchoAgent:
    """A stand-in agent for the override check."""

    name = "echo"

    async def run(self, message: str, runtime: Any) -> str:
        await runtime.think("Echoing.")
        return f"echo: {message}"


async def test_the_web_app_closes_the_model_client_on_cleanup(
    aiohttp_server: AiohttpServer, start_api: StartAPI, make_container: MakeContainer
) -> None:
    container = make_container(await start_api())
    client = AsyncMock(spec=OpenAIChatClient)
    with container.llm_client.override(providers.Object(client)):
        server = await aiohttp_server(create_app(container))
        client.aclose.assert_not_awaited()
        await server.close()
    client.aclose.assert_awaited_once()


async def test_toolwire_run_closes_the_model_client(
    start_api: StartAPI, make_container: MakeContainer, capsys: pytest.CaptureFixture[str]
) -> None:
    container = make_container(await start_api())
    client = AsyncMock(spec=OpenAIChatClient)
    client.complete.return_value = ChatReply("42")
    with container.llm_client.override(providers.Object(client)):
        status = await run_once(container, "cli", "what is 6*7?")
    assert status == "ok"
    client.aclose.assert_awaited_once()
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[-1]["data"]["answer"] == "42"
