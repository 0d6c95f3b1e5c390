"""Coalescing streamed text into a few thoughts: by size, by time, whitespace kept."""

from __future__ import annotations

import asyncio

from toolwire.adapters.llm.thoughts import ThoughtStream


def recorder() -> tuple[list[str], ThoughtStream]:
    said: list[str] = []

    async def think(text: str) -> None:
        said.append(text)

    return said, ThoughtStream(think, max_chars=10, interval_s=60)


async def test_text_is_sent_once_enough_has_waited_and_the_rest_on_flush() -> None:
    said, thoughts = recorder()
    for piece in ("one ", "two ", "three ", "four"):
        await thoughts.add(piece)
    assert said == ["one two three "]
    await thoughts.flush()
    assert said == ["one two three ", "four"]


async def test_whitespace_alone_waits_for_the_text_after_it() -> None:
    said, thoughts = recorder()
    await thoughts.add("  \n")
    await thoughts.flush()
    assert said == []
    await thoughts.add("next")
    await thoughts.flush()
    assert said == ["  \nnext"]


async def test_an_old_buffer_is_sent_on_the_next_piece() -> None:
    said: list[str] = []

    async def think(text: str) -> None:
        said.append(text)

    thoughts = ThoughtStream(think, max_chars=1000, interval_s=0.05)
    await thoughts.add("a")
    assert said == []
    await asyncio.sleep(0.06)
    await thoughts.add("b")
    assert said == ["ab"]
