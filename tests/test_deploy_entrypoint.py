"""deploy/entrypoint.sh run for real, without Docker: the roles the manifests and compose use
(`migrate-<service>`, `<service>`, `gateway`, `console`) on the repository's virtualenv, against MariaDB,
Redis, and the test broker, from an empty working directory (the image's /app is empty too).

tests/test_deploy_manifests.py checks the script's command lines with stand-in programs; here
the programs are the real ones: the migration creates the tables, the service and the gateway
answer /readyz and stop cleanly on SIGTERM, the console answers /healthz and /config.json, an
unknown role fails with a usage message.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from services.content.models import Base as ContentBase
from shared.migrations import alembic_config
from shared.ports import IMPLEMENTED_SERVICES
from tests.conftest import DATABASE_URL, REDIS_URL, drop_database, free_port

ENTRYPOINT = Path(__file__).resolve().parent.parent / "deploy" / "entrypoint.sh"
VENV_BIN = Path(sys.executable).parent  # python, promo and uvicorn, as on the image's PATH
SERVICE = "content"
# Its own database: the service fills in {service} itself, as in deploy/ (promo_..._content_entrypoint).
DEPLOYED_URL = DATABASE_URL.replace("{service}", "{service}_entrypoint")
SERVICE_URL = DEPLOYED_URL.replace("{service}", SERVICE)


def entrypoint_env(**extra: str) -> dict[str, str]:
    """What a container gets: a PATH with our programs and the settings, nothing from this shell."""
    return {"PATH": f"{VENV_BIN}{os.pathsep}/usr/local/bin:/usr/bin:/bin", "ENV": "test", "LOG_JSON": "false",
            "LOG_LEVEL": "WARNING", "DATABASE_URL": DEPLOYED_URL, "REDIS_URL": REDIS_URL,
            "KAFKA_ENABLE_IDEMPOTENCE": "false", **extra}


def run_entrypoint(cwd: Path, *args: str, shell: str = "sh", **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([shell, str(ENTRYPOINT), *args], cwd=cwd, env=entrypoint_env(**env),
                          capture_output=True, text=True, timeout=60, check=False)


@contextlib.contextmanager
def started(cwd: Path, *args: str, **env: str) -> Iterator[subprocess.Popen]:
    """The entrypoint in the background, its output in `process.log`; in a session of its own, so
    that whatever is left of it at the end (a child the script failed to exec) is killed too."""
    log = cwd / f"{args[0] if args else env['PROMO_COMPONENT']}.log"
    with log.open("w") as out:
        process = subprocess.Popen(["sh", str(ENTRYPOINT), *args], cwd=cwd, env=entrypoint_env(**env),
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    process.log = log
    try:
        yield process
    finally:
        stop(process)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def wait_ready(url: str, process: subprocess.Popen, seconds: float = 30, path: str = "/readyz") -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exited with {process.returncode}: {process.log.read_text()}")
        try:
            response = httpx.get(f"{url}{path}", timeout=2)
            if response.status_code == 200:
                return response.json()
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url}{path} not 200 after {seconds} s")


def stop(process: subprocess.Popen) -> int:
    """SIGTERM, as Kubernetes and compose stop a container; the exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


def command_line(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


async def tables_of(url: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT table_name FROM information_schema.tables "
                                           "WHERE table_schema = :db"), {"db": make_url(url).database})
            return {row[0] for row in rows}
    finally:
        await engine.dispose()


async def alembic_version(url: str) -> str:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(text(f"SELECT version_num FROM {SERVICE}_alembic_version"))).scalar_one()
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("app")  # empty, like the image's WORKDIR: no .env, no checkout


@pytest.fixture(scope="module")
async def migrated(workdir: Path) -> subprocess.CompletedProcess[str]:
    """migrate-content, as the pods' init container and compose's content-migrate run it."""
    await drop_database(SERVICE_URL)
    return run_entrypoint(workdir, f"migrate-{SERVICE}")


@pytest.fixture(scope="module")
def content(migrated, workdir: Path, kafka_bootstrap: str) -> Iterator[tuple[str, subprocess.Popen]]:
    assert migrated.returncode == 0, migrated.stderr
    port = free_port()
    with started(workdir, SERVICE, "--host", "127.0.0.1", "--port", str(port),
                 KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap) as process:
        yield f"http://127.0.0.1:{port}", process


async def test_migrate_role_creates_the_tables(migrated: subprocess.CompletedProcess[str]):
    assert migrated.returncode == 0, migrated.stderr
    tables = await tables_of(SERVICE_URL)
    assert set(ContentBase.metadata.tables) <= tables
    assert f"{SERVICE}_alembic_version" in tables
    head = ScriptDirectory.from_config(alembic_config(SERVICE, SERVICE_URL)).get_current_head()
    assert await alembic_version(SERVICE_URL) == head


async def test_migrate_role_again_is_a_no_op(migrated, workdir: Path):
    """Every pod start runs the init container again: at head, nothing changes."""
    before = await tables_of(SERVICE_URL)
    again = run_entrypoint(workdir, PROMO_COMPONENT=f"migrate-{SERVICE}")
    assert again.returncode == 0, again.stderr
    assert await tables_of(SERVICE_URL) == before


def test_service_role_is_ready(content: tuple[str, subprocess.Popen]):
    url, process = content
    body = wait_ready(url, process)
    assert body == {"status": "ready", "checks": {"database": "ok", "redis": "ok", "broker": "ok"}}
    # the script exec'ed: the container's main process is uvicorn itself, so it gets the signals
    assert "uvicorn services.content.main:create_app" in command_line(process.pid)
    assert httpx.get(f"{url}/app-api/content/banners", params={"position": 1}).status_code == 200


def test_gateway_role_forwards_and_stops_on_sigterm(content: tuple[str, subprocess.Popen], workdir: Path):
    upstream, service = content
    wait_ready(upstream, service)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with started(workdir, PROMO_COMPONENT="gateway", GATEWAY_HOST="127.0.0.1", GATEWAY_PORT=str(port),
                 GATEWAY_WORKERS="2", GATEWAY_SERVICES=json.dumps([SERVICE]),
                 GATEWAY_UPSTREAMS=json.dumps({SERVICE: upstream})) as gateway:
        body = wait_ready(url, gateway)
        assert body["checks"][f"upstream:{SERVICE}"] == "ok", body
        assert "-m gateway" in command_line(gateway.pid)
        response = httpx.get(f"{url}/app-api/content/banners", params={"position": 1})
        assert response.status_code == 200
        assert response.json() == httpx.get(f"{upstream}/app-api/content/banners", params={"position": 1}).json()
        assert stop(gateway) == 0
        with pytest.raises(httpx.ConnectError):  # both workers gone with the supervisor
            httpx.get(f"{url}/healthz", timeout=2)


def test_service_role_stops_on_sigterm(content: tuple[str, subprocess.Popen]):
    url, process = content  # after the gateway's test, which forwards to it
    wait_ready(url, process)
    # uvicorn shuts down gracefully, then re-raises the signal: the exit status says SIGTERM
    assert stop(process) == -signal.SIGTERM
    output = process.log.read_text()
    assert "Application shutdown complete." in output and "Traceback" not in output, output
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/healthz", timeout=2)


def test_console_role_serves_its_config_and_stops_on_sigterm(workdir: Path):
    """As compose and the pods run it: production settings from the env, no database or broker."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    services = {"coupon": "https://promo-admin.mall.example", "content": "https://promo-admin.mall.example"}
    with started(workdir, PROMO_COMPONENT="console", ENV="prod", JWT_SECRET="s" * 48, CONSOLE_HOST="127.0.0.1",
                 CONSOLE_PORT=str(port), CONSOLE_SERVICE_URLS=json.dumps(services),
                 CONSOLE_LOGIN_URL="https://idp.mall.example/login") as console:
        assert wait_ready(url, console, path="/healthz") == {"status": "ok"}
        assert "-m console" in command_line(console.pid)
        config = httpx.get(f"{url}/config.json").json()
        assert config["services"]["coupon"] == services["coupon"]
        assert config["services"]["pricing"] == "http://localhost:8006"  # not set: the default
        assert (config["dev"], config["login_url"]) == (False, "https://idp.mall.example/login")
        assert httpx.post(f"{url}/dev/token", json={"role": "admin"}).status_code == 404  # not in production
        page = httpx.get(f"{url}/coupons")  # the built app, whatever the working directory
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert stop(console) == -signal.SIGTERM
        assert "Traceback" not in console.log.read_text()
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{url}/healthz", timeout=2)


@pytest.mark.parametrize("shell", ["sh", "bash"])
def test_unknown_roles_fail_with_a_usage_message(workdir: Path, shell: str):
    services = " ".join(IMPLEMENTED_SERVICES)
    by_env = run_entrypoint(workdir, shell=shell, PROMO_COMPONENT="nope")
    by_arg = run_entrypoint(workdir, "nope", shell=shell)
    nothing = run_entrypoint(workdir, shell=shell)
    for result, reason in [(by_env, "unknown PROMO_COMPONENT=nope"), (by_arg, "unknown component or command: nope"),
                           (nothing, "nothing to run")]:
        assert result.returncode == 64, result
        assert result.stderr.startswith(reason), result.stderr
        assert f"gateway | console | <service> | migrate-<service> (services: {services})" in result.stderr
        assert not result.stdout


def test_migrating_an_unknown_service_fails(workdir: Path):
    result = run_entrypoint(workdir, "migrate-nope")
    assert result.returncode != 0
    assert "unknown service(s): nope" in result.stderr
