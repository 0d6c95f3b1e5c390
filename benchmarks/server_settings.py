"""The settings of every toolwire server the benchmarks start: production-like, plus a login."""

from __future__ import annotations

import secrets


def server_settings(**extra: str) -> dict[str, str]:
    """Return the TOOLWIRE_ environment of a server under test, with `extra` variables on top.

    The staging profile (INFO logs as JSON lines, no dev-only tools) with a fresh random JWT
    secret, and dev login on, so the client takes its tokens from `POST /auth/token`.
    """
    return {
        "TOOLWIRE_ENV": "staging",
        "TOOLWIRE_AUTH__JWT_SECRET": secrets.token_urlsafe(48),
        "TOOLWIRE_AUTH__DEV_LOGIN": "true",
        **extra,
    }
