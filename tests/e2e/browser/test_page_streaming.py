"""A model's answer streams into the answer as it is written, and is shown once.

`toolwire serve` runs the openai agent against a scripted model on loopback that streams
its answer piece by piece, slowly enough to watch.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.e2e.browser.model import model_server, openai_env
from tests.e2e.browser.pages import assert_each_event_once, card, open_signed_in, send
from tests.e2e.browser.restartable import ServerFactory
from tests.fixtures_models import answer, tool_calls

PIECES = ["The answer ", "is **42**", ", as `6*7` ", "shows.\n\n", "- checked\n", "- twice"]


def test_the_answer_streams_in_place_and_is_shown_once(
    serve: ServerFactory, new_page: Any,
) -> None:
    steps = (tool_calls(("calculator", '{"expression": "6*7"}'), content="Let me compute."),
             answer(*PIECES, pause_s=0.4))
    with model_server(*steps) as model:
        server = serve(**openai_env(model))
        page = new_page()
        open_signed_in(page, server.url)
        send(page, "what is 6*7?")
        run = card(page, 0)
        writing = run.locator("li.answer.streaming .md")
        expect(writing).to_contain_text("The answer is 42")  # written before the run ends
        expect(writing.locator("strong")).to_have_text("42")
        expect(run).to_have_attribute("data-status", "running")
        expect(run).to_have_attribute("data-status", "ok", timeout=15_000)

        answer_text = "The answer is 42, as 6*7 shows.\nchecked\ntwice"
        expect(run.locator("li.answer")).to_have_count(1)  # once: not also as thinking
        expect(run.locator("li.answer.streaming")).to_have_count(0)
        expect(run.locator("li.answer .md")).to_have_text(answer_text.replace("\n", ""))
        expect(run.locator("li.answer .md li")).to_have_text(["checked", "twice"])
        expect(run.locator("li.thinking")).to_have_text(["Let me compute."])
        expect(run.locator("li.tool .result")).to_contain_text("42")
        assert run.locator("text=twice").count() == 1
        shown = assert_each_event_once(run)
        assert len(shown) == 5 + len(PIECES)  # started, thought, tool pair, pieces, completed

        page.reload()  # and once from the stored turn
        expect(page.locator("#status")).to_have_attribute("data-state", "connected")
        expect(card(page, 0).locator("li.answer .md li")).to_have_text(["checked", "twice"])
        expect(card(page, 0).locator("li.answer")).to_have_count(1)
