"""Demo data for `make run` / `promo seed`: a three-person group buy of demo SKU 1004 (SPU 104)
for the next 30 days, with robot leaders keeping two groups open to join."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.groupbuy import activities, repository
from services.groupbuy.schemas import ActivityIn, ProductIn


async def seed_demo(session: AsyncSession, now: datetime) -> bool:
    """Adds the demo activity unless the service already has data (an activity, or groups of a
    deleted one); True when it added it."""
    if await repository.has_any_data(session):
        return False
    await activities.create_activity(session, ActivityIn(
        name="三人团 · 新疆长绒棉T恤", spu_id=104, start_at=now - timedelta(minutes=1), end_at=now + timedelta(days=30),
        group_size=3, limit_hours=24, user_limit=5, order_limit=2, virtual_completion=True, least_population=2,
        keep_open_groups=2, products=[ProductIn(sku_id=1004, group_price=5900, leader_price=4900)]), now)
    return True
