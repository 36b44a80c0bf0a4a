"""Demo data for `make run` / `promo seed`: a running limited-time discount on three demo SKUs
and a spend-and-save activity over all products, both for the next 30 days."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.pricing import repository, service
from services.pricing.calculator import ConditionType, DiscountType
from services.pricing.schemas import DiscountActivityIn, DiscountItemIn, RewardActivityIn, RewardLevelIn

# Demo catalogue ids (the catalogue is the mall's): SPU 101-103, their SKUs 1001-1003, category 11.
DEMO_SKUS = [(101, 1001), (102, 1002), (103, 1003)]


async def seed_demo(session: AsyncSession, now: datetime) -> bool:
    if await repository.has_any_discount(session):
        return False
    start, end = now - timedelta(minutes=1), now + timedelta(days=30)
    await service.create_discount(session, DiscountActivityIn(
        name="双11 限时折扣", start_at=start, end_at=end, products=[
            DiscountItemIn(spu_id=101, sku_id=1001, discount_type=DiscountType.PERCENT, pay_bp=8500),
            DiscountItemIn(spu_id=102, sku_id=1002, discount_type=DiscountType.AMOUNT, amount_off=500)]), now)
    await service.create_reward(session, None, RewardActivityIn(
        name="全场满减", start_at=start, end_at=end, condition_type=ConditionType.AMOUNT, levels=[
            RewardLevelIn(threshold=10000, amount_off=1000),
            RewardLevelIn(threshold=20000, amount_off=2500, free_delivery=True, points=100)]), now, "zh-CN")
    return True
