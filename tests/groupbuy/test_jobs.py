"""The jobs: groups whose time is up fail (refund event) or complete virtually; robots join after
the configured hours; robot leaders keep groups open. Each is safe when run twice or on two
replicas at once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from services.groupbuy import flows, groups, jobs
from services.groupbuy import repository as repo
from services.groupbuy.domain import GroupStatus, MemberKind, MemberStatus
from services.groupbuy.models import Member
from tests.groupbuy.conftest import NOW, events, make_activity, seat
from tests.groupbuy.test_groups import group_of, member_of, pay


async def members(app, group_id) -> list[Member]:
    async with app.state.sessionmaker() as session:
        return await repo.members_of(session, [group_id])


async def open_group(app, activity_id, leader_order=1, paid_members=0):
    """A group whose leader paid, with `paid_members` more paid members; the leader's seat."""
    gb = app.state.groupbuy
    leader = await flows.hold(gb, seat(leader_order, 1000 + leader_order, activity_id), NOW)
    await pay(app, leader_order)
    for i in range(paid_members):
        await flows.hold(gb, seat(leader_order + 1 + i, 2000 + leader_order + i, activity_id, leader.group_id), NOW)
        await pay(app, leader_order + 1 + i)
    return leader


async def test_time_up_fails_the_group_refunds_paid_orders_and_voids_unpaid_seats(client, tokens, groupbuy_app):
    app, gb = groupbuy_app, groupbuy_app.state.groupbuy
    activity_id = await make_activity(client, tokens["admin"], size=4)
    leader = await open_group(app, activity_id, paid_members=1)
    unpaid = await flows.hold(gb, seat(9, 30, activity_id, leader.group_id), NOW)
    assert await flows.end_due_groups(gb, NOW + timedelta(hours=23)) == (0, 0)
    ends = await asyncio.gather(*[flows.end_due_groups(gb, NOW + timedelta(hours=24)) for _ in range(3)])
    assert sum(failed for _, failed in ends) == 1  # three replicas at once: one of them ends it
    assert (await group_of(app, leader.group_id)).status == GroupStatus.FAILED
    statuses = {m.order_id: m.status for m in await members(app, leader.group_id)}
    assert statuses == {1: MemberStatus.FAILED, 2: MemberStatus.FAILED, 9: MemberStatus.VOID}
    failed = await events(app, groups.FAILED)
    assert [(sorted(e.data["order_ids"]), e.data["reason"]) for e in failed] == [([1, 2], "expired")]
    # the unpaid member pays after all: not counted, refunded on its own
    await pay(app, 9, NOW + timedelta(hours=25))
    assert [e.data["order_ids"] for e in await events(app, groups.FAILED)] == [[1, 2], [9]]
    assert (await member_of(app, unpaid.id)).status == MemberStatus.VOID


async def test_virtual_completion_needs_enough_real_paid_members(client, tokens, groupbuy_app):
    app, gb = groupbuy_app, groupbuy_app.state.groupbuy
    activity_id = await make_activity(client, tokens["admin"], size=5, virtual_completion=True, least_population=2)
    short = await open_group(app, activity_id, leader_order=1)  # 1 real paid: below the threshold
    enough = await open_group(app, activity_id, leader_order=10, paid_members=1)  # 2 real paid
    await flows.hold(gb, seat(19, 40, activity_id, enough.group_id), NOW)  # unpaid when time is up
    assert await flows.end_due_groups(gb, NOW + timedelta(hours=24)) == (1, 1)
    assert (await group_of(app, short.group_id)).status == GroupStatus.FAILED
    group = await group_of(app, enough.group_id)
    assert (group.status, group.virtual, group.paid_count, group.seats_taken) == (GroupStatus.SUCCESS, True, 5, 5)
    seats = await members(app, enough.group_id)
    assert sorted((m.kind, m.status) for m in seats) == sorted(
        [(MemberKind.REAL, MemberStatus.SUCCESS)] * 2 + [(MemberKind.REAL, MemberStatus.VOID)]
        + [(MemberKind.VIRTUAL, MemberStatus.SUCCESS)] * 3)
    succeeded = await events(app, groups.SUCCEEDED)
    assert [(sorted(e.data["order_ids"]), e.data["virtual"]) for e in succeeded] == [([10, 11], True)]


async def test_robots_take_the_free_seats_after_the_configured_hours(client, tokens, groupbuy_app):
    app, gb = groupbuy_app, groupbuy_app.state.groupbuy
    activity_id = await make_activity(client, tokens["admin"], size=4, robot_join_after_hours=6)
    waiting = await open_group(app, activity_id, leader_order=1)
    pending = await open_group(app, activity_id, leader_order=10)
    await flows.hold(gb, seat(11, 50, activity_id, pending.group_id), NOW)  # holds a seat, unpaid
    assert await flows.robots_join(gb, NOW + timedelta(hours=5)) == 0
    joined = await asyncio.gather(*[flows.robots_join(gb, NOW + timedelta(hours=6)) for _ in range(3)])
    assert sum(joined) == 3 + 2  # once per group, whichever replica got there
    group = await group_of(app, waiting.group_id)
    assert (group.status, group.virtual) == (GroupStatus.SUCCESS, True)
    assert (await group_of(app, pending.group_id)).status == GroupStatus.IN_PROGRESS  # waits for its buyer
    await pay(app, 11, NOW + timedelta(hours=7))
    assert (await group_of(app, pending.group_id)).status == GroupStatus.SUCCESS
    robots = [m for m in await members(app, waiting.group_id) if m.kind == MemberKind.ROBOT]
    assert len(robots) == 3 and all(m.nickname and m.user_id is None for m in robots)
    detail = (await client.get(f"/app-api/groupbuy/groups/{waiting.group_id}")).json()
    assert len(detail["members"]) == 4 and "kind" not in detail["members"][0]  # robots look like buyers
    assert sorted(e.data["order_ids"] for e in await events(app, groups.SUCCEEDED)) == [[1], [10, 11]]


async def test_robot_leaders_keep_groups_open_for_buyers(client, tokens, groupbuy_app):
    app, gb = groupbuy_app, groupbuy_app.state.groupbuy
    activity_id = await make_activity(client, tokens["admin"], size=2, keep_open_groups=2)
    opened = await asyncio.gather(*[flows.keep_groups_open(gb, NOW) for _ in range(3)])
    assert sum(opened) == 2  # three replicas at once still open two
    assert await flows.keep_groups_open(gb, NOW) == 0
    listed = (await client.get(f"/app-api/groupbuy/activities/{activity_id}/groups")).json()
    assert len(listed) == 2 and all(g["seats_left"] == 1 and g["leader_nickname"] for g in listed)
    buyer = await flows.hold(gb, seat(1, 11, activity_id, listed[0]["id"]), NOW)
    assert not buyer.leader and buyer.unit_price == 5900
    await pay(app, 1)
    group = await group_of(app, listed[0]["id"])
    assert (group.status, group.virtual) == (GroupStatus.SUCCESS, True)
    assert [e.data["order_ids"] for e in await events(app, groups.SUCCEEDED)] == [[1]]
    assert await flows.keep_groups_open(gb, NOW) == 1  # one more, to keep two open
    # a robot-led group nobody joined ends with nothing to refund, and no event
    assert await flows.end_due_groups(gb, NOW + timedelta(hours=24)) == (0, 2)
    assert await events(app, groups.FAILED) == []


async def test_one_run_of_the_jobs_does_each_kind_of_work(client, tokens, groupbuy_app):
    gb = groupbuy_app.state.groupbuy
    activity_id = await make_activity(client, tokens["admin"], size=3, keep_open_groups=1)
    await flows.hold(gb, seat(1, 11, activity_id), NOW)  # unpaid leader
    done = await jobs.run_once(gb, NOW + timedelta(hours=1))
    assert done == {"seats_released": 1, "groups_ended": (0, 0), "robots_joined": 0, "robot_groups_opened": 1}


async def test_robots_do_not_join_groups_of_a_closed_activity(client, tokens, groupbuy_app):
    app, gb = groupbuy_app, groupbuy_app.state.groupbuy
    activity_id = await make_activity(client, tokens["admin"], size=3, robot_join_after_hours=1, keep_open_groups=1)
    leader = await open_group(app, activity_id)
    await client.post(f"/admin-api/groupbuy/activities/{activity_id}/close", headers=tokens["admin"])
    assert await flows.robots_join(gb, NOW + timedelta(hours=2)) == 0
    assert await flows.keep_groups_open(gb, NOW) == 0
    assert (await group_of(app, leader.group_id)).seats_taken == 1
