"""1000 users on one real `toolwire serve`, with random cancels, disconnects and resumes.

Every user checks what reached its sockets: no event of another user's run (foreign), every
run it started well-formed and complete once its replays are merged (nothing lost), and no
`internal_error`. Deselect with `-m "not scale"`.
"""

from __future__ import annotations

import asyncio
import random
import resource
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest

from tests.e2e.served import Served, open_socket, serve
from toolwire.testing import assert_well_formed

pytestmark = [pytest.mark.scale, pytest.mark.timeout(600)]

USERS = 1000
RUNS_PER_USER = 3
MESSAGES = ["what is 6*7?", "hello there", '/call sleep {"seconds": 0.2}',
            '/call echo {"text": "tick"}\n/call clock {}', "what time is it?"]
Frame = dict[str, Any]


@dataclass
class Tally:
    """What every user saw, summed up."""

    users: int = 0
    runs: int = 0
    events: int = 0
    foreign: list[str] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    actions: Counter[str] = field(default_factory=Counter)


class User:
    """One user: a socket that chats, sometimes cancels, drops, resumes or opens a 2nd tab."""

    def __init__(self, name: str, served: Served, session: aiohttp.ClientSession,
                 owners: dict[str, str], rng: random.Random) -> None:
        self.name = name
        self.served = served
        self.session = session
        self.owners = owners  # run_id -> user, for every run any user started
        self.rng = rng
        self.frames: dict[str, dict[int, Frame]] = {}  # my runs: run_id -> seq -> event
        self.seen: list[Frame] = []  # every run event any of my sockets received

    async def play(self, tally: Tally) -> None:
        ws = await self.connect()
        for n in range(RUNS_PER_USER):
            request_id = f"{self.name}-{n}"
            await ws.send_json({"type": "chat", "message": self.rng.choice(MESSAGES),
                                "request_id": request_id})
            run_id = await self.until_started(ws, request_id, tally)
            roll = self.rng.random()
            if roll < 0.2:
                tally.actions["cancel"] += 1
                await ws.send_json({"type": "cancel", "run_id": run_id})
            elif roll < 0.4:
                tally.actions["drop and resume"] += 1
                await ws.close()
                ws = await self.connect()
                await ws.send_json({"type": "resume", "run_id": run_id,
                                    "after_seq": max(self.frames[run_id])})
            elif roll < 0.5:
                tally.actions["second tab resumes from 0"] += 1
                tab = await self.connect()
                await tab.send_json({"type": "resume", "run_id": run_id, "after_seq": 0})
                await self.read_until(tab, run_id, tally)
                await tab.close()
            await self.read_until(ws, run_id, tally)
        await ws.close()

    async def connect(self) -> aiohttp.ClientWebSocketResponse:
        return await open_socket(self.session, self.served, self.name)

    async def until_started(self, ws: aiohttp.ClientWebSocketResponse, request_id: str,
                            tally: Tally) -> str:
        while True:
            frame = await self.receive(ws, tally)
            if frame.get("type") == "agent_started" and \
                    frame["data"]["request_id"] == request_id:
                self.owners[frame["run_id"]] = self.name
                self.record(frame)
                return str(frame["run_id"])

    async def read_until(self, ws: aiohttp.ClientWebSocketResponse, run_id: str,
                         tally: Tally) -> None:
        """Read until this user holds every event of `run_id`, up to its agent_completed.

        After a resume, live events that raced the replay may come first (a live
        `agent_completed` before the replayed middle), so the end alone is not enough. A run
        still incomplete after the deadline is left for `check` to count as lost.
        """
        try:
            async with asyncio.timeout(30):
                while not self.complete(run_id):
                    await self.receive(ws, tally)
        except TimeoutError:
            pass

    def complete(self, run_id: str) -> bool:
        by_seq = self.frames.get(run_id, {})
        return bool(by_seq) and max(by_seq) == len(by_seq) and \
            by_seq[max(by_seq)]["type"] == "agent_completed"

    async def receive(self, ws: aiohttp.ClientWebSocketResponse, tally: Tally) -> Frame:
        frame: Frame = await ws.receive_json(timeout=60)
        if frame.get("type") == "error":
            tally.errors[frame["code"]] += 1
        elif "run_id" in frame:
            self.seen.append(frame)
            self.record(frame)
        return frame

    def record(self, frame: Frame) -> None:
        self.frames.setdefault(frame["run_id"], {})[frame["seq"]] = frame

    def check(self, tally: Tally) -> None:
        tally.users += 1
        for frame in self.seen:
            tally.events += 1
            owner = self.owners.get(frame["run_id"])
            if owner is not None and owner != self.name:
                tally.foreign.append(f"{self.name} got seq {frame['seq']} of {owner}'s run")
        for run_id, by_seq in self.frames.items():
            if self.owners.get(run_id) != self.name:
                continue
            tally.runs += 1
            run = [by_seq[seq] for seq in sorted(by_seq)]
            if sorted(by_seq) != list(range(1, len(by_seq) + 1)) or \
                    run[-1]["type"] != "agent_completed":
                tally.lost.append(f"{run_id}: {sorted(by_seq)}")
                continue
            try:
                assert_well_formed(run)
            except AssertionError as exc:
                tally.malformed.append(f"{run_id}: {exc}")


def enough_file_descriptors(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard), hard))


async def test_1000_users_never_see_each_others_events_and_lose_nothing() -> None:
    enough_file_descriptors(8 * USERS)  # this process and the server (it inherits the limit)
    tally = Tally()
    owners: dict[str, str] = {}
    async with serve(TOOLWIRE_LIMITS__CHATS_PER_MINUTE="1000") as served, \
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        users = [User(f"user-{n:04d}", served, session, owners, random.Random(n))
                 for n in range(USERS)]
        results = await asyncio.gather(*(user.play(tally) for user in users),
                                       return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        assert not failures, f"{len(failures)} users failed; first: {failures[0]!r}"
        for user in users:
            user.check(tally)
        tracebacks = served.tracebacks()
    print(f"\n{tally.users} users, {tally.runs} runs, {tally.events} events checked; "
          f"actions {dict(tally.actions)}; errors {dict(tally.errors)}; "
          f"{len(tally.foreign)} foreign, {len(tally.malformed)} malformed, "
          f"{len(tally.lost)} lost")
    assert tally.runs == USERS * RUNS_PER_USER
    assert not tally.foreign, tally.foreign[:5]
    assert not tally.malformed, tally.malformed[:5]
    assert not tally.lost, tally.lost[:5]
    assert not tally.errors, tally.errors
    assert not tracebacks
