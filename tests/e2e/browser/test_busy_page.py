"""One run at a time per chat: what the page shows under each `threads.on_busy`."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.e2e.browser.pages import SLEEP, card, open_signed_in, send, thread_items
from tests.e2e.browser.restartable import ServerFactory


def test_a_message_to_a_busy_chat_is_refused_naming_the_run_that_holds_it(
    serve: ServerFactory, new_page: Any,
) -> None:
    server = serve()  # threads.on_busy=reject, the default
    page = new_page()
    open_signed_in(page, server.url)
    send(page, SLEEP)
    expect(card(page, 0).locator("li.tool")).to_have_count(1)
    holder = card(page, 0).get_attribute("data-run-id")
    send(page, "what is 6*7?")
    refused = card(page, 1)
    expect(refused).to_have_attribute("data-status", "refused")
    expect(refused.locator(".badge")).to_have_text("not started")
    expect(refused.locator("li.failure")).to_contain_text(str(holder))
    expect(refused.locator("li.failure")).to_contain_text("(conflict)")
    expect(thread_items(page)).to_have_count(1)
    page.reload()  # mid-run: the run shows at once; the refused message, never a turn, is gone
    expect(page.locator("#status")).to_have_attribute("data-state", "connected")
    expect(page.locator("article.run")).to_have_count(1)
    expect(card(page, 0)).to_have_attribute("data-status", "running")
    expect(card(page, 0).locator("li.tool")).to_have_count(1)
    card(page, 0).locator("button.cancel").click()
    expect(card(page, 0)).to_have_attribute("data-status", "cancelled")
    send(page, "what is 6*7?")
    expect(card(page, 1)).to_have_attribute("data-status", "ok")


def test_with_enqueue_the_next_message_starts_when_the_run_ends(
    serve: ServerFactory, new_page: Any,
) -> None:
    server = serve(TOOLWIRE_THREADS__ON_BUSY="enqueue")
    page = new_page()
    open_signed_in(page, server.url)
    send(page, SLEEP.replace("30", "1.5"))
    expect(card(page, 0).locator("li.tool")).to_have_count(1)
    send(page, "what is 6*7?")
    expect(card(page, 1)).to_have_attribute("data-status", "sending")  # waits its turn
    expect(card(page, 0)).to_have_attribute("data-status", "ok", timeout=15_000)
    expect(card(page, 1)).to_have_attribute("data-status", "ok")
    expect(card(page, 1).locator("li.answer .md")).to_have_text("6*7 = 42")


def test_with_interrupt_the_next_message_cancels_the_run_going(
    serve: ServerFactory, new_page: Any,
) -> None:
    server = serve(TOOLWIRE_THREADS__ON_BUSY="interrupt")
    page = new_page()
    open_signed_in(page, server.url)
    send(page, SLEEP)
    expect(card(page, 0).locator("li.tool")).to_have_count(1)
    send(page, "what is 6*7?")
    expect(card(page, 0)).to_have_attribute("data-status", "cancelled")
    expect(card(page, 1)).to_have_attribute("data-status", "ok")
