"""docs/configuration.md is generated from the Settings model and never goes stale."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from toolwire.cli import main
from toolwire.config import Settings
from toolwire.config.fields import walk
from toolwire.config.reference import REGENERATE, render_reference

PAGE = Path(__file__).parents[3] / "docs" / "configuration.md"


def test_every_setting_has_a_description() -> None:
    missing = [field.dotted for field in walk(Settings) if not field.info.description]
    assert not missing, f"add Field(description=...) to: {missing}"


def test_the_configuration_page_is_up_to_date() -> None:
    assert PAGE.read_text(encoding="utf-8") == render_reference(), (
        f"docs/configuration.md is stale: run `{REGENERATE}`")


def test_the_page_lists_every_setting_with_its_variable() -> None:
    page = PAGE.read_text(encoding="utf-8")
    for field in walk(Settings):
        if field.group is None:
            assert f"| `{field.dotted}` | `{field.variable}` |" in page


def test_the_command_prints_the_page() -> None:
    shown = CliRunner().invoke(main, ["config", "docs"])
    assert shown.exit_code == 0
    assert shown.stdout == render_reference()


class _Queue(BaseModel):
    """Where the jobs wait."""

    size: int = Field(5, ge=1, description="Jobs that may wait.")
    names: dict[str, float] = Field(default_factory=dict, description="Named | weights.")


class _Sample(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SAMPLE_", env_nested_delimiter="__")

    log_level: str = Field("INFO", description="How much to log.")
    queue: _Queue = Field(default_factory=_Queue, description="The queue.")


def test_any_settings_model_renders_with_types_defaults_and_variables() -> None:
    page = render_reference(_Sample, profiles={})
    assert "| `log_level` | `SAMPLE_LOG_LEVEL` | string | `INFO` | How much to log. |" in page
    assert "## `queue`: Where the jobs wait" in page
    assert "| `queue.size` | `SAMPLE_QUEUE__SIZE` | integer ≥ 1 | `5` | Jobs that may wait. |" \
        in page
    assert "| `queue.names` | `SAMPLE_QUEUE__NAMES` | JSON object of numbers | `{}` | " \
           "Named \\| weights. |" in page


def test_profile_defaults_are_shown_per_profile() -> None:
    page = render_reference()
    assert "| development, test: `true`; staging, production: `false` |" in page
    assert "development, test, staging: `127.0.0.1`; production: `0.0.0.0`" in page
