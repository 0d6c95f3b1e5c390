"""Sample a server with py-spy while it works, and rank where its time goes.

py-spy writes collapsed stacks (`outer;…;inner count`, idle threads left out); a function's
self share is the samples in which it is the innermost frame, its total share the samples
in which it appears at all.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
from collections import Counter
from pathlib import Path
from typing import Final, TypedDict

SAMPLE_RATE: Final = 250
_FRAME: Final = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*)\)$")


class FrameShare(TypedDict):
    """One function's share of the samples, in percent."""

    frame: str
    self_pct: float
    total_pct: float


def available() -> bool:
    """Return True when the py-spy binary is installed."""
    return shutil.which("py-spy") is not None


class Sampler:
    """py-spy attached to one process, recording collapsed stacks until stopped."""

    def __init__(self, pid: int, output: Path) -> None:
        binary = shutil.which("py-spy")
        if binary is None:
            raise FileNotFoundError("py-spy is not installed (pip install py-spy)")
        self.output = output
        output.parent.mkdir(parents=True, exist_ok=True)
        self._proc = subprocess.Popen(
            [binary, "record", "--pid", str(pid), "--format", "raw", "--nolineno",
             "--nonblocking", "--rate", str(SAMPLE_RATE), "--output", str(output)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)

    def stop(self) -> str:
        """Stop sampling (py-spy writes its file on SIGINT) and return what it said on stderr."""
        self._proc.send_signal(signal.SIGINT)
        try:
            _, err = self._proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            _, err = self._proc.communicate()
        return err.decode(errors="replace")


def short_frame(frame: str) -> str:
    """Return `function (package/module.py)` for one py-spy frame.

    py-spy already shortens file names to their package part; a full path (from a source
    tree or an unusual layout) is cut after `site-packages/` or `src/`.
    """
    found = _FRAME.match(frame.strip())
    if found is None:
        return frame.strip()
    path = found["file"]
    for anchor in ("site-packages/", "/src/"):
        if anchor in path:
            path = path.rsplit(anchor, 1)[1]
            break
    return f"{found['func']} ({path})"


class Profile:
    """Collapsed stacks counted per function: self and total samples."""

    def __init__(self, collapsed: str) -> None:
        self.own: Counter[str] = Counter()
        self.total: Counter[str] = Counter()
        self.samples = 0
        for line in collapsed.splitlines():
            stack, _, count_text = line.rpartition(" ")
            frames = [short_frame(f) for f in stack.split(";") if f.strip()]
            if not frames or not count_text.isdigit():
                continue
            count = int(count_text)
            self.samples += count
            self.own[frames[-1]] += count
            for frame in set(frames):
                self.total[frame] += count

    def share(self, frame: str) -> FrameShare:
        """Return `frame`'s self and total share of the samples."""
        samples = self.samples or 1
        return FrameShare(frame=frame, self_pct=self.own[frame] / samples * 100,
                          total_pct=self.total[frame] / samples * 100)

    def top_self(self, limit: int = 15) -> list[FrameShare]:
        """Return the functions that were innermost most often."""
        return [self.share(frame) for frame, _ in self.own.most_common(limit)]

    def top_total(self, limit: int = 15, within: str = "") -> list[FrameShare]:
        """Return the functions on the stack most often, only those whose name has `within`."""
        ranked = [frame for frame, _ in self.total.most_common() if within in frame]
        return [self.share(frame) for frame in ranked[:limit]]
