"""`RedisKeys`: the names of the bus's keys and channels.

A run's stream and owner share the hash tag `{run_id}`, so on Redis Cluster they live in one
slot and one script can write both. A user's run index is tagged by user.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RedisKeys:
    """Key and channel names under one prefix."""

    prefix: str = "toolwire"

    def stream(self, run_id: str) -> str:
        """Return the key of the run's event stream."""
        return f"{self.prefix}:run:{{{run_id}}}"

    def owner(self, run_id: str) -> str:
        """Return the key that holds the run's user id."""
        return f"{self.prefix}:run:{{{run_id}}}:owner"

    def user_runs(self, user_id: str) -> str:
        """Return the key of the user's recent runs (a sorted set scored by start time)."""
        return f"{self.prefix}:user:{{{user_id}}}:runs"

    def user_channel(self, user_id: str) -> bytes:
        """Return the channel that announces the user's events."""
        return f"{self.prefix}:user:{user_id}".encode()

    def control_channel(self) -> bytes:
        """Return the channel that carries cancel requests to every instance."""
        return f"{self.prefix}:control".encode()

    def instance_channel(self, host_id: str) -> bytes:
        """Return a channel only this instance listens on (keeps its connection subscribed)."""
        return f"{self.prefix}:instance:{host_id}".encode()
