"""A hot coupon template: stock 1,000, 5,000 distinct users taking it at once (one take each,
64 requests in flight). Reports successful takes per second, latency, and over-issue (must be 0:
the database is checked, not the responses)."""

from __future__ import annotations

import asyncio
import statistics
import time

import aiohttp

from bench.stack import Stack
from shared.auth import Role, issue_token
from shared.settings import CommonSettings

STOCK, USERS, IN_FLIGHT = 1_000, 5_000, 64


async def _create_template(session: aiohttp.ClientSession, base: str, admin: str) -> int:
    body = {"name": "bench hot template", "take_type": 1, "total_count": STOCK, "take_limit_count": 1,
            "validity_type": 2, "fixed_start_term": 0, "fixed_end_term": 7, "discount_type": 1,
            "discount_price": 1000}
    async with session.post(f"{base}/admin-api/coupon/templates", json=body,
                            headers={"Authorization": f"Bearer {admin}"}) as response:
        assert response.status == 201, await response.text()
        return (await response.json())["id"]


async def _rush(base: str) -> dict:
    settings = CommonSettings(_env_file=None, env="dev")
    admin = issue_token(settings, 1, Role.ADMIN)
    tokens = [issue_token(settings, 3_000_000 + i, Role.MEMBER) for i in range(USERS)]
    connector = aiohttp.TCPConnector(limit=IN_FLIGHT)
    async with aiohttp.ClientSession(connector=connector) as session:
        template_id = await _create_template(session, base, admin)
        url = f"{base}/app-api/coupon/templates/{template_id}/take"
        queue: asyncio.Queue[str] = asyncio.Queue()
        for token in tokens:
            queue.put_nowait(token)
        results: list[tuple[int, float]] = []
        unexpected: list[str] = []

        async def worker() -> None:
            while not queue.empty():
                token = queue.get_nowait()
                started = time.perf_counter()
                async with session.post(url, headers={"Authorization": f"Bearer {token}"}) as response:
                    body = await response.read()
                    results.append((response.status, time.perf_counter() - started))
                    if response.status not in (201, 409):
                        unexpected.append(f"{response.status} {body[:200].decode(errors='replace')}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
        elapsed = time.perf_counter() - started
        async with session.get(f"{base}/admin-api/coupon/templates/{template_id}",
                               headers={"Authorization": f"Bearer {admin}"}) as response:
            take_count = (await response.json())["take_count"]
        async with session.get(f"{base}/admin-api/coupon/coupons", params={"template_id": template_id, "size": 1},
                               headers={"Authorization": f"Bearer {admin}"}) as response:
            issued = (await response.json())["total"]
    return {**_summary(results, elapsed, take_count, issued), "unexpected": unexpected[:5]}


def _summary(results: list[tuple[int, float]], elapsed: float, take_count: int, issued: int) -> dict:
    ok = sorted(seconds for status, seconds in results if status == 201)
    everything = sorted(seconds for _, seconds in results)

    def pct(values: list[float], q: float) -> float:
        return values[min(len(values) - 1, int(q * len(values)))] * 1000 if values else 0.0

    return {"stock": STOCK, "users": USERS, "in_flight": IN_FLIGHT, "requests": len(results),
            "taken": len(ok), "refused_409": sum(1 for s, _ in results if s == 409),
            "other_status": sum(1 for s, _ in results if s not in (201, 409)),
            "seconds": round(elapsed, 2), "requests_per_sec": round(len(results) / elapsed, 1),
            "takes_per_sec": round(len(ok) / elapsed, 1),
            "p50_ms": round(pct(everything, 0.5), 2), "p99_ms": round(pct(everything, 0.99), 2),
            "take_p50_ms": round(statistics.median(ok) * 1000, 2) if ok else 0.0,
            "take_p99_ms": round(pct(ok, 0.99), 2),
            "issued_in_db": issued, "take_count_in_db": take_count,
            "over_issued": max(0, issued - STOCK), "under_issued": max(0, STOCK - issued)}


def run(stack: Stack) -> dict:
    stack.start_coupon()
    return asyncio.run(_rush(stack.urls["coupon"]))


def markdown(result: dict) -> str:
    ok = result["over_issued"] == 0 and result["under_issued"] == 0 and result["other_status"] == 0
    return "\n".join([
        "## Hot coupon template", "",
        f"Stock {result['stock']:,}, {result['users']:,} distinct users, one take each, {result['in_flight']} in "
        f"flight, straight to the coupon service (one process).", "",
        "| requests | taken | refused (409) | other | seconds | takes/s | all req/s | p50 | p99 | take p50 "
        "| take p99 |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {result['requests']:,} | {result['taken']:,} | {result['refused_409']:,} | {result['other_status']} "
        f"| {result['seconds']} | {result['takes_per_sec']:,} | {result['requests_per_sec']:,} | {result['p50_ms']} ms "
        f"| {result['p99_ms']} ms | {result['take_p50_ms']} ms | {result['take_p99_ms']} ms |", "",
        f"In the database afterwards: {result['issued_in_db']:,} coupons, take_count {result['take_count_in_db']:,}: "
        f"over-issued {result['over_issued']}, under-issued {result['under_issued']} "
        f"({'PASS' if ok else 'FAIL'}).", "",
        *([f"Unexpected answers: {result['unexpected']}", ""] if result["unexpected"] else [])])
