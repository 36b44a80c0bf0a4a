"""`promo run` (what `make run` calls): the whole suite on one machine.

Redis and the broker are embedded unless REDIS_URL / KAFKA_BOOTSTRAP_SERVERS are set; each
service gets a SQLite file under var/ unless DATABASE_URL is set. Every service and the
gateway run as separate processes; Ctrl-C stops them all.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from promo import registry
from promo.databases import prepare
from promo.embedded import Embedded, die_with_parent, port_open, start_redis, start_tansu
from shared.auth import Role, issue_token
from shared.ports import CONSOLE_PORT, GATEWAY_PORT, SERVICE_PORTS
from shared.settings import CommonSettings


def _spawn(argv: list[str], env: dict[str, str], log_file: Path) -> subprocess.Popen:
    return subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=open(log_file, "ab"),
                            stderr=subprocess.STDOUT, preexec_fn=die_with_parent)


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


class Suite:
    def __init__(self, var_dir: Path, port_offset: int, seed: bool) -> None:
        self.var_dir = var_dir
        self.offset = port_offset
        self.seed = seed
        self.infra: list[Embedded] = []
        self.processes: dict[str, subprocess.Popen] = {}
        self.env = dict(os.environ)
        self.env.setdefault("ENV", "dev")
        self.env.setdefault("DATABASE_URL", f"sqlite+aiosqlite:///{var_dir.resolve()}/{{service}}.db")

    def port(self, name: str) -> int:
        base = {"gateway": GATEWAY_PORT, "console": CONSOLE_PORT}.get(name) or SERVICE_PORTS[name]
        return base + self.offset

    def start(self, services: list[str]) -> None:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self._check_ports(["gateway", "console", *services])
        for name in services:  # where services find each other (pricing reads COUPON_URL)
            self.env.setdefault(f"{name.upper()}_URL", f"http://127.0.0.1:{self.port(name)}")
        console = [f"http://{host}:{self.port('console')}" for host in ("localhost", "127.0.0.1")]
        self.env.setdefault("CORS_ORIGINS", json.dumps(console))  # the console calls the services directly
        self._start_infra()
        os.environ.update(self.env)  # migrations and seeding below run in this process
        prepare(services, demo=self.seed)
        for name in services:
            self.processes[name] = _spawn(
                [sys.executable, "-m", "uvicorn", registry.app_factory(name), "--factory", "--host", "127.0.0.1",
                 "--port", str(self.port(name)), "--no-access-log", "--log-level", "warning"],
                self.env, self.var_dir / f"{name}.log")
        upstreams = {name: f"http://127.0.0.1:{self.port(name)}" for name in services}
        gateway_env = {**self.env, "GATEWAY_PORT": str(self.port("gateway")), "GATEWAY_HOST": "127.0.0.1",
                       "GATEWAY_SERVICES": json.dumps(services), "GATEWAY_UPSTREAMS": json.dumps(upstreams)}
        self.processes["gateway"] = _spawn([sys.executable, "-m", "gateway"], gateway_env,
                                           self.var_dir / "gateway.log")
        console_env = {**self.env, "CONSOLE_PORT": str(self.port("console")), "CONSOLE_HOST": "127.0.0.1",
                       "CONSOLE_SERVICE_URLS": json.dumps({n: f"http://localhost:{self.port(n)}" for n in services})}
        self.processes["console"] = _spawn([sys.executable, "-m", "console"], console_env,
                                           self.var_dir / "console.log")
        self._wait_ready()
        self._write_state()

    def _check_ports(self, names: list[str]) -> None:
        busy = [f"{n}:{self.port(n)}" for n in names if port_open("127.0.0.1", self.port(n))]
        if busy:
            raise SystemExit(f"port(s) already in use: {', '.join(busy)} (another `make run`? "
                             "use `promo run --port-offset 100`)")

    def _start_infra(self) -> None:
        if "REDIS_URL" not in self.env:
            redis = start_redis(log_file=self.var_dir / "redis.log")
            self.infra.append(redis)
            self.env["REDIS_URL"] = redis.url
        if "KAFKA_BOOTSTRAP_SERVERS" not in self.env:
            broker = start_tansu(log_file=self.var_dir / "tansu.log")
            self.infra.append(broker)
            self.env["KAFKA_BOOTSTRAP_SERVERS"] = broker.url
            self.env["KAFKA_ENABLE_IDEMPOTENCE"] = "false"  # Tansu rejects the idempotent producer

    def _wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        pending = dict(self.processes)
        while pending:
            for name, process in list(pending.items()):
                if process.poll() is not None:
                    raise SystemExit(f"{name} exited during start-up; see {self.var_dir / (name + '.log')}")
                if _ready(f"http://127.0.0.1:{self.port(name)}/readyz"):
                    del pending[name]
            if time.monotonic() > deadline:
                raise SystemExit(f"not ready after {timeout:.0f}s: {', '.join(pending)}; see logs in {self.var_dir}")
            time.sleep(0.2)

    def _write_state(self) -> None:
        state = {"pids": {name: p.pid for name, p in self.processes.items()},
                 "ports": {name: self.port(name) for name in self.processes},
                 "redis_url": self.env["REDIS_URL"], "kafka": self.env["KAFKA_BOOTSTRAP_SERVERS"]}
        (self.var_dir / "run.json").write_text(json.dumps(state, indent=2))

    def banner(self) -> str:
        settings = CommonSettings(_env_file=None, **{"env": self.env["ENV"]})
        tokens = {
            "member": issue_token(settings, 1001, Role.MEMBER),
            "merchant": issue_token(settings, 2001, Role.MERCHANT, business_id=1),
            "admin": issue_token(settings, 1, Role.ADMIN),
            "service": issue_token(settings, "order-service", Role.SERVICE),
        }
        gw = f"http://localhost:{self.port('gateway')}"
        lines = ["", "Promotion Center is up.", "",
                 f"  gateway   {gw}        try: curl '{gw}/app-api/content/banners?position=1'"]
        console = f"http://localhost:{self.port('console')}"
        lines += [f"  console   {console}        the operators' back office (dev: log in as admin or a merchant)"]
        lines += [f"  {name:<9} http://localhost:{self.port(name)}   docs: http://localhost:{self.port(name)}/docs"
                  for name in self.processes if name not in ("gateway", "console")]
        lines += ["", f"  redis     {self.env['REDIS_URL']}", f"  kafka     {self.env['KAFKA_BOOTSTRAP_SERVERS']}",
                  f"  logs      {self.var_dir}/", "", "Dev tokens (24 h; `promo token --help` for more):"]
        lines += [f"  {role:<9} {token}" for role, token in tokens.items()]
        quote = '{"lines": [{"sku_id": 1001, "spu_id": 101, "category_id": 11, "unit_price": 19900, "count": 1}]}'
        lines += ["", "A cart priced with the demo discount and spend-and-save:",
                  f"  curl -H 'Content-Type: application/json' -d '{quote}' {gw}/app-api/pricing/quote"]
        lines += ["", "Example with a token:",
                  f"  curl -H \"Authorization: Bearer $(.venv/bin/promo token admin)\" "
                  f"http://localhost:{self.port('content')}/admin-api/content/banners", "", "Ctrl-C stops everything."]
        return "\n".join(lines)

    def watch(self) -> None:
        reported: set[str] = set()
        while True:
            for name, process in self.processes.items():
                if process.poll() is not None and name not in reported:
                    reported.add(name)
                    print(f"!! {name} exited with code {process.returncode}; see {self.var_dir}/{name}.log",
                          flush=True)
            time.sleep(0.5)

    def stop(self) -> None:
        # Finish the shutdown whatever arrives meanwhile (a second Ctrl-C, make's own signal).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 8
        for process in self.processes.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for embedded in reversed(self.infra):
            embedded.stop()


def run(var_dir: Path, port_offset: int, seed: bool, services: list[str]) -> None:
    suite = Suite(var_dir, port_offset, seed)

    def on_signal(signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)  # also when started from a shell that ignores it (`make run &`)
    try:
        suite.start(services)
        print(suite.banner(), flush=True)
        suite.watch()
    except KeyboardInterrupt:
        print("\nstopping...", flush=True)
    finally:
        suite.stop()
