"""A stdio MCP server's stderr as log records: whole lines, redacted, within the rate limit."""

from __future__ import annotations

import logging
import time

import pytest

from toolwire.adapters.mcp import stderr
from toolwire.adapters.mcp.stderr import StderrLog


def messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == stderr.log.name]


def test_lines_are_logged_whole_redacted_and_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger=stderr.log.name)
    lines = StderrLog("files", ["the-env-secret-123"])
    lines.feed(b"starting with the-env-secret-123 at http://u:pw@h.example/x?k=1\nhal")
    lines.feed(b"f a line\n\n")
    lines.feed(b"no newline at the end")
    lines.close()
    assert messages(caplog) == [
        "MCP server files (stderr): starting with [redacted] at http://h.example/x",
        "MCP server files (stderr): half a line",
        "MCP server files (stderr): no newline at the end",
    ]
    assert {r.levelno for r in caplog.records} == {logging.DEBUG}


def test_past_the_burst_lines_are_counted_and_the_next_window_logs_again(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG, logger=stderr.log.name)
    now = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    lines = StderrLog("noisy", [])
    lines.feed(b"line\n" * (stderr.BURST + 5))
    now[0] += stderr.WINDOW_S
    lines.feed(b"later\n")
    lines.close()
    logged = messages(caplog)
    assert logged.count("MCP server noisy (stderr): line") == stderr.BURST
    assert logged[stderr.BURST].endswith("5 more lines not logged (at most 20 per 10 s)")
    assert logged[-1] == "MCP server noisy (stderr): later"
