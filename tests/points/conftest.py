"""The points service on its own MariaDB database, on a clock the tests move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services.points import consumers
from services.points.main import create_app
from services.points.models import Base, Hold, Product, UserCount, outbox
from services.points.settings import PointsSettings
from shared.auth import Role
from shared.clock import FixedClock
from shared.events import decode, new_event
from tests.conftest import bearer, client_on_clean_tables, running_service

NOW = datetime(2026, 11, 22, 2, 30, tzinfo=UTC)
ADMIN, MINE, APP = "/admin-api/points", "/merchant-api/points", "/app-api/points"
PRICES, HOLDS = "/internal/points/prices", "/internal/points/holds"


@pytest.fixture(scope="session")
async def points_app(infra):
    clock = FixedClock(NOW)
    async with running_service("points", create_app, PointsSettings, infra, clock=clock, database_pool_size=40,
                               points_hold_seconds=900, points_job_interval_seconds=3600) as app:
        app.state.test_clock = clock
        yield app


@pytest.fixture
async def client(points_app):
    points_app.state.test_clock.at = NOW
    async with client_on_clean_tables(points_app, Base.metadata) as client:
        yield client


@pytest.fixture(scope="session")
def members(dev_settings) -> dict[int, dict[str, str]]:
    """Member tokens for users 1001..1010."""
    return {user: bearer(dev_settings, Role.MEMBER, user) for user in range(1001, 1011)}


def product(sku_id=6001, points=500, price=1_000, stock=10, limit=2) -> dict:
    return {"sku_id": sku_id, "points": points, "price": price, "stock": stock, "limit_count": limit}


def activity(name="积分兑换", spu_id=601, products=None, start=None, end=None, **extra) -> dict:
    return {"name": name, "spu_id": spu_id, "start_at": (start or NOW - timedelta(hours=1)).isoformat(),
            "end_at": (end or NOW + timedelta(days=3)).isoformat(),
            "products": products if products is not None else [product(), product(6002, 800, 0, 5, 1)], **extra}


async def make_activity(client, token, prefix=ADMIN, **kwargs) -> dict:
    made = await client.post(f"{prefix}/activities", json=activity(**kwargs), headers=token)
    assert made.status_code == 201, made.text
    return made.json()


def hold_body(order_id: int, activity_id: int, sku_id: int = 6001, count: int = 1, user_id: int = 1001) -> dict:
    return {"order_id": order_id, "user_id": user_id, "activity_id": activity_id, "sku_id": sku_id, "count": count}


async def stored(app, activity_id: int, sku_id: int = 6001, user_id: int = 1001, order_id: int | None = None):
    """(the product, the user's (held, bought), the order's hold)."""
    async with app.state.sessionmaker() as session:
        found = await session.scalar(select(Product).where(Product.activity_id == activity_id,
                                                           Product.sku_id == sku_id))
        count = await session.get(UserCount, (activity_id, sku_id, user_id))
        held = None if order_id is None else await session.scalar(select(Hold).where(Hold.order_id == order_id))
    return found, (count.held, count.bought) if count is not None else (0, 0), held


async def deliver(app, event_type: str, data: dict) -> None:
    """One delivery of an event to its handler, in a transaction of its own (as the runner does)."""
    envelope = new_event(event_type, source="mall-order", subject=data["order_id"], data=data, time=NOW)
    async with app.state.sessionmaker() as session, session.begin():
        await consumers.HANDLERS[event_type](session, envelope)


def paid(order_id: int, user_id: int = 1001) -> dict:
    return {"order_id": order_id, "user_id": user_id, "order_type": "points", "pay_price": 1_000,
            "paid_at": NOW.isoformat(), "items": [{"sku_id": 6001, "spu_id": 601, "count": 1, "pay_price": 1_000}]}


def cancelled(order_id: int, paid_before: bool = False, user_id: int = 1001) -> dict:
    return {"order_id": order_id, "user_id": user_id, "cancelled_at": NOW.isoformat(), "paid": paid_before}


async def events(app, event_type: str | None = None) -> list:
    async with app.state.sessionmaker() as session:
        rows = (await session.execute(select(outbox.c.payload).order_by(outbox.c.id))).scalars().all()
    found = [decode(raw) for raw in rows]
    return [e for e in found if event_type is None or e.type == event_type]
