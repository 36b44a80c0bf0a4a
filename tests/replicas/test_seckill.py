"""Two seckill processes running the expiry job on one database and Redis: each unpaid
reservation past its time gives its stock back exactly once, in MySQL and in Redis. (Two
processes selling at once: tests/seckill/test_replicas.py.)"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from services.seckill.domain import ReservationStatus
from services.seckill.flows import orders
from services.seckill.models import Reservation
from tests.replicas.support import JobLogs, jobs_on_two_processes, make_due_while_jobs_run, system_now, until
from tests.seckill import conftest as seckill_tests
from tests.seckill.conftest import activity, slot
from tests.seckill.test_reservations import state

client = seckill_tests.client  # the seckill tests' fixture: clean tables and Redis keys

AT_LEAST, AT_MOST = 100, 200  # more reservations come due until each process has given some back


async def whole_day_sale(http, admin: dict, timezone: str, stock: int) -> int:
    """On now by the replicas' clock (the system's): a whole-day slot, yesterday to tomorrow."""
    made = await http.post("/admin-api/seckill/slots", json=slot("全天", "00:00:00", "00:00:00"), headers=admin)
    assert made.status_code == 201, made.text
    today = datetime.now(ZoneInfo(timezone)).date()
    body = activity([made.json()["id"]], skus=((1001, 9900, stock),), start=today - timedelta(days=1),
                    end=today + timedelta(days=1))
    created = await http.post("/admin-api/seckill/activities", json=body, headers=admin)
    assert created.status_code == 201, created.text
    return created.json()["id"]


async def test_the_expiry_job_on_two_processes_gives_each_unpaid_reservation_back_once(
        client, tokens, seckill_app, capfd):
    activity_id = await whole_day_sale(client, tokens["admin"], seckill_app.state.settings.business_timezone, AT_MOST)
    seckill, past = seckill_app.state.seckill, system_now() - timedelta(minutes=10)  # past the 300 s holds

    async def all_back() -> bool:
        return (await state(seckill_app, activity_id))["reserved"] == 0

    with jobs_on_two_processes(seckill_app.state.settings, "seckill"):
        logs = JobLogs(capfd, r"gave back the stock of (\d+) unpaid")

        async def held_past(n: int) -> None:  # an order's unit, taken ten minutes ago and not paid
            await orders.hold(seckill, 60_000 + n, 5_000 + n, activity_id, 1001, 1, None, past)

        held = await make_due_while_jobs_run(logs, held_past, AT_LEAST, AT_MOST)
        await until(all_back)
    by_process = logs.by_process()
    with capfd.disabled():
        print(f"\nseckill expiry on two processes: reservations given back by process {by_process} of {held}")
    assert sum(by_process.values()) == held and len(by_process) == 2, by_process
    async with seckill_app.state.sessionmaker() as session:
        ended = Counter((await session.scalars(select(Reservation.status).where(
            Reservation.activity_id == activity_id))).all())
    assert ended == {ReservationStatus.EXPIRED: held}, ended
    after = await state(seckill_app, activity_id)
    assert (after["mysql_stock"], after["redis_stock"]) == (AT_MOST, AT_MOST), ("each unit back once", after)
    assert set(after["quotas"].values()) == {0}, "each buyer's count back once"
