"""Replicas write the same quota and product rows at once, and MySQL may pick one transaction as a
deadlock's victim (it rolls it back and says to run it again): the writer writes a batch that was
a victim one by one, writes a reservation that was a victim again, and tells the buyer to retry
only after three (the two-replica crowd of test_replicas.py met such deadlocks as 500s)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from asyncmy.errors import OperationalError as DriverError
from sqlalchemy.exc import OperationalError

from services.seckill import repository as repo
from services.seckill.domain import ReservationStatus
from services.seckill.flows.writer import ReservationWriter
from tests.seckill.conftest import make_sale
from tests.seckill.test_reservations import grab, state


def victim_of(times: int, monkeypatch) -> list[int]:
    """`repo.add_to_quotas` fails as a deadlock's victim `times` times, then works; the calls made."""
    calls, real = [], repo.add_to_quotas

    async def add_to_quotas(session, activity_id, by_user, limit):
        calls.append(len(by_user))
        if len(calls) <= times:
            raise OperationalError("UPDATE seckill_user_quota ...", {}, DriverError(1213, "Deadlock found"))
        return await real(session, activity_id, by_user, limit)

    monkeypatch.setattr(repo, "add_to_quotas", add_to_quotas)
    return calls


def row(activity_id: int, token: str, user_id: int, now) -> dict:
    return {"token": token, "activity_id": activity_id, "activity_name": "秒杀", "sku_id": 1001, "user_id": user_id,
            "count": 1, "price": 9900, "status": ReservationStatus.HELD, "order_id": None,
            "expires_at": now + timedelta(minutes=5), "created_at": now, "updated_at": now}


async def test_a_batch_or_a_reservation_picked_as_a_victim_is_written_again(client, tokens, seckill_app,
                                                                           monkeypatch):
    activity_id = await make_sale(client, tokens["admin"], stock=10)
    now, writer = seckill_app.state.test_clock.now(), ReservationWriter(seckill_app.state.sessionmaker)
    calls = victim_of(1, monkeypatch)
    written = await asyncio.gather(*(writer.write(row(activity_id, f"r:batch-{n}", 4200 + n, now), 0)
                                     for n in range(3)))
    assert calls == [3, 1, 1, 1], "the batch, then each alone"
    assert sorted(r.user_id for r in written) == [4200, 4201, 4202]
    calls = victim_of(2, monkeypatch)
    assert (await writer.write(row(activity_id, "r:alone", 4203, now), 0)).user_id == 4203
    assert calls == [1, 1, 1], "written on its third attempt"
    assert (await state(seckill_app, activity_id))["mysql_stock"] == 6


async def test_a_reservation_picked_as_a_victim_three_times_is_told_to_retry(client, tokens, seckill_app,
                                                                            monkeypatch):
    activity_id = await make_sale(client, tokens["admin"], stock=10)
    calls = victim_of(3, monkeypatch)
    busy = await client.post("/app-api/seckill/reservations", json=grab(activity_id), headers=tokens["member"])
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "SECKILL_BUSY", busy.text
    assert busy.headers["retry-after"] == "1" and len(calls) == 3
    after = await state(seckill_app, activity_id)
    assert (after["mysql_stock"], after["redis_stock"], after["reserved"]) == (10, 10, 0), "given back in Redis"


async def test_two_writers_of_one_buyer_take_turns_on_the_quota_row(client, tokens, seckill_app):
    """Both make sure the buyer's quota row exists, then add to it: the first locks the row for
    update at once, so the second waits for it (with INSERT IGNORE both took a shared lock and then
    each waited for the other's to update: a deadlock)."""
    activity_id = await make_sale(client, tokens["admin"], stock=10)
    sessions = seckill_app.state.sessionmaker
    async with sessions() as session, session.begin():
        await repo.ensure_quotas(session, activity_id, [4300])
    first_ensured, second_ensured = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        async with sessions() as session, session.begin():
            await repo.ensure_quotas(session, activity_id, [4300])
            first_ensured.set()
            try:  # the second gets as far as its own ensure, or is held there by this one's lock
                await asyncio.wait_for(second_ensured.wait(), 1)
            except TimeoutError:
                pass
            assert await repo.add_to_quotas(session, activity_id, {4300: 1}, 0)

    async def second() -> None:
        await first_ensured.wait()
        async with sessions() as session, session.begin():
            await repo.ensure_quotas(session, activity_id, [4300])
            second_ensured.set()
            assert await repo.add_to_quotas(session, activity_id, {4300: 1}, 0)

    await asyncio.wait_for(asyncio.gather(first(), second()), 60)
    assert (await state(seckill_app, activity_id))["quotas"] == {4300: 2}
