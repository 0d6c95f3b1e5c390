"""`toolwire check`: the single-source-of-truth checker (stdlib `ast`, never imports the code)."""

from toolwire.checker.rules import CONSTRUCTION, LEGACY_CALL, LEGACY_IMPORT, Finding
from toolwire.checker.runner import CheckResult, check_paths
from toolwire.checker.source import SourceError, check_source

__all__ = [
    "CONSTRUCTION",
    "LEGACY_CALL",
    "LEGACY_IMPORT",
    "CheckResult",
    "Finding",
    "SourceError",
    "check_paths",
    "check_source",
]
