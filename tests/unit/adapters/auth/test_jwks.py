"""`TokenVerifier` with a JWKS: keys of a real endpoint, rotation, outages, confusion attacks."""

from __future__ import annotations

import asyncio
import logging

import pytest

from tests.identity_provider import AUDIENCE, ISSUER, IdentityProvider
from toolwire.adapters.auth import AuthError, Identity, JwksKeys, TokenVerifier
from toolwire.adapters.auth.jwks import log as jwks_log

SECRET = "unit-test-secret-" + "z" * 47


@pytest.fixture
def idp(identity_provider: IdentityProvider) -> IdentityProvider:
    return identity_provider


def verifier_of(idp: IdentityProvider, *, cache_s: float = 300.0,
                refresh_s: float = 0.0) -> TokenVerifier:
    keys = JwksKeys(idp.url, cache_s=cache_s, refresh_s=refresh_s, timeout_s=5)
    return TokenVerifier(SECRET, jwks=keys, audience=AUDIENCE, issuer=ISSUER, leeway_s=0)


@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "EdDSA"])
async def test_tokens_of_each_key_type_verify(idp: IdentityProvider, algorithm: str) -> None:
    kid = idp.new_key(f"key-{algorithm}", algorithm)  # type: ignore[arg-type]
    token = idp.token(kid, sub="ada", scopes=["billing", "read"])
    identity = await verifier_of(idp).verify(token)
    assert identity == Identity("ada", frozenset({"billing", "read"}))


async def test_hmac_tokens_of_the_secret_still_verify(idp: IdentityProvider) -> None:
    verifier = verifier_of(idp)
    assert (await verifier.verify(verifier.issue("dev", ["x"]))).scopes == {"x"}
    assert idp.fetches == 0  # an HMAC token needs no key set


async def test_bad_tokens_are_refused(idp: IdentityProvider) -> None:
    verifier = verifier_of(idp)
    accepted = []
    for name, token in idp.bad_tokens().items():
        try:
            await verifier.verify(token)
            accepted.append(name)
        except AuthError:
            pass
    assert accepted == []
    assert (await verifier.verify(idp.token("rsa-1"))).user_id == "ada"


async def test_an_hmac_key_in_the_jwks_is_never_used(idp: IdentityProvider) -> None:
    idp.new_key("rsa-2", "RS256", publish=False)
    jwk = {"kty": "oct", "kid": "rsa-2", "k": "c2VjcmV0", "alg": "HS256"}
    idp.jwk = (  # type: ignore[method-assign]
        lambda kid: jwk if kid == "rsa-2" else IdentityProvider.jwk(idp, kid))
    idp.publish("rsa-2")
    # Not the configured HMAC algorithm, so the JWKS is asked, which has no usable key.
    forged = idp.unsigned("rsa-2", "HS384", key=b"secret")
    with pytest.raises(AuthError, match="no such key"):
        await verifier_of(idp).verify(forged)


async def test_a_key_published_later_is_fetched_once_and_accepted(idp: IdentityProvider) -> None:
    verifier = verifier_of(idp, refresh_s=0)
    await verifier.verify(idp.token("rsa-1"))
    assert idp.fetches == 1
    idp.new_key("rsa-2", "RS256")  # the provider rotates: a new key, while ours is cached
    assert (await verifier.verify(idp.token("rsa-2", sub="bob"))).user_id == "bob"
    assert idp.fetches == 2
    await verifier.verify(idp.token("rsa-1"))  # both keys are now cached
    await verifier.verify(idp.token("rsa-2"))
    assert idp.fetches == 2


async def test_unknown_kids_refetch_at_most_once_per_interval(idp: IdentityProvider) -> None:
    verifier = verifier_of(idp, refresh_s=3600)
    await verifier.verify(idp.token("rsa-1"))
    idp.new_key("rsa-2", "RS256", publish=False)
    forged = [idp.unsigned(f"random-{n}", "RS256") for n in range(20)]
    for token in forged:
        with pytest.raises(AuthError):
            await verifier.verify(token)
    assert idp.fetches == 1  # the key set was fetched less than refresh_s ago
    idp.publish("rsa-2")
    with pytest.raises(AuthError, match="no such key"):  # until the interval has passed
        await verifier.verify(idp.token("rsa-2"))


async def test_concurrent_first_requests_fetch_once(idp: IdentityProvider) -> None:
    verifier = verifier_of(idp)
    tokens = [idp.token("rsa-1", sub=f"user-{n}") for n in range(10)]
    identities = await asyncio.gather(*(verifier.verify(token) for token in tokens))
    assert [i.user_id for i in identities] == [f"user-{n}" for n in range(10)]
    assert idp.fetches == 1


async def test_a_withdrawn_key_stops_verifying_once_the_cache_expires(
        idp: IdentityProvider) -> None:
    verifier = verifier_of(idp, cache_s=0.05)
    await verifier.verify(idp.token("rsa-1"))
    idp.new_key("rsa-2", "RS256")
    idp.withdraw("rsa-1")
    await asyncio.sleep(0.1)
    with pytest.raises(AuthError, match="no such key"):
        await verifier.verify(idp.token("rsa-1"))
    assert (await verifier.verify(idp.token("rsa-2"))).user_id == "ada"


async def test_an_unreachable_jwks_fails_closed_keeps_cached_keys_and_logs_once(
        idp: IdentityProvider, caplog: pytest.LogCaptureFixture) -> None:
    verifier = verifier_of(idp, cache_s=0.05, refresh_s=0)
    caplog.set_level(logging.INFO, logger=jwks_log.name)
    await verifier.verify(idp.token("rsa-1"))
    idp.failing = True
    idp.new_key("rsa-2", "RS256")
    await asyncio.sleep(0.1)  # the cached key set has expired: every request tries to refetch
    for _ in range(5):
        assert (await verifier.verify(idp.token("rsa-1"))).user_id == "ada"
        with pytest.raises(AuthError, match="cannot be fetched"):
            await verifier.verify(idp.token("rsa-2"))
    assert idp.fetches > 5
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and idp.url in warnings[0].getMessage()
    idp.failing = False
    assert (await verifier.verify(idp.token("rsa-2"))).user_id == "ada"
    assert [r.getMessage() for r in caplog.records][-1].endswith("answers again")


async def test_nothing_verifies_when_the_jwks_never_answered(
        idp: IdentityProvider) -> None:
    idp.failing = True
    with pytest.raises(AuthError, match="cannot be fetched"):
        await verifier_of(idp).verify(idp.token("rsa-1"))


async def test_an_outage_is_retried_at_most_once_per_interval(idp: IdentityProvider) -> None:
    idp.failing = True
    verifier = verifier_of(idp, refresh_s=3600)
    for _ in range(10):
        with pytest.raises(AuthError):
            await verifier.verify(idp.token("rsa-1"))
    assert idp.fetches == 1


async def test_a_refusal_does_not_echo_the_tokens_kid(idp: IdentityProvider) -> None:
    with pytest.raises(AuthError) as refused:
        await verifier_of(idp).verify(idp.unsigned("<script>kid</script>", "RS256"))
    assert "script" not in str(refused.value) and "no such key" in str(refused.value)
