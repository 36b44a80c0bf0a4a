"""A request larger than what is left is not "sold out": it gets its own answer, with the count
left, and the next buyer asking for what is left still gets it (issue 12, point 20)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from services.seckill import repository as repo
from services.seckill.domain import ReservationStatus, SoldOut, StockNotEnough
from services.seckill.flows import reservations
from services.seckill.flows.writer import ReservationWriter
from services.seckill.stock import keys
from shared.auth import Role
from tests.conftest import bearer
from tests.seckill.conftest import make_sale
from tests.seckill.test_reservations import grab, state


async def test_an_oversized_request_leaves_the_rest_to_the_next_buyer(client, tokens, dev_settings, seckill_app):
    activity_id = await make_sale(client, tokens["admin"], stock=3)

    def buyer(n: int) -> dict:
        return {**bearer(dev_settings, Role.MEMBER, 3000 + n), "Accept-Language": "en"}

    too_many = await client.post("/app-api/seckill/reservations", json=grab(activity_id, 4), headers=buyer(1))
    assert too_many.status_code == 409, too_many.text
    assert too_many.json()["error"] == {"code": "SECKILL_STOCK_NOT_ENOUGH", "message": "Not enough stock: only 3 left",
                                        "details": {"left": 3}}
    assert not seckill_app.state.seckill.stock.known_sold_out(activity_id, 1001), "no sold-out flag"
    two = await client.post("/app-api/seckill/reservations", json=grab(activity_id, 2), headers=buyer(2))
    assert two.status_code == 201, two.text
    short = await client.post("/app-api/seckill/reservations", json=grab(activity_id, 2),
                              headers={**buyer(3), "Accept-Language": "zh-CN"})
    assert short.json()["error"]["message"] == "秒杀失败，原因：库存不足，仅剩 1 件"
    assert (await client.post("/app-api/seckill/reservations", json=grab(activity_id, 1),
                              headers=buyer(4))).status_code == 201
    gone = await client.post("/app-api/seckill/reservations", json=grab(activity_id, 1), headers=buyer(5))
    assert gone.status_code == 409 and gone.json()["error"]["code"] == "SECKILL_SOLD_OUT"
    assert seckill_app.state.seckill.stock.known_sold_out(activity_id, 1001), "nothing left: flagged"
    after = await state(seckill_app, activity_id)
    assert (after["mysql_stock"], after["redis_stock"], after["reserved"]) == (0, 0, 3)


async def test_mysql_refusing_more_than_is_left_is_not_sold_out_either(client, tokens, seckill_app):
    """Redis believes there are 10 more: MySQL, with 3 left, refuses 4 as "only 3 left", and 0 as sold out."""
    activity_id = await make_sale(client, tokens["admin"], stock=3)
    seckill, now = seckill_app.state.seckill, seckill_app.state.test_clock.now()
    await seckill_app.state.redis.hincrby(keys(activity_id)[0], "1001", 10)
    try:
        await reservations.reserve(seckill, 4001, activity_id, 1001, 4, now)
        raise AssertionError("4 of 3 reserved")
    except StockNotEnough as refused:
        assert refused.details == {"left": 3}
    assert not seckill.stock.known_sold_out(activity_id, 1001)
    assert (await reservations.reserve(seckill, 4002, activity_id, 1001, 3, now))[1], "the 3 left still sell"
    try:
        await reservations.reserve(seckill, 4003, activity_id, 1001, 1, now)
        raise AssertionError("1 of 0 reserved")
    except SoldOut:
        pass
    after = await state(seckill_app, activity_id)
    assert (after["mysql_stock"], after["redis_stock"]) == (0, 10), "Redis was given back what MySQL refused"


async def test_the_count_left_is_read_now_not_from_the_transactions_snapshot(client, tokens, seckill_app,
                                                                             monkeypatch):
    """Another replica's writer takes the last unit after this write's transaction took its snapshot
    (the activity read) and before its stock update: the refusal says sold out, not "only 1 left"
    to a buyer asking for 1 (found by the two-replica crowd of test_replicas.py)."""
    activity_id = await make_sale(client, tokens["admin"], stock=1)
    now = seckill_app.state.test_clock.now()
    snapshot_taken, other_done = asyncio.Event(), asyncio.Event()
    ensure = repo.ensure_quotas

    async def pause_the_first(session, activity: int, user_ids):  # after the activity's read
        if not snapshot_taken.is_set():
            snapshot_taken.set()
            await other_done.wait()
        return await ensure(session, activity, user_ids)

    monkeypatch.setattr(repo, "ensure_quotas", pause_the_first)

    def row(token: str, user_id: int) -> dict:
        return {"token": token, "activity_id": activity_id, "activity_name": "秒杀", "sku_id": 1001,
                "user_id": user_id, "count": 1, "price": 9900, "status": ReservationStatus.HELD, "order_id": None,
                "expires_at": now + timedelta(minutes=5), "created_at": now, "updated_at": now}

    late = asyncio.create_task(ReservationWriter(seckill_app.state.sessionmaker).write(row("r:late", 4101), 0))
    await asyncio.wait_for(snapshot_taken.wait(), 10)
    await ReservationWriter(seckill_app.state.sessionmaker).write(row("r:other-replica", 4102), 0)
    other_done.set()
    with pytest.raises(SoldOut):
        await asyncio.wait_for(late, 10)
    assert (await state(seckill_app, activity_id))["mysql_stock"] == 0
