"""Demo data for `make run` / `promo seed`: a few coupon templates to look at and take."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.coupon import repository, service
from services.coupon.domain import DiscountType, TakeType, ValidityType
from services.coupon.schemas import TemplateIn

DEMO = [
    dict(name="满100减10", take_type=TakeType.USER, total_count=1000, take_limit_count=1, use_price=10000,
         discount_type=DiscountType.PRICE, discount_price=1000),
    dict(name="全场9折 最高减20", take_type=TakeType.USER, total_count=-1, take_limit_count=2,
         discount_type=DiscountType.PERCENT, discount_percent=90, discount_limit_price=2000),
    dict(name="新人专享 满50减15", take_type=TakeType.REGISTER, total_count=-1, take_limit_count=1, use_price=5000,
         discount_type=DiscountType.PRICE, discount_price=1500),
    dict(name="满199返券 减30", take_type=TakeType.ADMIN, total_count=-1, take_limit_count=-1, use_price=19900,
         discount_type=DiscountType.PRICE, discount_price=3000),
]
DEMO_SHOP = 1  # the business of the dev merchant token (`promo token merchant`)
DEMO_SHOP_TEMPLATES = [
    dict(name="本店 满80减8", take_type=TakeType.USER, total_count=500, take_limit_count=1, use_price=8000,
         discount_type=DiscountType.PRICE, discount_price=800),
]


async def seed_demo(session: AsyncSession, now: datetime) -> bool:
    if await repository.has_any_template(session):
        return False
    for owner, templates in ((None, DEMO), (DEMO_SHOP, DEMO_SHOP_TEMPLATES)):
        for values in templates:
            await service.create_template(session, TemplateIn(
                validity_type=ValidityType.TERM, fixed_start_term=0, fixed_end_term=30, **values), now, owner)
    return True
