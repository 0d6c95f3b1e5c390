"""JWT verification (PyJWT, algorithm pinned, `exp` required) and development tokens."""

from __future__ import annotations

import time
from typing import Any, Final

import jwt
from aiohttp import web

from toolwire.config.settings import AuthSettings

BEARER: Final = "bearer"
QUERY_PARAM: Final = "access_token"


class AuthError(Exception):
    """The request carries no token, or one that does not verify."""


class TokenVerifier:
    """Verifies access tokens and issues development ones; the `sub` claim is the user."""

    __slots__ = ("_algorithm", "_audience", "_issuer", "_leeway_s", "_max_ttl_s", "_secret",
                 "ttl_s")

    def __init__(
        self,
        secret: str,
        *,
        algorithm: str = "HS256",
        audience: str | None = None,
        issuer: str | None = None,
        leeway_s: float = 10.0,
        ttl_s: int = 3600,
        max_ttl_s: int = 24 * 3600,
    ) -> None:
        self._secret = secret
        self._max_ttl_s = max_ttl_s
        self._algorithm = algorithm
        self._audience = audience
        self._issuer = issuer
        self._leeway_s = leeway_s
        self.ttl_s = ttl_s

    @classmethod
    def from_settings(cls, auth: AuthSettings) -> TokenVerifier:
        """Build a verifier from the `auth` settings."""
        return cls(
            auth.jwt_secret.get_secret_value(),
            algorithm=auth.jwt_algorithm,
            audience=auth.audience,
            issuer=auth.issuer,
            leeway_s=auth.leeway_s,
            ttl_s=auth.token_ttl_s,
            max_ttl_s=auth.max_token_ttl_s,
        )

    def verify(self, token: str) -> str:
        """Return the user id of a valid token; raise `AuthError` otherwise."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[self._algorithm],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway_s,
                options={"require": ["exp", "sub"], "verify_aud": self._audience is not None},
            )
        except jwt.PyJWTError as exc:
            raise AuthError(f"invalid token ({type(exc).__name__})") from None
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise AuthError("invalid token (no subject)")
        issued = claims.get("iat")
        start = issued if isinstance(issued, int | float) else time.time()
        if claims["exp"] - start > self._max_ttl_s + self._leeway_s:
            raise AuthError("invalid token (lives longer than auth.max_token_ttl_s allows)")
        return subject

    def issue(self, user_id: str) -> str:
        """Return a signed token for `user_id` valid for `ttl_s` seconds."""
        now = int(time.time())
        claims: dict[str, Any] = {"sub": user_id, "iat": now, "exp": now + self.ttl_s}
        if self._audience is not None:
            claims["aud"] = self._audience
        if self._issuer is not None:
            claims["iss"] = self._issuer
        return jwt.encode(claims, self._secret, algorithm=self._algorithm)


def token_of(request: web.BaseRequest) -> str | None:
    """Return the token from `Authorization: Bearer …` or the `access_token` query parameter."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == BEARER and value.strip():
        return value.strip()
    return request.query.get(QUERY_PARAM) or None


def authenticate(request: web.BaseRequest, verifier: TokenVerifier) -> str:
    """Return the verified user of `request`; raise HTTP 401 (before any upgrade) otherwise."""
    token = token_of(request)
    if token is None:
        raise _unauthorized("missing access token")
    try:
        return verifier.verify(token)
    except AuthError as exc:
        raise _unauthorized(str(exc)) from None


def _unauthorized(reason: str) -> web.HTTPUnauthorized:
    return web.HTTPUnauthorized(
        text=f'{{"error":"unauthorized","message":"{reason}"}}',
        content_type="application/json",
        headers={"WWW-Authenticate": 'Bearer realm="toolwire"'},
    )
