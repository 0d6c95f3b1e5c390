"""The chat page in a real Chromium against a real `toolwire serve`: what a person sees.

Set TOOLWIRE_UPDATE_SCREENSHOT=1 to refresh docs/chat-page.png from the golden-path test.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.e2e.browser.pages import (
    SLEEP,
    SLOW,
    assert_each_event_once,
    card,
    open_signed_in,
    send,
    seqs,
    thread_items,
)
from tests.e2e.browser.proxy import DroppingProxy
from tests.e2e.browser.restartable import ServerFactory

SCREENSHOT = Path(__file__).parents[3] / "docs" / "chat-page.png"


def test_golden_path_several_runs_live_with_tools_results_and_answers(
    serve: ServerFactory, new_page: Any, tmp_path: Path,
) -> None:
    server = serve()
    page = new_page()
    open_signed_in(page, server.url)
    send(page, "what is 6*7?")
    first = card(page, 0)
    expect(first).to_have_attribute("data-status", "ok")
    expect(first.locator("li.you")).to_have_text("what is 6*7?")
    expect(first.locator("header time")).to_have_attribute(
        "datetime", re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d"))
    expect(first.locator("li.thinking")).to_have_text(
        ["This is arithmetic; calling calculator on 6*7.", "Writing the answer."])
    expect(first.locator("li.tool .name")).to_have_text("tool calculator")
    expect(first.locator("li.tool pre")).to_have_text('{ "expression": "6*7" }')
    expect(first.locator("li.tool .result .badge")).to_have_text("ok")
    expect(first.locator("li.tool .result")).to_contain_text("42")
    expect(first.locator("li.tool .result .meta")).to_have_text(re.compile(r"^[\d.]+ ms$"))
    expect(first.locator("li.answer")).to_have_count(1)
    expect(first.locator("li.answer .md")).to_have_text("6*7 = 42")
    expect(first.locator("[data-type=agent_completed] .meta")).to_have_text(
        re.compile(r"^[\d.]+ ms$"))
    assert_each_event_once(first)

    send(page, SLOW)  # a second run in the same chat
    slow = card(page, 1)
    expect(slow.locator("li.tool")).to_have_count(2)  # mid-run: in the sleep
    page.click("#new-thread")  # while it goes on, a run in a new chat
    expect(page.locator("article.run")).to_have_count(0)
    send(page, '/call calculator {"expression": "2**10"}\n'
               '/call calculator {"expression": "1/0"}')
    quick = card(page, 0)
    expect(quick).to_have_attribute("data-status", "ok")
    busy = thread_items(page).filter(has_text="what is 6*7?")
    expect(busy).to_have_attribute("data-running", "")  # several runs at once
    expect(quick.locator("li.tool .result").first).to_contain_text("1024")
    expect(quick.locator("li.tool .result").nth(1)).to_contain_text(
        "division by zero (calculation_error)")
    expect(quick.locator("li.tool .result .badge").nth(1)).to_have_text("error")
    assert_each_event_once(quick)
    expect(busy).not_to_have_attribute("data-running", "", timeout=15_000)

    busy.locator(".open").click()  # back to the first chat: its two turns, as stored
    expect(page.locator("article.run")).to_have_count(2)
    expect(card(page, 1)).to_have_attribute("data-status", "ok")
    expect(card(page, 1).locator("li.tool .result")).to_have_count(3)
    expect(card(page, 1).locator("button.cancel")).to_be_hidden()
    send(page, '/call echo {"text": "Both are **42**:\\n\\n- `6*7`\\n- `2**10 - 982`"}')
    expect(card(page, 2)).to_have_attribute("data-status", "ok")
    expect(card(page, 2).locator("li.answer .md strong")).to_have_text("42")
    expect(card(page, 2).locator("li.answer .md li code")).to_have_text(["6*7", "2**10 - 982"])

    shot = tmp_path / "chat-page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("TOOLWIRE_UPDATE_SCREENSHOT"):
        shutil.copyfile(shot, SCREENSHOT)


def test_two_tabs_of_one_user_show_the_same_runs_and_no_one_else_does(
    serve: ServerFactory, new_page: Any,
) -> None:
    server = serve()
    tab_a = new_page()
    open_signed_in(tab_a, server.url)
    tab_b = new_page(tab_a.context)
    open_signed_in(tab_b, server.url)
    bob = new_page()
    open_signed_in(bob, server.url, "bob")

    send(tab_a, "what is 6*7?")
    expect(card(tab_a, 0)).to_have_attribute("data-status", "ok")
    thread_items(tab_b).filter(has_text="what is 6*7?").locator(".open").click()  # B hears of it
    expect(card(tab_b, 0)).to_have_attribute("data-status", "ok")

    send(tab_a, SLOW.replace('"seconds": 1.5', '"seconds": 4'))
    expect(card(tab_a, 1).locator("li.tool")).to_have_count(2)  # mid-run: in the sleep
    late = new_page(tab_a.context)  # a third tab that opens while the run is going
    open_signed_in(late, server.url)
    # It opens the latest chat and shows the run going on it at once, from seq 1.
    expect(card(late, 1)).to_have_attribute("data-status", "running")
    expect(card(late, 1).locator("li.tool")).to_have_count(2)
    expect(card(late, 1).locator("li.tool .result")).to_have_count(1)  # before the sleep ends
    for tab in (tab_a, tab_b, late):
        expect(card(tab, 1)).to_have_attribute("data-status", "ok", timeout=15_000)
    shown = assert_each_event_once(card(tab_a, 1))
    assert seqs(card(tab_b, 1)) == shown
    assert sorted(seqs(card(late, 1))) == sorted(shown)  # from seq 1, though it came late
    run_id = card(tab_a, 1).get_attribute("data-run-id")
    assert card(tab_b, 1).get_attribute("data-run-id") == run_id

    send(tab_b, SLEEP)  # started in B, cancelled from A
    expect(card(tab_a, 2).locator("button.cancel")).to_be_visible()
    card(tab_a, 2).locator("button.cancel").click()
    for tab in (tab_a, tab_b):
        expect(card(tab, 2)).to_have_attribute("data-status", "cancelled")
        expect(card(tab, 2).locator("li.tool .result .badge")).to_have_text("cancelled")
        expect(card(tab, 2).locator("[data-type=agent_completed]")).to_have_text(
            "run cancelled: the run was cancelled (cancelled)")
    bob.reload()
    expect(bob.locator("#status")).to_have_attribute("data-state", "connected")
    expect(thread_items(bob)).to_have_count(0)
    assert bob.locator("article.run").count() == 0


def test_a_dropped_connection_reconnects_and_resumes_with_nothing_lost_or_doubled(
    serve: ServerFactory, new_page: Any,
) -> None:
    server = serve()
    proxy = DroppingProxy(server.port)  # the page reaches the server through a flaky path
    try:
        page = new_page()
        open_signed_in(page, f"http://127.0.0.1:{proxy.port}")
        send(page, SLOW)
        run = card(page, 0)
        expect(run.locator("li.tool .result")).to_have_count(1)  # echo a is done, sleep runs
        assert proxy.go_down() >= 1
        expect(page.locator("#status")).to_have_attribute("data-state", "reconnecting")
        # While the page cannot reach the server, the run goes on to its end: a direct tab
        # watches it finish.
        watcher = new_page()
        open_signed_in(watcher, server.url)
        expect(card(watcher, 0)).to_have_attribute("data-status", "ok", timeout=15_000)
        expect(run).to_have_attribute("data-status", "running")
        proxy.come_back()
        expect(page.locator("#status")).to_have_attribute("data-state", "connected",
                                                          timeout=15_000)
        expect(run).to_have_attribute("data-status", "ok")
        expect(run.locator("li.tool .result")).to_have_count(3)
        expect(run.locator("[data-type=agent_completed]")).to_contain_text("a\n")
        assert seqs(run) == seqs(card(watcher, 0))
        assert_each_event_once(run)

        assert proxy.go_down() >= 1  # a run that starts while the page is away...
        expect(page.locator("#status")).to_have_attribute("data-state", "reconnecting")
        send(watcher, SLEEP)
        expect(card(watcher, 1).locator("li.tool")).to_have_count(1)
        proxy.come_back()  # ...shows on the page once it is back, before the run's next event
        expect(card(page, 1)).to_have_attribute("data-status", "running", timeout=15_000)
        expect(card(page, 1).locator("li.you")).to_have_text(SLEEP)
        card(page, 1).locator("button.cancel").click()
        for tab in (page, watcher):
            expect(card(tab, 1)).to_have_attribute("data-status", "cancelled")
    finally:
        proxy.close()


def test_a_graceful_restart_mid_run_ends_the_run_visibly_then_the_page_reconnects(
    serve: ServerFactory, new_page: Any,
) -> None:
    server = serve(TOOLWIRE_RUNS__SHUTDOWN_GRACE_S="0.3")
    page = new_page()
    open_signed_in(page, server.url)
    send(page, SLEEP)
    run = card(page, 0)
    expect(run.locator("li.tool")).to_have_count(1)
    assert server.stop() == 0
    # Every event the old server published reached the page before its socket closed.
    expect(run).to_have_attribute("data-status", "cancelled")
    expect(run.locator("li.tool .result .badge")).to_have_text("cancelled")
    assert_each_event_once(run)
    expect(page.locator("#status")).not_to_have_attribute("data-state", "connected")
    server.start()
    expect(page.locator("#status")).to_have_attribute("data-state", "connected", timeout=15_000)
    send(page, "what is 6*7?")
    expect(card(page, 1)).to_have_attribute("data-status", "ok")


def test_a_crash_mid_run_shows_the_run_as_lost_after_reconnecting(
    serve: ServerFactory, new_page: Any,
) -> None:
    server = serve()
    page = new_page()
    open_signed_in(page, server.url)
    send(page, SLEEP)
    run = card(page, 0)
    expect(run.locator("li.tool")).to_have_count(1)
    shown = assert_each_event_once(run)
    server.stop(kill=True)  # the in-memory server takes its runs with it
    server.start()
    expect(page.locator("#status")).to_have_attribute("data-state", "connected", timeout=15_000)
    expect(run).to_have_attribute("data-status", "lost")
    expect(run.locator("li.failure")).to_have_text(
        "The server no longer knows this run (it restarted or the run expired); "
        f"events after #{max(shown)} were not received.")
    expect(run.locator("button.cancel")).to_be_hidden()
    send(page, "what is 6*7?")
    expect(card(page, 1)).to_have_attribute("data-status", "ok")


def test_bad_input_is_shown_as_an_error(serve: ServerFactory, new_page: Any) -> None:
    server = serve(TOOLWIRE_LIMITS__RUNS_PER_USER="1", TOOLWIRE_WS__MAX_MESSAGE_BYTES="2000")
    page = new_page()
    page.goto(f"{server.url}/")
    page.fill("#token", "not-a-token")
    page.click("#token-login button")
    expect(page.locator(".notice")).to_have_text(
        re.compile(r"^the token was rejected: invalid token \(\w+\)$"))
    expect(page.locator("#app")).to_be_hidden()
    page.fill("#user-id", "ada")
    page.click("#dev-login button")
    expect(page.locator("#status")).to_have_attribute("data-state", "connected")

    send(page, '/call calculator {oops\n/call echo {"text": "<img src=x onerror=alert(1)>"}')
    expect(card(page, 0)).to_have_attribute("data-status", "ok")
    expect(card(page, 0).locator("li.tool .result .badge").first).to_have_text("error")
    expect(card(page, 0).locator("li.tool .result").first).to_contain_text(
        "arguments are not JSON")
    expect(card(page, 0).locator("li.tool .result").nth(1)).to_contain_text(
        "<img src=x onerror=alert(1)>")
    assert card(page, 0).locator("img").count() == 0  # shown as text, never as markup

    send(page, SLEEP)
    expect(card(page, 1).locator("li.tool")).to_have_count(1)
    page.click("#new-thread")
    send(page, "hi")  # a second run at once is over limits.runs_per_user
    expect(card(page, 0)).to_have_attribute("data-status", "refused")
    expect(card(page, 0).locator(".badge")).to_have_text("not started")
    expect(card(page, 0).locator("li.failure")).to_have_text(
        re.compile(r"^at most 1 runs may go at once \(limits\.runs_per_user\).* \(rate_limited\)$"))
    expect(thread_items(page)).to_have_count(1)  # a chat whose run never started is not listed

    send(page, "x" * 3000)  # over ws.max_message_bytes: the server closes the socket 1009
    expect(card(page, 1).locator("li.failure")).to_have_text(
        "the message is too large for this server (message_too_large)")
    expect(page.locator("#status")).to_have_attribute("data-state", "connected")
    # Back in the first chat, its run goes on (resumed on the new socket) and can be cancelled.
    thread_items(page).filter(has_text="/call calculator").locator(".open").click()
    expect(card(page, 1).locator("button.cancel")).to_be_visible()
    card(page, 1).locator("button.cancel").click()
    expect(card(page, 1)).to_have_attribute("data-status", "cancelled")
    send(page, "what is 6*7?")
    expect(card(page, 2)).to_have_attribute("data-status", "ok")
