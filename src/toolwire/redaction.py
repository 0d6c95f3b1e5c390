"""What may be shown of a URL or a command line: never its credentials.

User info (`user:password@`) and query strings (`?api-key=…`) are where URLs carry secrets, so
both are stripped from every URL toolwire shows in an error, a log line or `config show`; the
arguments of a command line that look like credentials are masked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final
from urllib.parse import urlsplit, urlunsplit

MASK: Final = "***"
URL_IN_TEXT: Final = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>`]+")
SECRET_NAME: Final = re.compile(
    r"(?i)(token|secret|passw(or)?d|pwd|api[-_]?key|apikey|auth|credential|private[-_]?key)")
_FLAG_VALUE: Final = re.compile(r"^(-{1,2}[\w.-]+|[A-Za-z_][\w.-]*)=(.*)$", re.DOTALL)


def safe_url(url: str) -> str:
    """Return `url` without user info, query string or fragment (text that is no URL as is)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # an invalid port or IPv6 literal: show the scheme alone
        scheme = url.split("://", 1)[0] if "://" in url else ""
        return f"{scheme}://{MASK}" if scheme else url
    if not parts.scheme or not parts.netloc:
        return url
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def redact_urls(text: str) -> str:
    """Return `text` with every URL in it reduced by `safe_url`."""
    if "://" not in text:
        return text
    return URL_IN_TEXT.sub(_reduce, text)


def _reduce(found: re.Match[str]) -> str:
    url = found.group()
    trimmed = url.rstrip(".,;:!?)]}")  # punctuation of the sentence, not of the URL
    return safe_url(trimmed) + url[len(trimmed):]


def safe_argv(argv: Sequence[str]) -> list[str]:
    """Return a command line fit to show: credential-like values masked, URLs reduced.

    Masked: the value of `--token=…`, `API_KEY=…` and the like, and the argument after a flag
    whose name says it holds a credential (`--password x`, `-p x` is not guessed).
    """
    shown: list[str] = []
    secret_next = False
    for arg in argv:
        if secret_next:
            shown.append(MASK)
            secret_next = False
            continue
        flag_value = _FLAG_VALUE.match(arg)
        if flag_value and SECRET_NAME.search(flag_value.group(1)):
            shown.append(f"{flag_value.group(1)}={MASK}")
        elif arg.startswith("-") and SECRET_NAME.search(arg):
            shown.append(arg)
            secret_next = True
        else:
            shown.append(redact_urls(arg))
    return shown
