"""`PubSubListener` against a scripted connection: Redis's replies arrive when the test says."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from tests.support import eventually
from toolwire.adapters.redis_bus.connect import RedisConnector, RedisOptions
from toolwire.adapters.redis_bus.listener import PubSubListener
from toolwire.adapters.redis_bus.pubsub import PubSubConnection

HOME = b"home"


class ScriptedLink:
    """A pub/sub connection that applies commands as Redis would and replies when told."""

    def __init__(self) -> None:
        self.subscribed: set[bytes] = set()  # what Redis holds, in command order
        self.sent: list[tuple[bytes, bytes]] = []
        self.replies: asyncio.Queue[list[Any]] = asyncio.Queue()

    async def subscribe(self, *channels: bytes) -> None:
        """Record SUBSCRIBE; Redis holds the channels from now on."""
        self.sent += [(b"SUBSCRIBE", channel) for channel in channels]
        self.subscribed.update(channels)

    async def unsubscribe(self, *channels: bytes) -> None:
        """Record UNSUBSCRIBE."""
        self.sent += [(b"UNSUBSCRIBE", channel) for channel in channels]
        self.subscribed.difference_update(channels)

    async def ping(self) -> None:
        """Nothing to record."""

    async def read(self, timeout_s: float) -> list[Any]:
        """Return the next batch of replies the test released."""
        return await self.replies.get()

    async def aclose(self) -> None:
        """Nothing to close."""

    def reply(self, kind: bytes, channel: bytes, count: int = 1) -> None:
        """Release one confirmation."""
        self.replies.put_nowait([[kind, channel, count]])


class ScriptedConnector(RedisConnector):
    """Hands out one scripted link."""

    def __init__(self, link: ScriptedLink) -> None:
        super().__init__(RedisOptions(url="redis://127.0.0.1:1/0"))
        self.link = link

    async def pubsub(self) -> PubSubConnection:
        """Return the scripted link."""
        return cast(PubSubConnection, self.link)


async def test_a_listen_between_an_unsubscribe_and_its_confirmation_stays_subscribed() -> None:
    link = ScriptedLink()
    listener = PubSubListener(ScriptedConnector(link), on_message=lambda c, d: None,
                              on_resubscribed=lambda t: None, home_channel=HOME,
                              keepalive_s=60.0, reconnect_max_s=1.0)
    try:
        first = asyncio.create_task(listener.listen(b"alice"))
        await eventually(lambda: (b"SUBSCRIBE", b"alice") in link.sent)
        await listener.unlisten(b"alice")  # the subscriber left before Redis confirmed
        link.reply(b"subscribe", HOME)
        link.reply(b"subscribe", b"alice")
        await first

        # A new subscriber, before the UNSUBSCRIBE's reply.
        second = asyncio.create_task(listener.listen(b"alice"))
        await eventually(lambda: link.sent.count((b"SUBSCRIBE", b"alice")) == 2)
        link.reply(b"unsubscribe", b"alice", 0)
        link.reply(b"subscribe", b"alice")
        await second
        assert b"alice" in link.subscribed
        assert link.sent[-2:] == [(b"UNSUBSCRIBE", b"alice"), (b"SUBSCRIBE", b"alice")]
    finally:
        await listener.aclose()
