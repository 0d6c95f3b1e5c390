"""Redis URLs: what the pub/sub connection reads from them, and how messages mask them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from toolwire.adapters.redis_bus import masked_url
from toolwire.adapters.redis_bus.pubsub import Endpoint
from toolwire.config import Settings


@pytest.mark.parametrize(("url", "expected"), [
    ("redis://127.0.0.1:6380/0", Endpoint("127.0.0.1", 6380)),
    ("rediss://app:p%40ss@redis.internal:6390/0",
     Endpoint("redis.internal", 6390, "app", "p@ss", tls=True)),
    ("redis://:only-password@h", Endpoint("h", 6379, None, "only-password")),
    ("unix://app:pw@/run/redis/redis.sock?db=2", Endpoint(
        username="app", password="pw", path="/run/redis/redis.sock")),
    ("unix:///run/redis.sock?username=app&password=p%26w", Endpoint(
        username="app", password="p&w", path="/run/redis.sock")),
])
def test_the_pubsub_endpoint_reads_what_redis_py_reads(url: str, expected: Endpoint) -> None:
    assert Endpoint.from_url(url) == expected


def test_an_unknown_scheme_is_named() -> None:
    with pytest.raises(ValueError, match="not http://"):
        Endpoint.from_url("http://127.0.0.1:6379")


@pytest.mark.parametrize(("url", "masked"), [
    ("redis://app:secret@h:6379/0", "redis://app:***@h:6379/0"),
    ("unix://app:secret@/run/redis.sock?db=0", "unix://app:***@/run/redis.sock?db=0"),
    ("unix:///run/redis.sock?username=app&password=secret&db=1",
     "unix:///run/redis.sock?username=app&password=***&db=1"),
    ("rediss://h:6380/0", "rediss://h:6380/0"),
])
def test_messages_show_redis_urls_without_their_password(url: str, masked: str) -> None:
    assert masked_url(url) == masked


def test_tls_files_need_a_rediss_url() -> None:
    with pytest.raises(ValidationError, match="does not start with rediss://"):
        Settings(events={"redis_url": "redis://h:6379/0", "redis_tls_ca_file": "/ca.pem"})
    settings = Settings(events={"redis_url": "rediss://h:6380/0",
                                "redis_tls_ca_file": "/ca.pem"})
    assert settings.events.redis_tls_ca_file == "/ca.pem"


def test_a_client_certificate_needs_its_key() -> None:
    with pytest.raises(ValidationError, match="go together"):
        Settings(events={"redis_url": "rediss://h:6380/0", "redis_tls_cert_file": "/c.pem"})


def test_a_redis_url_of_another_scheme_is_refused_naming_the_setting() -> None:
    with pytest.raises(ValidationError, match=r"events\.redis_url must start with redis://"):
        Settings(events={"redis_url": "http://127.0.0.1:6379/0"})
