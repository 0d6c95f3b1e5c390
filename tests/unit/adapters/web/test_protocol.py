"""Client frame parsing: the union on `type`, and which error code each problem gets."""

from __future__ import annotations

import json

import pytest

from toolwire.adapters.web.errors import WireError, error_code
from toolwire.adapters.web.protocol import (
    CancelFrame,
    ChatFrame,
    PingFrame,
    ResumeFrame,
    error_message,
    parse_frame,
    pong_message,
    request_id_of,
)


def test_each_frame_type_parses_to_its_model() -> None:
    chat = parse_frame('{"type": "chat", "message": "hi", "thread_id": "t", "request_id": "q"}')
    assert chat == ChatFrame(type="chat", message="hi", thread_id="t", request_id="q")
    assert parse_frame('{"type": "cancel", "run_id": "r_1"}') == CancelFrame(
        type="cancel", run_id="r_1")
    assert parse_frame('{"type": "resume", "run_id": "r_1", "after_seq": 3}') == ResumeFrame(
        type="resume", run_id="r_1", after_seq=3)
    assert isinstance(parse_frame('{"type": "ping"}'), PingFrame)


def test_unknown_fields_are_ignored_so_identity_fields_do_nothing() -> None:
    frame = parse_frame('{"type": "chat", "message": "hi", "user_id": "someone-else"}')
    assert not hasattr(frame, "user_id")


@pytest.mark.parametrize(("text", "code"), [
    ("{", "invalid_json"),
    ("[]", "invalid_message"),
    ('{"type": null}', "invalid_message"),
    ('{"type": "nope"}', "unknown_type"),
    ('{"type": "chat", "message": ["x"]}', "invalid_message"),
    ('{"type": "resume", "run_id": "r", "after_seq": 1.5}', "invalid_message"),
    ('{"type": "cancel", "run_id": ""}', "invalid_message"),
])
def test_problems_map_to_codes(text: str, code: str) -> None:
    with pytest.raises((ValueError, WireError)) as caught:
        parse_frame(text)
    assert error_code(caught.value)[0] == code


def test_validation_messages_name_the_field_but_not_the_input() -> None:
    with pytest.raises((ValueError, WireError)) as caught:
        parse_frame('{"type": "chat", "message": 12345678}')
    code, message = error_code(caught.value)
    assert code == "invalid_message"
    assert "message" in message
    assert "12345678" not in message


def test_unexpected_exceptions_become_a_generic_error() -> None:
    code, message = error_code(KeyError("secret detail"))
    assert code == "internal_error"
    assert "secret" not in message


def test_server_messages() -> None:
    assert json.loads(pong_message()) == {"type": "pong"}
    assert json.loads(error_message("not_found", "no run", "q")) == {
        "type": "error", "code": "not_found", "message": "no run", "request_id": "q"}
    assert "request_id" not in json.loads(error_message("forbidden", "no"))
    assert request_id_of('{"request_id": "q-1"}') == "q-1"
    assert request_id_of('{"request_id": 5}') is None
    assert request_id_of("nope") is None
