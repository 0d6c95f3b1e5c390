"""`TokenVerifier`: HMAC tokens (`auth.jwt_secret`) and an identity provider's (`auth.jwks_url`)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import jwt
from jwt import PyJWK

from toolwire.adapters.auth.claims import Identity, scopes_of
from toolwire.adapters.auth.errors import AuthError
from toolwire.adapters.auth.jwks import JwksKeys
from toolwire.config.settings import AuthSettings


class TokenVerifier:
    """Verifies access tokens and issues development ones; `sub` is the user.

    A token whose header names the configured HMAC algorithm is checked with the secret;
    any other is checked with the JWKS key its `kid` names, with that key's algorithm.
    Either way one algorithm is allowed, so `alg: none` and an HMAC token keyed with a
    provider's public key never verify.
    """

    __slots__ = ("_algorithm", "_audience", "_issuer", "_jwks", "_leeway_s", "_max_ttl_s",
                 "_secret", "ttl_s")

    def __init__(
        self,
        secret: str,
        *,
        algorithm: str = "HS256",
        jwks: JwksKeys | None = None,
        audience: str | None = None,
        issuer: str | None = None,
        leeway_s: float = 10.0,
        ttl_s: int = 3600,
        max_ttl_s: int = 24 * 3600,
    ) -> None:
        self._secret = secret
        self._algorithm = algorithm
        self._jwks = jwks
        self._audience = audience
        self._issuer = issuer
        self._leeway_s = leeway_s
        self._max_ttl_s = max_ttl_s
        self.ttl_s = ttl_s

    @classmethod
    def from_settings(cls, auth: AuthSettings) -> TokenVerifier:
        """Build a verifier from the `auth` settings."""
        jwks = None
        if auth.jwks_url is not None:
            jwks = JwksKeys(auth.jwks_url, cache_s=auth.jwks_cache_s,
                            refresh_s=auth.jwks_refresh_interval_s, timeout_s=auth.jwks_timeout_s)
        return cls(
            auth.jwt_secret.get_secret_value(),
            algorithm=auth.jwt_algorithm,
            jwks=jwks,
            audience=auth.audience,
            issuer=auth.issuer,
            leeway_s=auth.leeway_s,
            ttl_s=auth.token_ttl_s,
            max_ttl_s=auth.max_token_ttl_s,
        )

    async def verify(self, token: str) -> Identity:
        """Return who a valid token names and what it grants; raise `AuthError` otherwise."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise AuthError(f"invalid token ({type(exc).__name__})") from None
        key: str | PyJWK
        if header.get("alg") == self._algorithm or self._jwks is None:
            key, algorithm = self._secret, self._algorithm
        else:
            kid = header.get("kid")
            if not isinstance(kid, str) or not kid:
                raise AuthError("invalid token (no kid: the JWKS key cannot be chosen)")
            key = await self._jwks.key(kid)
            algorithm = key.algorithm_name
        return self._identity(self._claims(token, key, algorithm))

    def _claims(self, token: str, key: str | PyJWK, algorithm: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway_s,
                options={"require": ["exp", "sub"], "verify_aud": self._audience is not None},
            )
        except jwt.PyJWTError as exc:
            raise AuthError(f"invalid token ({type(exc).__name__})") from None
        return claims

    def _identity(self, claims: dict[str, Any]) -> Identity:
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise AuthError("invalid token (no subject)")
        issued = claims.get("iat")
        start = issued if isinstance(issued, int | float) else time.time()
        if claims["exp"] - start > self._max_ttl_s + self._leeway_s:
            raise AuthError("invalid token (lives longer than auth.max_token_ttl_s allows)")
        return Identity(subject, scopes_of(claims))

    def issue(self, user_id: str, scopes: Iterable[str] = ()) -> str:
        """Return a signed token for `user_id` granting `scopes`, valid for `ttl_s` seconds."""
        now = int(time.time())
        claims: dict[str, Any] = {"sub": user_id, "iat": now, "exp": now + self.ttl_s}
        granted = sorted(set(scopes))
        if granted:
            claims["scope"] = " ".join(granted)
        if self._audience is not None:
            claims["aud"] = self._audience
        if self._issuer is not None:
            claims["iss"] = self._issuer
        return jwt.encode(claims, self._secret, algorithm=self._algorithm)
