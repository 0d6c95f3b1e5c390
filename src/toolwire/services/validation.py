"""One way to tell a client what was wrong with its input, without echoing the input."""

from __future__ import annotations

from pydantic import ValidationError

from toolwire.problems import problems


def describe_validation_error(error: ValidationError, *, skip_tag: bool = False) -> str:
    """Summarise as `field: problem; …`; `skip_tag` drops a discriminated union's tag."""
    parts = []
    for loc, message in problems(error):
        where = ".".join(loc[1:] if skip_tag and len(loc) > 1 else loc)
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)
