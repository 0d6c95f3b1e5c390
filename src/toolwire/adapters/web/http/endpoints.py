"""HTTP endpoints: liveness, readiness, development tokens and the tool list."""

from __future__ import annotations

import asyncio
from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, Field, StrictStr, ValidationError

from toolwire.adapters.web.auth import authenticate
from toolwire.adapters.web.state import STATE
from toolwire.services.validation import describe_validation_error

PING_TIMEOUT_S = 2.0


class TokenRequest(BaseModel):
    """Body of `POST /auth/token`."""

    user_id: Annotated[StrictStr, Field(min_length=1, max_length=200)]
    scopes: list[Annotated[StrictStr, Field(pattern=r"^\S+$", max_length=200)]] = Field(
        default_factory=list, max_length=100)


async def healthz(request: web.Request) -> web.Response:
    """Answer 200 while the process runs."""
    return web.json_response({"status": "ok"})


async def metrics(request: web.Request) -> web.Response:
    """Serve the Prometheus metrics (counts only: no user ids, no secrets)."""
    registry = request.app[STATE].deps.metrics()
    response = web.Response(body=registry.render())
    response.headers["Content-Type"] = registry.content_type
    return response


async def readyz(request: web.Request) -> web.Response:
    """Answer 200 when the event bus answers and the server is not shutting down."""
    state = request.app[STATE]
    if state.shutting_down:
        return web.json_response({"status": "shutting_down"}, status=503)
    try:
        async with asyncio.timeout(PING_TIMEOUT_S):
            ready = await state.deps.bus().ping()
    except Exception:
        ready = False
    if not ready:
        return web.json_response({"status": "event bus unavailable"}, status=503)
    return web.json_response({"status": "ready"})


async def issue_token(request: web.Request) -> web.Response:
    """Issue a development token for any `user_id` and `scopes` (only with `auth.dev_login`)."""
    verifier = request.app[STATE].deps.verifier()
    try:
        body = TokenRequest.model_validate_json(await request.read())
    except ValidationError as exc:
        return web.json_response(
            {"error": "invalid_request",
             "message": "invalid body: " + describe_validation_error(exc)}, status=400)
    return web.json_response({
        "access_token": verifier.issue(body.user_id, body.scopes),
        "token_type": "bearer",
        "expires_in": verifier.ttl_s,
    })


async def list_tools(request: web.Request) -> web.Response:
    """List the tools the caller may call: names, descriptions and argument schemas."""
    state = request.app[STATE]
    identity = await authenticate(request, state.deps.verifier())
    visible = state.deps.permissions().visible(state.deps.tools().specs(), identity.scopes)
    return web.json_response([spec.describe() for spec in visible])
