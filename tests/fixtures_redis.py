"""Pytest fixtures that run real `redis-server`s on free loopback ports.

`redis_server` is a plain server per test, `durable_redis_server` one with AOF on (so a
restart keeps what it acknowledged), `redis_cluster_url` a 3-master Redis Cluster shared by
a module's tests and emptied before each. `secured_redis` serves the options a deployment
may need: an ACL user with a password, limited to the `toolwire:` keys and channels (the
default user off), TLS on its own port with certificates made for the test (client
certificates required), and a unix socket.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.support import free_port

_START_TIMEOUT_S = 5.0
ACL_USER = "toolwire-app"
ACL_PASSWORD = "s3cret-Pa55word"


class RedisServer:
    """A `redis-server` child process that a test may stop and start again on the same port."""

    def __init__(
        self, binary: str, workdir: Path, *, aof: bool = False, port: int | None = None,
        extra: tuple[str, ...] = (),
    ) -> None:
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._binary = binary
        self._workdir = workdir
        self._aof = aof
        self._extra = extra
        self._logfile = workdir / "redis.log"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server and wait until it answers PING."""
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        args += ["--appendonly", "yes" if self._aof else "no"]
        args += ["--dir", str(self._workdir), "--logfile", str(self._logfile), *self._extra]
        self._workdir.mkdir(parents=True, exist_ok=True)
        self._proc = subprocess.Popen(
            [self._binary, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not self.answers():
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                log = self._logfile.read_text() if self._logfile.exists() else ""
                raise RuntimeError(f"redis-server did not start on port {self.port}:\n{log}")
            time.sleep(0.01)

    def stop(self) -> None:
        """Terminate the server and wait for it to exit."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def signal(self, signum: int) -> None:
        """Send `signum` to the server (SIGSTOP freezes it, SIGCONT thaws it)."""
        assert self._proc is not None, "the server is not running"
        self._proc.send_signal(signum)

    def answers(self) -> bool:
        """Return True when the server replies to PING."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith((b"+PONG", b"-NOAUTH"))
        except OSError:
            return False


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} binary not installed (apt-get install redis-server)")
    return found


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A running `redis-server` for this test (skips when the binary is missing)."""
    server = RedisServer(_binary("redis-server"), tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def durable_redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A running `redis-server` with AOF on: a restart keeps every acknowledged write."""
    server = RedisServer(_binary("redis-server"), tmp_path, aof=True)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _free_cluster_port() -> int:
    """Return a free port whose cluster-bus port (port + 10000) is free too."""
    while True:
        port = free_port()
        if port + 10000 > 65535:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port


class RedisCluster:
    """Three `redis-server --cluster-enabled yes` masters joined by `redis-cli --cluster create`."""

    def __init__(self, workdir: Path) -> None:
        self.nodes = [
            RedisServer(_binary("redis-server"), workdir / f"node{n}", port=port, extra=(
                "--cluster-enabled", "yes", "--cluster-config-file", f"nodes-{port}.conf",
                "--cluster-node-timeout", "5000"))
            for n, port in enumerate(_free_cluster_port() for _ in range(3))
        ]
        self.url = f"redis://127.0.0.1:{self.nodes[0].port}"

    def start(self) -> None:
        """Start the nodes, create the cluster and wait until every slot is served."""
        for node in self.nodes:
            node.start()
        addresses = [f"127.0.0.1:{node.port}" for node in self.nodes]
        subprocess.run(
            [_binary("redis-cli"), "--cluster", "create", *addresses,
             "--cluster-replicas", "0", "--cluster-yes"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30)
        deadline = time.monotonic() + 20
        while not all(self._ok(node) for node in self.nodes):
            if time.monotonic() > deadline:
                raise RuntimeError("the Redis cluster did not reach cluster_state:ok")
            time.sleep(0.1)

    def flush(self) -> None:
        """Empty every node."""
        for node in self.nodes:
            self._cli(node, "FLUSHALL")

    def stop(self) -> None:
        """Stop every node."""
        for node in self.nodes:
            node.stop()

    def _ok(self, node: RedisServer) -> bool:
        return "cluster_state:ok" in self._cli(node, "CLUSTER", "INFO")

    @staticmethod
    def _cli(node: RedisServer, *command: str) -> str:
        done = subprocess.run(
            [_binary("redis-cli"), "-p", str(node.port), *command],
            check=True, capture_output=True, text=True, timeout=10)
        return done.stdout


@pytest.fixture(scope="module")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    """A 3-master Redis Cluster shared by the module's tests."""
    cluster = RedisCluster(tmp_path_factory.mktemp("redis-cluster"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def redis_cluster_url(redis_cluster: RedisCluster) -> str:
    """The URL of an emptied 3-master Redis Cluster (any node's address reaches all)."""
    redis_cluster.flush()
    return redis_cluster.url


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The URL of this test's `redis-server`: `redis://127.0.0.1:PORT/0`."""
    return redis_server.url


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """A CA, a server certificate it signed (for 127.0.0.1) and a client certificate."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path  # a CA that signed none of them


def _openssl(*args: str) -> None:
    subprocess.run([_binary("openssl"), *args], check=True, capture_output=True, timeout=60)


def _signed(workdir: Path, name: str, ca: str, ca_key: str, extension: str) -> None:
    """Make `name`.pem/`name`.key signed by `ca` with the given X.509 v3 extension."""
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{workdir}/{name}.key",
             "-out", f"{workdir}/{name}.csr", "-subj", f"/CN=toolwire test {name}")
    (workdir / f"{name}.ext").write_text(extension + "\n")
    _openssl("x509", "-req", "-in", f"{workdir}/{name}.csr", "-CA", ca, "-CAkey", ca_key,
             "-CAcreateserial", "-days", "2", "-out", f"{workdir}/{name}.pem",
             "-extfile", f"{workdir}/{name}.ext")


def make_tls_files(workdir: Path) -> TlsFiles:
    """Generate a throwaway CA and the certificates signed by it, with the openssl CLI."""
    workdir.mkdir(parents=True, exist_ok=True)
    for ca in ("ca", "other-ca"):
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                 "-keyout", f"{workdir}/{ca}.key", "-out", f"{workdir}/{ca}.pem",
                 "-subj", f"/CN=toolwire test {ca}")
    ca, ca_key = str(workdir / "ca.pem"), str(workdir / "ca.key")
    _signed(workdir, "server", ca, ca_key, "subjectAltName=IP:127.0.0.1,DNS:localhost")
    _signed(workdir, "client", ca, ca_key, "extendedKeyUsage=clientAuth")
    return TlsFiles(ca=workdir / "ca.pem", server_cert=workdir / "server.pem",
                    server_key=workdir / "server.key", client_cert=workdir / "client.pem",
                    client_key=workdir / "client.key", other_ca=workdir / "other-ca.pem")


@dataclass(frozen=True, slots=True)
class SecuredRedis:
    """One `redis-server` reachable three ways, each only with the ACL user's password."""

    tls: TlsFiles
    port: int
    tls_port: int
    unix_socket: Path

    def url(self, how: str, *, password: str = ACL_PASSWORD) -> str:
        """Return the URL of `how` (`tcp`, `tls`, `unix` or `unix-query`: the credentials as
        query parameters) signed in as the ACL user."""
        secret = quote(password, safe="")
        if how == "tls":
            return f"rediss://{ACL_USER}:{secret}@127.0.0.1:{self.tls_port}/0"
        if how == "unix":
            return f"unix://{ACL_USER}:{secret}@{self.unix_socket}?db=0"
        if how == "unix-query":
            return f"unix://{self.unix_socket}?username={ACL_USER}&password={secret}&db=0"
        return f"redis://{ACL_USER}:{secret}@127.0.0.1:{self.port}/0"


@pytest.fixture(scope="module")
def secured_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredRedis]:
    """A server with the default user off, an ACL user, TLS (client certificates required)
    and a unix socket; shared by the module's tests."""
    workdir = tmp_path_factory.mktemp("secured-redis")
    tls = make_tls_files(workdir / "tls")
    tls_port = free_port()
    unix_socket = workdir / "redis.sock"
    server = RedisServer(_binary("redis-server"), workdir / "data", extra=(
        "--user", "default", "off",
        "--user", ACL_USER, "on", f">{ACL_PASSWORD}", "~toolwire:*", "&toolwire:*", "+@all",
        "--tls-port", str(tls_port), "--tls-cert-file", str(tls.server_cert),
        "--tls-key-file", str(tls.server_key), "--tls-ca-cert-file", str(tls.ca),
        "--tls-auth-clients", "yes",
        "--unixsocket", str(unix_socket), "--unixsocketperm", "700"))
    server.start()
    try:
        yield SecuredRedis(tls, server.port, tls_port, unix_socket)
    finally:
        server.stop()
