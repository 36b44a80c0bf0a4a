"""Two points-mall processes on one database: holds racing across both make exactly the stock's
holds, each order's attempts on both get one and the same answer; the expiry job running in both
gives each unpaid hold back exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from services.points import domain, flows
from services.points.models import Base, UserCount
from services.points.schemas import HoldIn
from services.points.service import HOLD_EXPIRED
from tests.conftest import replica_processes
from tests.points.conftest import HOLDS, events, hold_body, make_activity, product, stored
from tests.points.test_races import holds_of
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

STOCK, BUYERS = 20, 150


@pytest.fixture
async def client(points_app):
    async with client_on_system_time(points_app, Base.metadata) as client:
        yield client


async def running_activity(client, tokens, stock: int) -> dict:
    now = system_now()
    return await make_activity(client, tokens["admin"], products=[product(stock=stock, limit=1)],
                               start=now - timedelta(hours=2), end=now + timedelta(days=1))


async def test_holds_racing_on_two_processes_make_exactly_the_stock(client, tokens, points_app):
    activity = await running_activity(client, tokens, STOCK)
    with replica_processes(points_app.state.settings, FACTORY.format(service="points")) as urls:
        async with spread(urls) as pick:
            # every buyer's order sent to both processes at once: 300 attempts for 20 units
            bodies = [hold_body(60_000 + n, activity["id"], user_id=70_000 + n) for n in range(BUYERS)]
            answers = await asyncio.gather(*(pick(side).post(HOLDS, json=body, headers=tokens["service"])
                                             for body in bodies for side in (0, 1)))
    by_order = [answers[i:i + 2] for i in range(0, len(answers), 2)]
    outcomes = Counter()
    for pair in by_order:
        assert {a.status_code for a in pair} <= {201, 409}, [a.text for a in pair]
        if pair[0].status_code == 201 or pair[1].status_code == 201:
            assert [a.status_code for a in pair] == [201, 201], "one order, one answer on both processes"
            assert pair[0].json()["id"] == pair[1].json()["id"], "the same hold"
            outcomes["held"] += 1
        else:
            outcomes.update({error_code(a) for a in pair})
    assert outcomes == {"held": STOCK, "POINTS_SOLD_OUT": BUYERS - STOCK}, outcomes
    product_row, _, _ = await stored(points_app, activity["id"])
    held = await holds_of(points_app, activity["id"])
    assert product_row.stock == 0 and len(held) == STOCK and sum(h.count for h in held) == STOCK
    async with points_app.state.sessionmaker() as session:
        assert await session.scalar(select(func.sum(UserCount.held))) == STOCK


async def test_the_expiry_job_on_two_processes_gives_each_hold_back_once(client, tokens, points_app, capfd):
    at_least, at_most = 120, 240  # more holds come due until each process has given some back
    activity = await running_activity(client, tokens, at_most)
    past = system_now() - timedelta(hours=1)  # held an hour ago: each past its 900 s when made
    pm = points_app.state.points

    async def all_back() -> bool:
        return all(h.status != domain.HoldStatus.HELD for h in await holds_of(points_app, activity["id"]))

    with jobs_on_two_processes(points_app.state.settings, "points"):
        logs = JobLogs(capfd, r"'holds_released': (\d+)")

        async def held_past(n: int) -> None:
            await flows.hold(pm, HoldIn(**hold_body(80_000 + n, activity["id"], user_id=90_000 + n)), past)

        holds = await make_due_while_jobs_run(logs, held_past, at_least, at_most)
        await until(all_back)
    by_process = logs.by_process()
    with capfd.disabled():
        print(f"\npoints jobs on two processes: holds_released by process {by_process} of {holds} holds")
    assert sum(by_process.values()) == holds and len(by_process) == 2, by_process
    held = await holds_of(points_app, activity["id"])
    assert {(h.status, h.end_reason) for h in held} == {(domain.HoldStatus.RELEASED, domain.END_EXPIRED)}
    assert (await stored(points_app, activity["id"]))[0].stock == at_most, "each hold's unit back once"
    async with points_app.state.sessionmaker() as session:
        assert await session.scalar(select(func.sum(UserCount.held))) == 0
    expired = Counter(e.data["order_id"] for e in await events(points_app, HOLD_EXPIRED))
    assert expired == dict.fromkeys(range(80_000, 80_000 + holds), 1), "one expiry event per hold"
