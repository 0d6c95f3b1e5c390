"""`TokenVerifier`: pinned algorithm, required claims, audience/issuer and leeway."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from toolwire.adapters.web.auth import AuthError, TokenVerifier
from toolwire.config import Settings

SECRET = "unit-test-secret-" + "z" * 47


def _token(secret: str = SECRET, algorithm: str = "HS256", **claims: Any) -> str:
    base: dict[str, Any] = {"sub": "ada", "exp": int(time.time()) + 60}
    base.update(claims)
    return jwt.encode({k: v for k, v in base.items() if v is not None}, secret,
                      algorithm=algorithm)


def test_issued_tokens_verify_to_their_user() -> None:
    verifier = TokenVerifier(SECRET, ttl_s=120)
    token = verifier.issue("ada")
    assert verifier.verify(token) == "ada"
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 120


@pytest.mark.parametrize("token", [
    _token(secret="another-secret-that-is-long-enough!!"),
    _token(algorithm="HS512"),
    _token(exp=int(time.time()) - 60),
    _token(exp=None),
    _token(sub=None),
    _token(sub=""),
    "a.b.c",
])
def test_bad_tokens_are_refused(token: str) -> None:
    with pytest.raises(AuthError):
        TokenVerifier(SECRET, leeway_s=0).verify(token)


def test_leeway_accepts_a_just_expired_token() -> None:
    token = _token(exp=int(time.time()) - 5)
    assert TokenVerifier(SECRET, leeway_s=30).verify(token) == "ada"


def test_audience_and_issuer_are_checked_when_configured() -> None:
    verifier = TokenVerifier(SECRET, audience="toolwire", issuer="https://id.example")
    assert verifier.verify(verifier.issue("ada")) == "ada"
    for bad in (_token(aud="other", iss="https://id.example"), _token(aud="toolwire"),
                _token(iss="https://id.example")):
        with pytest.raises(AuthError):
            verifier.verify(bad)


def test_from_settings_uses_the_auth_group() -> None:
    settings = Settings(env="test", auth={"jwt_secret": SECRET, "token_ttl_s": 42})
    verifier = TokenVerifier.from_settings(settings.auth)
    assert verifier.ttl_s == 42
    assert verifier.verify(_token()) == "ada"
