"""The app-wide `AsyncOpenAI` client, configured from the `agent` settings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from toolwire.adapters.llm.errors import ModelAPIError
from toolwire.config import AgentSettings

if TYPE_CHECKING:
    from openai import AsyncOpenAI


def openai_client(agent: AgentSettings) -> Iterator[AsyncOpenAI]:
    """Resource: a client of `agent.base_url` with the settings' key, timeout and retries.

    A generator, so the container hands out the client itself rather than entering it as an
    async context manager (which would make every provider that uses it async). Closing it
    needs an `await`: `close_resources` does that. The SDK is imported here, on first use:
    it takes a second or more to import, which runs of the embedded agent need not pay.
    """
    from openai import AsyncOpenAI

    key = agent.api_key.get_secret_value() if agent.api_key else None
    yield AsyncOpenAI(
        api_key=key or _missing_key,
        base_url=agent.base_url,
        timeout=agent.request_timeout_s,
        max_retries=agent.max_retries,
    )


async def _missing_key() -> str:
    """Fail a request made without a key (building the client never fails for lack of one)."""
    raise ModelAPIError("no model API key: set TOOLWIRE_AGENT__API_KEY")
