"""A test identity provider: a JWKS endpoint served by aiohttp and the keys that sign tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any, Literal, Self

import jwt
import pytest_asyncio
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

Algorithm = Literal["RS256", "ES256", "EdDSA"]
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
ISSUER = "https://id.test.example/"
AUDIENCE = "toolwire-api"


class IdentityProvider:
    """Serves `/.well-known/jwks.json` on a free port; signs tokens with the keys it holds.

    `publish(kid)` and `withdraw(kid)` change what the endpoint lists (rotation);
    `failing = True` makes it answer 503; `fetches` counts the requests it answered.
    """

    def __init__(self) -> None:
        self.keys: dict[str, tuple[Algorithm, PrivateKey]] = {}
        self.published: list[str] = []
        self.failing = False
        self.fetches = 0
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_get("/.well-known/jwks.json", self._jwks)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/.well-known/jwks.json"
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _jwks(self, request: web.Request) -> web.Response:
        self.fetches += 1
        if self.failing:
            return web.Response(status=503, text="down for maintenance")
        return web.json_response({"keys": [self.jwk(kid) for kid in self.published]})

    def new_key(self, kid: str, algorithm: Algorithm = "RS256", *, publish: bool = True) -> str:
        """Make a key pair named `kid`; list it in the JWKS unless `publish` is False."""
        private: PrivateKey
        if algorithm == "RS256":
            private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        elif algorithm == "ES256":
            private = ec.generate_private_key(ec.SECP256R1())
        else:
            private = ed25519.Ed25519PrivateKey.generate()
        self.keys[kid] = (algorithm, private)
        if publish:
            self.publish(kid)
        return kid

    def publish(self, kid: str) -> None:
        """List `kid` in the JWKS."""
        if kid not in self.published:
            self.published.append(kid)

    def withdraw(self, kid: str) -> None:
        """Stop listing `kid` in the JWKS."""
        self.published.remove(kid)

    def jwk(self, kid: str) -> dict[str, Any]:
        """Return the public JWK of `kid`."""
        algorithm, private = self.keys[kid]
        public = private.public_key()
        jwk: dict[str, Any]
        if isinstance(public, rsa.RSAPublicKey):
            jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
        elif isinstance(public, ec.EllipticCurvePublicKey):
            jwk = ECAlgorithm.to_jwk(public, as_dict=True)
        else:
            jwk = OKPAlgorithm.to_jwk(public, as_dict=True)
        return {**jwk, "kid": kid, "alg": algorithm, "use": "sig"}

    def public_pem(self, kid: str) -> bytes:
        """Return the public key of `kid` as PEM (what an HMAC-confusion attacker would use)."""
        return self.keys[kid][1].public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def token(self, kid: str, *, sub: str = "ada", scopes: Sequence[str] = (),
              lifetime_s: int = 300, **claims: Any) -> str:
        """Return a token signed by `kid` for `sub` (issuer and audience of this provider)."""
        algorithm, private = self.keys[kid]
        now = int(time.time())
        body: dict[str, Any] = {"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "iat": now,
                                "exp": now + lifetime_s}
        if scopes:
            body["scope"] = " ".join(scopes)
        body.update(claims)
        return jwt.encode({k: v for k, v in body.items() if v is not None}, private,
                          algorithm=algorithm, headers={"kid": kid})

    def unsigned(self, kid: str, alg: str = "none", key: bytes = b"", **claims: Any) -> str:
        """Return a token with header `alg` and an HMAC-SHA256 signature keyed with `key`.

        PyJWT refuses to make these (rightly): `alg: none`, or HS256 keyed with a public key.
        """
        now = int(time.time())
        body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "mallory", "iat": now, "exp": now + 300,
                **claims}
        signing_input = f"{_b64(json.dumps({'alg': alg, 'typ': 'JWT', 'kid': kid}).encode())}." \
                        f"{_b64(json.dumps(body).encode())}"
        if alg == "none":
            return signing_input + "."
        signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64(signature)}"

    def bad_tokens(self) -> dict[str, str]:
        """Return tokens that must never verify, by what is wrong with them (uses `rsa-1`)."""
        if "unlisted" not in self.keys:
            self.new_key("unlisted", "RS256", publish=False)
        return {
            "wrong audience": self.token("rsa-1", aud="another-api"),
            "wrong issuer": self.token("rsa-1", iss="https://evil.example/"),
            "key not in the JWKS": self.token("unlisted"),
            "expired": self.token("rsa-1", lifetime_s=-60),
            "alg none": self.unsigned("rsa-1", "none"),
            "HS256 keyed with the RSA public key": self.unsigned(
                "rsa-1", "HS256", key=self.public_pem("rsa-1")),
            "no kid": self.unsigned("", "RS256"),
            "lives too long": self.token("rsa-1", lifetime_s=10 * 24 * 3600),
        }


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest_asyncio.fixture
async def identity_provider() -> AsyncIterator[IdentityProvider]:
    """A running test identity provider with one published RS256 key, `rsa-1`."""
    async with IdentityProvider() as provider:
        provider.new_key("rsa-1", "RS256")
        yield provider
