"""The database-only variant (`SECKILL_REDIS_FILTER=false`, the benchmark's baseline): every attempt
goes to MySQL, whose conditional updates alone sell exactly the stock, within the user limit, and
Redis is never asked."""

from __future__ import annotations

import asyncio
import random

from services.seckill.domain import SoldOut, UserLimitReached
from services.seckill.main import create_app
from shared.auth import Role
from shared.clock import FixedClock
from tests.conftest import asgi_client, bearer
from tests.seckill.conftest import SALE_TIME, make_sale
from tests.seckill.test_reservations import grab, state

STOCK, USERS, ATTEMPTS = 50, 200, 600


async def test_a_crowd_without_the_redis_filter_buys_exactly_the_stock(client, tokens, dev_settings, seckill_app):
    activity_id = await make_sale(client, tokens["admin"], stock=STOCK, user_limit=1)
    settings = seckill_app.state.settings.model_copy(update={"seckill_redis_filter": False})
    database_only = create_app(settings, clock=FixedClock(SALE_TIME))
    database_only.state.background = False  # the test's app relays, consumes and runs the jobs
    users = [6_000 + n % USERS for n in range(ATTEMPTS)]
    random.Random(3).shuffle(users)
    headers = {user: bearer(dev_settings, Role.MEMBER, user) for user in set(users)}
    async with database_only.router.lifespan_context(database_only), asgi_client(database_only) as http:
        assert not database_only.state.seckill.redis_filter
        answers = await asyncio.gather(*(http.post("/app-api/seckill/reservations", json=grab(activity_id),
                                                   headers=headers[user]) for user in users))
        page = (await http.get(f"/app-api/seckill/activities/{activity_id}")).json()
    codes = [a.json()["error"]["code"] if a.status_code != 201 else "reserved" for a in answers]
    assert codes.count("reserved") == STOCK and set(codes) <= {"reserved", SoldOut.code, UserLimitReached.code}
    after = await state(seckill_app, activity_id)
    assert (after["reserved"], after["mysql_stock"]) == (STOCK, 0) and max(after["per_user"].values()) == 1
    assert after["redis_stock"] == STOCK, "Redis was never asked (it still has what the creation loaded)"
    assert page["stock"] == 0, "the page shows MySQL's stock"
