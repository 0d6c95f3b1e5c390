"""Answers are shown as markdown, a safe subset: nothing a run returns is ever run as code.

Every payload goes through a real run (the `echo` tool returns it, the embedded agent answers
with it, a message makes it a chat's title) and is looked at live and again from the stored
turns after a reload. A script that ran would set `window.pwned`; one that the CSP blocked
would log an error, which fails the test too (see the `new_page` fixture).
"""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import expect

from tests.e2e.browser.pages import card, open_signed_in, send, thread_items
from tests.e2e.browser.restartable import ServerFactory

PAYLOADS = [
    "<script>window.pwned = 1</script>",
    '<img src=x onerror="window.pwned = 2">',
    '<svg onload="window.pwned = 3"><circle r="9"/></svg>',
    "[click me](javascript:window.pwned=4)",
    '<a href="javascript:window.pwned=5">link</a>',
    '**<b onmouseover="window.pwned = 6">bold</b>**',
    "`<script>window.pwned = 7</script>`",
    '<iframe srcdoc="<script>parent.pwned = 8</script>"></iframe>',
    "![x](https://example.invalid/x.png) [x](data:text/html,<script>alert(9)</script>)",
]
MARKUP = "#app script, #app img, #app svg, #app iframe, #app b, #app [onerror], #app [onload]"
ANSWER = "\n".join([
    "# Result",
    "",
    "Some **bold**, *emphasis* and `code <b>`.",
    "",
    "- one",
    "- two",
    "",
    "1. first",
    "2. second",
    "",
    "```python",
    "x = 1 < 2",
    "```",
    "",
    "See [the docs](https://example.com/docs) or https://example.org/a.",
])


def echo(text: str) -> str:
    """Return the message that makes the embedded agent echo `text` through the echo tool."""
    return f"/call echo {json.dumps({'text': text})}"


def assert_nothing_ran(page: Any) -> None:
    assert page.evaluate("window.pwned") is None
    assert page.locator(MARKUP).count() == 0
    hrefs: list[str] = page.locator("#app a").evaluate_all("links => links.map(a => a.href)")
    assert all(href.startswith(("http://", "https://")) for href in hrefs), hrefs


def test_scripts_in_answers_tool_results_and_titles_never_run(
    serve: ServerFactory, new_page: Any,
) -> None:
    server = serve()
    page = new_page()
    open_signed_in(page, server.url)
    for n, payload in enumerate(PAYLOADS):
        send(page, echo(payload))
        run = card(page, n)
        expect(run).to_have_attribute("data-status", "ok")
        expect(run.locator("li.tool .result")).to_contain_text(json.dumps(payload)[1:20])
    page.click("#new-thread")
    send(page, PAYLOADS[1])  # the message itself: the title, and an answer that quotes it
    expect(card(page, 0)).to_have_attribute("data-status", "ok")
    expect(card(page, 0).locator("li.answer")).to_contain_text("onerror=")
    expect(thread_items(page).first.locator(".title")).to_have_text(PAYLOADS[1])
    code = card(page, 0).locator("li.you")
    expect(code).to_have_text(PAYLOADS[1])
    assert_nothing_ran(page)

    thread_items(page).nth(1).locator(".open").click()  # the same again, from stored turns
    expect(page.locator("article.run")).to_have_count(len(PAYLOADS))
    answers = page.locator("li.answer .md")
    expect(answers.nth(0)).to_have_text(PAYLOADS[0])
    expect(answers.nth(3)).to_have_text(PAYLOADS[3])  # a javascript: link stays text
    expect(answers.nth(6).locator("code")).to_have_text("<script>window.pwned = 7</script>")
    page.reload()
    expect(page.locator("#status")).to_have_attribute("data-state", "connected")
    expect(page.locator("article.run")).to_have_count(len(PAYLOADS))
    page.locator("li.answer").nth(5).hover()
    assert_nothing_ran(page)


def test_an_answer_is_rendered_as_markdown_live_and_from_the_stored_turn(
    serve: ServerFactory, new_page: Any,
) -> None:
    server = serve()
    page = new_page()
    open_signed_in(page, server.url)
    send(page, echo(ANSWER))
    expect(card(page, 0)).to_have_attribute("data-status", "ok")
    for view in ("live", "stored"):
        if view == "stored":
            page.reload()
            expect(page.locator("#status")).to_have_attribute("data-state", "connected")
        answer = card(page, 0).locator("li.answer .md")
        expect(answer.locator("h3")).to_have_text("Result")
        expect(answer.locator("p strong")).to_have_text("bold")
        expect(answer.locator("p em")).to_have_text("emphasis")
        expect(answer.locator("p code")).to_have_text("code <b>")
        expect(answer.locator("ul > li")).to_have_text(["one", "two"])
        expect(answer.locator("ol > li")).to_have_text(["first", "second"])
        expect(answer.locator("pre code")).to_have_text("x = 1 < 2")
        expect(answer.locator("a")).to_have_count(2)
        expect(answer.locator("a").first).to_have_text("the docs")
        expect(answer.locator("a").first).to_have_attribute("href", "https://example.com/docs")
        expect(answer.locator("a").first).to_have_attribute("rel", "noopener noreferrer nofollow")
        expect(answer.locator("a").nth(1)).to_have_attribute("href", "https://example.org/a")
        expect(card(page, 0).locator("li.answer")).to_have_count(1)


def test_a_paragraph_too_long_for_markdown_is_shown_as_plain_text(
    serve: ServerFactory, new_page: Any,
) -> None:
    server = serve()
    page = new_page()
    open_signed_in(page, server.url)
    long_text = "**a** " * 2000  # 12,000 characters: past the page's 10,000 for one paragraph
    send(page, echo(f"Short **bold**.\n\n{long_text}"))
    answer = card(page, 0).locator("li.answer .md")
    expect(answer.locator("p")).to_have_count(2)
    expect(answer.locator("strong")).to_have_text(["bold"])  # the short one only
    expect(answer.locator("p").nth(1)).to_have_text(long_text.strip())
