"""A server's startup objects, out of the garbage collector's way."""

from __future__ import annotations

import gc

from aiohttp import web


def freeze_after_startup(app: web.Application) -> None:
    """Once `app` has started, move every object alive into the collector's permanent
    generation (`gc.freeze`).

    Modules, classes, settings and the container are most of a fresh server's tracked
    objects and live as long as it does; left in the oldest generation, every full
    collection walks them again, a pause every socket and run on the loop waits out.
    Only the server's entry points call this: an app embedded in another host leaves the
    host's collector alone.
    """

    async def freeze(_: web.Application) -> None:
        gc.collect()  # what startup left behind is freed, not kept for good
        gc.freeze()

    app.on_startup.append(freeze)
