"""What a pydantic validation error says, without the input it was given (it may be a secret).

The one reading of validation errors that every renderer (frames, tool arguments, HTTP
bodies, settings) builds on.
"""

from __future__ import annotations

from pydantic import ValidationError

Problem = tuple[tuple[str, ...], str]
"""Where (the location's parts) and what (the message)."""


def problems(error: ValidationError) -> list[Problem]:
    """Return each problem of `error` as (location, message), input values left out."""
    return [
        (tuple(str(part) for part in item["loc"]), str(item["msg"]).removeprefix("Value error, "))
        for item in error.errors(include_input=False, include_url=False)
    ]
