"""What the delivery client counts: drops, duplicates, latency, and each server's dialect."""

from __future__ import annotations

from benchmarks.delivery_client import (
    RawDialect,
    SocketIODialect,
    SocketTally,
    ToolwireDialect,
    summarise_trial,
)
from benchmarks.servers.raw_server import END_FRAME
from benchmarks.servers.stream import StreamCommand


def test_a_tally_counts_duplicates_drops_and_strays_apart() -> None:
    tally = SocketTally(expected=4)
    tally.record(0, sent_ns=1_000, now_ns=3_000, size=10)
    tally.record(2, sent_ns=2_000, now_ns=2_500, size=10)
    tally.record(2, sent_ns=2_000, now_ns=9_000, size=10)  # the same event again
    tally.record(7, sent_ns=2_000, now_ns=9_000, size=10)  # not one of the expected events
    assert tally.unique == 2
    assert tally.duplicates == 1
    assert tally.unexpected == 1
    assert tally.drops == 2  # events 1 and 3 never came
    assert tally.latencies_ns == [2_000, 500]  # first arrivals only
    assert tally.received == 4


def test_a_tally_counts_warm_up_events_but_keeps_no_latency_for_them() -> None:
    tally = SocketTally(expected=3, warm_up=2)
    for index in range(3):
        tally.record(index, sent_ns=0, now_ns=(index + 1) * 1_000, size=10)
    assert tally.unique == 3
    assert tally.drops == 0
    assert tally.latencies_ns == [3_000]


def test_a_trial_sums_its_sockets_and_rates_only_unique_events() -> None:
    command = StreamCommand(events=3, rate=0.0, text_chars=40)
    first, second = SocketTally(expected=3), SocketTally(expected=3)
    for index in range(3):
        first.record(index, sent_ns=0, now_ns=1_000_000, size=100)
    second.record(0, sent_ns=0, now_ns=2_000_000, size=100)
    second.record(0, sent_ns=0, now_ns=2_000_000, size=100)
    trial = summarise_trial([first, second], command, started_ns=0,
                            cpu={"server": 0.004}, client_cpu=0.0, finished=True)
    assert trial["expected"] == 6
    assert trial["unique"] == 4
    assert trial["drops"] == 2
    assert trial["duplicates"] == 1
    assert trial["frames_per_s"] == 4 / 0.002  # the last arrival was at 2 ms
    assert trial["server_us_per_frame"] == 1_000.0
    assert trial["latency_ms"]["p100"] == 2.0


def test_toolwire_dialect_reports_errors_and_runs_that_did_not_end_ok() -> None:
    dialect = ToolwireDialect()
    ok = '{"type":"agent_completed","run_id":"r","data":{"status":"ok"}}'
    failed = '{"type":"agent_completed","run_id":"r","data":{"status":"error"}}'
    assert dialect.ends(ok) and dialect.problem(ok) is None
    assert dialect.ends(failed) and dialect.problem(failed) == failed
    assert dialect.problem('{"type":"error","code":"rate_limited"}') is not None
    assert '"type": "chat"' in dialect.start_frame(StreamCommand(1, 0.0, 40))


def test_socketio_dialect_answers_pings_and_knows_its_end_event() -> None:
    dialect = SocketIODialect()
    assert dialect.reply("2") == "3"
    assert dialect.reply('42["ev",{}]') is None
    assert dialect.ends('42["end"]')
    assert not dialect.ends('42["ev",{"text":"end"}]')
    assert dialect.start_frame(StreamCommand(5, 0.0, 40)).startswith('42["start", {"events": 5')


def test_raw_dialect_ends_on_the_end_frame_only() -> None:
    dialect = RawDialect()
    assert dialect.ends(END_FRAME)
    assert not dialect.ends('{"type":"agent_thinking"}')
