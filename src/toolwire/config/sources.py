"""Settings sources: environment and `.env` that name the variable or file behind a mistake,
and the profile defaults `TOOLWIRE_ENV` selects."""

from __future__ import annotations

import difflib
import io
import json
import os
import re
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final

from dotenv import dotenv_values
from dotenv.parser import parse_stream
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
)
from pydantic_settings.exceptions import SettingsError

from toolwire.config.fields import walk
from toolwire.config.profiles import PROFILES

DEFAULT_ENV_FILE: Final = ".env"
_ASSIGNMENT: Final = re.compile(r"\s*(?:export\s+)?[^=\s]+\s*=\s*(?P<value>.*)", re.S)
_QUOTED: Final = {'"': re.compile(r'"(?:\\.|[^"\\])*"'), "'": re.compile(r"'(?:\\'|[^'])*'")}

OTHER_VARIABLES: Final = frozenset({"TOOLWIRE_TOKEN"})
"""Variables with the settings' prefix that are not settings (read by `toolwire chat`)."""


class SettingsWarning(UserWarning):
    """A `TOOLWIRE_` variable that no setting reads (most likely a misspelling)."""


def unknown_variables(
    settings_cls: type[BaseSettings], names: Iterable[str]
) -> list[tuple[str, str | None]]:
    """Return `(variable, closest real variable or None)` for each name no setting reads."""
    prefix = str(settings_cls.model_config.get("env_prefix") or "").upper()
    delimiter = str(settings_cls.model_config.get("env_nested_delimiter") or "__")
    fields = list(walk(settings_cls))
    known = {field.variable for field in fields}
    open_prefixes = tuple(field.variable + delimiter for field in fields if field.takes_keys)
    unknown = []
    for name in sorted({name.upper() for name in names}):
        if not name.startswith(prefix) or name in known or name in OTHER_VARIABLES:
            continue
        if open_prefixes and name.startswith(open_prefixes):
            continue
        # `TOOLWIRE_PORT` means the one setting named `port` more likely than a close spelling
        same_leaf = [v for v in known if v.endswith(delimiter + name.removeprefix(prefix))]
        closest = same_leaf if len(same_leaf) == 1 else difflib.get_close_matches(
            name, sorted(known), n=1, cutoff=0.6)
        unknown.append((name, closest[0] if closest else None))
    return unknown


class _Explaining:
    """Mixin for env sources: warn about unknown variables, name the one holding bad JSON."""

    where = ""
    env_vars: Mapping[str, str | None]
    settings_cls: type[BaseSettings]

    def warn_about_unknown_variables(self) -> None:
        """Warn once per variable with the prefix that no setting reads."""
        for name, closest in unknown_variables(self.settings_cls, self.env_vars):
            hint = f"; did you mean {closest}?" if closest else ""
            warnings.warn(f"{name}{self.where} is not a toolwire setting and is ignored{hint}",
                          SettingsWarning, stacklevel=2)

    def __call__(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = super().__call__()  # type: ignore[misc]
        except SettingsError as exc:
            raise self._explained(exc) from None
        return data

    def _explained(self, exc: SettingsError) -> SettingsError:
        cause: BaseException | None = exc
        while cause is not None and not isinstance(cause, json.JSONDecodeError):
            cause = cause.__cause__ or cause.__context__
        if cause is None:
            return exc
        holders = sorted(name.upper() for name, value in self.env_vars.items()
                         if value == cause.doc)
        name = holders[0] if holders else "a variable"
        return SettingsError(
            f"{name}{self.where} is not valid JSON: {cause.msg} at position {cause.pos}")


class CheckedEnvSource(_Explaining, EnvSettingsSource):
    """`TOOLWIRE_…` environment variables."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        self.warn_about_unknown_variables()


class CheckedDotEnvSource(_Explaining, DotEnvSettingsSource):
    """A `.env` file that must be text of `NAME=value` lines, or absent."""

    def __init__(self, settings_cls: type[BaseSettings], env_file: str | Path) -> None:
        self.where = f" (in {Path(env_file).resolve()})"
        super().__init__(settings_cls, env_file=env_file)
        self.warn_about_unknown_variables()

    def _read_env_file(self, file_path: Path) -> Mapping[str, str | None]:
        if file_path.is_file():
            check_env_file(file_path, self.env_file_encoding or "utf-8")
        return super()._read_env_file(file_path)


def check_env_file(path: Path, encoding: str) -> None:
    """Raise `SettingsError` naming `path` unless it is text of `NAME=value` lines."""
    where = path.resolve()
    try:
        text = path.read_bytes().decode(encoding)
    except UnicodeDecodeError as exc:
        raise SettingsError(f"{where} is not a {encoding} text file (byte {exc.start} is "
                            "not text); a .env file holds NAME=value lines") from None
    except OSError as exc:
        raise SettingsError(f"cannot read {where}: {exc.strerror}") from None
    if "\0" in text:
        raise SettingsError(f"{where} is a binary file; a .env file holds NAME=value lines")
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            statement = binding.original.string
            skipped = statement[: len(statement) - len(statement.lstrip())].count("\n")
            raise SettingsError(f"{where}, line {binding.original.line + skipped}: "
                                f"{_what_is_wrong(statement)}")


def _what_is_wrong(statement: str) -> str:
    assignment = _ASSIGNMENT.match(statement)
    value = assignment["value"] if assignment else ""
    quote = value[:1]
    if quote in _QUOTED and not _QUOTED[quote].match(value):
        return f"unterminated quote: the value opens with {quote} and never closes it"
    if quote in _QUOTED:
        return "text after the closing quote; a NAME=value line ends with its value"
    return "not a NAME=value line"


def dotenv_origin(variable: str, env_file: str | Path = DEFAULT_ENV_FILE) -> Path | None:
    """Return the `.env` file a setting's value came from, or None (unset, or set in the env)."""
    path = Path(env_file)
    if variable.upper() in {name.upper() for name in os.environ} or not path.is_file():
        return None
    try:
        names = {name.upper() for name in dotenv_values(path, encoding="utf-8")}
    except (OSError, UnicodeDecodeError):
        return None
    return path.resolve() if variable.upper() in names else None


class ProfileSource(PydanticBaseSettingsSource):
    """Lowest-priority source: the defaults of the selected `TOOLWIRE_ENV` profile."""

    def __init__(
        self, settings_cls: type[BaseSettings], *env_sources: PydanticBaseSettingsSource
    ) -> None:
        super().__init__(settings_cls)
        self._env_sources = env_sources

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        env = "development"
        for source in self._env_sources:  # highest priority first
            value = source().get("env")
            if value:
                env = str(value)
                break
        return dict(PROFILES.get(env, {}))
