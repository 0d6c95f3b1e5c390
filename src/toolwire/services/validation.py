"""One way to tell a client what was wrong with its input, without echoing the input."""

from __future__ import annotations

from pydantic import ValidationError


def describe_validation_error(error: ValidationError, *, skip_tag: bool = False) -> str:
    """Summarise as `field: problem; …`; `skip_tag` drops a discriminated union's tag."""
    parts = []
    for item in error.errors(include_input=False, include_url=False):
        loc = item["loc"][1:] if skip_tag and len(item["loc"]) > 1 else item["loc"]
        where = ".".join(str(part) for part in loc)
        parts.append(f"{where}: {item['msg']}" if where else str(item["msg"]))
    return "; ".join(parts)
