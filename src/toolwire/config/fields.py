"""Walk a settings model: every setting with its dotted path and its environment variable."""

from __future__ import annotations

import types
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings


@dataclass(frozen=True, slots=True)
class SettingField:
    """One field of a settings model: a group (nested model) or a setting."""

    path: tuple[str, ...]
    info: FieldInfo
    variable: str
    group: type[BaseModel] | None

    @property
    def dotted(self) -> str:
        """Return the path as written in docs and errors, e.g. `runs.max_tool_calls`."""
        return ".".join(self.path)

    @property
    def takes_keys(self) -> bool:
        """Return True for a mapping setting, whose keys may also be set one variable each."""
        annotation = self.info.annotation
        return annotation is dict or get_origin(annotation) is dict


def nested_model(annotation: Any) -> type[BaseModel] | None:
    """Return the model class of a group field (`Model` or `Model | None`), else None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (Union, types.UnionType):
        models = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(models) == 1:
            return nested_model(models[0])
    return None


def variable_name(settings_cls: type[BaseSettings], path: tuple[str, ...]) -> str:
    """Return the environment variable of the setting at `path`, e.g. `TOOLWIRE_RUNS__MAX_…`."""
    prefix = str(settings_cls.model_config.get("env_prefix") or "")
    delimiter = str(settings_cls.model_config.get("env_nested_delimiter") or "__")
    return (prefix + delimiter.join(path)).upper()


def walk(settings_cls: type[BaseSettings]) -> Iterator[SettingField]:
    """Yield every field of `settings_cls`, depth first, each group before its settings."""
    yield from _walk(settings_cls, settings_cls, ())


def _walk(
    settings_cls: type[BaseSettings], model: type[BaseModel], parent: tuple[str, ...]
) -> Iterator[SettingField]:
    for name, info in model.model_fields.items():
        path = (*parent, name)
        group = nested_model(info.annotation)
        yield SettingField(path, info, variable_name(settings_cls, path), group)
        if group is not None:
            yield from _walk(settings_cls, group, path)


def secret_values(model: BaseModel) -> list[str]:
    """Return the value of every `SecretStr` in `model`, also in lists and mappings (for log
    masking: an MCP server's `env` and `headers` included)."""
    return list(_secrets_in([getattr(model, name) for name in type(model).model_fields]))


def _secrets_in(values: Iterable[Any]) -> Iterator[str]:
    for value in values:
        if isinstance(value, SecretStr):
            yield value.get_secret_value()
        elif isinstance(value, BaseModel):
            yield from secret_values(value)
        elif isinstance(value, dict):
            yield from _secrets_in(value.values())
        elif isinstance(value, list | tuple):
            yield from _secrets_in(value)
