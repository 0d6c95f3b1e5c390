"""The safety policy of shared environments: what staging and production refuse to start with.

Each problem names the `TOOLWIRE_` variable to set and never echoes the offending value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from toolwire.config.settings import Settings

DEFAULT_JWT_SECRET: Final = "toolwire-development-secret-do-not-use"
MIN_SECRET_BYTES: Final = 32
MIN_SECRET_DISTINCT_BYTES: Final = 8
"""A random key of 32 bytes has far more; fewer means a repeated or typed-in pattern."""
MAX_LEEWAY_S: Final = 60.0
MAX_TOKEN_TTL_S: Final = 7 * 24 * 3600
"""The longest token lifetime production accepts (`auth.token_ttl_s`, `auth.max_token_ttl_s`)."""


def unsafe_settings(settings: Settings) -> list[str]:
    """List what `settings` may not have in their environment (none outside staging/production)."""
    if settings.env == "production":
        return unsafe_production_settings(settings)
    if settings.env == "staging":
        return _short_secret(settings)
    return []


def unsafe_production_settings(settings: Settings) -> list[str]:
    """List what makes `settings` unsafe for production, each naming the variable to set."""
    auth = settings.auth
    problems = _short_secret(settings) or _low_entropy_secret(settings)
    if auth.leeway_s > MAX_LEEWAY_S:
        problems.append(f"set TOOLWIRE_AUTH__LEEWAY_S to at most {MAX_LEEWAY_S:g} seconds "
                        "(a larger clock-skew tolerance keeps expired tokens valid)")
    for name, value in (("token_ttl_s", auth.token_ttl_s),
                        ("max_token_ttl_s", auth.max_token_ttl_s)):
        if value > MAX_TOKEN_TTL_S:
            problems.append(f"set TOOLWIRE_AUTH__{name.upper()} to at most {MAX_TOKEN_TTL_S} "
                            "seconds (7 days; a stolen token must not live longer)")
    if auth.dev_login:
        problems.append("set TOOLWIRE_AUTH__DEV_LOGIN=false (dev login is never allowed)")
    if not auth.allowed_origins:
        problems.append(
            "set TOOLWIRE_AUTH__ALLOWED_ORIGINS to the origins of your web pages "
            "(comma-separated), or to * to let any origin connect"
        )
    jwks_url = auth.jwks_url
    if jwks_url is not None and not jwks_url.startswith("https://"):
        problems.append("set TOOLWIRE_AUTH__JWKS_URL to an https:// URL (keys fetched over "
                        "plain http can be replaced on the way)")
    if settings.tools.sleep_enabled:
        problems.append("set TOOLWIRE_TOOLS__SLEEP_ENABLED=false (the sleep tool is dev-only)")
    return problems


def _short_secret(settings: Settings) -> list[str]:
    secret = settings.auth.jwt_secret.get_secret_value()
    if secret == DEFAULT_JWT_SECRET or len(secret.strip().encode()) < MIN_SECRET_BYTES:
        return [
            "set TOOLWIRE_AUTH__JWT_SECRET to a random secret of at least "
            f"{MIN_SECRET_BYTES} bytes (the default or a shorter one is not allowed)"
        ]
    return []


def _low_entropy_secret(settings: Settings) -> list[str]:
    secret = settings.auth.jwt_secret.get_secret_value().encode()
    if len(set(secret)) < MIN_SECRET_DISTINCT_BYTES:
        return [
            "set TOOLWIRE_AUTH__JWT_SECRET to a random secret (this one repeats fewer than "
            f"{MIN_SECRET_DISTINCT_BYTES} distinct characters; generate one with "
            "`python -c \"import secrets; print(secrets.token_hex(32))\"`)"
        ]
    return []
