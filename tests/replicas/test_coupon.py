"""Two coupon processes running the expiry job on one database: each unpaid order's coupon hold
past its time goes back exactly once, the order remembered on it. (Two processes serving a rush
at once: tests/coupon/test_rush_replicas.py.)"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from services.coupon.domain import CouponStatus
from services.coupon.models import Coupon
from tests.coupon import conftest as coupon_tests
from tests.coupon.test_api import make_template, take
from tests.coupon.test_holds import HOLDS, hold_body
from tests.replicas.support import JobLogs, jobs_on_two_processes, make_due_while_jobs_run, until

client = coupon_tests.client  # the coupon tests' fixture: clean tables
AT_LEAST, AT_MOST = 100, 200  # more holds come due until each process has given some back
FIRST_ORDER = 30_000


@contextlib.contextmanager
def released_in_this_process() -> Iterator[Counter]:
    """The holds the test's own app's job releases while the block runs (it runs every 30 s on the
    system clock too, and may come round meanwhile): counted from its log records."""
    released, logger = Counter(), logging.getLogger("coupon.jobs")

    class Count(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.msg.startswith("released %d expired holds"):
                released["holds"] += record.args[0]

    handler, level = Count(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield released
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def test_the_expiry_job_on_two_processes_releases_each_due_hold_once(client, tokens, coupon_app, capfd):
    template = await make_template(client, tokens, total_count=AT_MOST, take_limit_count=-1)
    coupons = []
    for n in range(AT_MOST):  # each held by an unpaid order, due in 30 minutes
        coupons.append((await take(client, template["id"], tokens["member"])).json()["coupon_id"])
        held = await client.post(HOLDS, json=hold_body(FIRST_ORDER + n, coupons[-1]), headers=tokens["service"])
        assert held.status_code == 201, held.text
    due: list[int] = []

    async def rows() -> dict[int, Coupon]:
        async with coupon_app.state.sessionmaker() as session:
            return {c.id: c for c in (await session.scalars(select(Coupon).where(
                Coupon.template_id == template["id"]))).all()}

    async def all_back() -> bool:
        now = await rows()
        return all(now[i].status != CouponStatus.HELD for i in due)

    with released_in_this_process() as here, jobs_on_two_processes(coupon_app.state.settings, "coupon"):
        logs = JobLogs(capfd, r"released (\d+) expired holds")

        async def hold_ended(n: int) -> None:  # its order's 30 minutes are over
            async with coupon_app.state.sessionmaker() as session, session.begin():
                await session.execute(update(Coupon).where(Coupon.id == coupons[n]).values(
                    hold_expires_at=datetime.now(UTC) - timedelta(minutes=1)))
            due.append(coupons[n])

        made = await make_due_while_jobs_run(logs, hold_ended, AT_LEAST, AT_MOST)
        await until(all_back)
    by_process = logs.by_process()
    with capfd.disabled():
        print(f"\ncoupon hold expiry on two processes: released by process {by_process} of {made}, "
              f"by the test's own app {here['holds']}")
    assert sum(by_process.values()) + here["holds"] == made == len(due), (by_process, here)
    assert len(by_process) == 2, by_process
    after = await rows()
    assert sorted((after[i].status, after[i].use_order_id, after[i].released_order_id) for i in due) == sorted(
        (CouponStatus.UNUSED, None, FIRST_ORDER + n) for n in range(made)), "back once, its order remembered"
    assert {after[i].status for i in coupons[made:]} <= {CouponStatus.HELD}, "the holds not due are kept"
