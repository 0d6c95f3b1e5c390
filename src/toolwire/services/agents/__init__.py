"""Agents (planners) behind the `Agent` port."""

from toolwire.services.agents.embedded import EmbeddedAgent

__all__ = ["EmbeddedAgent"]
