"""The database is the final guard of the coupon rush across replicas: two coupon processes serve
one crowd while Redis is wrong from the start (far more stock than the database has, every buyer
forgotten) and is flushed again before a quarter of the crowd is answered (each replica then
rebuilds it from the database, racing the other's writes). In one process the crowd's takes all
get Redis's answer within moments of each other, so a hook that fires halfway reaches almost
nobody; across two processes over HTTP every take Redis lets through is decided by the database:
the template row locked, the users' counts read with a locking read, the conditional update.

The replicas are `uvicorn tests.coupon.test_rush_replicas:create_replica --factory`."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from services.coupon.flows.rush_gate import ITEM, keys
from services.coupon.main import create_app
from services.coupon.models import Coupon
from services.coupon.settings import CouponSettings
from shared.auth import Role
from shared.quota_gate import Loaded
from tests.conftest import bearer, replica_processes
from tests.coupon.test_api import make_template
from tests.coupon.test_rush import in_database

ROOT = Path(__file__).resolve().parents[2]
STOCK, LIMIT = 100, 2
EARLY_BUYERS = 20  # take their whole limit before Redis goes wrong
USERS, ATTEMPTS_EACH = 300, 3  # the crowd: 900 takes, the early buyers among them


def create_replica() -> FastAPI:
    """The service's own app, settings from the environment, without the outbox relay, the
    consumers and the jobs (the test's in-process app has those)."""
    app = create_app(CouponSettings(_env_file=None))
    app.state.background = False
    return app


@pytest.fixture(scope="module")
def replicas(coupon_app):
    """Two coupon processes on the test app's database and Redis."""
    with replica_processes(coupon_app.state.settings, "tests.coupon.test_rush_replicas:create_replica") as urls:
        yield urls


async def test_two_replicas_issue_exactly_the_stock_while_redis_says_more_and_is_flushed(
        client, tokens, dev_settings, coupon_app, replicas):
    template = await make_template(client, tokens, total_count=STOCK, take_limit_count=LIMIT)
    path = f"/app-api/coupon/templates/{template['id']}/take"
    users = [700_000 + n for n in range(USERS)]
    early = users[:EARLY_BUYERS]
    headers = {user: bearer(dev_settings, Role.MEMBER, user) for user in users}
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    clients = [httpx.AsyncClient(base_url=url, limits=limits, timeout=60) for url in replicas]
    try:
        for n, user in enumerate(early * LIMIT):  # the early buyers reach their limit while Redis is right
            taken = await clients[n % 2].post(path, headers=headers[user])
            assert taken.status_code == 201, taken.text
        left = STOCK - EARLY_BUYERS * LIMIT
        # Redis is wrong from the start: 1,000 more than the database has, and no buyer counted
        await coupon_app.state.rush.templates.gate.load(template["id"], Loaded({ITEM: left + 1_000}, {}, {}))

        attempts = [user for user in users for _ in range(ATTEMPTS_EACH)]
        random.Random(19).shuffle(attempts)
        outcomes: dict[str, int] = {}
        answered = 0

        async def one(n: int, user: int) -> None:
            nonlocal answered
            answer = await clients[n % 2].post(path, headers=headers[user])
            code = "taken" if answer.status_code == 201 else answer.json().get("error", {}).get(
                "code", str(answer.status_code))
            outcomes[code] = outcomes.get(code, 0) + 1
            answered += 1
            if answered == len(attempts) // 4:  # before a quarter more: Redis flushed
                await coupon_app.state.redis.delete(*keys(template["id"]))

        await asyncio.gather(*(one(n, user) for n, user in enumerate(attempts)))
    finally:
        for http in clients:
            await http.aclose()

    assert set(outcomes) <= {"taken", "COUPON_TEMPLATE_NOT_ENOUGH", "COUPON_TAKE_LIMIT_REACHED"}, outcomes
    assert outcomes["taken"] == left, outcomes
    assert await in_database(coupon_app, template["id"]) == (STOCK, STOCK)
    async with coupon_app.state.sessionmaker() as session:
        per_user = dict((await session.execute(select(Coupon.user_id, func.count()).where(
            Coupon.template_id == template["id"]).group_by(Coupon.user_id))).all())
    assert max(per_user.values()) <= LIMIT, "no buyer past the limit"
    assert {user: per_user[user] for user in early} == dict.fromkeys(early, LIMIT)
