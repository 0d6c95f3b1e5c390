"""Log output: JSON lines or readable text, the run context, no tokens and no secrets."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator

import pytest

from toolwire.logs import (
    ExpectedFailures,
    JsonFormatter,
    Redactor,
    TextFormatter,
    configure_logging,
)

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJl"
SECRET = "s3cret-signing-key-of-some-length"


def record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    """Return a record as `logging` builds it for `log.info(message, *args, extra=extra)`."""
    made = logging.LogRecord("toolwire.test", logging.INFO, __file__, 1, message, args, None)
    made.__dict__.update(extra)
    return made


def test_a_json_line_carries_the_run_context() -> None:
    line = JsonFormatter(Redactor()).format(
        record("run ended: %s", "ok", run_id="r_1", user_id="ada", request_id="q_1"))
    entry = json.loads(line)
    assert {k: entry[k] for k in ("level", "logger", "message", "run_id", "user_id",
                                  "request_id")} == {
        "level": "INFO", "logger": "toolwire.test", "message": "run ended: ok",
        "run_id": "r_1", "user_id": "ada", "request_id": "q_1"}
    assert entry["ts"].endswith("Z")


def test_a_json_line_without_context_has_null_context_and_stays_one_line() -> None:
    try:
        raise RuntimeError("boom\nsecond line")
    except RuntimeError:
        failed = record("it failed")
        failed.exc_info = sys.exc_info()
    line = JsonFormatter(Redactor()).format(failed)
    assert "\n" not in line
    entry = json.loads(line)
    assert (entry["run_id"], entry["user_id"], entry["request_id"]) == (None, None, None)
    assert "RuntimeError: boom" in entry["exc"]


def test_a_text_line_shows_only_the_context_it_knows() -> None:
    formatter = TextFormatter(Redactor())
    assert formatter.format(record("started", run_id="r_1", user_id="ada")).endswith(
        " INFO    toolwire.test [run=r_1 user=ada] started")
    assert formatter.format(record("listening")).endswith(" INFO    toolwire.test listening")


@pytest.mark.parametrize("formatter", [JsonFormatter, TextFormatter])
@pytest.mark.parametrize("message", [
    f"token {JWT} refused",
    "header Authorization: Bearer abc.def.ghi",
    "GET /ws?access_token=abc.def.ghi&x=1",
    f"connecting with {SECRET}",
])
def test_tokens_and_secrets_never_reach_the_output(
    formatter: type[JsonFormatter | TextFormatter], message: str
) -> None:
    line = formatter(Redactor([SECRET])).format(record(message))
    for leaked in (JWT, "abc.def.ghi", SECRET):
        assert leaked not in line
    assert "[redacted]" in line


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in ("asyncio", "aiohttp.access")}
    yield
    root.handlers[:], level = saved
    root.setLevel(level)
    for name, value in levels.items():
        logging.getLogger(name).setLevel(value)


@pytest.mark.usefixtures("restore_logging")
def test_configure_logging_picks_the_format_and_quiets_asyncio_debug() -> None:
    configure_logging("DEBUG", "json", [SECRET])
    [handler] = logging.getLogger().handlers
    assert isinstance(handler.formatter, JsonFormatter)
    assert logging.getLogger().level == logging.DEBUG
    assert not logging.getLogger("asyncio").isEnabledFor(logging.DEBUG)
    configure_logging("INFO", "text")
    [handler] = logging.getLogger().handlers
    assert isinstance(handler.formatter, TextFormatter)


def test_urls_in_log_lines_lose_their_credentials_and_queries() -> None:
    line = TextFormatter(Redactor()).format(
        record("connecting to %s", "https://bot:pw-123@llm.example/v1?api-key=k-456"))
    assert "https://llm.example/v1" in line and "pw-123" not in line and "k-456" not in line


class ExpectedError(Exception):
    log_traceback = False


@pytest.mark.parametrize("formatter", [TextFormatter, JsonFormatter])
def test_an_expected_failure_is_one_line_and_a_bug_keeps_its_traceback(
    formatter: type[TextFormatter] | type[JsonFormatter],
) -> None:
    def failed(exc: Exception) -> logging.LogRecord:
        try:
            raise exc
        except Exception:
            made = record("agent failed")
            made.exc_info = sys.exc_info()
        assert ExpectedFailures().filter(made)
        return made

    expected = formatter(Redactor()).format(failed(ExpectedError("model unreachable")))
    assert "Traceback" not in expected and "\\n" not in expected and "\n" not in expected
    assert "agent failed: ExpectedError: model unreachable" in expected
    bug = formatter(Redactor()).format(failed(KeyError("oops")))
    assert "Traceback" in bug
