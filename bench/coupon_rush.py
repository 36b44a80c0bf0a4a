"""A hot coupon template (抢券): stock 1,000, 5,000 distinct users taking it at once (one take each,
64 requests in flight on 64 keep-alive connections; the load generator writes raw HTTP/1.1 and
parses answers with httptools on uvloop, so that its own CPU stays small beside the service's on
a 2-CPU machine), against two coupon processes on the same database and Redis: the Redis
front on (stock and per-user counts in Redis first, the database last) and off
(`COUPON_REDIS_FRONT=false`: every take is the database's alone, the template row locked). Each
round runs, in this order, a rush on the database path, one through Redis, and one through Redis
whose keys are flushed (FLUSHDB) once half the stock is taken. Every rush is a fresh template.

Reported per rush: successful takes per second, latency, the CPU the coupon process and Redis
spent per request and per successful take (utime + stime from /proc/<pid>/stat over the rush), and
what the database holds afterwards: over-issued and under-issued must be 0 in every run (the
database is counted, not the responses). Targets (issue 19): takes/s >= 4x the database path,
take p99 <= 1/3 of it, in the same run (medians over the rounds)."""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import httptools
import uvloop
from redis.asyncio import Redis

from bench.stack import ROOT, Stack, _drop_mysql_database
from promo.embedded import port_open
from shared.auth import Role, issue_token
from shared.settings import CommonSettings

STOCK, USERS, IN_FLIGHT, ROUNDS = 1_000, 5_000, 64, 3
KINDS = ("database", "redis", "redis_flushed")  # measured in this order, each round
SERVICE = {"database": "coupon_db", "redis": "coupon", "redis_flushed": "coupon"}
TAKES_RATIO, P99_RATIO = 4.0, 1 / 3
TICKS = os.sysconf("SC_CLK_TCK")
DATABASE = "mysql+asyncmy://root@127.0.0.1:3306/promo_bench_rush"


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process so far (fields 14 and 15 of /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


async def _create_template(session: aiohttp.ClientSession, base: str, admin: str, name: str) -> int:
    body = {"name": name, "take_type": 1, "total_count": STOCK, "take_limit_count": 1,
            "validity_type": 2, "fixed_start_term": 0, "fixed_end_term": 7, "discount_type": 1,
            "discount_price": 1000}
    async with session.post(f"{base}/admin-api/coupon/templates", json=body,
                            headers={"Authorization": f"Bearer {admin}"}) as response:
        assert response.status == 201, await response.text()
        return (await response.json())["id"]


class _Connection:
    """One keep-alive HTTP/1.1 connection of the load generator. Requests are written whole,
    responses parsed by httptools (the parser uvicorn uses): the generator's own CPU per request
    stays a fraction of aiohttp's, which took a CPU of the two from the service under test."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.parser = httptools.HttpResponseParser(self)
        self._body: list[bytes] = []
        self._complete = False

    @classmethod
    async def open(cls, base: str) -> _Connection:
        host, port = base.removeprefix("http://").rsplit(":", 1)
        return cls(*await asyncio.open_connection(host, int(port)))

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        self._complete = True

    async def post(self, path: str, token: str) -> tuple[int, bytes]:
        self.writer.write(f"POST {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n"
                          f"Content-Length: 0\r\n\r\n".encode())
        self._body, self._complete = [], False
        while not self._complete:
            data = await self.reader.read(65536)
            if not data:
                raise ConnectionError("the service closed the connection")
            self.parser.feed_data(data)
        return self.parser.get_status_code(), b"".join(self._body)

    def close(self) -> None:
        self.writer.close()


async def _rush(base: str, tokens: list[str], admin: str, kind: str, number: int, pids: dict[str, int],
                redis_url: str) -> dict:
    async with aiohttp.ClientSession() as session:
        template_id = await _create_template(session, base, admin, f"bench {kind} {number}")
        path = f"/app-api/coupon/templates/{template_id}/take"
        connections = [await _Connection.open(base) for _ in range(IN_FLIGHT)]
        queue: asyncio.Queue[str] = asyncio.Queue()
        for token in tokens:
            queue.put_nowait(token)
        results: list[tuple[int, float]] = []
        unexpected: list[str] = []
        flushed: list[int] = []  # requests answered when Redis was flushed
        taken = [0]
        redis = Redis.from_url(redis_url)

        async def flush_when_half_taken() -> None:
            if kind == "redis_flushed" and not flushed and taken[0] >= STOCK // 2:
                flushed.append(len(results))
                await redis.flushdb()

        async def worker(connection: _Connection) -> None:
            while not queue.empty():
                token = queue.get_nowait()
                started = time.perf_counter()
                status, body = await connection.post(path, token)
                results.append((status, time.perf_counter() - started))
                taken[0] += status == 201
                if status not in (201, 409):
                    unexpected.append(f"{status} {body[:200].decode(errors='replace')}")
                await flush_when_half_taken()

        cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        generator_before = time.process_time()
        started = time.perf_counter()
        await asyncio.gather(*(worker(connection) for connection in connections))
        elapsed = time.perf_counter() - started
        cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in pids.items()}
        cpu["generator"] = time.process_time() - generator_before
        for connection in connections:
            connection.close()
        await redis.aclose()
        headers = {"Authorization": f"Bearer {admin}"}
        async with session.get(f"{base}/admin-api/coupon/templates/{template_id}", headers=headers) as response:
            take_count = (await response.json())["take_count"]
        async with session.get(f"{base}/admin-api/coupon/coupons", params={"template_id": template_id, "size": 1},
                               headers=headers) as response:
            issued = (await response.json())["total"]
    summary = _summary(results, elapsed, take_count, issued, cpu)
    return {**summary, "kind": kind, "round": number, "flushed_after": flushed[0] if flushed else None,
            "unexpected": unexpected[:5]}


def _summary(results: list[tuple[int, float]], elapsed: float, take_count: int, issued: int,
             cpu: dict[str, float]) -> dict:
    ok = sorted(seconds for status, seconds in results if status == 201)
    everything = sorted(seconds for _, seconds in results)

    def pct(values: list[float], q: float) -> float:
        return values[min(len(values) - 1, int(q * len(values)))] * 1000 if values else 0.0

    return {"requests": len(results), "taken": len(ok), "refused_409": sum(1 for s, _ in results if s == 409),
            "other_status": sum(1 for s, _ in results if s not in (201, 409)),
            "seconds": round(elapsed, 2), "requests_per_sec": round(len(results) / elapsed, 1),
            "takes_per_sec": round(len(ok) / elapsed, 1),
            "p50_ms": round(pct(everything, 0.5), 2), "p99_ms": round(pct(everything, 0.99), 2),
            "take_p50_ms": round(statistics.median(ok) * 1000, 2) if ok else 0.0,
            "take_p99_ms": round(pct(ok, 0.99), 2),
            "cpu_us_per_request": {name: round(s * 1e6 / max(1, len(results))) for name, s in cpu.items()},
            "cpu_us_per_take": {name: round(s * 1e6 / max(1, len(ok))) for name, s in cpu.items()},
            "issued_in_db": issued, "take_count_in_db": take_count,
            "over_issued": max(0, issued - STOCK), "under_issued": max(0, STOCK - issued),
            "take_count_matches": take_count == issued}


def _prepare_database(stack: Stack) -> None:
    """A fresh, migrated database of its own (other parts' benchmarks use promo_bench_coupon), on
    MariaDB when one answers on 3306, else SQLite."""
    if port_open("127.0.0.1", 3306):
        stack.database, url = "MariaDB (127.0.0.1:3306)", DATABASE
        asyncio.run(_drop_mysql_database(url))
    else:
        stack.database, url = "SQLite", f"sqlite+aiosqlite:///{stack.workdir}/coupon_rush.db"
    stack.env["DATABASE_URL"] = url
    done = subprocess.run([sys.executable, "-m", "promo", "migrate", "coupon"], env=stack.env, cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"promo migrate coupon failed:\n{done.stdout}{done.stderr}")


def _start(stack: Stack) -> dict[str, int]:
    """Infrastructure and the two coupon processes; the pids whose CPU is measured."""
    stack._start_infra()
    _prepare_database(stack)
    stack._start_uvicorn("coupon", "services.coupon.main:create_app", factory=True)
    stack._start_uvicorn("coupon_db", "services.coupon.main:create_app", factory=True,
                         extra_env={"COUPON_REDIS_FRONT": "false"})
    stack._wait_ready({"coupon": "/readyz", "coupon_db": "/readyz"})
    return {"redis": stack._infra[0].process.pid, "coupon": stack._processes["coupon"].pid,
            "coupon_db": stack._processes["coupon_db"].pid}


async def _rounds(stack: Stack, pids: dict[str, int], rounds: int) -> list[dict]:
    settings = CommonSettings(_env_file=None, env="dev")
    admin = issue_token(settings, 1, Role.ADMIN)
    runs = []
    for number in range(1, rounds + 1):
        for kind in KINDS:
            tokens = [issue_token(settings, 3_000_000 + number * 100_000 + i, Role.MEMBER) for i in range(USERS)]
            service = SERVICE[kind]
            run = await _rush(stack.urls[service], tokens, admin, kind, number,
                              {"coupon": pids[service], "redis": pids["redis"]}, stack.env["REDIS_URL"])
            print(f"  round {number} {kind:<14} {run['takes_per_sec']:>7,.1f} takes/s  take p99 "
                  f"{run['take_p99_ms']:7.1f} ms  coupon {run['cpu_us_per_take']['coupon']:>6,} us/take  "
                  f"redis {run['cpu_us_per_take']['redis']:>4,} us/take  over {run['over_issued']} "
                  f"under {run['under_issued']}", flush=True)
            runs.append(run)
    return runs


def _median(runs: list[dict], kind: str, field: str, process: str | None = None) -> float:
    values = [(r[field][process] if process else r[field]) for r in runs if r["kind"] == kind]
    return statistics.median(values)


def run(stack: Stack, rounds: int = ROUNDS) -> dict:
    pids = _start(stack)
    runs = uvloop.run(_rounds(stack, pids, rounds))
    medians = {kind: {field: _median(runs, kind, field) for field in
                      ("takes_per_sec", "requests_per_sec", "take_p50_ms", "take_p99_ms", "p99_ms")}
               | {f"cpu_us_per_{unit}_{process}": _median(runs, kind, f"cpu_us_per_{unit}", process)
                  for unit in ("take", "request") for process in ("coupon", "redis", "generator")}
               for kind in KINDS}
    takes_ratio = medians["redis"]["takes_per_sec"] / max(medians["database"]["takes_per_sec"], 0.1)
    p99_ratio = medians["redis"]["take_p99_ms"] / max(medians["database"]["take_p99_ms"], 0.001)
    exact = all(r["over_issued"] == 0 and r["under_issued"] == 0 and r["take_count_matches"] for r in runs)
    checks = [("takes/s through Redis >= 4x the database path", takes_ratio >= TAKES_RATIO, f"{takes_ratio:.2f}x"),
              ("take p99 through Redis <= 1/3 of the database path's", p99_ratio <= P99_RATIO, f"{p99_ratio:.2f}"),
              ("0 over-issued and 0 under-issued in every run (Redis flushed mid-rush too)", exact,
               f"{sum(r['over_issued'] for r in runs)} over, {sum(r['under_issued'] for r in runs)} under")]
    return {"stock": STOCK, "users": USERS, "in_flight": IN_FLIGHT, "rounds": rounds, "runs": runs,
            "medians": medians, "takes_ratio": round(takes_ratio, 2), "p99_ratio": round(p99_ratio, 3),
            "checks": [{"name": name, "passed": passed, "value": value} for name, passed, value in checks],
            "unexpected": [u for r in runs for u in r["unexpected"]][:5]}


LABELS = {"database": "database path", "redis": "Redis front", "redis_flushed": "Redis front, flushed mid-rush"}


def markdown(result: dict) -> str:
    rows = [f"| {r['round']} | {LABELS[r['kind']]} | {r['taken']:,} | {r['refused_409']:,} | {r['other_status']} "
            f"| {r['seconds']} | {r['takes_per_sec']:,} | {r['requests_per_sec']:,} | {r['take_p50_ms']} ms "
            f"| {r['take_p99_ms']} ms | {r['p99_ms']} ms | {r['cpu_us_per_take']['coupon']:,} "
            f"| {r['cpu_us_per_take']['redis']:,} | {r['cpu_us_per_request']['coupon']:,} "
            f"| {r['cpu_us_per_request']['redis']:,} | {r['issued_in_db']:,} / {r['take_count_in_db']:,} "
            f"| {r['over_issued']} / {r['under_issued']} |" for r in result["runs"]]
    medians = result["medians"]
    median_rows = [f"| {LABELS[kind]} | {m['takes_per_sec']:,} | {m['requests_per_sec']:,} | {m['take_p50_ms']} ms "
                   f"| {m['take_p99_ms']} ms | {m['cpu_us_per_take_coupon']:,} | {m['cpu_us_per_take_redis']:,} "
                   f"| {m['cpu_us_per_request_coupon']:,} | {m['cpu_us_per_request_redis']:,} "
                   f"| {m['cpu_us_per_request_generator']:,} |"
                   for kind, m in medians.items()]
    return "\n".join([
        "## Hot coupon template (抢券)", "",
        f"Stock {result['stock']:,}, {result['users']:,} distinct users, one take each, {result['in_flight']} in "
        f"flight, straight to a coupon process (one each: the Redis front on, and off). {result['rounds']} "
        "interleaved rounds; each rush a fresh template. CPU: utime + stime of the process from /proc over the "
        "rush, per successful take and per request (refusals included).", "",
        "| round | path | taken | refused (409) | other | seconds | takes/s | all req/s | take p50 | take p99 | p99 "
        "| coupon µs/take | redis µs/take | coupon µs/req | redis µs/req | coupons / take_count in db "
        "| over / under |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rows, "",
        "Medians over the rounds:", "",
        "| path | takes/s | all req/s | take p50 | take p99 | coupon µs/take | redis µs/take | coupon µs/req "
        "| redis µs/req | load generator µs/req |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *median_rows, "",
        *[f"- {'PASS' if c['passed'] else 'FAIL'}: {c['name']} ({c['value']})" for c in result["checks"]], "",
        *([f"Unexpected answers: {result['unexpected']}", ""] if result["unexpected"] else [])])
