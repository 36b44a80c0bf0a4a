"""The seckill service on its own MariaDB database and the test Redis, on a clock the tests move."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.seckill.main import create_app
from services.seckill.models import Base
from services.seckill.settings import SeckillSettings
from shared.clock import FixedClock
from tests.conftest import client_on_clean_tables, running_service

# 10:30 in Shanghai (the default business timezone): inside the 10:00-12:00 slot the tests make.
SALE_TIME = datetime(2026, 11, 22, 2, 30, tzinfo=UTC)
TODAY = date(2026, 11, 22)


# The seckill app of the tests (also on the cluster, tests/cluster/conftest.py): jobs left to the tests
APP_SETTINGS = {"database_pool_size": 30, "seckill_hold_seconds": 300, "seckill_job_interval_seconds": 3600,
                "seckill_reconcile_interval_seconds": 3600}


@pytest.fixture(scope="session")
async def seckill_app(infra):
    clock = FixedClock(SALE_TIME)
    async with running_service("seckill", create_app, SeckillSettings, infra, clock=clock, **APP_SETTINGS) as app:
        app.state.test_clock = clock
        yield app


@pytest.fixture
async def client(seckill_app, redis):
    seckill_app.state.test_clock.at = SALE_TIME
    seckill_app.state.seckill.catalog.forget()
    async with client_on_clean_tables(seckill_app, Base.metadata) as client:
        stale = [key async for key in redis.scan_iter("{sk:*")]  # activity ids restart with each test database
        if stale:
            await redis.delete(*stale)
        yield client


def slot(name="上午场", start="10:00:00", end="12:00:00", **extra) -> dict:
    return {"name": name, "start_time": start, "end_time": end, **extra}


def activity(slot_ids, name="秒杀", spu_id=101, skus=((1001, 9900, 100),), start=TODAY, end=None, **extra) -> dict:
    return {"name": name, "spu_id": spu_id, "slot_ids": list(slot_ids), "start_date": start.isoformat(),
            "end_date": (end or start + timedelta(days=2)).isoformat(),
            "products": [{"sku_id": sku, "price": price, "stock": stock} for sku, price, stock in skus], **extra}


async def make_sale(client, admin, *, stock=100, user_limit=0, order_limit=0, skus=None) -> int:
    """A 10:00-12:00 slot and an activity on it today; the activity id."""
    created = await client.post("/admin-api/seckill/slots", json=slot(), headers=admin)
    assert created.status_code == 201, created.text
    body = activity([created.json()["id"]], skus=skus or ((1001, 9900, stock),), user_limit=user_limit,
                    order_limit=order_limit)
    made = await client.post("/admin-api/seckill/activities", json=body, headers=admin)
    assert made.status_code == 201, made.text
    return made.json()["id"]
