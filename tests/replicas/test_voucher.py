"""Two voucher processes on one database: staff verifying one multi-use voucher at once on both
never use it more than it allows nor take more than its value (nothing negative, every record
starting where the one before ended), and one Idempotency-Key retried on both takes once; the
expiry job running in both expires each due voucher once, with one event."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from services.voucher.models import Base, Voucher
from tests.conftest import client_on_clean_tables, replica_processes
from tests.replicas.support import (
    FACTORY,
    JobLogs,
    error_code,
    jobs_on_two_processes,
    make_due_while_jobs_run,
    spread,
    until,
)
from tests.voucher.support import buy, events, make_product, make_store, records_of, verify, voucher_row, vouchers_of
from tests.voucher.test_races import chained, uses_voucher

STAFF = ("a", "a2")  # two clerks of merchant A


@pytest.fixture
async def client(voucher_app):
    async with client_on_clean_tables(voucher_app, Base.metadata) as client:
        yield client


@pytest.fixture(scope="module")
def replicas(voucher_app):
    with replica_processes(voucher_app.state.settings, FACTORY.format(service="voucher")) as urls:
        yield urls


async def test_forty_verifications_of_a_five_use_voucher_on_two_processes_use_it_five_times(
        client, people, voucher_app, replicas):
    store_id, voucher = await uses_voucher(client, people, voucher_app, 9801, uses=5)
    async with spread(replicas) as pick:
        answers = await asyncio.gather(*(verify(pick(n), people, voucher.code, store_id, STAFF[n // 2 % 2])
                                         for n in range(40)))
    assert Counter(a.status_code for a in answers) == {201: 5, 409: 35}, [a.text for a in answers]
    assert {error_code(a) for a in answers if a.status_code == 409} == {"VOUCHER_NOTHING_LEFT"}
    row = await voucher_row(voucher_app, voucher.id)
    assert (row.surplus_times, row.surplus_value, row.status) == (0, 0, 2)
    records = await records_of(voucher_app, voucher.id)
    assert len(records) == 5 and chained(records) and sum(r.actual_minus_value for r in records) == 9000
    assert len(await events(voucher_app, "promo.voucher.verified")) == 5


async def test_forty_deductions_by_value_on_two_processes_never_take_more_than_the_value(
        client, people, voucher_app, replicas):
    store = await make_store(client, people)
    await make_product(client, people, [store["id"]], max_using_times=100)  # 100.00 by value
    [voucher] = await buy(voucher_app, 9802)
    async with spread(replicas) as pick:
        answers = await asyncio.gather(*(verify(pick(n), people, voucher.code, store["id"], STAFF[n // 2 % 2],
                                                minus_value=1500, currency="CNY") for n in range(40)))
    taken = sorted(a.json()["actual_minus_value"] for a in answers if a.status_code == 201)
    assert taken == [1000] + [1500] * 6, "six full deductions and the last 10.00 left"
    assert Counter(a.status_code for a in answers) == {201: 7, 409: 33}
    row = await voucher_row(voucher_app, voucher.id)
    assert (row.surplus_value, row.status) == (0, 2)
    records = await records_of(voucher_app, voucher.id)
    assert chained(records) and all(r.surplus_value_after >= 0 for r in records)
    assert sum(r.actual_minus_value for r in records) == 10_000


async def test_one_key_retried_on_both_processes_takes_once_and_all_get_the_first_answer(
        client, people, voucher_app, replicas):
    store_id, voucher = await uses_voucher(client, people, voucher_app, 9803, uses=1)
    async with spread(replicas) as pick:
        answers = await asyncio.gather(*(verify(pick(n), people, voucher.code, store_id, key="retried-on-both")
                                         for n in range(12)))
    assert sorted(a.status_code for a in answers) == [200] * 11 + [201], [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert len(await records_of(voucher_app, voucher.id)) == 1
    assert (await voucher_row(voucher_app, voucher.id)).surplus_times == 0


async def test_the_expiry_job_on_two_processes_expires_each_due_voucher_once(client, people, voucher_app, capfd):
    store = await make_store(client, people)
    await make_product(client, people, [store["id"]])
    vouchers = await buy(voucher_app, 9804, count=160, pay_price=1_408_000)
    bought = [v.id for v in vouchers]
    ids: list[int] = []  # come due: ten at a time, 100, and more until each process has expired some

    async def all_expired() -> bool:
        return {v.status for v in await vouchers_of(voucher_app, 9804) if v.id in ids} == {3}

    with jobs_on_two_processes(voucher_app.state.settings, "voucher"):
        logs = JobLogs(capfd, r"expired (\d+) vouchers")

        async def ten_due(n: int) -> None:
            async with voucher_app.state.sessionmaker() as session, session.begin():
                await session.execute(update(Voucher).where(Voucher.id.in_(bought[10 * n:10 * n + 10])).values(
                    valid_end_at=datetime.now(UTC) - timedelta(days=1)))
            ids.extend(bought[10 * n:10 * n + 10])
            await asyncio.sleep(0.1)

        await make_due_while_jobs_run(logs, ten_due, 10, 16)
        await until(all_expired)
    by_process = logs.by_process()
    with capfd.disabled():
        print(f"\nvoucher expiry on two processes: expired by process {by_process}")
    assert sum(by_process.values()) == len(ids) and len(by_process) == 2, by_process
    assert {v.status for v in await vouchers_of(voucher_app, 9804) if v.id not in ids} <= {1}, "none other expired"
    expired = Counter(e["voucher_id"] for e in await events(voucher_app, "promo.voucher.expired"))
    assert expired == dict.fromkeys(ids, 1), "one expiry event per voucher"
