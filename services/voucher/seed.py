"""Demo data for `make run` / `promo seed`: the seed's test merchant (business 194, staff user 38)
with two stores in Shanghai (254, the seed's goods group, and 255) and two approved voucher
products: SKU 537 (SPU 537), a ¥100 stored-value voucher usable in up to 3 visits at both stores
for 90 days, and SKU 555 (SPU 555), a 3-use car-wash card at store 254 for a year."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.voucher import repository, service
from services.voucher.domain import ValidityType, VoucherKind
from services.voucher.schemas import ProductIn, StoreIn

BUSINESS_ID, STAFF = 194, "merchant:38"
REVIEWER = "admin:seed"
STORES = {
    254: StoreIn(name="静安寺店", address="上海市静安区南京西路1618号", phone="021-62880000",
                 opening_hours="10:00-22:00", lat=31.224034, lon=121.445645),
    255: StoreIn(name="陆家嘴店", address="上海市浦东新区陆家嘴环路1000号", phone="021-58880000",
                 opening_hours="10:00-22:00", lat=31.236469, lon=121.503601),
}


def products(now: datetime) -> list[ProductIn]:
    return [
        ProductIn(spu_id=537, sku_id=537, name="100元代金券（两店通用）", kind=VoucherKind.BY_VALUE, value=10000,
                  currency="CNY", max_using_times=3, cost=8500, bright_desc="全场通用，可分 3 次使用",
                  image_url="https://cdn.example.com/voucher/537.png", validity_type=ValidityType.DAYS,
                  valid_days=90, selling_store_id=254, store_ids=[254, 255]),
        ProductIn(spu_id=555, sku_id=555, name="精致洗车 3 次卡", kind=VoucherKind.BY_TIMES, value=19900,
                  currency="CNY", max_using_times=3, cost=15000, bright_desc="节假日通用",
                  image_url="https://cdn.example.com/voucher/555.png", validity_type=ValidityType.WINDOW,
                  valid_start_at=now - timedelta(minutes=1), valid_end_at=now + timedelta(days=365),
                  selling_store_id=254, store_ids=[254]),
    ]


async def seed_demo(session: AsyncSession, now: datetime) -> bool:
    """Adds the demo unless the service has stores or products already; True when it added it."""
    if await repository.has_any_data(session):
        return False
    for store_id, body in STORES.items():
        store = await service.create_store(session, BUSINESS_ID, STAFF, body, now, store_id=store_id)
        await service.approve(session, store.pending_review_id, REVIEWER, now)
    for body in products(now):
        product = await service.create_product(session, BUSINESS_ID, STAFF, body, now)
        await service.approve(session, product.pending_review_id, REVIEWER, now)
    return True
