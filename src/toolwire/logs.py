"""Logging set-up: readable lines or JSON lines on stderr, never a token or a secret.

Each record shows the `run_id`, `user_id` and `request_id` it was logged with (as `extra`).
Every URL in a record loses its user info and query string. An exception that says it is
expected (`log_traceback = False`: an unreachable model, say) is logged as one line, its
type and message appended, without the traceback that only a bug deserves.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Final, Literal

from toolwire.redaction import redact_urls

LogFormat = Literal["text", "json"]

CONTEXT_FIELDS: Final = ("run_id", "user_id", "request_id")
REDACTED: Final = "[redacted]"
MIN_SECRET_CHARS: Final = 8  # shorter "secrets" would mask ordinary words

_TOKEN_PATTERNS: Final = (
    re.compile(r"eyJ[\w-]*\.[\w-]+\.[\w-]*"),  # a JWT: base64url header.payload.signature
    re.compile(r"(?i)(?<=bearer )[^\s\"',;]+"),  # an Authorization header's credentials
    re.compile(r"(?<=access_token=)[^&\s\"',;]+"),  # a token in a query string
)


class Redactor:
    """Replace access tokens and the given secret values in text with `[redacted]`, and strip
    user info and query strings from URLs."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        kept = {secret for secret in secrets if len(secret) >= MIN_SECRET_CHARS}
        self._secrets = sorted(kept, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        for pattern in _TOKEN_PATTERNS:
            text = pattern.sub(REDACTED, text)
        return redact_urls(text)


class ExpectedFailures(logging.Filter):
    """Fold the exception of a record into its message when the exception is expected."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Return True (keep every record); rewrite those with an expected exception."""
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and getattr(exc, "log_traceback", True) is False:
            text = " ".join(str(exc).split())
            record.msg = f"{record.getMessage()}: {type(exc).__name__}"
            record.msg += f": {text}" if text else ""
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


class TextFormatter(logging.Formatter):
    """`time LEVEL logger [run=… user=… request=…] message`, the context only when known.

    With `show_pid` (one of several worker processes) each line names its process:
    `time LEVEL pid=1234 logger …`.
    """

    def __init__(self, redact: Redactor, *, show_pid: bool = False) -> None:
        pid = "pid=%(process)d " if show_pid else ""
        super().__init__(f"%(asctime)s %(levelname)-7s {pid}%(name)s%(context)s %(message)s")
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as one readable (possibly multi-line) entry."""
        labels = {"run_id": "run", "user_id": "user", "request_id": "request"}
        known = [f"{labels[name]}={value}" for name, value in _context(record).items()
                 if value is not None]
        record.context = f" [{' '.join(known)}]" if known else ""
        return self._redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, run_id, user_id, request_id
    (and `pid` with `show_pid`)."""

    def __init__(self, redact: Redactor, *, show_pid: bool = False) -> None:
        super().__init__()
        self._redact = redact
        self._show_pid = show_pid

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as a single line of JSON."""
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": self._redact(record.getMessage()),
            **_context(record),
        }
        if self._show_pid:
            entry["pid"] = record.process
        if record.exc_info:
            entry["exc"] = self._redact(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = self._redact(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(
    level: str = "INFO", log_format: LogFormat = "text", secrets: Iterable[str] = (),
    *, show_pid: bool = False,
) -> None:
    """Send all logs to stderr at `level` in `log_format`, masking tokens and `secrets`.

    `show_pid` names the process on every line (several workers share one stderr).
    """
    redact = Redactor(secrets)
    handler = logging.StreamHandler(sys.stderr)
    formatter: logging.Formatter = (JsonFormatter(redact, show_pid=show_pid)
                                    if log_format == "json"
                                    else TextFormatter(redact, show_pid=show_pid))
    handler.setFormatter(formatter)
    handler.addFilter(ExpectedFailures())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for chatty in ("aiohttp.access", "asyncio"):  # per-request lines, "Using selector: …"
        logging.getLogger(chatty).setLevel(max(logging.INFO, root.level))


def _context(record: logging.LogRecord) -> dict[str, Any]:
    return {name: getattr(record, name, None) for name in CONTEXT_FIELDS}
