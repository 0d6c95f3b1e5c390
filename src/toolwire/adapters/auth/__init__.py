"""Access tokens: HMAC tokens toolwire shares a secret for, and an identity provider's (JWKS)."""

from toolwire.adapters.auth.claims import Identity, scopes_of
from toolwire.adapters.auth.errors import AuthError
from toolwire.adapters.auth.jwks import JwksKeys
from toolwire.adapters.auth.tokens import TokenVerifier

__all__ = ["AuthError", "Identity", "JwksKeys", "TokenVerifier", "scopes_of"]
