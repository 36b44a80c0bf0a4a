"""The embedded default (`make run` without DATABASE_URL) is SQLite: the migrations and the main
flows keep working there (adds racing on one SKU, merge, order.paid, the job, the page without
pricing, the demo data)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from services.cart import jobs, seed
from services.cart.main import create_app
from services.cart.settings import CartSettings
from shared.clock import FixedClock
from shared.migrations import upgrade
from tests.cart.conftest import NOWHERE
from tests.cart.helpers import add, device, fill, item, paid, runner
from tests.conftest import asgi_client


@pytest.mark.filterwarnings("error::sqlalchemy.exc.SAWarning")
async def test_cart_on_sqlite(tmp_path, infra, tokens):
    url = f"sqlite+aiosqlite:///{tmp_path}/not-yet/cart.db"  # migrate creates the folder
    await asyncio.to_thread(upgrade, "cart", url)
    await asyncio.to_thread(upgrade, "cart", url)  # idempotent
    clock = FixedClock(datetime(2026, 11, 11, 0, 0, tzinfo=UTC))
    app = create_app(CartSettings(_env_file=None, database_url=url, pricing_url=NOWHERE, **infra), clock=clock)
    async with app.router.lifespan_context(app), asgi_client(app) as client:
        await fill(client, tokens["member"], item(1001, 1), item(1002, 1))
        answers = await asyncio.gather(*(add(client, device(), sku_id=1001, quantity=3) for _ in range(10)))
        assert [a.status_code for a in answers] == [200] * 10, [a.text for a in answers]
        assert answers[0].json()["line"]["added_at"] == "2026-11-11T00:00:00Z"  # the injected clock, in UTC
        await fill(client, device(), item(1003, 1))  # the highest ids: SQLite gives them again once deleted
        merged = await client.post("/app-api/cart/merge", headers={**tokens["member"], **device()})
        assert merged.json()["count"] == {"lines": 3, "quantity": 33, "selected_lines": 3}
        await runner(app).process(paid(7001, 1001, [(1002, 1), (1003, 1)]))
        page = (await client.get("/app-api/cart", headers=tokens["member"])).json()
        assert [x["sku_id"] for x in page["lines"]] == [1001] and page["lines"][0]["quantity"] == 31
        assert page["promotions_available"] is False and page["totals"]["pay"] == 31 * 19900
        async with app.state.sessionmaker() as session, session.begin():
            assert await seed.seed_demo(session, clock.now())
            assert not await seed.seed_demo(session, clock.now())
        clock.advance(days=31)
        assert await jobs.expire_once(app) == 2  # the merged device's emptied cart and the demo device's
        assert (await client.get("/app-api/cart/count", headers=tokens["member"])).json()["lines"] == 1
        assert (await client.get("/readyz")).json()["checks"]["database"] == "ok"
