"""Two group-buy processes on one database: buyers joining one group, each order sent to both
processes at once, fill exactly its free seats (each order one seat, the same on both); the jobs
running in both give each unpaid seat back exactly once and leave the groups' counters right."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from services.groupbuy import flows
from services.groupbuy.domain import MemberStatus
from services.groupbuy.models import Base, Group, Member
from tests.conftest import replica_processes
from tests.groupbuy.conftest import make_activity, seat
from tests.groupbuy.test_groups import group_of, pay
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

HOLDS = "/internal/groupbuy/holds"
SIZE, BUYERS = 5, 60


@pytest.fixture
async def client(groupbuy_app):
    async with client_on_system_time(groupbuy_app, Base.metadata) as client:
        yield client


async def running_activity(client, tokens, size: int) -> int:
    now = system_now()
    return await make_activity(client, tokens["admin"], size=size, start=now - timedelta(hours=2),
                               end=now + timedelta(days=2))


async def members_of(app, activity_id: int) -> list[Member]:
    async with app.state.sessionmaker() as session:
        return list((await session.scalars(select(Member).where(Member.activity_id == activity_id))).all())


async def test_buyers_joining_one_group_on_both_processes_fill_exactly_its_free_seats(client, tokens, groupbuy_app):
    app, gb = groupbuy_app, groupbuy_app.state.groupbuy
    activity_id = await running_activity(client, tokens, SIZE)
    now = system_now()
    leader = await flows.hold(gb, seat(1, 11, activity_id), now)
    await pay(app, 1, now)
    bodies = [seat(100 + n, 1_000 + n, activity_id, leader.group_id).model_dump(mode="json") for n in range(BUYERS)]
    with replica_processes(app.state.settings, FACTORY.format(service="groupbuy")) as urls:
        async with spread(urls) as pick:
            answers = await asyncio.gather(*(pick(side).post(HOLDS, json=body, headers=tokens["service"])
                                             for body in bodies for side in (0, 1)))
    seated, refused = 0, Counter()
    for pair in (answers[i:i + 2] for i in range(0, len(answers), 2)):
        assert {a.status_code for a in pair} <= {201, 409}, [a.text for a in pair]
        if 201 in {a.status_code for a in pair}:
            assert [a.status_code for a in pair] == [201, 201], "one order, one answer on both processes"
            assert pair[0].json()["id"] == pair[1].json()["id"], "the same seat"
            seated += 1
        else:
            refused.update({error_code(a) for a in pair})
    assert seated == SIZE - 1, refused
    assert set(refused) == {"GROUPBUY_GROUP_FULL"}, refused
    group = await group_of(app, leader.group_id)
    assert (group.seats_taken, group.paid_count) == (SIZE, 1)
    holding = [m for m in await members_of(app, activity_id) if m.status in (MemberStatus.PENDING, MemberStatus.JOINED)]
    assert len(holding) == SIZE == len({m.order_id for m in holding})


async def test_the_jobs_on_two_processes_give_each_unpaid_seat_back_once(client, tokens, groupbuy_app,
                                                                         capfd):
    app, gb = groupbuy_app, groupbuy_app.state.groupbuy
    groups, at_least, at_most = 20, 40, 80  # more seats come due until each process has given some back
    activity_id = await running_activity(client, tokens, 8)  # room for the seats not given back yet
    past = system_now() - timedelta(minutes=30)  # the unpaid seats are past their 900 s
    leaders = []
    for n in range(groups):  # paid leaders first: a job would give an unpaid leader's seat back
        leaders.append(await flows.hold(gb, seat(n + 1, 10_000 + n, activity_id), past))
        await pay(app, n + 1, past)

    async def all_back() -> bool:
        return all(m.status != MemberStatus.PENDING for m in await members_of(app, activity_id))

    with jobs_on_two_processes(app.state.settings, "groupbuy"):
        logs = JobLogs(capfd, r"'seats_released': (\d+)")

        async def seated_past(n: int) -> None:
            await flows.hold(gb, seat(100 + n, 20_000 + n, activity_id, leaders[n % groups].group_id), past)

        seats = await make_due_while_jobs_run(logs, seated_past, at_least, at_most)
        await until(all_back)
    by_process = logs.by_process()
    with capfd.disabled():
        print(f"\ngroupbuy jobs on two processes: seats_released by process {by_process} of {seats} seats")
    assert sum(by_process.values()) == seats and len(by_process) == 2, by_process
    members = await members_of(app, activity_id)
    assert Counter(m.status for m in members) == {MemberStatus.JOINED: groups, MemberStatus.VOID: seats}
    async with app.state.sessionmaker() as session:
        counters = (await session.execute(select(Group.seats_taken, Group.paid_count, Group.real_paid_count).where(
            Group.activity_id == activity_id))).all()
    assert Counter(counters) == {(1, 1, 1): groups}, "each group's seats given back once: its paid leader's left"
