"""The bargain service on its own MariaDB database, on a clock the tests move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services.bargain.main import create_app
from services.bargain.models import Base, outbox
from services.bargain.settings import BargainSettings
from shared.auth import Role
from shared.clock import FixedClock
from shared.events import decode
from tests.conftest import bearer, client_on_clean_tables, running_service

NOW = datetime(2026, 11, 22, 2, 30, tzinfo=UTC)
ADMIN, MINE, APP = "/admin-api/bargain", "/merchant-api/bargain", "/app-api/bargain"
PRICES, HOLDS = "/internal/bargain/prices", "/internal/bargain/holds"


@pytest.fixture(scope="session")
async def bargain_app(infra):
    clock = FixedClock(NOW)
    async with running_service("bargain", create_app, BargainSettings, infra, clock=clock,
                               database_pool_size=30, bargain_record_lifetime_seconds=86_400,
                               bargain_hold_seconds=900, bargain_job_interval_seconds=3600) as app:
        app.state.test_clock = clock
        yield app


@pytest.fixture
async def client(bargain_app):
    bargain_app.state.test_clock.at = NOW
    async with client_on_clean_tables(bargain_app, Base.metadata) as client:
        yield client


@pytest.fixture(scope="session")
def members(dev_settings) -> dict[int, dict[str, str]]:
    """Member tokens for users 1001..1030."""
    return {user: bearer(dev_settings, Role.MEMBER, user) for user in range(1001, 1031)}


def activity(name="好友砍价", spu_id=501, sku_id=5001, first=10_000, floor=1_000, helpers=3, rmin=2_000,
             rmax=4_000, stock=10, bargain_count=3, total_limit=1, start=None, end=None, **extra) -> dict:
    return {"name": name, "spu_id": spu_id, "sku_id": sku_id,
            "start_at": (start or NOW - timedelta(hours=1)).isoformat(),
            "end_at": (end or NOW + timedelta(days=3)).isoformat(), "first_price": first, "floor_price": floor,
            "stock": stock, "help_max_count": helpers, "bargain_count": bargain_count,
            "total_limit_count": total_limit, "random_min_price": rmin, "random_max_price": rmax, **extra}


async def make_activity(client, token, prefix=ADMIN, **kwargs) -> int:
    made = await client.post(f"{prefix}/activities", json=activity(**kwargs), headers=token)
    assert made.status_code == 201, made.text
    return made.json()["id"]


async def start(client, token, activity_id: int) -> dict:
    started = await client.post(f"{APP}/records", json={"activity_id": activity_id}, headers=token)
    assert started.status_code == 201, started.text
    return started.json()


async def help_(client, token, record_id: int):
    return await client.post(f"{APP}/records/{record_id}/help", json={}, headers=token)


async def succeeded_record(client, admin, members, user=1001, helpers=(1002, 1003, 1004), **kwargs) -> dict:
    activity_id = kwargs.pop("activity_id", None) or await make_activity(client, admin, **kwargs)
    record = await start(client, members[user], activity_id)
    for helper in helpers:
        assert (await help_(client, members[helper], record["id"])).status_code == 201
    return record


async def events(app, event_type: str | None = None) -> list:
    async with app.state.sessionmaker() as session:
        rows = (await session.execute(select(outbox.c.payload).order_by(outbox.c.id))).scalars().all()
    found = [decode(raw) for raw in rows]
    return [e for e in found if event_type is None or e.type == event_type]
