"""The aiohttp web app: the WebSocket protocol, request auth and the HTTP endpoints."""

from toolwire.adapters.web.access_log import PathOnlyAccessLogger
from toolwire.adapters.web.app import build_web_app, graceful_shutdown
from toolwire.adapters.web.state import WebDeps

__all__ = ["PathOnlyAccessLogger", "WebDeps", "build_web_app", "graceful_shutdown"]
