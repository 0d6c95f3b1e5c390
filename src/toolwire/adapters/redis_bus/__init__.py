"""The Redis event bus: run streams (`store`), one pub/sub listener (`listener`), the bus."""

from toolwire.adapters.redis_bus.bus import RedisEventBus
from toolwire.adapters.redis_bus.connect import masked_url

__all__ = ["RedisEventBus", "masked_url"]
