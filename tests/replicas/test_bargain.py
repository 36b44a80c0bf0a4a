"""Two bargain processes on one database: successful records ordered twice at once, once on each
process, with fewer units than records, make exactly the stock's holds, at most one per record;
the hold-expiry job running in both gives each unpaid unit and record back exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from services.bargain import flows
from services.bargain.domain import OrderStatus
from services.bargain.models import Activity, Base, Order, Record
from services.bargain.schemas import HoldIn
from tests.bargain.conftest import HOLDS, make_activity
from tests.conftest import replica_processes
from tests.replicas.support import (
    FACTORY,
    JobLogs,
    client_on_system_time,
    error_code,
    jobs_on_two_processes,
    make_due_while_jobs_run,
    spread,
    system_now,
    until,
)

STOCK, RECORDS = 10, 40


@pytest.fixture
async def client(bargain_app):
    async with client_on_system_time(bargain_app, Base.metadata) as client:
        yield client


async def successful_records(client, tokens, bargain_app, stock: int, count: int) -> tuple[int, list[int]]:
    """An activity on now by the replicas' clock and `count` buyers' records at the floor price
    (one friend's help each)."""
    now, bg = system_now(), bargain_app.state.bargain
    activity_id = await make_activity(client, tokens["admin"], stock=stock, helpers=1, rmin=1_000, rmax=9_000,
                                      start=now - timedelta(hours=2), end=now + timedelta(days=1))
    records = []
    for n in range(count):
        record = await flows.start(bg, 40_000 + n, activity_id, "", "", now - timedelta(hours=1))
        await flows.help_record(bg, record.id, 50_000 + n, "", "", now - timedelta(hours=1))
        records.append(record.id)
    return activity_id, records


def hold(order_id: int, record_id: int, n: int) -> dict:
    return HoldIn(order_id=order_id, user_id=40_000 + n, record_id=record_id, sku_id=5001).model_dump()


async def orders_of(bargain_app, activity_id: int) -> list[Order]:
    async with bargain_app.state.sessionmaker() as session:
        return list((await session.scalars(select(Order).where(Order.activity_id == activity_id))).all())


async def test_each_record_ordered_on_both_processes_at_once_holds_the_stock_once_per_record(
        client, tokens, bargain_app):
    activity_id, records = await successful_records(client, tokens, bargain_app, STOCK, RECORDS)
    with replica_processes(bargain_app.state.settings, FACTORY.format(service="bargain")) as urls:
        async with spread(urls) as pick:
            answers = await asyncio.gather(*(pick(side).post(HOLDS, json=hold(1_000 * (side + 1) + n, record, n),
                                                             headers=tokens["service"])
                                             for n, record in enumerate(records) for side in (0, 1)))
    refused = Counter(error_code(a) for a in answers if a.status_code != 201)
    assert {a.status_code for a in answers} <= {201, 409}, [a.text for a in answers if a.status_code >= 500]
    held = [a.json() for a in answers if a.status_code == 201]
    assert len(held) == STOCK, refused
    assert len({h["record_id"] for h in held}) == STOCK, "one order per record"
    assert set(refused) <= {"BARGAIN_STOCK_NOT_ENOUGH", "BARGAIN_RECORD_ALREADY_ORDERED"}, refused
    orders = await orders_of(bargain_app, activity_id)
    assert sorted(o.order_id for o in orders) == sorted(h["order_id"] for h in held)
    async with bargain_app.state.sessionmaker() as session:
        assert (await session.get(Activity, activity_id)).stock == 0
        ordered = (await session.scalars(select(Record.order_id).where(Record.order_id.is_not(None)))).all()
    assert sorted(ordered) == sorted(h["order_id"] for h in held)


async def test_the_hold_expiry_job_on_two_processes_gives_each_unit_and_record_back_once(
        client, tokens, bargain_app, capfd):
    at_least, at_most = RECORDS, 2 * RECORDS  # more holds come due until each process has given some back
    activity_id, records = await successful_records(client, tokens, bargain_app, at_most, at_most)
    past, bg = system_now() - timedelta(minutes=30), bargain_app.state.bargain  # past the 900 s holds

    async def all_back() -> bool:
        return all(o.status != OrderStatus.HELD for o in await orders_of(bargain_app, activity_id))

    with jobs_on_two_processes(bargain_app.state.settings, "bargain"):
        logs = JobLogs(capfd, r"'holds_released': (\d+)")

        async def held_past(n: int) -> None:
            await flows.hold(bg, HoldIn(**hold(3_000 + n, records[n], n)), past)

        holds = await make_due_while_jobs_run(logs, held_past, at_least, at_most)
        await until(all_back)
    by_process = logs.by_process()
    with capfd.disabled():
        print(f"\nbargain jobs on two processes: holds_released by process {by_process} of {holds} holds")
    assert sum(by_process.values()) == holds and len(by_process) == 2, by_process
    orders = await orders_of(bargain_app, activity_id)
    assert len(orders) == holds
    assert {(o.status, o.end_reason) for o in orders} == {(OrderStatus.RELEASED, "hold_expired")}
    async with bargain_app.state.sessionmaker() as session:
        assert (await session.get(Activity, activity_id)).stock == at_most, "each unit back once"
        back = (await session.execute(select(Record.status, Record.order_id).where(
            Record.activity_id == activity_id))).all()
    assert Counter(back) == {(2, None): at_most}, "each record may be ordered again"
