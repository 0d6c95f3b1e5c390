"""Child processes of a benchmark: a server on a free port, and a throwaway redis-server."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Final

import psutil

LISTENING: Final = re.compile(r"listening on (http://\S+)")
REPO_ROOT: Final = Path(__file__).resolve().parents[1]
START_TIMEOUT_S: Final = 60.0  # a busy 2-core machine can take a while to import a server
STOP_TIMEOUT_S: Final = 15.0


class ServerProcess:
    """A server child: started, its URL read from its log, its CPU time and memory sampled."""

    def __init__(
        self,
        argv: Sequence[str],
        log_path: Path,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.argv = list(argv)
        self.log_path = log_path
        self.env = clean_env(env or {})
        self.url = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._ps: psutil.Process | None = None

    @classmethod
    def python_module(cls, module: str, log_path: Path,
                      env: Mapping[str, str] | None = None) -> ServerProcess:
        """Return a server run as `python -m module` from the repository root."""
        return cls([sys.executable, "-m", module], log_path, env)

    def spawn(self) -> None:
        """Start the process, its output going to the log file."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self._proc = subprocess.Popen(self.argv, cwd=REPO_ROOT, env=self.env, stdout=log,
                                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self._ps = psutil.Process(self._proc.pid)

    def wait_until(self, ready: Callable[[], bool]) -> None:
        """Poll `ready` until it holds; stop the process and raise if it exits or times out."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while not ready():
            if self._proc is None or self._proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{' '.join(self.argv)} did not start:\n{self.log_tail()}")
            time.sleep(0.05)

    @classmethod
    def toolwire_serve(cls, log_path: Path, env: Mapping[str, str] | None = None) -> ServerProcess:
        """Return `toolwire serve` on a free loopback port, as a user starts it."""
        return cls([sys.executable, "-m", "toolwire", "serve", "--host", "127.0.0.1",
                    "--port", "0"], log_path, env)

    def start(self) -> ServerProcess:
        """Start the process and wait for its `listening on URL` line."""
        self.spawn()

        def listening() -> bool:
            found = LISTENING.search(self.log_path.read_text(errors="replace"))
            if found:
                self.url = found.group(1)
            return found is not None

        self.wait_until(listening)
        return self

    @property
    def pid(self) -> int:
        """Return the process id."""
        assert self._proc is not None, "not started"
        return self._proc.pid

    def cpu_seconds(self) -> float:
        """Return the CPU time the process's threads, and its live children's, used so far.

        Children count for a server with worker processes (`serve --workers N`). Linux's
        per-thread schedstat counts nanoseconds; elsewhere psutil's user + system time (in
        clock ticks, 10 ms) stands in.
        """
        assert self._ps is not None, "not started"
        total = 0.0
        for process in [self._ps, *self._ps.children(recursive=True)]:
            try:
                total += schedstat_seconds(process.pid)
            except FileNotFoundError:
                continue  # a child that ended between the listing and the read
            except OSError:
                times = process.cpu_times()
                total += float(times.user + times.system)
        return total

    def rss_bytes(self) -> int:
        """Return the resident set size of the process and its children."""
        assert self._ps is not None, "not started"
        return sum(int(p.memory_info().rss)
                   for p in [self._ps, *self._ps.children(recursive=True)])

    def log_tail(self, lines: int = 30) -> str:
        """Return the end of the process's log."""
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """Send SIGTERM, wait for the exit, kill it past the timeout."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def schedstat_seconds(pid: int) -> float:
    """Return the on-CPU time of every live thread of `pid`, from /proc/PID/task/*/schedstat."""
    total_ns = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total_ns += int((task / "schedstat").read_text().split()[0])
        except FileNotFoundError:
            continue  # the thread ended between the listing and the read
    return total_ns / 1e9


def clean_env(extra: Mapping[str, str]) -> dict[str, str]:
    """Return this environment without TOOLWIRE_ variables, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOOLWIRE_")}
    env.update(extra)
    return env


def free_port() -> int:
    """Return a loopback port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisServer:
    """A redis-server child on a free loopback port, without persistence."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise FileNotFoundError("redis-server is not installed (apt-get install redis-server)")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        workdir.mkdir(parents=True, exist_ok=True)
        self.server = ServerProcess([
            binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", str(workdir),
        ], workdir / "redis.log")

    @staticmethod
    def available() -> bool:
        """Return True when a redis-server binary is installed."""
        return shutil.which("redis-server") is not None

    def start(self) -> RedisServer:
        """Start the server and wait until it answers PING."""
        self.server.spawn()
        self.server.wait_until(self.answers)
        return self

    def answers(self) -> bool:
        """Return True when the server replies to PING."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """Stop the server."""
        self.server.stop()
