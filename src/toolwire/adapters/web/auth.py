"""Reading a request's access token and answering 401 when it does not verify."""

from __future__ import annotations

import json
from typing import Final

from aiohttp import web

from toolwire.adapters.auth import AuthError, Identity, TokenVerifier

BEARER: Final = "bearer"
QUERY_PARAM: Final = "access_token"


def token_of(request: web.BaseRequest) -> str | None:
    """Return the token from `Authorization: Bearer …` or the `access_token` query parameter."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == BEARER and value.strip():
        return value.strip()
    return request.query.get(QUERY_PARAM) or None


async def authenticate(request: web.BaseRequest, verifier: TokenVerifier) -> Identity:
    """Return the verified identity of `request`; raise HTTP 401 (before any upgrade) otherwise."""
    token = token_of(request)
    if token is None:
        raise _unauthorized("missing access token")
    try:
        return await verifier.verify(token)
    except AuthError as exc:
        raise _unauthorized(str(exc)) from None


def _unauthorized(reason: str) -> web.HTTPUnauthorized:
    return web.HTTPUnauthorized(
        text=json.dumps({"error": "unauthorized", "message": reason}),
        content_type="application/json",
        headers={"WWW-Authenticate": 'Bearer realm="toolwire"'},
    )
