"""The settings reference (docs/configuration.md), rendered from the `Settings` model itself."""

from __future__ import annotations

import json
import types
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Final, Literal, Union, get_args, get_origin

from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel, SecretStr
from pydantic_settings import BaseSettings

from toolwire.config.fields import SettingField, nested_model, walk
from toolwire.config.profiles import PROFILES
from toolwire.config.settings import Settings

REGENERATE: Final = "toolwire config docs > docs/configuration.md"

_INTRO: Final = """\
# Configuration

<!-- Generated from the Settings model by `{regenerate}`; edit the model, not this page. -->

toolwire reads its settings, highest priority first, from: arguments given to `Settings(...)`
in code; `TOOLWIRE_…` environment variables; a `.env` file in the working directory; the
defaults of the profile that `TOOLWIRE_ENV` picks (`development`, `test`, `staging`,
`production`); the built-in defaults. Where the profiles differ, the tables below give each
profile's default.

- A setting `group.name` is the variable `TOOLWIRE_GROUP__NAME` (two underscores); variable
  names are not case-sensitive. A whole group may also be given as one JSON object, e.g.
  `TOOLWIRE_RUNS='{{"max_tool_calls": 8}}'`.
- Lists take a comma-separated value or a JSON list; mappings take a JSON object (or one
  variable per key, `TOOLWIRE_TOOLS__TIMEOUTS__ECHO=2`).
- A `TOOLWIRE_…` variable that no setting reads is ignored with a warning that names the
  closest real setting; a value that does not validate, bad JSON or a `.env` file that is not
  `NAME=value` lines stops the program with a message that names the variable or the file.
- Secrets (type *secret*) are masked by `toolwire config show` and never logged; so are
  the user info and query string of every URL it shows (model, MCP and Redis URLs).
- `staging` and `production` refuse to start with the default or a short `auth.jwt_secret`;
  `production` also refuses a secret of fewer than 8 distinct characters, `auth.leeway_s`
  above 60 s, `auth.token_ttl_s` or `auth.max_token_ttl_s` above 7 days, `auth.dev_login`,
  `tools.sleep_enabled` and an unset `auth.allowed_origins`. Each refusal says which
  variable to set.

`toolwire config show` prints the resolved settings as JSON:

```console
$ TOOLWIRE_RUNS__MAX_TOOL_CALLS=8 toolwire config show | grep max_tool_calls
    "max_tool_calls": 8,
$ export TOOLWIRE_AUTH__JWT_SECRET=$(python -c "import secrets; print(secrets.token_hex(32))")
$ TOOLWIRE_ENV=staging toolwire config show | grep -E '"(log_format|jwt_secret)"'
  "jwt_secret": "**********",
  "log_format": "json",
```
"""

_UNSET: Final = object()
_CONSTRAINTS: Final = ((Ge, "≥", "ge"), (Gt, ">", "gt"), (Le, "≤", "le"), (Lt, "<", "lt"))


def render_reference(
    settings_cls: type[BaseSettings] = Settings,
    profiles: Mapping[str, Mapping[str, Any]] = PROFILES,
) -> str:
    """Return the Markdown reference of every setting of `settings_cls` under `profiles`."""
    fields = list(walk(settings_cls))
    sections = [_INTRO.format(regenerate=REGENERATE)]
    top = [field for field in fields if len(field.path) == 1 and field.group is None]
    if top:
        sections.append(_section("General", None, top, settings_cls, profiles))
    for group in (field for field in fields if field.group is not None):
        members = [field for field in fields
                   if field.path[:-1] == group.path and field.group is None]
        assert group.group is not None
        title = f"`{group.dotted}`: {_first_line(group.group.__doc__) or group.info.description}"
        sections.append(_section(title, group, members, settings_cls, profiles))
    return "\n".join(sections)


def _section(
    title: str, group: SettingField | None, members: list[SettingField],
    settings_cls: type[BaseSettings], profiles: Mapping[str, Mapping[str, Any]],
) -> str:
    lines = [f"## {title}", ""]
    if group is not None:
        lines += [f"Variables `{group.variable}__…`, or `{group.variable}` as a JSON object.", ""]
    lines += ["| setting | variable | type | default | what it does |", "|---|---|---|---|---|"]
    for field in members:
        cells = (f"`{field.dotted}`", f"`{field.variable}`", _type_name(field),
                 _defaults(field, settings_cls, profiles), field.info.description or "")
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def _type_name(field: SettingField) -> str:
    name = _describe(field.info.annotation)
    bounds = [f"{symbol} {getattr(item, attribute)}" for item in field.info.metadata
              for kind, symbol, attribute in _CONSTRAINTS if isinstance(item, kind)]
    return f"{name} {', '.join(bounds)}" if bounds else name


def _describe(annotation: Any) -> str:
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _describe(args[0])
    if origin in (Union, types.UnionType):
        kept = [arg for arg in args if arg is not type(None)]
        inner = " or ".join(_describe(arg) for arg in kept)
        return f"{inner}, optional" if len(kept) < len(args) else inner
    if origin is Literal:
        return "one of " + ", ".join(f"`{value}`" for value in args)
    if origin is list:
        item = args[0] if args else Any
        if nested_model(item) is not None:
            return "JSON list of objects"
        return f"list of {_plural(_describe(item))}"
    if origin is dict:
        return f"JSON object of {_plural(_describe(args[1]))}" if len(args) == 2 else "JSON object"
    names = {bool: "boolean", int: "integer", float: "number", str: "string",
             SecretStr: "secret", date: "date (YYYY-MM-DD)"}
    if annotation in names:
        return names[annotation]
    if nested_model(annotation) is not None:
        return "JSON object"
    return getattr(annotation, "__name__", str(annotation))


def _plural(name: str) -> str:
    """Return `name` for several: "strings", "lists of strings"."""
    head, space, rest = name.partition(" ")
    return f"{head}s{space}{rest}"


def _defaults(
    field: SettingField, settings_cls: type[BaseSettings],
    profiles: Mapping[str, Mapping[str, Any]],
) -> str:
    by_profile = {env: _default(field, profiles[env], settings_cls) for env in profiles}
    if not by_profile:
        return _default(field, {}, settings_cls)
    values = list(dict.fromkeys(by_profile.values()))
    if len(values) == 1:
        return values[0]
    return "; ".join(
        ", ".join(f"{env}" for env, shown in by_profile.items() if shown == value) + f": {value}"
        for value in values)


def _default(
    field: SettingField, profile_defaults: Mapping[str, Any], settings_cls: type[BaseSettings]
) -> str:
    profile: Any = profile_defaults
    for part in field.path:
        profile = profile.get(part, _UNSET) if isinstance(profile, Mapping) else _UNSET
    if profile is not _UNSET:
        return _show(profile)
    value: Any = settings_cls.model_construct()  # defaults only: no environment is read
    for part in field.path:
        value = getattr(value, part)
    return _show(value)


def _show(value: Any) -> str:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if value is None:
        return "unset"
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if isinstance(value, str):
        return f"`{value}`" if value else "empty"
    return f"`{json.dumps(value, default=str)}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _first_line(doc: str | None) -> str:
    return (doc or "").strip().splitlines()[0].rstrip(".") if doc else ""
