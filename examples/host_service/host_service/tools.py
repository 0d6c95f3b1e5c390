"""Agent tools of this service, loaded by configuration (TOOLWIRE_TOOLS__MODULES)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from pydantic import BaseModel, Field

from host_service.catalog import CATALOG
from toolwire import ToolError, tool


class UnknownBook(ToolError):
    """No book has that ISBN."""

    error_type = "unknown_book"


@tool(name="book_search", description="Find books in the library catalogue by title or author.")
def book_search(
    query: Annotated[str, Field(min_length=1, max_length=200, description="Words to look for")],
    limit: Annotated[int, Field(ge=1, le=20, description="At most this many books")] = 5,
) -> list[dict[str, Any]]:
    """Return the matching books."""
    return [book.to_dict() for book in CATALOG.search(query, limit)]


class AvailabilityArgs(BaseModel, extra="forbid"):
    """Arguments of `book_availability`."""

    isbn: str = Field(pattern=r"^\d{13}$", description="13-digit ISBN")


@tool(name="book_availability", description="Tell how many copies of a book can be borrowed.")
async def book_availability(args: AvailabilityArgs) -> dict[str, Any]:
    """Return the number of copies on the shelf."""
    await asyncio.sleep(0)  # a real service would ask its stock database here
    book = CATALOG.get(args.isbn)
    if book is None:
        raise UnknownBook(f"no book has ISBN {args.isbn}")
    return {"isbn": book.isbn, "title": book.title, "available": book.copies}
