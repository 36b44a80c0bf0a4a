"""Demo data for `make run` / `promo seed`: a whole-day slot (00:00:00-00:00:00, on at any hour,
so the demo's 限时秒杀 banner leads to a running sale) and a flash sale of demo SKU 1003 (SPU 103,
the demo catalogue's third product: the group-buy demo has SPU 104) at 99.00, 100 units, 2 per
buyer, for the next 30 days (its dates start the day before, as UTC's date may be a day ahead of
the business timezone's)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.seckill import repository, service
from services.seckill.schemas import ActivityIn, ProductIn, SlotIn

DEMO_SPU, DEMO_SKU, DEMO_PRICE = 103, 1003, 9900


async def seed_demo(session: AsyncSession, now: datetime) -> bool:
    """False (nothing added) when the service already has a slot or an activity."""
    if await repository.has_any_slot_or_activity(session):
        return False
    slot = await service.create_slot(session, SlotIn(name="全天场", start_time="00:00:00", end_time="00:00:00"), now)
    start = (now - timedelta(days=1)).date()
    await service.create_activity(session, ActivityIn(
        name="限时秒杀 · 精选好物", spu_id=DEMO_SPU, slot_ids=[slot.id], start_date=start,
        end_date=start + timedelta(days=31), user_limit=2, order_limit=2,
        products=[ProductIn(sku_id=DEMO_SKU, price=DEMO_PRICE, stock=100)]), now)
    return True
