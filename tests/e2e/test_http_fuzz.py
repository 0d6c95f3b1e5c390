"""Property-based fuzzing of the HTTP edges (hypothesis): `POST /agui`, `Last-Event-ID`, `/threads`.

Properties, for anything a client can send: the answer is never a server error (5xx), a
refusal says what was wrong in JSON, nothing is logged with a traceback, and the server keeps
answering.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.helpers import ServerFactory, token_for

FUZZ_SETTINGS = {
    "limits": {"chats_per_minute": 1_000_000, "runs_per_user": 10_000,
               "sockets_per_user": 10_000},
    "tools": {"timeout_s": 0.5},
    "runs": {"max_duration_s": 5},
}
EXAMPLES = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.data_too_large])

json_scalars = (st.none() | st.booleans() | st.integers() | st.text(max_size=40)
                | st.floats(allow_nan=False, allow_infinity=False))
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=20,
)
message_shapes = st.fixed_dictionaries(
    {"id": st.text(max_size=20) | json_values,
     "role": st.sampled_from(["user", "assistant", "tool", "system", "developer"]) | json_values,
     "content": st.text(max_size=60) | json_values},
    optional={"toolCallId": json_values, "toolCalls": json_values, "name": json_values})
run_inputs = st.fixed_dictionaries(
    {"threadId": st.text(max_size=30) | json_values,
     "runId": st.text(max_size=30) | json_values,
     "messages": st.lists(message_shapes, max_size=4) | json_values},
    optional={"tools": json_values, "context": json_values, "state": json_values,
              "forwardedProps": json_values})
bodies = (run_inputs.map(json.dumps) | json_values.map(json.dumps) | st.text(max_size=200)
          | st.sampled_from(["[" * 5000 + "]" * 5000, '{"messages": ' + "9" * 5000 + "}",
                             '"\\ud800"', "NaN", ""]))
header_texts = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=80)
path_texts = st.text(max_size=80)


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def assert_answered(response: aiohttp.ClientResponse) -> None:
    """A client-side refusal in JSON, or a success read to its end; never a 5xx."""
    body = await response.read()
    assert response.status < 500, (response.status, body[:300])
    if response.status >= 400 and response.content_type == "application/json":
        problem = json.loads(body)
        assert isinstance(problem, dict) and problem, problem


@pytest.fixture
async def client(start_server: ServerFactory) -> Any:
    return await start_server(**FUZZ_SETTINGS)


@EXAMPLES
@given(body=bodies, last_event_id=st.none() | header_texts | st.sampled_from(
    ["run:²:0", "r_1:1:0", "::", "r_1:99999999999999999999999:0", "r_1:-1:0", "r_1:1:٣"]))
async def test_any_agui_request_is_answered_without_a_server_error(
    client: Any, body: str, last_event_id: str | None, caplog: pytest.LogCaptureFixture,
) -> None:
    token = await token_for(client, "fuzzer")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    response = await client.post("/agui", data=body.encode("utf-8", "surrogatepass"),
                                 headers=headers, timeout=aiohttp.ClientTimeout(total=30))
    await assert_answered(response)
    assert not no_tracebacks(caplog)
    assert (await client.get("/healthz")).status == 200


@EXAMPLES
@given(limit=st.none() | header_texts, before=st.none() | header_texts, thread=path_texts)
async def test_any_threads_request_is_answered_without_a_server_error(
    client: Any, limit: str | None, before: str | None, thread: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = await token_for(client, "fuzzer")
    headers = {"Authorization": f"Bearer {token}"}
    query = {k: v for k, v in (("limit", limit), ("before", before)) if v is not None}
    await assert_answered(await client.get("/threads", params=query, headers=headers))
    path = "/threads/" + quote(thread, safe="")
    await assert_answered(await client.get(path, headers=headers))
    await assert_answered(await client.delete(path, headers=headers))
    assert not no_tracebacks(caplog)
