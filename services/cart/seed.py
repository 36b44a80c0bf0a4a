"""Demo data for `make run` / `promo seed`: a device cart holding the pricing demo's SKUs, so
`curl -H 'X-Device-Id: demo-device-0001' localhost:8000/app-api/cart` shows the demo promotions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.cart import service
from services.cart.domain import Owner
from services.cart.schemas import LineIn

DEMO_DEVICE = "demo-device-0001"
# The pricing demo's SKUs (SPU 101-103, category 11): a discount on 1001 and 1002, 满100减10 / 满200减25 on all.
DEMO_LINES = [dict(sku_id=1001, spu_id=101, category_id=11, unit_price=19900, quantity=1),
              dict(sku_id=1002, spu_id=102, category_id=11, unit_price=5900, quantity=2),
              dict(sku_id=1003, spu_id=103, category_id=11, unit_price=2900, quantity=1, selected=False)]


async def seed_demo(session: AsyncSession, now: datetime) -> bool:
    owner = Owner(device_id=DEMO_DEVICE)
    if (await service.count(session, owner)).lines:
        return False
    for line in DEMO_LINES:
        await service.add(session, owner, LineIn(**line), now)
    return True
