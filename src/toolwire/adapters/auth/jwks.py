"""`JwksKeys`: an identity provider's signing keys, fetched by PyJWT's `PyJWKClient`.

The client fetches with urllib, which blocks, so every fetch runs in a worker thread and
one at a time; a key of a fresh key set is found on the event loop without a thread hop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Final

import jwt
from jwt import PyJWK, PyJWKClient, PyJWKSet

from toolwire.adapters.auth.errors import AuthError

log = logging.getLogger(__name__)

ASYMMETRIC: Final = frozenset({
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
    "ES256", "ES256K", "ES384", "ES512", "EdDSA",
})
"""Algorithms a JWKS key may verify with: public-key ones only (no `oct` keys, no `none`)."""


class JwksKeys:
    """Signing keys by `kid`: cached, refetched on an unknown `kid` at most every `refresh_s`.

    While the endpoint cannot be fetched, keys of the last key set keep verifying, other
    tokens fail (closed), fetches are retried at most every `refresh_s`, and the outage is
    logged once when it starts and once when it ends.
    """

    __slots__ = ("_client", "_failing", "_fetch_lock", "_fetched_at", "_refresh_s", "url")

    def __init__(self, url: str, *, cache_s: float = 300.0, refresh_s: float = 30.0,
                 timeout_s: float = 5.0) -> None:
        self.url = url
        # The client's own cooldown is for its `get_signing_key`, which this class does not
        # use: it looks keys up itself so it can also serve them during an outage.
        self._client = PyJWKClient(url, cache_jwk_set=True, lifespan=cache_s,
                                   timeout=timeout_s, cooldown_duration=0)
        self._refresh_s = refresh_s
        self._fetched_at: float | None = None  # monotonic time of the last fetch attempt
        self._failing = False
        self._fetch_lock = asyncio.Lock()

    async def key(self, kid: str) -> PyJWK:
        """Return the usable key `kid`; raise `AuthError` when there is none."""
        key = _find(self._fresh(), kid)
        if key is not None:
            return key
        async with self._fetch_lock:  # one fetch at a time; the others then find its keys
            fresh = self._fresh()
            key = _find(fresh, kid)
            if key is None and self._may_fetch():
                fresh = await self._fetch(force=fresh is not None)
                key = _find(fresh, kid)
        if key is None and self._failing:
            key = _find(self._stale(), kid)
        if key is None:
            reason = "the JWKS cannot be fetched" if self._failing else "no such key in the JWKS"
            raise AuthError(f"invalid token ({reason} for its kid)")
        return key

    def _fresh(self) -> PyJWKSet | None:
        cache = self._client.jwk_set_cache
        return None if cache is None else cache.get()

    def _stale(self) -> PyJWKSet | None:
        cache = self._client.jwk_set_cache
        held = None if cache is None else cache.jwk_set_with_timestamp
        return None if held is None else held.get_jwk_set()

    def _may_fetch(self) -> bool:
        return (self._fetched_at is None
                or time.monotonic() - self._fetched_at >= self._refresh_s
                or (self._fresh() is None and not self._failing))

    async def _fetch(self, *, force: bool) -> PyJWKSet | None:
        self._fetched_at = time.monotonic()
        try:
            keys = await asyncio.to_thread(self._client.get_jwk_set, force)
        except jwt.PyJWTError as exc:  # unreachable, not JSON, or no usable key in it
            if not self._failing:
                self._failing = True
                log.warning("cannot fetch the JWKS at %s (%s: %s); tokens of keys fetched "
                            "before still verify, others are refused until it answers",
                            self.url, type(exc).__name__, exc)
            return None
        if self._failing:
            self._failing = False
            log.info("the JWKS at %s answers again", self.url)
        return keys


def _find(keys: PyJWKSet | None, kid: str) -> PyJWK | None:
    if keys is None:
        return None
    for key in keys.keys:
        if (key.key_id == kid and key.public_key_use in ("sig", None)
                and key.algorithm_name in ASYMMETRIC):
            return key
    return None
