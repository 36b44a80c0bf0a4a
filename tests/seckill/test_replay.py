"""`promo replay seckill`: a parked event goes through the service's own handlers, which need its
Redis and context, not only the database."""

from __future__ import annotations

import asyncio

from sqlalchemy import insert, select

from promo.cli import replay
from services.seckill.domain import ReservationStatus
from services.seckill.flows import orders
from services.seckill.models import Reservation, inbox
from shared.events import encode, new_event
from tests.seckill.conftest import make_sale


async def test_a_parked_cancellation_is_replayed_through_the_cli(client, tokens, seckill_app, monkeypatch, capsys):
    activity_id = await make_sale(client, tokens["admin"], stock=10)
    seckill, now = seckill_app.state.seckill, seckill_app.state.test_clock.now()
    held = await orders.hold(seckill, 7301, 1001, activity_id, 1001, 1, None, now)
    event = new_event("order.cancelled", source="test", subject=7301, time=now, data={
        "order_id": 7301, "user_id": 1001, "cancelled_at": now.isoformat()})
    async with seckill_app.state.sessionmaker() as session, session.begin():
        await session.execute(insert(inbox).values(event_id=event.id, event_type=event.type, status="parked",
                                                   received_at=now, error="was broken", payload=encode(event)))
    settings = seckill_app.state.settings
    for name, value in {"ENV": "test", "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
                        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers}.items():
        monkeypatch.setenv(name, value)
    await asyncio.to_thread(replay, "seckill", [])
    assert f"{event.id}: processed" in capsys.readouterr().out
    async with seckill_app.state.sessionmaker() as session:
        assert (await session.get(Reservation, held.id)).status == ReservationStatus.RELEASED
        assert await session.scalar(select(inbox.c.status).where(inbox.c.event_id == event.id)) == "processed"
