"""A real Redis Cluster for the session: three masters (no replicas) started from the machine's
`redis-server` on free local ports, nothing persisted. Tests here get it as `redis` and `infra`'s
REDIS_URL (`redis+cluster://`), so the service and gateway tests imported into this folder run on
it unchanged; `redis_cluster` kills and restarts masters.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio.cluster import RedisCluster
from redis.crc import key_slot
from sqlalchemy import make_url

from shared.clock import FixedClock
from shared.migrations import upgrade
from shared.redis import make_redis
from tests.conftest import database_url, recreate_database

MASTERS = 3


def _free_cluster_port() -> int:
    """A port whose cluster bus port (+10000) is free too."""
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port + 10000 < 65536:
            with socket.socket() as bus, contextlib.suppress(OSError):
                bus.bind(("127.0.0.1", port + 10000))
                return port
    raise RuntimeError("no free port pair for a cluster node")


class LocalCluster:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.ports = [_free_cluster_port() for _ in range(MASTERS)]
        self.processes: list[subprocess.Popen | None] = [None] * MASTERS
        self.url = "redis+cluster://" + ",".join(f"127.0.0.1:{port}" for port in self.ports)

    def start(self, node: int) -> None:
        port = self.ports[node]
        # a node that fails to answer for 1 s is marked failed; the others go on serving their slots
        argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
                "--cluster-config-file", str(self.directory / f"nodes-{port}.conf"), "--cluster-node-timeout", "1000",
                "--cluster-require-full-coverage", "no", "--save", "", "--appendonly", "no",
                "--dir", str(self.directory), "--logfile", str(self.directory / f"{port}.log"),
                "--protected-mode", "no", "--maxclients", "10000"]
        self.processes[node] = subprocess.Popen(argv)
        self._cli(port, "PING", expect="PONG")

    def create(self) -> None:
        for node in range(MASTERS):
            self.start(node)
        subprocess.run(["redis-cli", "--cluster", "create", *(f"127.0.0.1:{p}" for p in self.ports),
                        "--cluster-replicas", "0", "--cluster-yes"], check=True, capture_output=True, timeout=60)
        self.wait_ok()

    def wait_ok(self, seconds: float = 30) -> None:
        """Every running master says cluster_state:ok and agrees who is up."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            running = [port for port, p in zip(self.ports, self.processes, strict=True) if p and p.poll() is None]
            if all("cluster_state:ok" in self._cli(port, "CLUSTER", "INFO")
                   and self._cli(port, "CLUSTER", "NODES").count("fail") == 0 for port in running):
                return
            time.sleep(0.1)
        raise RuntimeError(f"the cluster is not ok after {seconds} s")

    def wait_failed(self, node: int, seconds: float = 30) -> None:
        """The other masters marked `node` failed (they stop sending its slots' clients to it only
        through redirections; the node itself is gone)."""
        deadline = time.monotonic() + seconds
        port = self.ports[node]
        others = [p for i, p in enumerate(self.ports) if i != node]
        while time.monotonic() < deadline:
            flags = [line.split()[2].split(",") for other in others
                     for line in self._cli(other, "CLUSTER", "NODES").splitlines() if f":{port}@" in line]
            if flags and all("fail" in node_flags for node_flags in flags):
                return
            time.sleep(0.1)
        raise RuntimeError(f"node {port} not marked failed after {seconds} s")

    def kill(self, node: int) -> None:
        process = self.processes[node]
        process.kill()
        process.wait(timeout=10)
        self.processes[node] = None

    def restart(self, node: int) -> None:
        """Same port, same cluster config file: it rejoins with its slots, and no keys."""
        self.start(node)
        self.wait_ok()

    def owner(self, key: str) -> int:
        """Which master (index) serves the key's slot."""
        slot = key_slot(key.encode())
        for line in self._cli(self.ports[0], "CLUSTER", "NODES").splitlines():
            fields = line.split()
            port = int(fields[1].split("@")[0].rsplit(":", 1)[1])
            for span in fields[8:]:
                first, _, last = span.partition("-")
                if not first.startswith("[") and int(first) <= slot <= int(last or first):
                    return self.ports.index(port)
        raise LookupError(f"no master serves slot {slot}")

    def stop(self) -> None:
        for process in self.processes:
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(timeout=10)

    @staticmethod
    def _cli(port: int, *args: str, expect: str | None = None, seconds: float = 10) -> str:
        deadline = time.monotonic() + seconds
        while True:
            done = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port), *args], capture_output=True,
                                  text=True, timeout=10)
            if expect is None or done.stdout.strip() == expect:
                return done.stdout
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis on {port}: {args} answered {done.stdout!r} {done.stderr!r}")
            time.sleep(0.05)


@pytest.fixture(scope="session")
def redis_cluster() -> LocalCluster:
    if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
        pytest.skip("redis-server / redis-cli not installed (Debian's redis-server package; .ci/run installs it)")
    with tempfile.TemporaryDirectory(prefix="promo-cluster-") as directory:
        cluster = LocalCluster(Path(directory))
        try:
            cluster.create()
            yield cluster
        finally:
            cluster.stop()


@pytest.fixture(scope="session")
def infra(infra, redis_cluster: LocalCluster) -> dict[str, object]:
    """The session's settings, REDIS_URL naming the cluster."""
    return {**infra, "redis_url": redis_cluster.url}


@pytest.fixture
async def redis(redis_cluster: LocalCluster) -> AsyncIterator[RedisCluster]:
    client = make_redis(redis_cluster.url)
    yield client
    await client.aclose()


@contextlib.asynccontextmanager
async def service_on_cluster(service: str, create_app, settings_class, infra, clock=None, **settings):
    """`tests.conftest.running_service`, on a database of its own (`<name>_cluster`), so that the
    service's own test folder, running in the same session, keeps its database; and a consumer
    group of its own."""
    url = make_url(database_url(service))
    url = url.set(database=f"{url.database}_cluster").render_as_string(hide_password=False)
    await recreate_database(url)
    await asyncio.to_thread(upgrade, service, url)
    app = create_app(settings_class(_env_file=None, database_url=url, consumer_group=f"promo-{service}-cluster",
                                    **infra, **settings), clock=clock)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="session")
async def seckill_app(infra):
    """tests/seckill/conftest.py's app, on the cluster and a database of its own."""
    from services.seckill.main import create_app
    from services.seckill.settings import SeckillSettings
    from tests.seckill.conftest import APP_SETTINGS, SALE_TIME

    clock = FixedClock(SALE_TIME)
    async with service_on_cluster("seckill", create_app, SeckillSettings, infra, clock=clock, **APP_SETTINGS) as app:
        app.state.test_clock = clock
        yield app


@pytest.fixture(scope="session")
async def coupon_app(infra):
    """tests/coupon/conftest.py's app, on the cluster and a database of its own."""
    from services.coupon.main import create_app
    from services.coupon.settings import CouponSettings

    async with service_on_cluster("coupon", create_app, CouponSettings, infra, database_pool_size=40) as app:
        yield app
