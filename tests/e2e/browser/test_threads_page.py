"""The chat page keeps conversations: a sidebar of chats, each with its stored turns.

In a real Chromium against a real `toolwire serve`: what a person sees after a reload, in a
new tab, after deleting a chat, and as another user.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.browser.pages import (
    SLEEP,
    card,
    current_thread,
    open_signed_in,
    send,
    thread_items,
    titles,
)
from tests.e2e.browser.restartable import ServerFactory
from tests.fixtures_redis import RedisServer

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")


def chat(page: Any, *messages: str, new: bool = True) -> None:
    """Send `messages` one after the other (in a new chat unless `new` is false)."""
    if new:
        page.click("#new-thread")
    for message in messages:
        count = page.locator("article.run").count()
        send(page, message)
        expect(card(page, count)).not_to_have_attribute("data-status", re.compile(
            "^(sending|running)$"), timeout=15_000)


def test_chats_are_listed_newest_first_and_a_reload_or_a_new_tab_restores_them(
    serve: ServerFactory, new_page: Any,
) -> None:
    server = serve()
    page = new_page()
    open_signed_in(page, server.url)
    expect(thread_items(page)).to_have_count(0)
    expect(page.locator("#thread-title")).to_have_text("New chat")
    chat(page, "what is 6*7?", '/call echo {"text": "second"}', new=False)
    chat(page, SLEEP.replace("30", "0.1"))
    page.click("#new-thread")
    send(page, SLEEP)
    expect(card(page, 0).locator("li.tool")).to_have_count(1)
    card(page, 0).locator("button.cancel").click()
    expect(card(page, 0)).to_have_attribute("data-status", "cancelled")
    chat(page, "what is 2+3?")
    newest_first = ["what is 2+3?", SLEEP, SLEEP.replace("30", "0.1"), "what is 6*7?"]
    expect(titles(page)).to_have_text(newest_first)
    expect(thread_items(page).first).to_have_attribute("aria-current", "true")

    page.reload()  # the same tab: the same chats, and the open one open again
    expect(page.locator("#status")).to_have_attribute("data-state", "connected")
    expect(titles(page)).to_have_text(newest_first)
    expect(page.locator("#thread-title")).to_have_text("what is 2+3?")
    expect(card(page, 0).locator("li.answer .md")).to_have_text("2+3 = 5")
    expect(thread_items(page).first.locator("time")).to_have_attribute("datetime", ISO)

    thread_items(page).nth(3).locator(".open").click()  # the first chat, as stored
    expect(page.locator("#thread-title")).to_have_text("what is 6*7?")
    expect(page.locator("article.run")).to_have_count(2)
    first, second = card(page, 0), card(page, 1)
    expect(first).to_have_attribute("data-status", "ok")
    expect(first.locator("header time")).to_have_attribute("datetime", ISO)
    expect(first.locator("li.you")).to_have_text("what is 6*7?")
    expect(first.locator("li.tool .name")).to_have_text("tool calculator")
    expect(first.locator("li.tool pre")).to_have_text('{ "expression": "6*7" }')
    expect(first.locator("li.tool .result .badge")).to_have_text("ok")
    expect(first.locator("li.tool .result")).to_contain_text("42")
    expect(first.locator("li.answer")).to_have_count(1)
    expect(first.locator("li.answer .md")).to_have_text("6*7 = 42")
    expect(second.locator("li.answer .md")).to_have_text("second")
    assert first.get_attribute("data-run-id") != second.get_attribute("data-run-id")

    thread_items(page).nth(1).locator(".open").click()  # a cancelled run is a turn too
    expect(card(page, 0)).to_have_attribute("data-status", "cancelled")
    expect(card(page, 0).locator("li.tool .result .badge")).to_have_text("cancelled")
    expect(card(page, 0).locator("li.failure")).to_contain_text("run cancelled")

    other = new_page(page.context)  # a new tab: sign in again, same chats, the latest open
    open_signed_in(other, server.url)
    expect(titles(other)).to_have_text(newest_first)
    expect(other.locator("#thread-title")).to_have_text("what is 2+3?")
    expect(card(other, 0).locator("li.answer .md")).to_have_text("2+3 = 5")
    chat(other, "what is 1+1?", new=False)  # and what it adds, the first tab lists too
    expect(titles(page)).to_have_text(newest_first)
    expect(card(page, 0).locator("li.failure")).to_contain_text("run cancelled")
    expect(titles(page).first).to_have_text("what is 2+3?")
    thread_items(page).first.locator(".open").click()
    expect(page.locator("article.run")).to_have_count(2)
    expect(card(page, 1).locator("li.answer .md")).to_have_text("1+1 = 2")


def test_a_deleted_chat_is_gone_after_a_reload_and_other_chats_stay(
    serve: ServerFactory, new_page: Any,
) -> None:
    server = serve()
    page = new_page()
    open_signed_in(page, server.url)
    chat(page, "what is 6*7?", new=False)
    chat(page, '/call echo {"text": "keep me"}')
    doomed = current_thread(page)
    delete = thread_items(page).first.locator(".delete")
    delete.click()  # the first click asks
    expect(delete).to_have_text("Delete?")
    expect(thread_items(page)).to_have_count(2)
    delete.click()
    expect(thread_items(page)).to_have_count(1)
    expect(titles(page)).to_have_text(["what is 6*7?"])
    expect(page.locator("#thread-title")).to_have_text("New chat")  # the open chat was it
    expect(page.locator("article.run")).to_have_count(0)
    assert current_thread(page) != doomed

    page.reload()
    expect(page.locator("#status")).to_have_attribute("data-state", "connected")
    expect(titles(page)).to_have_text(["what is 6*7?"])
    page.goto(f"{server.url}/#{doomed}")  # its address now opens an empty chat
    page.reload()
    expect(page.locator("#status")).to_have_attribute("data-state", "connected")
    expect(page.locator("#thread-title")).to_have_text("New chat")
    expect(page.locator(".empty")).to_be_visible()
    expect(page.locator("article.run")).to_have_count(0)


def test_another_user_never_sees_a_chat_even_under_its_id(
    serve: ServerFactory, new_page: Any,
) -> None:
    server = serve()
    ada = new_page()
    open_signed_in(ada, server.url)
    chat(ada, '/call echo {"text": "ada\'s secret"}', new=False)
    thread = current_thread(ada)

    bob = new_page()
    open_signed_in(bob, server.url, "bob", thread=thread)  # bob opens ada's chat's address
    expect(bob.locator("#thread-title")).to_have_text("New chat")
    expect(bob.locator(".empty")).to_be_visible()
    expect(thread_items(bob)).to_have_count(0)
    send(bob, "what is 6*7?")  # under the same id, bob's own chat
    expect(card(bob, 0)).to_have_attribute("data-status", "ok")
    assert current_thread(bob) == thread
    expect(titles(bob)).to_have_text(["what is 6*7?"])
    bob.reload()
    expect(bob.locator("article.run")).to_have_count(1)
    expect(bob.locator("#app")).not_to_contain_text("secret")

    ada.reload()
    expect(titles(ada)).to_have_text(["/call echo {\"text\": \"ada's secret\"}"])
    expect(ada.locator("article.run")).to_have_count(1)
    expect(ada.locator("#app")).not_to_contain_text("6*7")


def test_older_chats_come_a_page_at_a_time(serve: ServerFactory, new_page: Any) -> None:
    server = serve(TOOLWIRE_THREADS__LIST_LIMIT="2")
    page = new_page()
    open_signed_in(page, server.url)
    for n in range(3):
        chat(page, f"what is {n}+1?", new=n > 0)
    page.reload()
    expect(page.locator("#status")).to_have_attribute("data-state", "connected")
    expect(titles(page)).to_have_text(["what is 2+1?", "what is 1+1?"])
    page.click("#more-threads")
    expect(titles(page)).to_have_text(["what is 2+1?", "what is 1+1?", "what is 0+1?"])
    expect(page.locator("#more-threads")).to_be_hidden()
    thread_items(page).nth(2).locator(".open").click()
    expect(card(page, 0).locator("li.answer .md")).to_have_text("0+1 = 1")


def test_on_redis_every_instance_shows_the_same_chats_and_a_restart_keeps_them(
    serve: ServerFactory, new_page: Any, redis_server: RedisServer,
) -> None:
    env = {"TOOLWIRE_EVENTS__BACKEND": "redis", "TOOLWIRE_EVENTS__REDIS_URL": redis_server.url}
    one, two = serve(**env), serve(**env)
    page = new_page()
    open_signed_in(page, one.url)
    chat(page, "what is 6*7?", new=False)
    chat(page, '/call echo {"text": "**kept**"}')
    both = ['/call echo {"text": "**kept**"}', "what is 6*7?"]

    other = new_page()  # the same user on the other instance
    open_signed_in(other, two.url)
    expect(titles(other)).to_have_text(both)
    expect(card(other, 0).locator("li.answer .md strong")).to_have_text("kept")
    send(other, SLEEP)
    expect(card(other, 1).locator("li.tool")).to_have_count(1)
    late = new_page()  # a tab on the first instance, opened while that run goes on
    open_signed_in(late, one.url)
    expect(card(late, 1)).to_have_attribute("data-status", "running")
    card(late, 1).locator("button.cancel").click()
    expect(card(other, 1)).to_have_attribute("data-status", "cancelled")

    one.stop()
    one.start()
    page.reload()
    expect(page.locator("#status")).to_have_attribute("data-state", "connected")
    expect(titles(page)).to_have_text(both)
    expect(page.locator("article.run")).to_have_count(2)
    expect(card(page, 1)).to_have_attribute("data-status", "cancelled")
    thread_items(page).nth(1).locator(".open").click()
    expect(card(page, 0).locator("li.answer .md")).to_have_text("6*7 = 42")
