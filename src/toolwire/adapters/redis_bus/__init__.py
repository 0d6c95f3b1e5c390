"""The Redis event bus: run streams (`store`), one pub/sub listener (`listener`), the bus."""

from toolwire.adapters.redis_bus.bus import RedisEventBus
from toolwire.adapters.redis_bus.connect import masked_url
from toolwire.adapters.redis_bus.threads import RedisThreadStore

__all__ = ["RedisEventBus", "RedisThreadStore", "masked_url"]
