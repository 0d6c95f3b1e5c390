"""The Redis event bus: run streams (`store`), one pub/sub listener (`listener`), the bus,
run leases (`leases`), and the request ledger, user quotas and run admission every instance
shares."""

from toolwire.adapters.redis_bus.admission import RedisRunAdmission
from toolwire.adapters.redis_bus.bus import RedisEventBus
from toolwire.adapters.redis_bus.connect import masked_url
from toolwire.adapters.redis_bus.ledger import RedisRequestLedger
from toolwire.adapters.redis_bus.quotas import QuotaLimits, RedisUserQuotas
from toolwire.adapters.redis_bus.threads import RedisThreadStore

__all__ = ["QuotaLimits", "RedisEventBus", "RedisRequestLedger", "RedisRunAdmission",
           "RedisThreadStore", "RedisUserQuotas", "masked_url"]
