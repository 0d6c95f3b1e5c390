"""`python -m host_service [--host H] [--port P]`: run the service (toolwire under /agent)."""

from __future__ import annotations

import argparse
import logging

from aiohttp import web

from host_service.application import create_host_app
from toolwire import PathOnlyAccessLogger


def main() -> None:
    """Parse the command line and serve until interrupted (SIGINT/SIGTERM)."""
    parser = argparse.ArgumentParser(prog="host_service", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    options = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # Browsers send `access_token` in the WebSocket URL: log paths, never query strings.
    web.run_app(create_host_app(), host=options.host, port=options.port,
                access_log_class=PathOnlyAccessLogger)


main()
