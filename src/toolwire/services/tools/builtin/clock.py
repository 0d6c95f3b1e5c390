"""The `clock` tool."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field

from toolwire.services.errors import ToolError
from toolwire.services.tools.spec import tool


class ClockArgs(BaseModel, extra="forbid"):
    """Arguments of `clock`."""

    tz: str | None = Field(None, max_length=64, description="IANA time zone, e.g. Europe/Paris")


class UnknownTimeZoneError(ToolError):
    """The requested time zone does not exist."""

    error_type = "unknown_time_zone"


# inline: zones are read once and cached (by zoneinfo); nothing else touches the disk
@tool(name="clock", description="Tell the current date and time, in UTC or a given time zone.",
      inline=True)
def clock(args: ClockArgs) -> dict[str, str]:
    """Return the current time as ISO 8601 with its zone."""
    zone_name = args.tz or "UTC"
    try:
        zone = UTC if zone_name == "UTC" else ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UnknownTimeZoneError(f"unknown time zone {zone_name!r}") from exc
    now = datetime.now(zone)
    return {"iso": now.isoformat(), "tz": zone_name, "time": now.strftime("%H:%M:%S")}
