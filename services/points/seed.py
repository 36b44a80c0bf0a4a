"""Demo data for `make run` / `promo seed`: a points mall activity of demo SPU 106 for the next 30
days: SKU 1006 for 1,000 points + 9.90, SKU 1016 for 2,000 points alone (cash 0)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.points import activities, repository
from services.points.schemas import ActivityIn, ProductIn

DEMO_SPU = 106
DEMO_PRODUCTS = (ProductIn(sku_id=1006, points=1_000, price=990, stock=100, limit_count=2),
                 ProductIn(sku_id=1016, points=2_000, price=0, stock=50, limit_count=1))


async def seed_demo(session: AsyncSession, now: datetime) -> bool:
    """Adds the demo activity unless the service already has data; True when it added it."""
    if await repository.has_any_data(session):
        return False
    await activities.create_activity(session, ActivityIn(
        name="积分商城 · 帆布袋", spu_id=DEMO_SPU, start_at=now - timedelta(minutes=1), end_at=now + timedelta(days=30),
        products=list(DEMO_PRODUCTS)), now)
    return True
