"""Demo data for `make run` / `promo seed`: a bargain of demo SKU 1005 (SPU 105) for the next
30 days: from 99.00 down to 9.90 with 5 friends' help."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.bargain import activities, repository
from services.bargain.schemas import ActivityIn


async def seed_demo(session: AsyncSession, now: datetime) -> bool:
    """Adds the demo activity unless the service already has data; True when it added it."""
    if await repository.has_any_data(session):
        return False
    await activities.create_activity(session, ActivityIn(
        name="好友砍价 · 保温杯", spu_id=105, sku_id=1005, start_at=now - timedelta(minutes=1),
        end_at=now + timedelta(days=30), first_price=9900, floor_price=990, stock=100, help_max_count=5,
        bargain_count=3, total_limit_count=1, random_min_price=1000, random_max_price=3000), now)
    return True
