"""The opaque cursor of `GET /threads?before=`: where the previous page ended."""

from __future__ import annotations

import base64


def encode_cursor(updated: float, thread_id: str) -> str:
    """Return the opaque cursor that lists the threads after this one."""
    raw = f"{updated!r}|{thread_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, str]:
    """Return `(updated, thread_id)` of a cursor (raises `ValueError` when malformed)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        updated, thread_id = raw.split("|", 1)
        return float(updated), thread_id
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("not a cursor this server made") from exc
