"""What the browser tests do on the chat page and read from it, as a person would."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

SLOW = '/call echo {"text": "a"}\n/call sleep {"seconds": 1.5}\n/call echo {"text": "b"}'
SLEEP = '/call sleep {"seconds": 30}'


def open_signed_in(page: Any, url: str, user: str = "ada", thread: str = "") -> None:
    """Open the page at `url` (on chat `thread`, if given) and sign in as `user`."""
    page.goto(f"{url}/#{thread}" if thread else f"{url}/")
    page.fill("#user-id", user)
    page.click("#dev-login button")
    expect(page.locator("#status")).to_have_attribute("data-state", "connected")
    expect(page.locator("#status")).to_have_text(f"connected as {user}")


def send(page: Any, text: str) -> None:
    """Type `text` in the composer and send it."""
    page.fill("#message", text)
    page.click("#send")


def card(page: Any, n: int) -> Any:
    """Return the `n`-th card (a stored turn or a live run) of the open chat."""
    return page.locator("article.run").nth(n)


def thread_items(page: Any) -> Any:
    """Return the chats in the sidebar, top (most recently active) first."""
    return page.locator("#threads li.thread")


def seqs(run: Any) -> list[int]:
    """Return the seq of every event a card shows (an answer may show several at once)."""
    found: list[int] = run.locator("[data-seq]").evaluate_all(
        "nodes => nodes.flatMap(node => (node.dataset.seqs || node.dataset.seq)"
        ".split(' ').map(Number))")
    return found


def assert_each_event_once(run: Any) -> list[int]:
    """Every seq from 1 to the last on screen, none missing and none twice."""
    shown = seqs(run)
    assert sorted(shown) == list(range(1, len(shown) + 1)), shown
    return shown


def current_thread(page: Any) -> str:
    """Return the id of the chat open in `page` (the page keeps it in the URL's fragment)."""
    thread_id: str = page.evaluate("decodeURIComponent(location.hash.slice(1))")
    return thread_id


def titles(page: Any) -> Any:
    """Return the titles in the sidebar, top first."""
    return thread_items(page).locator(".title")
