"""The expiry job against MariaDB: active vouchers past their end expire once, with an event, on
any number of replicas at once; an untouched expired voucher can still be refunded."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from services.voucher import flows, issuing, jobs
from services.voucher.models import Voucher
from tests.voucher.support import buy, cancelled, events, make_product, make_store, runner, voucher_row


async def test_the_job_expires_what_is_due_once_even_on_three_replicas(client, people, voucher_app):
    store = await make_store(client, people)
    await make_product(client, people, [store["id"]])
    vouchers = await buy(voucher_app, 9301, count=4, pay_price=35200)
    now = datetime.now(UTC)
    async with voucher_app.state.sessionmaker() as session, session.begin():
        for voucher, end in zip(vouchers, (now - timedelta(days=1), now, now + timedelta(seconds=1), now),
                                strict=True):
            await session.execute(update(Voucher).where(Voucher.id == voucher.id).values(valid_end_at=end))
        await session.execute(update(Voucher).where(Voucher.id == vouchers[3].id).values(status=2))
    counts = await asyncio.gather(*(flows.expire_due(voucher_app.state.vouchers, now) for _ in range(3)))
    assert sum(counts) == 2
    statuses = [(await voucher_row(voucher_app, v.id)).status for v in vouchers]
    assert statuses == [3, 3, 1, 2], "due from its end on; a used-up voucher is not expired"
    expired = await voucher_row(voucher_app, vouchers[0].id)
    assert (expired.ended_by, expired.end_reason, expired.ended_at) == ("job", "validity_ended", now)
    assert sorted(e["voucher_id"] for e in await events(voucher_app, "promo.voucher.expired")) == \
        [vouchers[0].id, vouchers[1].id]
    await runner(voucher_app).process(cancelled(9301))
    assert [(await voucher_row(voucher_app, v.id)).status for v in vouchers] == [4, 4, 4, 2], \
        "untouched, expired or not, is refunded; used is refused"


async def test_the_job_works_in_batches_and_survives_a_failure(client, people, voucher_app, monkeypatch):
    store = await make_store(client, people)
    await make_product(client, people, [store["id"]])
    vouchers = await buy(voucher_app, 9302, count=5, pay_price=1000)
    async with voucher_app.state.sessionmaker() as session, session.begin():
        await session.execute(update(Voucher).where(Voucher.order_id == 9302).values(
            valid_end_at=datetime.now(UTC) - timedelta(minutes=1)))
    monkeypatch.setattr(flows, "EXPIRY_BATCH", 2)
    assert await flows.expire_due(voucher_app.state.vouchers, datetime.now(UTC)) == 5
    assert [(await voucher_row(voucher_app, v.id)).status for v in vouchers] == [3] * 5

    calls = []

    async def failing(session, now, limit):
        calls.append(now)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        await asyncio.sleep(3600)

    monkeypatch.setattr(issuing, "expire_due", failing)
    monkeypatch.setattr(voucher_app.state.settings, "voucher_job_interval_seconds", 0.01)
    task = asyncio.create_task(jobs.expire_forever(voucher_app))
    for _ in range(200):
        if len(calls) >= 2:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    assert len(calls) >= 2, "the next round ran after a failed one"
