"""`TokenVerifier` with a shared secret: pinned algorithm, required claims, scopes."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from toolwire.adapters.auth import AuthError, Identity, TokenVerifier, scopes_of
from toolwire.config import Settings

SECRET = "unit-test-secret-" + "z" * 47


def _token(secret: str = SECRET, algorithm: str = "HS256", **claims: Any) -> str:
    base: dict[str, Any] = {"sub": "ada", "exp": int(time.time()) + 60}
    base.update(claims)
    return jwt.encode({k: v for k, v in base.items() if v is not None}, secret,
                      algorithm=algorithm)


async def test_issued_tokens_verify_to_their_user_and_scopes() -> None:
    verifier = TokenVerifier(SECRET, ttl_s=120)
    token = verifier.issue("ada", ["billing", "admin"])
    assert await verifier.verify(token) == Identity("ada", frozenset({"billing", "admin"}))
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 120
    assert claims["scope"] == "admin billing"
    assert await verifier.verify(verifier.issue("bob")) == Identity("bob", frozenset())


@pytest.mark.parametrize("token", [
    _token(secret="another-secret-that-is-long-enough!!"),
    _token(algorithm="HS512"),
    _token(exp=int(time.time()) - 60),
    _token(exp=None),
    _token(sub=None),
    _token(sub=""),
    _token(scope=["not", "a", "string"], scp=5),
    "a.b.c",
])
async def test_bad_tokens_are_refused(token: str) -> None:
    with pytest.raises(AuthError):
        await TokenVerifier(SECRET, leeway_s=0).verify(token)


async def test_leeway_accepts_a_just_expired_token() -> None:
    token = _token(exp=int(time.time()) - 5)
    assert (await TokenVerifier(SECRET, leeway_s=30).verify(token)).user_id == "ada"


async def test_audience_and_issuer_are_checked_when_configured() -> None:
    verifier = TokenVerifier(SECRET, audience="toolwire", issuer="https://id.example")
    assert (await verifier.verify(verifier.issue("ada"))).user_id == "ada"
    for bad in (_token(aud="other", iss="https://id.example"), _token(aud="toolwire"),
                _token(iss="https://id.example")):
        with pytest.raises(AuthError):
            await verifier.verify(bad)


async def test_from_settings_uses_the_auth_group() -> None:
    settings = Settings(env="test", auth={"jwt_secret": SECRET, "token_ttl_s": 42})
    verifier = TokenVerifier.from_settings(settings.auth)
    assert verifier.ttl_s == 42
    assert (await verifier.verify(_token())).user_id == "ada"


@pytest.mark.parametrize(("claims", "scopes"), [
    ({}, set()),
    ({"scope": "read  write"}, {"read", "write"}),
    ({"scp": ["read", "write"]}, {"read", "write"}),  # Okta
    ({"scp": "read write"}, {"read", "write"}),  # Entra ID
    ({"scope": "read", "scp": ["admin"]}, {"read", "admin"}),
])
def test_scopes_come_from_scope_or_scp(claims: dict[str, Any], scopes: set[str]) -> None:
    assert scopes_of(claims) == scopes


@pytest.mark.parametrize("claims", [{"scope": 5}, {"scp": ["a", 1]}, {"scope": {"a": 1}}])
def test_malformed_scope_claims_are_refused(claims: dict[str, Any]) -> None:
    with pytest.raises(AuthError, match="string"):
        scopes_of(claims)
