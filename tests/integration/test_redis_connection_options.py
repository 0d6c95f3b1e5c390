"""Every way of reaching Redis that the docs promise, on a real `redis-server`.

One server (the default user off) takes an ACL user with a password over plain TCP, TLS with
client certificates required (`rediss://`, a CA file) and a unix socket. Through each, one
bus instance publishes and another one's subscriber gets the event over pub/sub; a wrong
password and an untrusted certificate fail with an error that names no secret.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from redis.exceptions import AuthenticationError
from redis.exceptions import ConnectionError as RedisConnectionError

from tests.fixtures_redis import ACL_PASSWORD, SecuredRedis
from tests.support import event, eventually
from toolwire import UserExecutionContext
from toolwire.adapters.redis_bus import RedisEventBus
from toolwire.adapters.redis_bus.connect import RedisConnector, RedisOptions
from toolwire.services.events import RunEvent
from toolwire.testing import ContainerFactory

pytestmark = pytest.mark.redis

WRONG_PASSWORD = "not-the-Pa55word"
WAYS = ["tcp", "tls", "unix", "unix-query"]

MakeBus = Callable[..., RedisEventBus]


def tls_files(server: SecuredRedis, how: str, *, ca: str | None = None) -> dict[str, Any]:
    """Return the bus's TLS arguments for `how` (none unless it is `tls`)."""
    if how != "tls":
        return {}
    return {"tls_ca_file": ca or str(server.tls.ca),
            "tls_cert_file": str(server.tls.client_cert),
            "tls_key_file": str(server.tls.client_key)}


@pytest.fixture
async def make_bus() -> AsyncIterator[MakeBus]:
    """Build bus instances as separate processes would; close them all."""
    built: list[RedisEventBus] = []

    def make(url: str, **options: Any) -> RedisEventBus:
        built.append(RedisEventBus(url=url, retention_s=60.0, **options))
        return built[-1]

    yield make
    for bus in reversed(built):
        await bus.aclose()


@pytest.mark.parametrize("how", WAYS)
async def test_an_event_crosses_instances_through_each_way_in(
    secured_redis: SecuredRedis, make_bus: MakeBus, how: str
) -> None:
    url = secured_redis.url(how)
    publisher = make_bus(url, **tls_files(secured_redis, how))
    subscriber = make_bus(url, **tls_files(secured_redis, how))
    got: list[RunEvent] = []
    await subscriber.subscribe("alice", got.append)
    run = f"r-{how}"  # the server is shared: a run has one publisher, its lease holder

    await publisher.publish("alice", event(run, 1))
    await eventually(lambda: got == [event(run, 1)])
    assert await subscriber.replay(run) == [event(run, 1)]
    assert await publisher.ping()


@pytest.mark.parametrize("how", WAYS)
async def test_a_wrong_password_fails_clearly_and_names_no_secret(
    secured_redis: SecuredRedis, make_bus: MakeBus, how: str
) -> None:
    url = secured_redis.url(how, password=WRONG_PASSWORD)
    bus = make_bus(url, **tls_files(secured_redis, how))
    with pytest.raises(AuthenticationError) as command_error:
        await bus.publish("alice", event("r1", 1))
    assert not await bus.ping()

    connector = RedisConnector(RedisOptions(url=url, **tls_files(secured_redis, how)))
    with pytest.raises(AuthenticationError, match="refused the pub/sub sign-in") as sign_in:
        await connector.pubsub()
    for error in (command_error.value, sign_in.value):
        assert "WRONGPASS" in str(error) or "invalid username-password" in str(error)
        assert WRONG_PASSWORD not in str(error) and ACL_PASSWORD not in str(error)


async def test_an_untrusted_certificate_fails_clearly_and_names_no_secret(
    secured_redis: SecuredRedis, make_bus: MakeBus
) -> None:
    url = secured_redis.url("tls")
    options = tls_files(secured_redis, "tls", ca=str(secured_redis.tls.other_ca))
    bus = make_bus(url, **options)
    with pytest.raises(RedisConnectionError, match="certificate verify failed") as command:
        await bus.publish("alice", event("r1", 1))

    connector = RedisConnector(RedisOptions(url=url, **options))
    with pytest.raises(RedisConnectionError, match="certificate verify failed") as pubsub:
        await connector.pubsub()
    assert f"127.0.0.1:{secured_redis.tls_port}" in str(pubsub.value)
    for error in (command.value, pubsub.value):
        assert ACL_PASSWORD not in str(error)


async def test_a_missing_ca_file_is_named(secured_redis: SecuredRedis, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-ca.pem"
    connector = RedisConnector(RedisOptions(url=secured_redis.url("tls"),
                                            tls_ca_file=str(missing)))
    with pytest.raises(RedisConnectionError, match=r"events\.redis_tls_ca_file") as error:
        await connector.pubsub()
    assert str(missing) in str(error.value) and ACL_PASSWORD not in str(error.value)


async def test_without_the_client_certificate_a_server_that_asks_for_one_refuses(
    secured_redis: SecuredRedis,
) -> None:
    connector = RedisConnector(RedisOptions(
        url=secured_redis.url("tls"), tls_ca_file=str(secured_redis.tls.ca)))
    with pytest.raises(RedisConnectionError):
        await connector.pubsub()  # signing in is the first exchange after the handshake


async def test_the_listener_logs_a_refused_sign_in_without_the_password(
    secured_redis: SecuredRedis, make_bus: MakeBus, caplog: pytest.LogCaptureFixture
) -> None:
    bus = make_bus(secured_redis.url("tcp", password=WRONG_PASSWORD))
    with caplog.at_level(logging.WARNING, logger="toolwire.adapters.redis_bus"):
        await bus.on_cancel(lambda run_id: None)
    lost = [r.getMessage() for r in caplog.records if "pub/sub lost" in r.getMessage()]
    assert lost and "refused the pub/sub sign-in" in lost[0]
    assert all(WRONG_PASSWORD not in r.getMessage() for r in caplog.records)


async def test_the_tls_settings_reach_both_connections_through_the_container(
    secured_redis: SecuredRedis, toolwire_container_factory: ContainerFactory
) -> None:
    tls = secured_redis.tls
    container = toolwire_container_factory(events={
        "backend": "redis", "redis_url": secured_redis.url("tls"),
        "redis_tls_ca_file": str(tls.ca), "redis_tls_cert_file": str(tls.client_cert),
        "redis_tls_key_file": str(tls.client_key)})
    bus = container.event_bus()
    other = RedisEventBus(url=secured_redis.url("tls"), **tls_files(secured_redis, "tls"))
    got: list[RunEvent] = []
    try:
        await bus.subscribe("alice", got.append)
        await other.publish("alice", event("r-container", 1))
        await eventually(lambda: got == [event("r-container", 1)])
        async with container.request_scope(UserExecutionContext.for_user("alice")) as scope:
            final = await scope.run("what is 2+2?")
        assert final.status == "ok"
        await eventually(lambda: got[-1].type == "agent_completed")
        stored = await other.replay(got[-1].run_id)  # written by the container's bus
        assert stored == [e for e in got if e.run_id == got[-1].run_id]
    finally:
        await other.aclose()
        await bus.aclose()
