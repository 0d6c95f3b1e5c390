"""`RedisKeys`: the names of the bus's keys and channels.

A run's keys (stream, owner, lease, cancel request) share the hash tag `{run_id}`, so on Redis
Cluster they live in one slot and one script can read and write them together. A user's keys
(run index, remembered requests, quotas) share the tag `{user_id}`.
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

    def lease(self, run_id: str) -> str:
        """Return the key naming the instance that runs the run (expires unless renewed)."""
        return f"{self.prefix}:run:{{{run_id}}}:lease"

    def cancel(self, run_id: str) -> str:
        """Return the key that records a cancel request until the run's owner acts on it."""
        return f"{self.prefix}:run:{{{run_id}}}:cancel"

    def leased_runs(self) -> str:
        """Return the key of every leased run, scored by when its lease lapses (Unix ms)."""
        return f"{self.prefix}:leased"

    def request(self, user_id: str, request_id: str) -> str:
        """Return the key that holds the run a user's `request_id` started."""
        return f"{self.prefix}:user:{{{user_id}}}:request:{request_id}"

    def running(self, user_id: str) -> str:
        """Return the key of the user's running runs (scored by when they stop counting)."""
        return f"{self.prefix}:user:{{{user_id}}}:running"

    def chats(self, user_id: str) -> str:
        """Return the key of the user's chats of the last minute (scored by time)."""
        return f"{self.prefix}:user:{{{user_id}}}:chats"

    def watchers(self, user_id: str) -> str:
        """Return the key of the instances holding a subscriber of the user (a set)."""
        return f"{self.prefix}:user:{{{user_id}}}:watchers"

    def alive(self, host_id: str) -> str:
        """Return the key that exists while the instance is alive (renewed with its leases)."""
        return f"{self.prefix}:instance:{{{host_id}}}:alive"

    def user_runs(self, user_id: str) -> str:
        """Return the key of the user's recent runs (a sorted set scored by start time)."""
        return f"{self.prefix}:user:{{{user_id}}}:runs"

    def probe(self, tag: int) -> str:
        """Return a key readiness writes (its tag picks the slot, so the Cluster master)."""
        return f"{self.prefix}:probe:{{{tag}}}"

    def user_channel(self, user_id: str) -> bytes:
        """Return the channel that announces the user's events."""
        return f"{self.prefix}:user:{user_id}".encode()

    def control_channel(self) -> bytes:
        """Return the channel that carries cancel requests to every instance."""
        return f"{self.prefix}:control".encode()

    def instance_channel(self, host_id: str) -> bytes:
        """Return a channel only this instance listens on (keeps its connection subscribed)."""
        return f"{self.prefix}:instance:{host_id}".encode()
