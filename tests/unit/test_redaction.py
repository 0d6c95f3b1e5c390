"""What may be shown of a URL or a command line: never user info, query strings or tokens."""

from __future__ import annotations

import pytest

from toolwire.config import Settings
from toolwire.config.fields import secret_values
from toolwire.redaction import redact_urls, safe_argv, safe_url


@pytest.mark.parametrize(("url", "shown"), [
    ("https://user:pw@api.example/v1?api-key=k#frag", "https://api.example/v1"),
    ("http://tok@[::1]:8080/mcp?x=1", "http://[::1]:8080/mcp"),
    ("redis://:hunter2@db:6379/0", "redis://db:6379/0"),
    ("rediss://alice:pw@cache.example", "rediss://cache.example"),
    ("https://api.openai.com/v1", "https://api.openai.com/v1"),
    ("http://host:99999/x?key=1", "http://***"),  # an invalid port: nothing but the scheme
    ("not a url", "not a url"),
])
def test_urls_lose_user_info_query_and_fragment(url: str, shown: str) -> None:
    assert safe_url(url) == shown


def test_every_url_in_a_text_is_reduced() -> None:
    text = ("could not reach http://u:pw@10.0.0.1:8000/v1?api-key=abc: refused; "
            "then 'https://x.example/p?token=t' too")
    assert redact_urls(text) == ("could not reach http://10.0.0.1:8000/v1: refused; "
                                 "then 'https://x.example/p' too")


def test_argv_masks_credential_like_values_and_reduces_urls() -> None:
    argv = ["server", "--token=abc", "--api-key", "k1", "--password", "pw", "API_KEY=zzz",
            "--url", "https://u:p@h.example/x?q=1", "--verbose", "file.txt"]
    assert safe_argv(argv) == [
        "server", "--token=***", "--api-key", "***", "--password", "***", "API_KEY=***",
        "--url", "https://h.example/x", "--verbose", "file.txt"]


def test_secret_values_include_mcp_env_and_headers() -> None:
    settings = Settings(env="test", tools={"mcp_servers": [
        {"name": "a", "command": ["a"], "env": {"A_TOKEN": "env-secret-123456"}},
        {"name": "b", "url": "http://b.example/mcp",
         "headers": {"Authorization": "Bearer header-secret-654321"}}]})
    found = secret_values(settings)
    assert "env-secret-123456" in found and "Bearer header-secret-654321" in found
