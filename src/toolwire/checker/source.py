"""Check one file's source: parse once, visit once, honour `# toolwire: ignore[CODE]`."""

from __future__ import annotations

import ast
import io
import os
import re
import tokenize
from pathlib import PurePath

from toolwire.checker.rules import Finding
from toolwire.checker.visitor import CheckVisitor

IGNORE_MARKER = "toolwire:"
_IGNORE = re.compile(r"#\s*toolwire:\s*ignore\[([A-Za-z0-9_,\s]+)\]")


class SourceError(Exception):
    """A file that cannot be read, decoded or parsed; the message says which and why."""


def _under(path: PurePath, *folder: str) -> bool:
    parts = path.parts
    width = len(folder)
    return any(parts[i:i + width] == folder for i in range(len(parts) - width + 1))


def ignored_codes(text: str) -> dict[int, frozenset[str]]:
    """Return, per 1-based line, the codes its `# toolwire: ignore[...]` comment silences."""
    if IGNORE_MARKER not in text:
        return {}
    found: dict[int, frozenset[str]] = {}
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    for token in tokens:
        if token.type != tokenize.COMMENT:
            continue
        match = _IGNORE.search(token.string)
        if match:
            codes = frozenset(c.strip().upper() for c in match.group(1).split(",") if c.strip())
            found[token.start[0]] = found.get(token.start[0], frozenset()) | codes
    return found


def decode(data: bytes) -> str:
    """Decode Python source honouring its coding declaration (raises `SourceError`)."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot decode: {exc}") from exc


def check_source(data: bytes, path: str) -> list[Finding]:
    """Return the findings of one module's source; `path` decides what is allowed."""
    where = PurePath(os.path.abspath(path))
    text = decode(data)
    try:
        tree = ast.parse(text, filename=path)
    except SyntaxError as exc:
        raise SourceError(f"syntax error at line {exc.lineno}: {exc.msg}") from exc
    except ValueError as exc:  # e.g. NUL bytes in the source
        raise SourceError(f"cannot parse: {exc}") from exc
    if _under(where, "toolwire", "legacy"):
        return []
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    findings: list[Finding] = []

    def report(lineno: int, offset: int, code: str, message: str) -> None:
        line = lines[lineno - 1] if lineno <= len(lines) else ""
        col = offset if line.isascii() else len(line.encode()[:offset].decode(errors="ignore"))
        findings.append(Finding(path, lineno, col + 1, code, message))

    CheckVisitor(report, allow_construction=_under(where, "toolwire", "container")).visit(tree)
    if not findings:
        return findings
    ignored = ignored_codes(text)
    return sorted(f for f in findings if f.code not in ignored.get(f.line, frozenset()))
