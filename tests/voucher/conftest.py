from __future__ import annotations

import pytest

from services.voucher.main import create_app
from services.voucher.models import Base
from services.voucher.settings import VoucherSettings
from shared.auth import Role
from tests.conftest import bearer, client_on_clean_tables, running_service


@pytest.fixture(scope="session")
async def voucher_app(infra):
    async with running_service("voucher", create_app, VoucherSettings, infra, database_pool_size=40) as app:
        yield app


@pytest.fixture
async def client(voucher_app):
    async with client_on_clean_tables(voucher_app, Base.metadata) as client:
        yield client


@pytest.fixture(scope="session")
def people(dev_settings) -> dict[str, dict[str, str]]:
    """Two merchants (A: business 194 with staff 38 and 40; B: business 195, staff 39), two buyers,
    an operator."""
    return {
        "a": bearer(dev_settings, Role.MERCHANT, 38, business_id=194),
        "a2": bearer(dev_settings, Role.MERCHANT, 40, business_id=194),
        "b": bearer(dev_settings, Role.MERCHANT, 39, business_id=195),
        "buyer": bearer(dev_settings, Role.MEMBER, 1001),
        "other_buyer": bearer(dev_settings, Role.MEMBER, 1002),
        "admin": bearer(dev_settings, Role.ADMIN, 1),
        "service": bearer(dev_settings, Role.SERVICE, "order-service"),
    }
