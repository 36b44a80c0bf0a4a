from __future__ import annotations

import pytest

from services.coupon.main import create_app
from services.coupon.models import Base
from services.coupon.settings import CouponSettings
from tests.conftest import asgi_client, clear_tables, migrated_database


@pytest.fixture(scope="session")
async def coupon_app(infra):
    url = await migrated_database("coupon")
    app = create_app(CouponSettings(_env_file=None, database_url=url, database_pool_size=40, **infra))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(coupon_app):
    await clear_tables(coupon_app.state.engine, Base.metadata)
    async with asgi_client(coupon_app) as client:
        yield client
