"""Client frame parsing: the union on `type`, and which error code each problem gets."""

from __future__ import annotations

import json

import pytest

from toolwire.adapters.web.errors import error_code
from toolwire.adapters.web.ws.protocol import (
    PONG,
    CancelFrame,
    ChatFrame,
    ClientFrame,
    PingFrame,
    ResumeFrame,
    decode_frame,
    error_message,
    parse_frame,
    request_id_of,
)


def parse(text: str) -> ClientFrame:
    return parse_frame(decode_frame(text))


def code_of(text: str) -> tuple[str, str]:
    with pytest.raises(Exception) as caught:  # noqa: PT011 - whatever it is, it gets a code
        parse(text)
    return error_code(caught.value, user_id="ada")


def test_each_frame_type_parses_to_its_model() -> None:
    chat = parse('{"type": "chat", "message": "hi", "thread_id": "t", "request_id": "q"}')
    assert chat == ChatFrame(type="chat", message="hi", thread_id="t", request_id="q")
    assert parse('{"type": "cancel", "run_id": "r_1"}') == CancelFrame(
        type="cancel", run_id="r_1")
    assert parse('{"type": "resume", "run_id": "r_1", "after_seq": 3}') == ResumeFrame(
        type="resume", run_id="r_1", after_seq=3)
    assert isinstance(parse('{"type": "ping"}'), PingFrame)


def test_unknown_fields_are_ignored_so_identity_fields_do_nothing() -> None:
    frame = parse('{"type": "chat", "message": "hi", "user_id": "someone-else"}')
    assert not hasattr(frame, "user_id")


@pytest.mark.parametrize(("text", "code"), [
    ("{", "invalid_json"),
    ("", "invalid_json"),
    ("[]", "invalid_message"),
    ('"chat"', "invalid_message"),
    ('{"type": null}', "invalid_message"),
    ('{"type": "nope"}', "unknown_type"),
    ('{"type": "chat", "message": ["x"]}', "invalid_message"),
    ('{"type": "chat", "message": ""}', "invalid_message"),
    ('{"type": "resume", "run_id": "r", "after_seq": 1.5}', "invalid_message"),
    ('{"type": "resume", "run_id": "r", "after_seq": -1}', "invalid_message"),
    ('{"type": "resume", "run_id": "r", "after_seq": true}', "invalid_message"),
    ('{"type": "cancel", "run_id": ""}', "invalid_message"),
    ('{"type": "cancel", "run_id": "' + "r" * 201 + '"}', "invalid_message"),
    ('{"type": "chat", "message": "\\ud800"}', "invalid_message"),  # lone surrogate escape
    ('{"type": "chat", "message": "\\udc00x"}', "invalid_message"),
    ('{"type": "ping", "x": ' + "[" * 10_000 + "]" * 10_000 + "}", "invalid_message"),
    ('{"type": "resume", "run_id": "r", "after_seq": ' + "9" * 5000 + "}", "invalid_message"),
    ('{"type": "resume", "run_id": "r", "after_seq": ' + "9" * 30 + "}", "invalid_message"),
    ('{"type": "ping", "x": NaN}', "invalid_json"),
    ('{"type": "ping", "x": 1e999}', "invalid_message"),
])
def test_problems_map_to_codes(text: str, code: str) -> None:
    assert code_of(text)[0] == code


def test_a_frame_with_nul_and_astral_characters_is_fine() -> None:
    frame = parse('{"type": "chat", "message": "a\\u0000b \\ud83d\\ude00"}')
    assert isinstance(frame, ChatFrame) and frame.message == "a\x00b \U0001f600"


def test_validation_messages_name_the_field_but_not_the_input() -> None:
    code, message = code_of('{"type": "chat", "message": 12345678}')
    assert code == "invalid_message"
    assert "message" in message
    assert "12345678" not in message


def test_unexpected_exceptions_become_a_generic_error() -> None:
    code, message = error_code(KeyError("secret detail"), user_id="ada")
    assert code == "internal_error"
    assert "secret" not in message


def test_server_messages() -> None:
    assert json.loads(PONG) == {"type": "pong"}
    assert json.loads(error_message("not_found", "no run", "q")) == {
        "type": "error", "code": "not_found", "message": "no run", "request_id": "q"}
    assert "request_id" not in json.loads(error_message("not_found", "no"))
    assert request_id_of({"request_id": "q-1"}) == "q-1"
    assert request_id_of({"request_id": 5}) is None
    assert request_id_of({"request_id": "q" * 201}) is None
