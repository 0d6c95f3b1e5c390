"""An access logger that never writes query strings (they may carry `access_token`)."""

from __future__ import annotations

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger


class PathOnlyAccessLogger(AbstractAccessLogger):
    """Log `remote "METHOD path" status bytes seconds`, without the query string."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        """Write one access-log line."""
        self.logger.info(
            '%s "%s %s" %s %s %.3fs',
            request.remote, request.method, request.path, response.status,
            response.body_length, time,
        )
