"""py-spy's collapsed stacks ranked by self and total share."""

from __future__ import annotations

from benchmarks.profiling import Profile, short_frame

COLLAPSED = """\
run (asyncio/events.py);deliver (toolwire/adapters/web/connection.py);dumps (json/__init__.py) 6
run (asyncio/events.py);deliver (toolwire/adapters/web/connection.py) 2
run (asyncio/events.py);write (asyncio/selector_events.py) 2
not a stack line
"""


def test_self_share_is_innermost_and_total_share_is_anywhere_on_the_stack() -> None:
    found = Profile(COLLAPSED)
    assert found.samples == 10
    top = found.top_self(2)
    assert [f["frame"] for f in top] == ["dumps (json/__init__.py)",
                                         "deliver (toolwire/adapters/web/connection.py)"]
    assert top[0]["self_pct"] == 60.0
    deliver = found.share("deliver (toolwire/adapters/web/connection.py)")
    assert deliver["self_pct"] == 20.0
    assert deliver["total_pct"] == 80.0
    assert [f["frame"] for f in found.top_total(5, within="toolwire/")] == [
        "deliver (toolwire/adapters/web/connection.py)"]


def test_frames_are_named_by_package_path() -> None:
    site = "send_str (/usr/lib/python3.11/site-packages/aiohttp/web_ws.py)"
    ours = "emit (/work/repo/src/toolwire/adapters/bridge.py)"
    shortened = "write (asyncio/selector_events.py)"
    assert short_frame(site) == "send_str (aiohttp/web_ws.py)"
    assert short_frame(ours) == "emit (toolwire/adapters/bridge.py)"
    assert short_frame(shortened) == shortened
    assert short_frame("<module>") == "<module>"
