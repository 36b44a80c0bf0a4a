"""Test infrastructure: real MariaDB, real Redis and a real Kafka-protocol broker.

- MariaDB/MySQL: TEST_DATABASE_URL (default mysql+asyncmy://root@127.0.0.1:3306/promo_test_{service});
  each service gets its own database, dropped and migrated once per session.
- Redis: TEST_REDIS_URL (default redis://127.0.0.1:6379/15); tests use their own keys.
- Kafka: TEST_KAFKA_BOOTSTRAP_SERVERS, or a Tansu broker started for the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from promo.embedded import start_tansu
from shared.auth import Role, issue_token
from shared.db import ensure_database
from shared.settings import CommonSettings, Env

DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "mysql+asyncmy://root@127.0.0.1:3306/promo_test_{service}")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    external = os.environ.get("TEST_KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external
        return
    broker = start_tansu()
    yield broker.url
    broker.stop()


MYSQL_CONNECTIONS = 1000


@pytest.fixture(scope="session", autouse=True)
def enough_database_connections() -> None:
    """A test session runs every service side by side in one process, each with its own pool (and
    the end-to-end suites run whole processes on top): more than MariaDB's default 151 connections.
    The test server is ours to configure; production sizes its own."""
    parsed = make_url(DATABASE_URL.replace("{service}", "x"))
    if parsed.get_backend_name() != "mysql":
        return

    async def raise_limit() -> None:
        engine = create_async_engine(parsed.set(database=""))
        try:
            async with engine.begin() as conn:
                await conn.execute(text(f"SET GLOBAL max_connections = GREATEST(@@max_connections, "
                                        f"{MYSQL_CONNECTIONS})"))
        finally:
            await engine.dispose()

    asyncio.run(raise_limit())


@pytest.fixture(scope="session")
def infra(kafka_bootstrap: str) -> dict[str, object]:
    """Settings values every test app shares."""
    return {"env": Env.TEST, "redis_url": REDIS_URL, "kafka_bootstrap_servers": kafka_bootstrap,
            "kafka_enable_idempotence": False, "log_json": False, "outbox_poll_seconds": 0.1}


def database_url(service: str) -> str:
    return DATABASE_URL.replace("{service}", service)


async def drop_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "mysql":
        return
    engine = create_async_engine(parsed.set(database=""))
    async with engine.begin() as conn:
        await conn.execute(text(f"DROP DATABASE IF EXISTS `{parsed.database}`"))
    await engine.dispose()


async def recreate_database(url: str) -> None:
    await drop_database(url)
    await ensure_database(url)


async def migrated_database(service: str) -> str:
    from shared.migrations import upgrade

    url = database_url(service)
    await recreate_database(url)
    await asyncio.to_thread(upgrade, service, url)
    return url


async def clear_tables(engine, metadata, keep: tuple[str, ...] = ()) -> None:
    """Every table's rows, except `keep`'s and the named locks' (`*_mutex`: rows the migrations make)."""
    async with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            if table.name not in keep and not table.name.endswith("_mutex"):
                await conn.execute(table.delete())


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


@pytest.fixture(scope="session")
def dev_settings() -> CommonSettings:
    return CommonSettings(_env_file=None, env=Env.TEST)


def bearer(settings: CommonSettings, role: Role, subject: str | int = 1001, **claims) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(settings, subject, role, **claims)}"}


@pytest.fixture(scope="session")
def tokens(dev_settings: CommonSettings) -> dict[str, dict[str, str]]:
    return {
        "member": bearer(dev_settings, Role.MEMBER, 1001),
        "other_member": bearer(dev_settings, Role.MEMBER, 1002),
        "merchant": bearer(dev_settings, Role.MERCHANT, 2001, business_id=1),
        "admin": bearer(dev_settings, Role.ADMIN, 1),
        "service": bearer(dev_settings, Role.SERVICE, "order-service"),
    }


def asgi_client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@contextlib.asynccontextmanager
async def running_service(service: str, create_app, settings_class, infra, clock=None, **settings):
    """A service app on a freshly migrated test database, with its lifespan running."""
    url = await migrated_database(service)
    app = create_app(settings_class(_env_file=None, database_url=url, **infra, **settings), clock=clock)
    async with app.router.lifespan_context(app):
        yield app


@contextlib.asynccontextmanager
async def client_on_clean_tables(app, metadata, keep: tuple[str, ...] = ()):
    await clear_tables(app.state.engine, metadata, keep)
    async with asgi_client(app) as client:
        yield client


@contextlib.asynccontextmanager
async def serving(app):
    """`app` (lifespan already running) on a real local port, for services that call it over HTTP."""
    import uvicorn

    from promo.embedded import free_port

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning",
                                           access_log=False))
    task = asyncio.create_task(server.serve())
    for _ in range(1000):
        if server.started:
            break
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"replica on {url} exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"replica on {url} not healthy after {seconds} s")


def listening_sockets(port: int) -> set[str] | None:
    """The inodes of the sockets listening on `port` (Linux's /proc/net/tcp*), or None without /proc."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()  # sl local_address rem_address st ... uid timeout inode
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # 0A: LISTEN
                inodes.add(fields[9])
    return inodes if Path("/proc/net/tcp").exists() else None


def process_sockets(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[len("socket:["):-1])
    return inodes


def assert_own_listener(url: str, port: int, process: subprocess.Popen) -> None:
    """The process that answered healthy on `port` is `process`, alive: not something else on the
    port while `process` failed to bind it."""
    if process.poll() is not None:
        raise RuntimeError(f"replica on {url} exited with {process.returncode}")
    listening = listening_sockets(port)
    if listening is not None and not listening & process_sockets(process.pid):
        raise RuntimeError(f"replica {process.pid} does not listen on {url} (another process answers there)")


@contextlib.contextmanager
def replica_processes(settings, factory: str, count: int = 2, extra_env: dict[str, str] | None = None
                      ) -> Iterator[list[str]]:
    """`count` uvicorn processes of `factory` (module:function) on the test app's database, Redis
    and broker, with `extra_env`'s further settings; their base URLs while the block runs."""
    env = {**os.environ, "ENV": "test", "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
           "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers, "KAFKA_ENABLE_IDEMPOTENCE": "false",
           "LOG_JSON": "false", "LOG_LEVEL": "WARNING", "DATABASE_POOL_SIZE": "20", **(extra_env or {})}
    ports = [free_port() for _ in range(count)]
    processes = [subprocess.Popen([sys.executable, "-m", "uvicorn", factory, "--factory", "--host", "127.0.0.1",
                                   "--port", str(port), "--log-level", "warning", "--no-access-log"],
                                  cwd=Path(__file__).resolve().parent.parent, env=env) for port in ports]
    try:
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for url, port, process in zip(urls, ports, processes, strict=True):
            wait_healthy(url, process)
            assert_own_listener(url, port, process)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


@pytest.fixture(scope="session", autouse=True)
def scripts_keep_their_keys_on_one_slot() -> Iterator[None]:
    """Every Lua script call of every test has its keys on one Redis Cluster slot (their hash tag):
    a cluster refuses others (CROSSSLOT), one server would not say. Checked, then called as is."""
    from redis.crc import key_slot

    from shared.redis import LuaScript

    called = LuaScript.__call__

    async def checked(self, keys=None, args=None, client=None):
        slots = {key_slot(key if isinstance(key, bytes) else str(key).encode()) for key in keys or []}
        assert len(slots) <= 1, f"a script called with keys on {len(slots)} slots: {list(keys)}"
        return await called(self, keys=keys, args=args, client=client)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(LuaScript, "__call__", checked)
        yield
