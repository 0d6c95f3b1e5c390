"""The service's own domain: a read-only catalogue of books."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Book:
    """One title in the catalogue."""

    isbn: str
    title: str
    author: str
    year: int
    copies: int

    def to_dict(self) -> dict[str, Any]:
        """Return the book as JSON-ready data."""
        return asdict(self)


BOOKS = (
    Book("9780441013593", "Dune", "Frank Herbert", 1965, 3),
    Book("9780547928227", "The Hobbit", "J. R. R. Tolkien", 1937, 0),
    Book("9780553293357", "Foundation", "Isaac Asimov", 1951, 2),
    Book("9780765326355", "The Way of Kings", "Brandon Sanderson", 2010, 1),
)


class Catalog:
    """Look books up by ISBN or by words of their title or author."""

    def __init__(self, books: tuple[Book, ...] = BOOKS) -> None:
        self._books = {book.isbn: book for book in books}

    def all(self) -> list[Book]:
        """Return every book, by title."""
        return sorted(self._books.values(), key=lambda book: book.title)

    def get(self, isbn: str) -> Book | None:
        """Return the book with `isbn`, or None."""
        return self._books.get(isbn)

    def search(self, query: str, limit: int = 5) -> list[Book]:
        """Return up to `limit` books whose title or author contains every word of `query`."""
        words = query.lower().split()
        found = [
            book for book in self.all()
            if all(word in f"{book.title} {book.author}".lower() for word in words)
        ]
        return found[:limit]


CATALOG = Catalog()
"""The catalogue the service and its agent tools share."""
