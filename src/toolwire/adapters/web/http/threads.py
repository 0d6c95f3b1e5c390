"""`/threads`: list, read and delete the caller's conversations (token required, JSON)."""

from __future__ import annotations

import contextlib
import logging
from typing import Final

from aiohttp import web

from toolwire.adapters.web.auth import authenticate
from toolwire.adapters.web.state import STATE
from toolwire.adapters.web.ws.protocol import MAX_IDENT_CHARS
from toolwire.services.errors import RunNotFoundError

log = logging.getLogger(__name__)

MAX_LIMIT: Final = 500


def add_thread_routes(app: web.Application) -> None:
    """Route `GET /threads`, `GET /threads/{thread_id}` and `DELETE /threads/{thread_id}`."""
    app.router.add_get("/threads", list_threads)
    app.router.add_get("/threads/{thread_id}", get_thread)
    app.router.add_delete("/threads/{thread_id}", delete_thread)


async def list_threads(request: web.Request) -> web.Response:
    """List the caller's threads, most recently active first; `next` continues the list."""
    state = request.app[STATE]
    user_id = (await authenticate(request, state.deps.verifier())).user_id
    limit = _limit(request, state.deps.settings().threads.list_limit)
    before = request.query.get("before") or None
    try:
        page = await state.deps.threads().list_threads(user_id, limit=limit, before=before)
    except ValueError:
        raise _problem(web.HTTPBadRequest, "invalid_request",
                       "before must be a `next` cursor from an earlier answer") from None
    return web.json_response(page.to_wire())


async def get_thread(request: web.Request) -> web.Response:
    """Answer the thread with its turns and the run going on it; another user's is 404."""
    state = request.app[STATE]
    user_id = (await authenticate(request, state.deps.verifier())).user_id
    thread_id = _thread_id(request)
    detail = await state.deps.threads().get(user_id, thread_id)
    if detail is None:
        raise _not_found(thread_id)
    return web.json_response(detail.to_wire())


async def delete_thread(request: web.Request) -> web.Response:
    """Erase the thread and the retained events of its runs (204); another user's is 404.

    A run still going on the thread is cancelled first; its turn is not written back.
    """
    state = request.app[STATE]
    user_id = (await authenticate(request, state.deps.verifier())).user_id
    thread_id = _thread_id(request)
    store = state.deps.threads()
    detail = await store.get(user_id, thread_id)
    if detail is None:
        raise _not_found(thread_id)
    if detail.active_run_id is not None:
        with contextlib.suppress(RunNotFoundError):  # ended meanwhile: nothing to cancel
            await state.deps.runs().cancel(user_id, detail.active_run_id)
    if await store.delete(user_id, thread_id) is None:
        raise _not_found(thread_id)
    log.info("thread deleted", extra={"user_id": user_id})
    return web.Response(status=204)


def _limit(request: web.Request, default: int) -> int:
    raw = request.query.get("limit")
    if raw is None or raw == "":
        return default
    try:
        limit = int(raw)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        raise _problem(web.HTTPBadRequest, "invalid_request",
                       f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return limit


def _thread_id(request: web.Request) -> str:
    thread_id = request.match_info["thread_id"]
    if not 0 < len(thread_id) <= MAX_IDENT_CHARS:
        raise _problem(web.HTTPBadRequest, "invalid_request",
                       f"a thread id is 1 to {MAX_IDENT_CHARS} characters")
    return thread_id


def _not_found(thread_id: str) -> web.HTTPException:
    return _problem(web.HTTPNotFound, "not_found",
                    f"no thread {thread_id[:MAX_IDENT_CHARS]!r} (unknown, deleted, or not yours)")


def _problem(kind: type[web.HTTPException], code: str, message: str) -> web.HTTPException:
    return kind(text=web.json_response({"error": code, "message": message}).text,
                content_type="application/json")
