"""The aiohttp web app: the WebSocket protocol, JWT auth and the HTTP endpoints."""

from toolwire.adapters.web.access_log import PathOnlyAccessLogger
from toolwire.adapters.web.app import build_web_app, graceful_shutdown
from toolwire.adapters.web.auth import TokenVerifier
from toolwire.adapters.web.state import WebDeps

__all__ = ["PathOnlyAccessLogger", "TokenVerifier", "WebDeps", "build_web_app",
           "graceful_shutdown"]
