"""A flash crowd on one SKU: many users, few units, everyone at once.

Each run is a fresh sale (stock 500, one per user) hit by wrk with 5,000 users' tokens in turn
(the same users, so the same tokens, in every run),
against: the seckill service (Redis first), the same through the gateway (its rate limiter and
token check on, buckets too large to bite; and with the limiter off), through nginx (the
reference proxy, no checks), and the database-only variant (the same service with the Redis filter
off: every attempt is a MySQL transaction ending in `UPDATE ... WHERE stock >= n` on the hot row,
as yudao and CRMEB do it). The bare FastAPI hello app on the same uvicorn command line is the
baseline. After each run MySQL and Redis are read: oversold and undersold must both be 0.

Around every run the CPU time of each process under test is read from /proc (utime + stime, all
of a proxy's workers): CPU microseconds per request for the proxy, the service and Redis. That
figure stays comparable when the machine is noisy; the throughput ratios are taken within a round.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import func, select

from bench import wrk
from bench.stack import BANNERS, Stack
from services.seckill.domain import ReservationStatus
from services.seckill.models import Product, Reservation
from services.seckill.stock import keys
from shared.auth import Role, issue_token
from shared.db import create_engine
from shared.redis import make_redis
from shared.settings import CommonSettings

USERS = 5_000
STOCK = 500
CONNECTIONS = 64
# measured in this order, each round; gateway_nolimit and gateway_hello show the proxy's own ceiling
TARGETS = ("hello", "gateway_hello", "seckill", "gateway", "gateway_nolimit", "nginx", "database")
PLAIN = ("hello", "gateway_hello")  # GET requests, no sale
RESERVATIONS = "/app-api/seckill/reservations"
# target -> {role: process name in the stack}: whose CPU per request is reported for it
PROCESSES = {
    "hello": {"service": "hello"}, "gateway_hello": {"proxy": "gateway_hello", "service": "hello"},
    "seckill": {"service": "seckill", "redis": "redis"},
    "gateway": {"proxy": "gateway_seckill", "service": "seckill", "redis": "redis"},
    "gateway_nolimit": {"proxy": "gateway_seckill_nolimit", "service": "seckill", "redis": "redis"},
    "nginx": {"proxy": "nginx_seckill", "service": "seckill", "redis": "redis"},
    "database": {"service": "seckill_db", "redis": "redis"},
}
# issue 19: through the gateway (limiter and token check on) >= 0.6 x direct; its CPU per request
# <= 3 x nginx's; the limiter's share of it <= 30 us
GATEWAY_VS_DIRECT = 0.6
GATEWAY_CPU_VS_NGINX = 3.0
LIMITER_CPU_US = 30.0


def _settings() -> CommonSettings:
    return CommonSettings(_env_file=None, env="dev")


def _business_today() -> date:
    return datetime.now(ZoneInfo(_settings().business_timezone)).date()


class Sales:
    """Makes one fresh sale per run through the admin API (a different SPU each time)."""

    def __init__(self, seckill_url: str) -> None:
        self.url = seckill_url
        self.admin = {"Authorization": f"Bearer {issue_token(_settings(), 1, Role.ADMIN)}"}
        self.slot_id: int | None = None
        self.made = 0

    def new(self) -> int:
        with httpx.Client(timeout=30) as client:
            if self.slot_id is None:  # a slot of the whole day: the sale is on whenever the benchmark runs
                slot = client.post(f"{self.url}/admin-api/seckill/slots", headers=self.admin,
                                   json={"name": "bench", "start_time": "00:00:00", "end_time": "00:00:00"})
                slot.raise_for_status()
                self.slot_id = slot.json()["id"]
            self.made += 1
            today = _business_today()
            sale = client.post(f"{self.url}/admin-api/seckill/activities", headers=self.admin, json={
                "name": f"bench {self.made}", "spu_id": 900_000 + self.made, "slot_ids": [self.slot_id],
                "start_date": (today - timedelta(days=1)).isoformat(),
                "end_date": (today + timedelta(days=1)).isoformat(),
                "user_limit": 1, "products": [{"sku_id": 1, "price": 100, "stock": STOCK}]})
            sale.raise_for_status()
            return sale.json()["id"]


PREWARM_SECONDS = 4  # each token several times over, so that each reaches every worker


def crowd_tokens() -> list[str]:
    """The crowd's tokens: the same 5,000 users (the same tokens) come to every sale of a run, as
    the same buyers would; a proxy or service that has seen a token before may know it."""
    settings = _settings()
    return [issue_token(settings, 100_000 + n, Role.MEMBER, ttl_seconds=3600) for n in range(USERS)]


def crowd_script(workdir: Path, activity_id: int, crowd: list[str]) -> Path:
    """wrk: POST a reservation with the next user's token each time; count the statuses."""
    tokens = ",".join(f'"{token}"' for token in crowd)
    body = json.dumps({"activity_id": activity_id, "sku_id": 1, "count": 1})
    path = workdir / f"crowd-{activity_id}.lua"
    path.write_text(f"""
local tokens = {{{tokens}}}
local body = '{body}'
local n = 0
local threads = {{}}
function setup(thread) table.insert(threads, thread) end
function init(args) statuses = {{}} end
function request()
  n = n + 1
  return wrk.format("POST", nil, {{["Content-Type"] = "application/json",
                                   ["Authorization"] = "Bearer " .. tokens[(n % #tokens) + 1]}}, body)
end
function response(status, headers, body) statuses[status] = (statuses[status] or 0) + 1 end
function done(summary, latency, requests)
  local total = {{}}
  for _, thread in ipairs(threads) do
    for code, count in pairs(thread:get("statuses")) do total[code] = (total[code] or 0) + count end
  end
  for code, count in pairs(total) do io.write(string.format("status %d %d\\n", code, count)) end
end
""")
    return path


async def outcome(database_url: str, redis_url: str, activity_id: int) -> dict:
    """Sold, left, oversold and undersold for a sale, from MySQL; Redis's count beside it."""
    engine = create_engine(database_url.replace("{service}", "seckill"), pool_size=1)
    redis = make_redis(redis_url)
    try:
        async with engine.connect() as conn:
            left = await conn.scalar(select(Product.stock).where(Product.activity_id == activity_id))
            sold = await conn.scalar(select(func.coalesce(func.sum(Reservation.count), 0)).where(
                Reservation.activity_id == activity_id, Reservation.status == ReservationStatus.HELD))
            most = await conn.scalar(select(func.coalesce(func.max(Reservation.count), 0)).where(
                Reservation.activity_id == activity_id))
        redis_left = await redis.hget(keys(activity_id)[0], "1")
    finally:
        await engine.dispose()
        await redis.aclose()
    sold = int(sold)
    return {"sold": sold, "left": int(left), "oversold": max(0, sold - STOCK) + max(0, -int(left)),
            "undersold": max(0, STOCK - sold), "redis_left": None if redis_left is None else int(redis_left),
            "max_per_user": int(most)}


def run(stack: Stack, seconds: int, rounds: int) -> dict:
    wrk.ensure_installed({"nginx": "nginx"})
    os.chmod(stack.workdir, 0o755)  # nginx workers run as nobody
    stack.start_seckill()
    sales = Sales(stack.urls["seckill"])
    urls = {"hello": stack.urls["hello"] + "/hello", "gateway_hello": stack.urls["gateway_hello"] + BANNERS,
            "seckill": stack.urls["seckill"] + RESERVATIONS, "gateway": stack.urls["gateway_seckill"] + RESERVATIONS,
            "gateway_nolimit": stack.urls["gateway_seckill_nolimit"] + RESERVATIONS,
            "nginx": stack.urls["nginx_seckill"] + RESERVATIONS, "database": stack.urls["seckill_db"] + RESERVATIONS}
    runs: dict[str, list[dict]] = {target: [] for target in TARGETS}
    crowd = crowd_tokens()
    for target in TARGETS:  # every worker of every process checks the crowd's tokens before anything is measured
        if target not in PLAIN:
            wrk.run(urls[target], CONNECTIONS, PREWARM_SECONDS, script=crowd_script(stack.workdir, sales.new(), crowd))
    for number in range(1, rounds + 1):
        for target in TARGETS:
            if target in PLAIN:
                wrk.run(urls[target], CONNECTIONS, 1)  # warm-up
                before = stack.cpu_seconds()
                result, sale = wrk.run(urls[target], CONNECTIONS, seconds), None
            else:
                warm = sales.new()
                wrk.run(urls[target], CONNECTIONS, 1, script=crowd_script(stack.workdir, warm, crowd))  # warm-up sale
                activity_id = sales.new()
                script = crowd_script(stack.workdir, activity_id, crowd)
                before = stack.cpu_seconds()
                result = wrk.run(urls[target], CONNECTIONS, seconds, script=script)
            cpu = cpu_per_request(before, stack.cpu_seconds(), PROCESSES[target], result.requests)
            if target not in PLAIN:
                sale = asyncio.run(outcome(stack.env["DATABASE_URL"], stack.env["REDIS_URL"], activity_id))
                if result.requests < USERS:  # not every user tried: what is left may simply be unsold yet
                    sale["undersold"] = None
            row = {"requests": result.requests, "requests_per_sec": result.requests_per_sec, "p50_ms": result.p50_ms,
                   "p99_ms": result.p99_ms, "socket_errors": result.socket_errors, "statuses": result.statuses,
                   "cpu_us_per_request": cpu, **(sale or {})}
            runs[target].append(row)
            extra = "" if sale is None else (f"  sold {sale['sold']} oversold {sale['oversold']} "
                                             f"undersold {sale['undersold']} statuses {result.statuses}")
            cpu_text = " ".join(f"{role} {us:,.0f}" for role, us in cpu.items())
            print(f"  round {number} {target:<15} c={CONNECTIONS} {result.requests_per_sec:8,.0f} req/s "
                  f"p50 {result.p50_ms:6.2f} ms p99 {result.p99_ms:7.2f} ms  CPU us/req: {cpu_text}{extra}", flush=True)
    median = {target: statistics.median(r["requests_per_sec"] for r in rs) for target, rs in runs.items()}
    cpu = {target: {role: round(statistics.median(r["cpu_us_per_request"][role] for r in rs), 1)
                     for role in PROCESSES[target]} for target, rs in runs.items()}
    return {"runs": runs, "median_rps": {k: round(v, 1) for k, v in median.items()}, "cpu_us_per_request": cpu,
            "gateway_vs_direct_in_round": _in_rounds(runs, lambda g, d: g["requests_per_sec"] / d["requests_per_sec"],
                                                     "gateway", "seckill"),
            "nginx_vs_direct_in_round": _in_rounds(runs, lambda n, d: n["requests_per_sec"] / d["requests_per_sec"],
                                                   "nginx", "seckill"),
            "gateway_cpu_vs_nginx": _in_rounds(runs, lambda g, n: _proxy_us(g) / max(_proxy_us(n), 0.001),
                                               "gateway", "nginx"),
            "limiter_cpu_us": _in_rounds(runs, lambda g, n: _proxy_us(g) - _proxy_us(n), "gateway", "gateway_nolimit"),
            "ratio_vs_hello": round(median["seckill"] / median["hello"], 3),
            "redis_vs_database": round(median["seckill"] / median["database"], 2),
            "gateway_vs_direct": round(median["gateway"] / median["seckill"], 3),
            "gateway_nolimit_vs_direct": round(median["gateway_nolimit"] / median["seckill"], 3),
            "gateway_hello_vs_hello": round(median["gateway_hello"] / median["hello"], 3),
            "rounds": rounds, "seconds": seconds, "connections": CONNECTIONS, "users": USERS, "stock": STOCK}


def cpu_per_request(before: dict[str, float], after: dict[str, float], processes: dict[str, str],
                    requests: int) -> dict[str, float]:
    """CPU microseconds per request of each process a target runs through, from two readings."""
    return {role: round((after[name] - before[name]) * 1e6 / max(requests, 1), 1)
            for role, name in processes.items()}


def _proxy_us(row: dict) -> float:
    return row["cpu_us_per_request"]["proxy"]


def _in_rounds(runs: dict[str, list[dict]], figure, mine: str, theirs: str) -> float:
    """`figure(mine's run, theirs' run)` within each round (same moment), the median over rounds."""
    return round(statistics.median(figure(a, b) for a, b in zip(runs[mine], runs[theirs], strict=True)), 3)


def markdown(result: dict) -> str:
    labels = {"hello": "bare FastAPI hello (baseline)", "gateway_hello": "hello through the gateway (limiter off)",
              "seckill": "seckill service, Redis first",
              "gateway": "seckill through the gateway (rate limiter on)",
              "gateway_nolimit": "seckill through the gateway (rate limiter off)",
              "nginx": "seckill through nginx (no checks; the reference proxy)",
              "database": "database-only variant (Redis filter off)"}
    rows = []
    for target in TARGETS:
        rs = result["runs"][target]
        med = statistics.median
        cells = [labels[target], f"{med(r['requests_per_sec'] for r in rs):,.0f}",
                 f"{med(r['p50_ms'] for r in rs):.2f} ms", f"{med(r['p99_ms'] for r in rs):.2f} ms"]
        if target in PLAIN:
            cells += ["", "", "", ""]
        else:
            cells += [f"{sum(r['requests'] for r in rs):,}", " / ".join(str(r["sold"]) for r in rs),
                      str(sum(r["oversold"] for r in rs)),
                      " / ".join("-" if r["undersold"] is None else str(r["undersold"]) for r in rs)]
        rows.append("| " + " | ".join(cells) + " |")
    checks = [("reservations/s >= 0.5 x hello (stretch 0.7)", result["ratio_vs_hello"] >= 0.5,
               f"{result['ratio_vs_hello']}"),
              ("Redis path >= 5 x database-only", result["redis_vs_database"] >= 5, f"{result['redis_vs_database']}"),
              (f"through the gateway (limiter and token check on) >= {GATEWAY_VS_DIRECT} x direct (ratio within "
               "each round, median)", result["gateway_vs_direct_in_round"] >= GATEWAY_VS_DIRECT,
               f"{result['gateway_vs_direct_in_round']} (nginx: {result['nginx_vs_direct_in_round']})"),
              (f"gateway CPU per forwarded request <= {GATEWAY_CPU_VS_NGINX:g} x nginx's",
               result["gateway_cpu_vs_nginx"] <= GATEWAY_CPU_VS_NGINX,
               f"{result['gateway_cpu_vs_nginx']} x ({result['cpu_us_per_request']['gateway']['proxy']:,.0f} vs "
               f"{result['cpu_us_per_request']['nginx']['proxy']:,.0f} us)"),
              (f"the limiter adds <= {LIMITER_CPU_US:g} us CPU per request to the gateway (limiter on - off)",
               result["limiter_cpu_us"] <= LIMITER_CPU_US, f"{result['limiter_cpu_us']:.1f} us"),
              ("oversold = 0 and undersold = 0 in every run (undersold: runs where every user tried)",
               all(r["oversold"] == 0 and r["undersold"] in (0, None) for t in TARGETS if t not in PLAIN
                   for r in result["runs"][t]), "see the table")]
    return "\n".join([
        "## Flash crowd", "",
        f"Each run: a fresh sale of {result['stock']} units, one per user, {result['users']:,} users' tokens in "
        f"turn, wrk -c{result['connections']} for {result['seconds']} s; {result['rounds']} interleaved rounds, "
        "medians (attempts and sold: every run; undersold '-' where fewer attempts than users were made, so the "
        "stock left may be unsold yet).", "",
        "| target | req/s | p50 | p99 | attempts | sold per run | oversold | undersold per run |",
        "|---|---:|---:|---:|---:|---:|---:|---:|", *rows, "",
        "CPU microseconds per request, per process (utime + stime from /proc over the measured run, a proxy's "
        "workers added up; medians over the rounds):", "",
        "| target | proxy | service | Redis |", "|---|---:|---:|---:|",
        *[f"| {labels[t]} | " + " | ".join(
            f"{result['cpu_us_per_request'][t][role]:,.0f}" if role in result["cpu_us_per_request"][t] else ""
            for role in ("proxy", "service", "redis")) + " |" for t in TARGETS], "",
        "The gateway's CPU per request by round (the crowd's tokens were sent through every target for "
        f"{PREWARM_SECONDS} s before the rounds, so that each worker has checked each token once): "
        + " / ".join(f"{r['cpu_us_per_request']['proxy']:,.0f}" for r in result["runs"]["gateway"]) + " us; "
        "nginx: " + " / ".join(f"{r['cpu_us_per_request']['proxy']:,.0f}" for r in result["runs"]["nginx"])
        + " us.", "",
        "| target | result | |", "|---|---|---|",
        *[f"| {name} | {value} | {'PASS' if ok else 'FAIL'} |" for name, ok, value in checks], "",
        f"The proxy's own ceiling, same run: through the gateway with its limiter off, "
        f"{result['gateway_nolimit_vs_direct']} x direct; the bare hello app through the gateway (limiter off), "
        f"{result['gateway_hello_vs_hello']} x hello direct.", ""])
