"""Check many files and collect findings and unreadable files."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from toolwire.checker.rules import Finding
from toolwire.checker.source import SourceError, check_source
from toolwire.checker.walk import python_files


@dataclass(slots=True)
class CheckResult:
    """Findings (in file order, then line/column), and `(path, problem)` for files not checked."""

    findings: list[Finding] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    files: int = 0

    @property
    def exit_code(self) -> int:
        """Return 2 when a file could not be checked, else 1 with findings, else 0."""
        if self.errors:
            return 2
        return 1 if self.findings else 0


def check_paths(paths: Iterable[str]) -> CheckResult:
    """Check every Python file under `paths`."""
    result = CheckResult()
    for path in python_files(paths):
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            result.errors.append((path, f"cannot read: {exc.strerror or exc}"))
            continue
        try:
            result.findings.extend(check_source(data, path))
        except SourceError as exc:
            result.errors.append((path, str(exc)))
            continue
        result.files += 1
    return result
