from __future__ import annotations

import pytest

from services.coupon.main import create_app
from services.coupon.models import Base
from services.coupon.settings import CouponSettings
from tests.conftest import client_on_clean_tables, running_service


@pytest.fixture(scope="session")
async def coupon_app(infra):
    async with running_service("coupon", create_app, CouponSettings, infra, database_pool_size=40) as app:
        yield app


@pytest.fixture
async def client(coupon_app):
    async with client_on_clean_tables(coupon_app, Base.metadata) as client:
        yield client
