"""Redis failures as the domain's `UnavailableError`, whose message names no server."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from redis.exceptions import RedisError

from toolwire.services.errors import UnavailableError

log = logging.getLogger(__name__)

BUS_UNAVAILABLE = "the event bus is unavailable; retry shortly"


@contextlib.asynccontextmanager
async def unavailable_on_failure(what: str) -> AsyncIterator[None]:
    """Turn a Redis failure while doing `what` into `UnavailableError` (details go to the log)."""
    try:
        yield
    except (RedisError, OSError, TimeoutError) as exc:
        log.warning("redis failed while %s: %s: %s", what, type(exc).__name__, exc)
        raise UnavailableError(BUS_UNAVAILABLE) from exc
