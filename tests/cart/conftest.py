"""The cart service against real pricing and coupon services: each app on its own MariaDB
database, pricing and coupon listening on real ports (the cart calls pricing with aiohttp, as in
production), pricing with its demo promotions."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from services.cart.main import create_app
from services.cart.models import Base
from services.cart.settings import CartSettings
from services.coupon.main import create_app as create_coupon_app
from services.coupon.models import Base as CouponBase
from services.coupon.settings import CouponSettings
from services.pricing import seed as pricing_seed
from services.pricing.main import create_app as create_pricing_app
from services.pricing.models import Mutex
from services.pricing.settings import PricingSettings
from shared.migrations import upgrade
from tests.conftest import (
    asgi_client,
    clear_tables,
    client_on_clean_tables,
    database_url,
    recreate_database,
    running_service,
    serving,
)

NOWHERE = "http://127.0.0.1:9"  # the discard port: nothing answers


@contextlib.asynccontextmanager
async def api_only(service: str, create, settings_class, infra, **settings):
    """Another service for the cart to call, on a database of its own (`cart_<service>`: the
    service's own tests keep theirs), without its relay, consumers or jobs (only its API is used)."""
    url = database_url(f"cart_{service}")
    await recreate_database(url)
    await asyncio.to_thread(upgrade, service, url)
    app = create(settings_class(_env_file=None, database_url=url, **infra, **settings))
    app.state.background = False
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="session")
async def coupon_app(infra):
    async with api_only("coupon", create_coupon_app, CouponSettings, infra) as app:
        async with serving(app) as url:
            app.state.url = url
            yield app


@pytest.fixture(scope="session")
async def pricing_url(infra, coupon_app):
    async with api_only("pricing", create_pricing_app, PricingSettings, infra, coupon_url=coupon_app.state.url,
                        seckill_url=NOWHERE, groupbuy_url=NOWHERE) as app:
        async with app.state.sessionmaker() as session, session.begin():
            assert await pricing_seed.seed_demo(session, datetime.now(UTC))
        async with app.state.engine.begin() as conn:  # the catalog reloads what the seed added
            await conn.execute(update(Mutex).values(version=Mutex.version + 1))
        async with serving(app) as url:
            yield url


@pytest.fixture(scope="session")
async def cart_app(infra, pricing_url):
    async with running_service("cart", create_app, CartSettings, infra, database_pool_size=40,
                               pricing_url=pricing_url) as app:
        yield app


@pytest.fixture
async def client(cart_app):
    async with client_on_clean_tables(cart_app, Base.metadata) as client:
        yield client


@pytest.fixture
async def coupons(coupon_app):
    """The coupon service's API, its tables emptied."""
    await clear_tables(coupon_app.state.engine, CouponBase.metadata)
    async with asgi_client(coupon_app) as client:
        yield client
