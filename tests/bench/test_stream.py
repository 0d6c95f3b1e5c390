"""The stream every server sends: the command, the marked text, burst and paced production."""

from __future__ import annotations

import time

import pytest

from benchmarks.servers.stream import MARKER, StreamCommand, marked_text, stream


def test_a_command_survives_its_json_form() -> None:
    command = StreamCommand(events=12, rate=250.5, text_chars=64)
    assert StreamCommand.from_json(command.to_json()) == command


def test_a_malformed_command_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not a stream command"):
        StreamCommand.from_json('{"events": 3}')


def test_marked_text_has_a_fixed_length_and_carries_index_and_time() -> None:
    before = time.monotonic_ns()
    text = marked_text(42, 100)
    found = MARKER.search(f'{{"data":{{"text":"{text}"}}}}')
    assert len(text) == 100
    assert found is not None
    assert int(found.group(1)) == 42
    assert before <= int(found.group(2)) <= time.monotonic_ns()


async def test_a_burst_emits_every_event_in_order() -> None:
    seen: list[int] = []

    async def emit(index: int, text: str) -> None:
        seen.append(index)

    await stream(StreamCommand(events=25, rate=0.0, text_chars=40), emit)
    assert seen == list(range(25))


async def test_a_paced_stream_keeps_to_its_rate() -> None:
    stamps: list[float] = []

    async def emit(index: int, text: str) -> None:
        stamps.append(time.monotonic())

    started = time.monotonic()
    await stream(StreamCommand(events=11, rate=200.0, text_chars=40), emit)
    assert len(stamps) == 11
    # Event 10 is due 10 / 200 s after the start, however late the loop ran the first ones
    # (a late stream catches up); asyncio may wake a timer up to its clock resolution early.
    assert stamps[-1] - started >= 10 / 200 - 0.002
