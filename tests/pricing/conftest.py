"""The pricing service against a real coupon service: the coupon app listens on a real port
(pricing calls it through shared/http.py, as in production), both on their own MariaDB databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from services.coupon.main import create_app as create_coupon_app
from services.coupon.models import Base as CouponBase
from services.coupon.settings import CouponSettings
from services.pricing.main import create_app as create_pricing_app
from services.pricing.models import Base as PricingBase
from services.pricing.models import Mutex
from services.pricing.settings import PricingSettings
from tests.bargain.conftest import bargain_app  # noqa: F401  (a fixture: pricing calls the bargain service)
from tests.conftest import asgi_client, clear_tables, client_on_clean_tables, running_service, serving
from tests.groupbuy.conftest import groupbuy_app  # noqa: F401  (a fixture: pricing calls the group-buy service)
from tests.points.conftest import points_app  # noqa: F401  (a fixture: pricing calls the points service)
from tests.seckill.conftest import seckill_app  # noqa: F401  (a fixture: pricing calls the seckill service)


@pytest.fixture(scope="session")
async def coupon_app(infra):
    async with running_service("coupon", create_coupon_app, CouponSettings, infra, database_pool_size=20) as app:
        async with serving(app) as url:
            app.state.url = url
            yield app


@pytest.fixture(scope="session")
async def seckill_url(seckill_app):  # noqa: F811  (the fixture imported above)
    async with serving(seckill_app) as url:
        yield url


@pytest.fixture(scope="session")
async def groupbuy_url(groupbuy_app):  # noqa: F811  (the fixture imported above)
    async with serving(groupbuy_app) as url:
        yield url


@pytest.fixture(scope="session")
async def bargain_url(bargain_app):  # noqa: F811  (the fixture imported above)
    async with serving(bargain_app) as url:
        yield url


@pytest.fixture(scope="session")
async def points_url(points_app):  # noqa: F811  (the fixture imported above)
    async with serving(points_app) as url:
        yield url


@pytest.fixture(scope="session")
async def pricing_app(infra, coupon_app, seckill_url, groupbuy_url, bargain_url, points_url):
    async with running_service("pricing", create_pricing_app, PricingSettings, infra, database_pool_size=20,
                               coupon_url=coupon_app.state.url, seckill_url=seckill_url, groupbuy_url=groupbuy_url,
                               bargain_url=bargain_url, points_url=points_url,
                               points_fen_per_point=1, points_grant_per_yuan=1) as app:
        yield app


@pytest.fixture
async def coupons(coupon_app):
    await clear_tables(coupon_app.state.engine, CouponBase.metadata)
    async with asgi_client(coupon_app) as client:
        yield client


@pytest.fixture
async def client(pricing_app, coupons):
    async with client_on_clean_tables(pricing_app, PricingBase.metadata) as client:  # pricing_mutex stays
        async with pricing_app.state.engine.begin() as conn:  # what the rows deleted above would have done
            await conn.execute(update(Mutex).values(version=Mutex.version + 1))
        yield client


def window(days: int = 7, *, start_in: timedelta = timedelta(minutes=-5)) -> dict[str, str]:
    now = datetime.now(UTC)
    return {"start_at": (now + start_in).isoformat(), "end_at": (now + timedelta(days=days)).isoformat()}


async def give_coupon(coupons, tokens, user_id: int = 1001, **terms) -> int:
    """A coupon in the user's hands, through the coupon service's admin API."""
    body = {"name": terms.pop("name", "券"), "take_type": 2, "total_count": -1, "take_limit_count": -1,
            "validity_type": 2, "fixed_start_term": 0, "fixed_end_term": 7, **terms}
    template = await coupons.post("/admin-api/coupon/templates", json=body, headers=tokens["admin"])
    assert template.status_code == 201, template.text
    given = await coupons.post(f"/admin-api/coupon/templates/{template.json()['id']}/give",
                               json={"user_ids": [user_id]}, headers=tokens["admin"])
    assert given.status_code == 200, given.text
    return given.json()["given"][0]["coupon_id"]


async def gift_template(coupons, tokens, take_type: int = 2) -> int:
    """A coupon template a spend-and-save level may give (take type 2: given by the system)."""
    body = {"name": "返券", "take_type": take_type, "total_count": -1, "take_limit_count": -1, "validity_type": 2,
            "fixed_start_term": 0, "fixed_end_term": 7, "discount_type": 1, "discount_price": 500}
    created = await coupons.post("/admin-api/coupon/templates", json=body, headers=tokens["admin"])
    assert created.status_code == 201, created.text
    return created.json()["id"]
