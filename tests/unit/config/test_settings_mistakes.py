"""Configuration mistakes are named: misspelled variables, bad JSON, broken `.env` files."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import ValidationError
from pydantic_settings.exceptions import SettingsError

from toolwire.cli import main
from toolwire.config import Settings, SettingsWarning, describe_settings_error


def test_a_misspelled_variable_warns_naming_the_closest_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TOOLWIRE_RUNS__MAX_TOOL_CALL", "8")
    with pytest.warns(SettingsWarning) as caught:
        settings = Settings()
    assert settings.runs.max_tool_calls == 32  # ignored, as the warning says
    [warning] = caught
    assert str(warning.message) == (
        "TOOLWIRE_RUNS__MAX_TOOL_CALL is not a toolwire setting and is ignored; "
        "did you mean TOOLWIRE_RUNS__MAX_TOOL_CALLS?")


@pytest.mark.parametrize(("name", "setting"), [
    ("TOOLWIRE_PORT", "TOOLWIRE_SERVER__PORT"),
    ("TOOLWIRE_HOST", "TOOLWIRE_SERVER__HOST"),
])
def test_a_variable_named_like_one_setting_suggests_that_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, setting: str,
) -> None:
    monkeypatch.setenv(name, "1")
    with pytest.warns(SettingsWarning) as caught:
        Settings()
    assert str(caught[0].message) == (
        f"{name} is not a toolwire setting and is ignored; did you mean {setting}?")


def test_a_variable_like_no_setting_warns_without_a_guess(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOOLWIRE_ZZZZZZZZZZZZ", "1")
    with pytest.warns(SettingsWarning, match=r"TOOLWIRE_ZZZZZZZZZZZZ is not a toolwire setting "
                                             r"and is ignored$"):
        Settings()


@pytest.mark.parametrize(("name", "value"), [
    ("TOOLWIRE_ENV", "test"),
    ("TOOLWIRE_LOG_FORMAT", "json"),
    ("TOOLWIRE_RUNS__MAX_TOOL_CALLS", "8"),
    ("toolwire_runs__max_tool_calls", "8"),  # variables are case-insensitive
    ("TOOLWIRE_TOOLS", '{"timeout_s": 5}'),  # a whole group as JSON
    ("TOOLWIRE_TOOLS__TIMEOUTS", '{"sleep": 1}'),
    ("TOOLWIRE_TOOLS__TIMEOUTS__SLEEP", "1"),  # one key of a mapping
    ("TOOLWIRE_TOKEN", "a.b.c"),  # read by `toolwire chat`, not a setting
])
def test_real_variables_do_not_warn(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Settings()


def test_a_misspelled_variable_in_dotenv_names_the_file() -> None:
    Path(".env").write_text("TOOLWIRE_LOG_LEVL=DEBUG\n")
    with pytest.warns(SettingsWarning) as caught:
        Settings()
    assert str(caught[0].message) == (
        f"TOOLWIRE_LOG_LEVL (in {Path('.env').resolve()}) is not a toolwire setting and is "
        "ignored; did you mean TOOLWIRE_LOG_LEVEL?")


def test_bad_json_names_the_variable_and_not_its_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOOLWIRE_TOOLS__TIMEOUTS", "{sleep: hunter2}")
    with pytest.raises(SettingsError) as caught:
        Settings()
    message = describe_settings_error(caught.value)
    assert message.startswith("invalid settings: TOOLWIRE_TOOLS__TIMEOUTS is not valid JSON: ")
    assert "hunter2" not in message


def test_bad_json_in_dotenv_names_the_variable_and_the_file() -> None:
    Path(".env").write_text("TOOLWIRE_TOOLS__TIMEOUTS={oops\n")
    with pytest.raises(SettingsError, match=r"^TOOLWIRE_TOOLS__TIMEOUTS \(in .*\.env\) is not "
                                            r"valid JSON"):
        Settings()


def test_an_invalid_value_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOOLWIRE_RUNS__MAX_TOOL_CALLS", "many")
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert describe_settings_error(caught.value).startswith(
        "invalid settings: runs.max_tool_calls (TOOLWIRE_RUNS__MAX_TOOL_CALLS): ")


def test_an_invalid_value_in_dotenv_names_the_variable_and_the_file() -> None:
    Path(".env").write_text("TOOLWIRE_RUNS__MAX_TOOL_CALLS=many\n")
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert describe_settings_error(caught.value).startswith(
        "invalid settings: runs.max_tool_calls (TOOLWIRE_RUNS__MAX_TOOL_CALLS in "
        f"{Path('.env').resolve()}): Input should be a valid integer")


def test_an_invalid_value_set_over_dotenv_names_only_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    Path(".env").write_text("TOOLWIRE_RUNS__MAX_TOOL_CALLS=8\n")
    monkeypatch.setenv("TOOLWIRE_RUNS__MAX_TOOL_CALLS", "many")
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert describe_settings_error(caught.value).startswith(
        "invalid settings: runs.max_tool_calls (TOOLWIRE_RUNS__MAX_TOOL_CALLS): ")


@pytest.mark.parametrize(("line", "problem"), [
    ('TOOLWIRE_AGENT__SYSTEM_PROMPT="Be brief.', "unterminated quote: the value opens with \" "
                                                 "and never closes it"),
    ("TOOLWIRE_AGENT__SYSTEM_PROMPT='Be brief.", "unterminated quote: the value opens with ' "
                                                 "and never closes it"),
    ('TOOLWIRE_AGENT__SYSTEM_PROMPT="Be" brief.', "text after the closing quote; a NAME=value "
                                                  "line ends with its value"),
])
def test_a_broken_quote_in_dotenv_is_reported_as_such(line: str, problem: str) -> None:
    Path(".env").write_text(f"TOOLWIRE_ENV=test\n{line}\nTOOLWIRE_LOG_LEVEL=INFO\n")
    with pytest.raises(SettingsError) as caught:
        Settings()
    assert str(caught.value) == f"{Path('.env').resolve()}, line 2: {problem}"


def test_a_garbage_dotenv_fails_naming_the_file_and_line() -> None:
    Path(".env").write_text("# settings\nTOOLWIRE_ENV=test\n\nthis is not a setting\n")
    with pytest.raises(SettingsError) as caught:
        Settings()
    assert str(caught.value) == (
        f"{Path('.env').resolve()}, line 4: not a NAME=value line")


@pytest.mark.parametrize("content", [b"\x89PNG\r\n\x1a\n\xff\xd8\x00\x10", b"A=1\x00\x00\x00"])
def test_a_binary_dotenv_fails_naming_the_file(content: bytes) -> None:
    Path(".env").write_bytes(content)
    with pytest.raises(SettingsError, match=r"^/.*/\.env is (a binary|not a utf-8 text) file"):
        Settings()


def test_the_cli_prints_one_warning_line_and_keeps_stdout_clean(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TOOLWIRE_RUNS__MAX_TOOL_CALL", "8")
    shown = CliRunner().invoke(main, ["config", "show"])
    assert shown.exit_code == 0, shown.output
    assert shown.stderr == (
        "Warning: TOOLWIRE_RUNS__MAX_TOOL_CALL is not a toolwire setting and is ignored; "
        "did you mean TOOLWIRE_RUNS__MAX_TOOL_CALLS?\n")
    assert json.loads(shown.stdout)["runs"]["max_tool_calls"] == 32


def test_the_cli_refuses_a_garbage_dotenv_naming_it() -> None:
    Path(".env").write_text("not a setting at all\n")
    shown = CliRunner().invoke(main, ["config", "show"])
    assert shown.exit_code == 1
    assert shown.stdout == ""
    assert shown.stderr == (f"Error: invalid settings: {Path('.env').resolve()}, line 1: not a "
                            "NAME=value line\n")
