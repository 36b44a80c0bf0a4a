"""Stores near me on 100,000 stores: a fresh MariaDB database `promo_bench_voucher` (migrated with the
service's own migrations) filled with stores spread over a country-sized area (most in 60 cities,
the rest anywhere between 18°N-53°N and 73°E-135°E), each selling one of 1,000 voucher products;
then a few hundred searches at random points (in cities, and anywhere) timed through the service's
own code: the search a request runs (`pages.nearby`: the bounding box on the index, the exact
distance, which stores sell, one page of stores with their products) and its index query alone
(`repository.nearby_candidates`); and EXPLAIN of that query, which must be a range on the
coordinates' index read from the index alone.

    result = voucher_nearby.run()          # or: .venv/bin/python -m bench.voucher_nearby
    print(voucher_nearby.markdown(result))
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from datetime import UTC, datetime

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.voucher import domain, pages
from services.voucher import repository as repo
from services.voucher.models import Product, ProductStore, Store
from shared.db import create_engine, ensure_database, make_sessionmaker
from shared.migrations import upgrade
from shared.pagination import PageParams

DATABASE_URL = "mysql+asyncmy://root@127.0.0.1:3306/promo_bench_voucher"
INDEX = "ix_voucher_store_lat_e6_lon_e6_review_status_status"
STORES, PRODUCTS, CITIES = 100_000, 1_000, 60
COUNTRY = ((18.0, 53.0), (73.0, 135.0))  # latitudes, longitudes
IN_CITIES = 0.8  # the share of stores (and of searches) in a city
CHUNK = 5_000


def _point(rng: random.Random, cities: list[tuple[float, float]], in_city: bool) -> tuple[int, int]:
    if in_city:
        lat, lon = rng.choice(cities)
        lat, lon = rng.gauss(lat, 0.15), rng.gauss(lon, 0.15)  # a city about 30 km across
    else:
        lat, lon = rng.uniform(*COUNTRY[0]), rng.uniform(*COUNTRY[1])
    return domain.to_e6(lat), domain.to_e6(lon)


async def _fresh_database(url: str) -> None:
    from sqlalchemy import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    parsed = make_url(url)
    engine = create_async_engine(parsed.set(database=""))
    async with engine.begin() as conn:
        await conn.execute(text(f"DROP DATABASE IF EXISTS `{parsed.database}`"))
    await engine.dispose()
    await ensure_database(url)
    await asyncio.to_thread(upgrade, "voucher", url)


async def _fill(engine: AsyncEngine, rng: random.Random, cities: list[tuple[float, float]], stores: int) -> None:
    now = datetime.now(UTC)
    common = {"status": 0, "review_status": 2, "last_editor": "bench", "created_at": now, "updated_at": now}
    async with engine.begin() as conn:
        await conn.execute(insert(Product), [{
            "id": n, "business_id": n, "spu_id": n, "sku_id": n, "name": f"voucher {n}", "kind": 1, "value": 10000,
            "currency": "CNY", "max_using_times": 1, "cost": 8000, "bright_desc": "", "image_url": "",
            "validity_type": 2, "valid_days": 30, "selling_store_id": n, "store_ids": [n], **common}
            for n in range(1, PRODUCTS + 1)])
    for start in range(1, stores + 1, CHUNK):
        ids = range(start, min(start + CHUNK, stores + 1))
        rows = []
        for n in ids:
            lat, lon = _point(rng, cities, rng.random() < IN_CITIES)
            rows.append({"id": n, "business_id": n % PRODUCTS + 1, "name": f"store {n}", "address": "", "phone": "",
                         "opening_hours": "", "lat_e6": lat, "lon_e6": lon, **common})
        async with engine.begin() as conn:
            await conn.execute(insert(Store), rows)
            await conn.execute(insert(ProductStore), [{"product_id": n % PRODUCTS + 1, "store_id": n} for n in ids])
    async with engine.begin() as conn:
        for table in ("voucher_store", "voucher_product_store", "voucher_product"):
            await conn.execute(text(f"ANALYZE TABLE {table}"))


def _summary(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {"p50_ms": round(ordered[len(ordered) // 2] * 1000, 2),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 2),
            "mean_ms": round(statistics.fmean(ordered) * 1000, 2)}


async def _time(engine: AsyncEngine, points: list[tuple[int, int]], radius_m: int) -> dict:
    """Each point: the whole search (first page of 20), then the index query alone, warm."""
    sessions = make_sessionmaker(engine)
    search, index, found, candidates = [], [], [], []
    async with sessions() as session:
        for lat, lon in points[:20]:  # warm-up, not counted
            await pages.nearby(session, pages.Origin(lat, lon), radius_m, None, PageParams())
        for lat, lon in points:
            started = time.perf_counter()
            page = await pages.nearby(session, pages.Origin(lat, lon), radius_m, None, PageParams())
            search.append(time.perf_counter() - started)
            found.append(page["total"])
            box = domain.bounding_box(lat, lon, radius_m)
            started = time.perf_counter()
            candidates.append(len(await repo.nearby_candidates(session, box)))
            index.append(time.perf_counter() - started)
            await session.rollback()  # no long-lived snapshot
    return {"search": _summary(search), "index_query": _summary(index),
            "found_mean": round(statistics.fmean(found), 1), "found_max": max(found),
            "candidates_mean": round(statistics.fmean(candidates), 1), "candidates_max": max(candidates)}


async def _explain(engine: AsyncEngine, origin: tuple[int, int], radius_m: int) -> list[dict]:
    query = repo.nearby_query(domain.bounding_box(*origin, radius_m))
    compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
    async with engine.connect() as conn:
        return [dict(row) for row in (await conn.execute(text(f"EXPLAIN {compiled}"))).mappings()]


async def _run(url: str, stores: int, queries: int, radius_m: int, seed: int) -> dict:
    rng = random.Random(seed)
    cities = [(rng.uniform(22.0, 45.0), rng.uniform(100.0, 125.0)) for _ in range(CITIES)]
    await _fresh_database(url)
    engine = create_engine(url, pool_size=2)
    try:
        started = time.perf_counter()
        await _fill(engine, rng, cities, stores)
        filled_s = time.perf_counter() - started
        in_city = [_point(rng, cities, True) for _ in range(queries)]
        anywhere = [_point(rng, cities, False) for _ in range(queries // 2)]
        result = {"stores": stores, "products": PRODUCTS, "cities": CITIES, "radius_m": radius_m,
                  "fill_seconds": round(filled_s, 1), "in_city": await _time(engine, in_city, radius_m),
                  "anywhere": await _time(engine, anywhere, radius_m)}
        plan = await _explain(engine, in_city[0], radius_m)
    finally:
        await engine.dispose()
    row = next((r for r in plan if r.get("table") == "voucher_store"), {})
    result["explain"] = plan
    result["uses_index"] = (row.get("key") == INDEX and row.get("type") == "range"
                            and "Using index" in (row.get("Extra") or ""))
    return result


def run(url: str = DATABASE_URL, *, stores: int = STORES, queries: int = 300, radius_m: int = 5_000,
        seed: int = 2026) -> dict:
    """Fill a fresh database and measure; returns the numbers and the plan (see `markdown`)."""
    return asyncio.run(_run(url, stores, queries, radius_m, seed))


def markdown(result: dict) -> str:
    def row(name: str, part: dict) -> str:
        s, i = part["search"], part["index_query"]
        return (f"| {name} | {s['p50_ms']} ms | {s['p99_ms']} ms | {i['p50_ms']} ms | {i['p99_ms']} ms "
                f"| {part['candidates_mean']} (max {part['candidates_max']}) | {part['found_mean']} "
                f"(max {part['found_max']}) |")

    plan = "\n".join(f"    {r.get('id')} {r.get('table')} type={r.get('type')} key={r.get('key')} rows={r.get('rows')} "
                     f"extra={r.get('Extra')}" for r in result["explain"])
    return "\n".join([
        "## Stores near me (voucher)", "",
        f"{result['stores']:,} approved stores ({int(IN_CITIES * 100)}% in {result['cities']} cities, the rest "
        f"anywhere in {COUNTRY[0][0]:g}-{COUNTRY[0][1]:g}°N, {COUNTRY[1][0]:g}-{COUNTRY[1][1]:g}°E), each selling "
        f"one of {result['products']:,} products, on MariaDB; radius {result['radius_m']:,} m, one connection. "
        "`search` is what a request runs (`pages.nearby`: the index query, the exact distance, which stores sell, "
        "a page of 20 with their products); `index query` is `repository.nearby_candidates` alone.", "",
        "| searches at | search p50 | search p99 | index query p50 | index query p99 | stores in the box "
        "| within the radius |",
        "|---|---:|---:|---:|---:|---:|---:|",
        row("a city", result["in_city"]),
        row("anywhere", result["anywhere"]), "",
        f"EXPLAIN of the index query ({'uses' if result['uses_index'] else 'DOES NOT USE'} `{INDEX}` as a range, "
        "from the index alone):", "", plan, ""])


if __name__ == "__main__":
    outcome = run()
    print(markdown(outcome))
