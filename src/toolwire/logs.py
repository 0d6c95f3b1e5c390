"""Logging set-up: human-readable lines on stderr, with `run_id`/`user_id` when known."""

from __future__ import annotations

import logging
import sys


class _ContextFilter(logging.Filter):
    """Give every record `run_id` and `user_id` attributes so the format never fails."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name in ("run_id", "user_id"):
            if not hasattr(record, name):
                setattr(record, name, "-")
        return True


def configure_logging(level: str = "INFO") -> None:
    """Send toolwire's logs to stderr at `level` (stdout stays free for output)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_ContextFilter())
    handler.setFormatter(logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s [run=%(run_id)s user=%(user_id)s] %(message)s"
    ))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiohttp.access").setLevel(max(logging.INFO, root.level))
