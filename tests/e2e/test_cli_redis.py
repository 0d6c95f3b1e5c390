"""`toolwire run` on the Redis bus, as a user runs it: a subprocess."""

from __future__ import annotations

import json
import socket
import time

import pytest

from tests.e2e.test_cli import toolwire
from toolwire.testing import assert_well_formed


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens on it once the socket is closed


def test_run_against_an_unreachable_redis_fails_fast_with_one_line_naming_it() -> None:
    url = f"redis://:hunter2-password@127.0.0.1:{_closed_port()}/0"
    started = time.monotonic()
    done = toolwire("run", "hi", env={
        "TOOLWIRE_ENV": "test", "TOOLWIRE_EVENTS__BACKEND": "redis",
        "TOOLWIRE_EVENTS__REDIS_URL": url,
    })
    took = time.monotonic() - started
    assert done.returncode != 0
    assert took < 10
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert url.split("@")[1] in lines[0]
    assert "hunter2" not in done.stderr


@pytest.mark.redis
def test_run_on_a_live_redis_prints_its_run(redis_url: str) -> None:
    done = toolwire("run", "what is 6*7?", env={
        "TOOLWIRE_ENV": "test", "TOOLWIRE_EVENTS__BACKEND": "redis",
        "TOOLWIRE_EVENTS__REDIS_URL": redis_url,
    })
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert_well_formed(events)
    assert "42" in events[-1]["data"]["answer"]
