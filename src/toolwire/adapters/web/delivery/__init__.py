"""One subscriber pipeline for every streaming transport (WebSocket, AG-UI socket, SSE)."""

from toolwire.adapters.web.delivery.pipeline import (
    HARD_LIMIT_FACTOR,
    MAX_TRACKED_RUNS,
    SLOW_CONSUMER,
    Delivery,
    DeliveryState,
)
from toolwire.adapters.web.delivery.sink import Render, Replay, Sink

__all__ = ["HARD_LIMIT_FACTOR", "MAX_TRACKED_RUNS", "SLOW_CONSUMER", "Delivery",
           "DeliveryState", "Render", "Replay", "Sink"]
