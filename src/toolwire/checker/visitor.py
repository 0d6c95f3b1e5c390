"""One AST pass over one module, collecting TW001 to TW003 findings (positions as AST offsets)."""

from __future__ import annotations

import ast
from collections.abc import Callable

from toolwire.checker.rules import (
    CONSTRUCTION,
    CONTAINER_OWNED,
    LEGACY_CALL,
    LEGACY_CALLABLES,
    LEGACY_IMPORT,
    LEGACY_METHODS,
    LEGACY_MODULE,
    construction_message,
    legacy_call_message,
    legacy_import_message,
)

Report = Callable[[int, int, str, str], None]
"""Receives `(lineno, utf8_col_offset, code, message)` for each finding."""


def _is_legacy_module(name: str) -> bool:
    return name == LEGACY_MODULE or name.startswith(LEGACY_MODULE + ".")


class CheckVisitor(ast.NodeVisitor):
    """Finds construction of container-owned classes, legacy imports and legacy calls."""

    def __init__(self, report: Report, *, allow_construction: bool) -> None:
        self._report = report
        self._allow_construction = allow_construction
        self._aliases: dict[str, str] = {}

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if _is_legacy_module(alias.name):
                self._report(alias.lineno, alias.col_offset, LEGACY_IMPORT,
                             legacy_import_message(alias.name))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        for alias in node.names:
            if alias.asname:
                self._aliases[alias.asname] = alias.name
            if node.level:
                continue
            if module == "toolwire" and alias.name == "legacy":
                self._report(alias.lineno, alias.col_offset, LEGACY_IMPORT,
                             legacy_import_message(LEGACY_MODULE))
            elif _is_legacy_module(module):
                self._report(alias.lineno, alias.col_offset, LEGACY_IMPORT,
                             legacy_import_message(alias.name))

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name):
            self._check_called(self._aliases.get(func.id, func.id), None, func.lineno,
                               func.col_offset)
        elif isinstance(func, ast.Attribute) and func.end_lineno is not None:
            col = (func.end_col_offset or 0) - len(func.attr.encode())
            self._check_called(func.attr, func.value, func.end_lineno, col)
        self.generic_visit(node)

    def _check_called(
        self, name: str, receiver: ast.expr | None, lineno: int, col: int
    ) -> None:
        if name in CONTAINER_OWNED and not self._allow_construction:
            self._report(lineno, col, CONSTRUCTION, construction_message(name))
        elif name in LEGACY_CALLABLES:
            self._report(lineno, col, LEGACY_CALL, legacy_call_message(name))
        elif name in LEGACY_METHODS and self._receiver_name(receiver) == LEGACY_METHODS[name]:
            self._report(lineno, col, LEGACY_CALL,
                         legacy_call_message(f"{LEGACY_METHODS[name]}.{name}"))

    def _receiver_name(self, receiver: ast.expr | None) -> str | None:
        if isinstance(receiver, ast.Name):
            return self._aliases.get(receiver.id, receiver.id)
        if isinstance(receiver, ast.Attribute):
            return receiver.attr
        return None
