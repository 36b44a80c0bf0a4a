"""The group-buy service on its own MariaDB database, on a clock the tests move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services.groupbuy.main import create_app
from services.groupbuy.models import Base, outbox
from services.groupbuy.schemas import HoldIn
from services.groupbuy.settings import GroupbuySettings
from shared.clock import FixedClock
from shared.events import decode
from tests.conftest import client_on_clean_tables, running_service

NOW = datetime(2026, 11, 22, 2, 30, tzinfo=UTC)


@pytest.fixture(scope="session")
async def groupbuy_app(infra):
    clock = FixedClock(NOW)
    async with running_service("groupbuy", create_app, GroupbuySettings, infra, clock=clock,
                               database_pool_size=30, groupbuy_hold_seconds=900,
                               groupbuy_job_interval_seconds=3600) as app:
        app.state.test_clock = clock
        yield app


@pytest.fixture
async def client(groupbuy_app):
    groupbuy_app.state.test_clock.at = NOW
    async with client_on_clean_tables(groupbuy_app, Base.metadata) as client:
        yield client


def activity(name="三人团", spu_id=301, skus=((3001, 5900, 4900),), size=3, hours=24, start=None, end=None,
             **extra) -> dict:
    """`skus`: (sku_id, group price, leader price or None)."""
    return {"name": name, "spu_id": spu_id, "start_at": (start or NOW - timedelta(hours=1)).isoformat(),
            "end_at": (end or NOW + timedelta(days=3)).isoformat(), "group_size": size, "limit_hours": hours,
            "products": [{"sku_id": sku, "group_price": group, "leader_price": leader}
                         for sku, group, leader in skus], **extra}


async def make_activity(client, admin, **kwargs) -> int:
    made = await client.post("/admin-api/groupbuy/activities", json=activity(**kwargs), headers=admin)
    assert made.status_code == 201, made.text
    return made.json()["id"]


def seat(order_id: int, user_id: int, activity_id: int, group_id: int | None = None, sku_id: int = 3001,
         count: int = 1) -> HoldIn:
    return HoldIn(order_id=order_id, user_id=user_id, activity_id=activity_id, group_id=group_id, sku_id=sku_id,
                  count=count, nickname=f"user{user_id}")


async def events(app, event_type: str | None = None) -> list:
    async with app.state.sessionmaker() as session:
        rows = (await session.execute(select(outbox.c.payload).order_by(outbox.c.id))).scalars().all()
    found = [decode(raw) for raw in rows]
    return [e for e in found if event_type is None or e.type == event_type]
