"""`python -m host_service [--host H] [--port P]`: run the service (toolwire under /agent)."""

from __future__ import annotations

import argparse
import logging

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from host_service.application import create_host_app


class PathOnlyAccessLogger(AbstractAccessLogger):
    """Log requests without their query string: browsers send `access_token` in it."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        """Write one access-log line."""
        self.logger.info('"%s %s" %s %.3fs', request.method, request.path, response.status, time)


def main() -> None:
    """Parse the command line and serve until interrupted (SIGINT/SIGTERM)."""
    parser = argparse.ArgumentParser(prog="host_service", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    options = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    web.run_app(create_host_app(), host=options.host, port=options.port,
                access_log_class=PathOnlyAccessLogger)


main()
