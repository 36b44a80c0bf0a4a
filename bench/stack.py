"""The processes under test, each on a free port: embedded Redis and Tansu, the content service,
the bare hello app, two gateways (rate limiting off / on) and nginx. `Stack.stop()` ends them all."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from string import Template

from promo.embedded import Embedded, die_with_parent, free_port, port_open, start_redis, start_tansu

ROOT = Path(__file__).resolve().parent.parent
BANNERS = "/app-api/content/banners?position=1"
MARIADB_URL = "mysql+asyncmy://root@127.0.0.1:3306/promo_bench_{service}"
UVICORN_FLAGS = ["--host", "127.0.0.1", "--no-access-log", "--log-level", "warning"]
# Both proxies run one process per core, as production would (the gateway: GATEWAY_WORKERS, SO_REUSEPORT).
PROXY_WORKERS = os.cpu_count() or 1
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# Far above anything one load generator can send: the limiter runs on every request but never throttles.
HUGE_BUCKET = json.dumps({"rate": 1_000_000, "burst": 1_000_000})


class Stack:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.urls: dict[str, str] = {}  # target name -> base URL
        self.database = ""
        self._infra: list[Embedded] = []
        self._processes: dict[str, subprocess.Popen] = {}
        self._env = {**os.environ, "ENV": "dev", "LOG_LEVEL": "WARNING", "KAFKA_ENABLE_IDEMPOTENCE": "false"}

    def start(self) -> None:
        self._start_infra()
        self._prepare_database()
        self._start_uvicorn("content", "services.content.main:create_app", factory=True)
        self._start_uvicorn("hello", "bench.hello:app", factory=False)
        content = self.urls["content"]
        self._start_gateway("gateway", content, {"RATE_LIMIT_ENABLED": "false"})
        self._start_gateway("gateway_rl", content, {"RATE_LIMIT_ENABLED": "true", "RATE_LIMIT_IP": HUGE_BUCKET,
                                                    "RATE_LIMIT_USER": HUGE_BUCKET})
        self._start_nginx("nginx", content)
        # The same proxies in front of the bare hello app: with a backend this fast, the proxy's own cost shows.
        self._start_gateway("gateway_hello", self.urls["hello"], {"RATE_LIMIT_ENABLED": "false"})
        self._start_nginx("nginx_hello", self.urls["hello"])
        self._wait_ready({"content": "/readyz", "hello": "/hello", "gateway": "/readyz", "gateway_rl": "/readyz",
                          "nginx": BANNERS, "gateway_hello": "/readyz", "nginx_hello": BANNERS})

    def stop(self) -> None:
        for process in self._processes.values():
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + 8
        for process in self._processes.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait()
        for embedded in reversed(self._infra):
            embedded.stop()

    # -- start-up -------------------------------------------------------------------------------

    def _start_infra(self) -> None:
        redis = start_redis(log_file=self.workdir / "redis.log")
        self._infra.append(redis)
        broker = start_tansu(log_file=self.workdir / "tansu.log")
        self._infra.append(broker)
        self._env.update(REDIS_URL=redis.url, KAFKA_BOOTSTRAP_SERVERS=broker.url)

    def _prepare_database(self, service: str = "content", seed: bool = True) -> None:
        """A fresh MariaDB database when one answers on 3306 (else SQLite), migrated (and seeded)."""
        if port_open("127.0.0.1", 3306):
            self.database = "MariaDB (127.0.0.1:3306)"
            url = MARIADB_URL
            asyncio.run(_drop_mysql_database(url.replace("{service}", service)))
        else:
            self.database = "SQLite"
            url = f"sqlite+aiosqlite:///{self.workdir}/{{service}}.db"
        self._env["DATABASE_URL"] = url
        for command in ("migrate", "seed") if seed else ("migrate",):
            done = subprocess.run([sys.executable, "-m", "promo", command, service], env=self._env, cwd=ROOT,
                                  capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(f"promo {command} {service} failed:\n{done.stdout}{done.stderr}")

    def start_coupon(self) -> None:
        """Only what the hot-coupon race needs: infrastructure and the coupon service."""
        self._start_infra()
        self._prepare_database("coupon", seed=False)
        self._start_uvicorn("coupon", "services.coupon.main:create_app", factory=True)
        self._wait_ready({"coupon": "/readyz"})

    def start_pricing(self) -> None:
        """The pricing service and the coupon service it calls."""
        self._start_infra()
        self._prepare_database("coupon", seed=False)
        self._prepare_database("pricing", seed=False)
        self._start_uvicorn("coupon", "services.coupon.main:create_app", factory=True)
        self._env["COUPON_URL"] = self.urls["coupon"]
        self._start_uvicorn("pricing", "services.pricing.main:create_app", factory=True)
        self._wait_ready({"coupon": "/readyz", "pricing": "/readyz"})

    def start_seckill(self) -> None:
        """The seckill service twice on one database (Redis filter on, and off: the database-only
        variant), the gateway in front of the first (its limiter on, buckets too large to bite;
        and off), the bare hello app as the baseline, and the gateway in front of it."""
        self._start_infra()
        self._prepare_database("seckill", seed=False)
        self._start_uvicorn("seckill", "services.seckill.main:create_app", factory=True)
        self._start_uvicorn("seckill_db", "services.seckill.main:create_app", factory=True,
                            extra_env={"SECKILL_REDIS_FILTER": "false"})
        self._start_uvicorn("hello", "bench.hello:app", factory=False)
        routes = json.dumps([{"prefix": "/app-api/seckill/reservations", "methods": ["POST"],
                              "per_user": json.loads(HUGE_BUCKET), "per_ip": json.loads(HUGE_BUCKET)}])
        self._start_gateway("gateway_seckill", self.urls["seckill"], {
            "RATE_LIMIT_ENABLED": "true", "RATE_LIMIT_IP": HUGE_BUCKET, "RATE_LIMIT_USER": HUGE_BUCKET,
            "RATE_LIMIT_ROUTES": routes}, service="seckill")
        # the proxy's own ceiling: the gateway without its limiter, before the service and before hello
        self._start_gateway("gateway_seckill_nolimit", self.urls["seckill"], {"RATE_LIMIT_ENABLED": "false"},
                            service="seckill")
        self._start_gateway("gateway_hello", self.urls["hello"], {"RATE_LIMIT_ENABLED": "false"})
        self._start_nginx("nginx_seckill", self.urls["seckill"])  # the reference proxy, same service
        self._wait_ready({"seckill": "/readyz", "seckill_db": "/readyz", "hello": "/hello",
                          "gateway_seckill": "/readyz", "gateway_seckill_nolimit": "/readyz",
                          "gateway_hello": "/readyz", "nginx_seckill": "/app-api/seckill/slots/today"})

    @property
    def env(self) -> dict[str, str]:
        return self._env

    def _start_uvicorn(self, name: str, app: str, factory: bool, extra_env: dict[str, str] | None = None) -> None:
        port = free_port()
        argv = [sys.executable, "-m", "uvicorn", app, *(["--factory"] if factory else []), "--port", str(port),
                *UVICORN_FLAGS]
        self._spawn(name, argv, {**self._env, **(extra_env or {})}, port)

    def _start_gateway(self, name: str, upstream_url: str, extra_env: dict[str, str], service: str = "content") -> None:
        port = free_port()
        env = {**self._env, "GATEWAY_WORKERS": str(PROXY_WORKERS), **extra_env, "GATEWAY_HOST": "127.0.0.1",
               "GATEWAY_PORT": str(port),
               "GATEWAY_SERVICES": json.dumps([service]), "GATEWAY_UPSTREAMS": json.dumps({service: upstream_url})}
        self._spawn(name, [sys.executable, "-m", "gateway"], env, port)

    def _start_nginx(self, name: str, upstream_url: str) -> None:
        port = free_port()
        workdir = self.workdir / name
        workdir.mkdir()
        template = Template((Path(__file__).parent / "nginx.conf.template").read_text())
        config = workdir / "nginx.conf"
        config.write_text(template.substitute(workdir=workdir, port=port, upstream_port=upstream_url.rsplit(":", 1)[1],
                                              workers=PROXY_WORKERS))
        argv = ["nginx", "-p", str(workdir), "-e", str(workdir / "nginx-error.log"), "-c", str(config),
                "-g", "daemon off;"]
        self._spawn(name, argv, self._env, port)

    def _spawn(self, name: str, argv: list[str], env: dict[str, str], port: int) -> None:
        # Own process group (nginx has workers) and SIGTERM if the benchmark itself dies.
        with open(self.workdir / f"{name}.log", "ab") as log:
            self._processes[name] = subprocess.Popen(
                argv, env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=die_with_parent)
        self.urls[name] = f"http://127.0.0.1:{port}"

    def _wait_ready(self, paths: dict[str, str], timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        pending = dict(paths)
        while pending:
            for name, path in list(pending.items()):
                if self._processes[name].poll() is not None:
                    raise RuntimeError(f"{name} exited during start-up:\n{self.log_tail(name)}")
                if _answers(self.urls[name] + path):
                    del pending[name]
            if pending and time.monotonic() > deadline:
                raise RuntimeError(f"not ready after {timeout:.0f}s: {', '.join(pending)}")
            time.sleep(0.2)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user + system) used so far by each process under test, with its workers
        (every process of its group), and by Redis: compare two readings around a run."""
        groups = {process.pid: name for name, process in self._processes.items()}
        used = dict.fromkeys(groups, 0.0)
        redis = next((e.process.pid for e in self._infra if e.name == "redis"), None)
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # the process ended meanwhile
            pid, group = int(stat.parent.name), int(fields[2])  # fields after the name: state, ppid, pgrp, ...
            ticks = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime
            if group in used:
                used[group] += ticks
            if pid == redis:
                used[-1] = ticks
        found = {groups[pid]: seconds for pid, seconds in used.items() if pid in groups}
        if -1 in used:
            found["redis"] = used[-1]
        return found

    def log_tail(self, name: str, lines: int = 30) -> str:
        log = self.workdir / f"{name}.log"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""


def fetch(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read()


def _answers(url: str) -> bool:
    try:
        return fetch(url)[0] == 200
    except OSError:
        return False


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            pass


async def _drop_mysql_database(url: str) -> None:
    from sqlalchemy import make_url, text
    from sqlalchemy.ext.asyncio import create_async_engine

    parsed = make_url(url)
    engine = create_async_engine(parsed.set(database=""), pool_size=1)
    try:
        async with engine.begin() as conn:
            query = text("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = :name")
            if await conn.scalar(query, {"name": parsed.database}):  # DROP ... IF EXISTS would print a warning
                await conn.execute(text(f"DROP DATABASE `{parsed.database}`"))
    finally:
        await engine.dispose()
