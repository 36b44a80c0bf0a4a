"""`python -m fuzz [--examples N] [--services ...]`: the whole suite on fresh MariaDB databases,
then schemathesis over every operation of every service's OpenAPI, once per caller (admin,
member, merchant, service token, anonymous). A run fails on a server error (5xx) or an answer
that does not match its documented schema. Results go to fuzz/results.md."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from promo.embedded import port_open
from shared.auth import Role, issue_token
from shared.ports import GATEWAY_PORT, IMPLEMENTED_SERVICES, SERVICE_PORTS
from shared.settings import CommonSettings

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = "mysql+asyncmy://root@127.0.0.1:3306/promo_fuzz_{service}"
CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance"


@dataclass
class Run:
    service: str
    caller: str
    operations: int = 0
    requests: int = 0
    failures: int = 0
    seconds: float = 0.0
    exit_code: int = 0
    details: str = ""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__)
    parser.add_argument("--examples", type=int, default=25, help="test cases per operation and caller (25)")
    parser.add_argument("--services", nargs="*", default=list(IMPLEMENTED_SERVICES))
    parser.add_argument("--callers", nargs="*", default=["admin", "member", "merchant", "service", "anonymous"])
    parser.add_argument("--st", type=Path, default=ROOT / ".venv-fuzz" / "bin" / "st", help="schemathesis CLI")
    parser.add_argument("--database-url", default=DATABASE_URL, help="per-service databases, dropped first")
    parser.add_argument("--output", type=Path, default=ROOT / "fuzz" / "results.md")
    parser.add_argument("--seed", type=int, default=20261202, help="schemathesis' random seed")
    return parser.parse_args(argv)


def tokens() -> dict[str, str | None]:
    settings = CommonSettings(_env_file=None, env="dev")
    return {"admin": issue_token(settings, 1, Role.ADMIN), "member": issue_token(settings, 1001, Role.MEMBER),
            "merchant": issue_token(settings, 2001, Role.MERCHANT, business_id=1),
            "service": issue_token(settings, "order-service", Role.SERVICE), "anonymous": None}


def free_offset() -> int:
    for offset in range(400, 1000, 20):
        if not any(port_open("127.0.0.1", p + offset) for p in (GATEWAY_PORT, *SERVICE_PORTS.values())):
            return offset
    raise SystemExit("no free port range for the suite")


def drop_databases(url: str, services: list[str]) -> None:
    import asyncio

    from sqlalchemy import make_url, text
    from sqlalchemy.ext.asyncio import create_async_engine

    async def drop() -> None:
        engine = create_async_engine(make_url(url.replace("{service}", "x")).set(database=""))
        async with engine.begin() as conn:
            for service in services:
                name = make_url(url.replace("{service}", service)).database
                await conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        await engine.dispose()

    asyncio.run(drop())


def start_suite(args: argparse.Namespace, offset: int, var_dir: Path) -> subprocess.Popen:
    env = {**os.environ, "ENV": "dev", "DATABASE_URL": args.database_url, "LOG_JSON": "true",
           # the fuzzer is one caller sending thousands of requests: the gateway is not what is tested
           "RATE_LIMIT_ENABLED": "false"}
    process = subprocess.Popen([sys.executable, "-m", "promo", "run", "--port-offset", str(offset), "--var-dir",
                                str(var_dir), *args.services], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, start_new_session=True, text=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the suite did not start:\n{process.stdout.read()}")
        if all(_ready(SERVICE_PORTS[s] + offset) for s in args.services):
            return process
        time.sleep(0.5)
    raise SystemExit("the suite was not ready after 180 s")


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def fuzz(args: argparse.Namespace, service: str, port: int, caller: str, token: str | None, out: Path) -> Run:
    report = out / f"{service}-{caller}.ndjson"
    command = [str(args.st), "run", f"http://127.0.0.1:{port}/openapi.json", "--checks", CHECKS,
               "--max-examples", str(args.examples), "--seed", str(args.seed), "--workers", "2",
               "--report", "ndjson", "--report-ndjson-path", str(report), "--no-color",
               "--generation-database", "none", "--request-timeout", "30"]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    run = Run(service, caller, seconds=time.monotonic() - started, exit_code=done.returncode)
    _count(run, report)
    if done.returncode != 0:
        run.details = done.stdout[-6000:]
    return run


def _count(run: Run, report: Path) -> None:
    """Operations, requests and failures from schemathesis' event stream."""
    if not report.exists():
        return
    operations: set[str] = set()
    for line in report.read_text().splitlines():
        event = json.loads(line)
        for name, payload in event.items():
            if name == "ScenarioFinished" and isinstance(payload, dict):
                recorder = payload.get("recorder") or {}
                operations.add(recorder.get("label", ""))
                run.requests += sum(len(i) if isinstance(i, list) else 1
                                    for i in (recorder.get("interactions") or {}).values())
                run.failures += sum(1 for checks in (recorder.get("checks") or {}).values() for check in checks
                                    if str(check.get("status")).lower() == "failure")
    run.operations = len(operations - {""})


def write(args: argparse.Namespace, runs: list[Run], started: datetime) -> str:
    total_requests = sum(r.requests for r in runs)
    total_failures = sum(r.failures for r in runs)
    lines = [f"# make fuzz: {started:%Y-%m-%d %H:%M} UTC", "",
             f"schemathesis over every operation of {', '.join(args.services)}, once per caller, on MariaDB; "
             f"checks `{CHECKS}`; {args.examples} cases per operation, seed {args.seed}.", "",
             f"**{total_requests:,} requests, {total_failures} failed checks, "
             f"{sum(r.exit_code != 0 for r in runs)} runs not clean.**", "",
             "| service | caller | operations | requests | failed checks | seconds | exit |",
             "|---|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {r.service} | {r.caller} | {r.operations} | {r.requests:,} | {r.failures} | {r.seconds:.0f} | "
              f"{r.exit_code} |" for r in runs]
    for r in runs:
        if r.details:
            lines += ["", f"## {r.service} as {r.caller}", "", "```", r.details.strip(), "```"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.st.exists():
        raise SystemExit(f"{args.st} is missing: `make fuzz` installs it (fuzz/requirements.lock)")
    started = datetime.now(UTC)
    var_dir = ROOT / "var" / "fuzz"
    var_dir.mkdir(parents=True, exist_ok=True)
    drop_databases(args.database_url, args.services)
    offset = free_offset()
    suite = start_suite(args, offset, var_dir)
    runs = []
    try:
        for service in args.services:
            for caller, token in tokens().items():
                if caller in args.callers:
                    run = fuzz(args, service, SERVICE_PORTS[service] + offset, caller, token, var_dir)
                    print(f"{service:<9} {caller:<9} {run.requests:>6} requests {run.failures:>3} failed "
                          f"({run.seconds:.0f} s)", flush=True)
                    runs.append(run)
    finally:
        os.killpg(suite.pid, signal.SIGINT)
        suite.wait(30)
    report = write(args, runs, started)
    args.output.write_text(report)
    print(report)
    return 0 if all(r.exit_code == 0 for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
