"""`AuthError`: why a request is not authenticated."""


class AuthError(Exception):
    """The request carries no token, or one that does not verify."""
