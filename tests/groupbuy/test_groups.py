"""Seats through checkout (hold / pay / release by order id), every state change of groups and
members, the buyer's pages, and the race for the last seats, on MariaDB."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from services.groupbuy import domain, flows, groups, service
from services.groupbuy.domain import GroupStatus, MemberStatus
from services.groupbuy.models import Group, Member
from tests.groupbuy.conftest import NOW, events, make_activity, seat


async def pay(app, order_id, at=NOW):
    async with app.state.sessionmaker() as session, session.begin():
        return await service.pay(session, order_id, at, at)


async def cancel(app, order_id, at=NOW, paid=False):
    async with app.state.sessionmaker() as session, session.begin():
        return await service.cancel_order(session, order_id, at, paid=paid)


async def group_of(app, group_id) -> Group:
    async with app.state.sessionmaker() as session:
        return await session.get(Group, group_id)


async def member_of(app, member_id) -> Member:
    async with app.state.sessionmaker() as session:
        return await session.get(Member, member_id)


async def test_leader_opens_members_join_and_pay_the_group_succeeds_once(client, tokens, groupbuy_app):
    gb, app = groupbuy_app.state.groupbuy, groupbuy_app
    activity_id = await make_activity(client, tokens["admin"])
    leader = await flows.hold(gb, seat(1, 11, activity_id), NOW)
    assert (leader.leader, leader.unit_price, leader.status) == (True, 4900, MemberStatus.PENDING)
    group_id = leader.group_id
    assert (await group_of(app, group_id)).status == GroupStatus.PENDING
    listed = await client.get(f"/app-api/groupbuy/activities/{activity_id}/groups")
    assert listed.json() == []  # nobody can join a group whose leader has not paid
    with pytest.raises(domain.GroupNotJoinable):
        await flows.hold(gb, seat(2, 12, activity_id, group_id), NOW)

    assert await pay(app, 1)
    group = await group_of(app, group_id)
    assert (group.status, group.expires_at, group.paid_count) == (GroupStatus.IN_PROGRESS, NOW + timedelta(hours=24), 1)
    listed = (await client.get(f"/app-api/groupbuy/activities/{activity_id}/groups")).json()
    assert [(g["id"], g["seats_left"], g["leader_nickname"], g["time_left_seconds"]) for g in listed] == [
        (group_id, 2, "user11", 24 * 3600)]

    second = await flows.hold(gb, seat(2, 12, activity_id, group_id), NOW)
    third = await flows.hold(gb, seat(3, 13, activity_id, group_id), NOW)
    assert (second.leader, second.unit_price) == (False, 5900)
    with pytest.raises(domain.GroupFull):  # both seats are held, though not paid yet
        await flows.hold(gb, seat(4, 14, activity_id, group_id), NOW)
    assert await pay(app, 2)
    assert (await group_of(app, group_id)).status == GroupStatus.IN_PROGRESS
    assert await pay(app, 3)
    assert (await group_of(app, group_id)).status == GroupStatus.SUCCESS
    assert not await pay(app, 3)  # the same payment again changes nothing
    succeeded = await events(app, groups.SUCCEEDED)
    assert len(succeeded) == 1 and sorted(succeeded[0].data["order_ids"]) == [1, 2, 3]
    assert succeeded[0].data["virtual"] is False
    for member in (leader, second, third):
        assert (await member_of(app, member.id)).status == MemberStatus.SUCCESS

    detail = (await client.get(f"/app-api/groupbuy/groups/{group_id}")).json()
    assert detail["status"] == GroupStatus.SUCCESS and [m["nickname"] for m in detail["members"]] == [
        "user11", "user12", "user13"]
    mine = (await client.get("/app-api/groupbuy/my-groups", headers=tokens["member"])).json()
    assert mine["total"] == 0  # user 1001 took no seat
    page = (await client.get("/app-api/groupbuy/activities", params={"spu_id": 301})).json()
    assert page["items"][0]["joined_count"] == 3
    # the group is over: its members may open or join another one
    assert (await flows.hold(gb, seat(5, 11, activity_id), NOW)).leader


async def test_buyer_rules(client, tokens, groupbuy_app):
    gb = groupbuy_app.state.groupbuy
    activity_id = await make_activity(client, tokens["admin"], user_limit=3, order_limit=2,
                                      skus=((3001, 5900, None),))
    with pytest.raises(domain.OrderLimitExceeded):
        await flows.hold(gb, seat(1, 11, activity_id, count=3), NOW)
    with pytest.raises(domain.SkuNotInActivity):
        await flows.hold(gb, seat(1, 11, activity_id, sku_id=9999), NOW)
    first = await flows.hold(gb, seat(1, 11, activity_id, count=2), NOW)
    with pytest.raises(domain.AlreadyInGroup):  # a second group in progress in the same activity
        await flows.hold(gb, seat(2, 11, activity_id), NOW)
    await pay(groupbuy_app, 1)
    with pytest.raises(domain.AlreadyInGroup):  # the same group twice
        await flows.hold(gb, seat(2, 11, activity_id, first.group_id), NOW)
    other = await flows.hold(gb, seat(3, 12, activity_id), NOW)
    with pytest.raises(domain.GroupNotJoinable):  # its leader has not paid
        await flows.hold(gb, seat(4, 13, activity_id, other.group_id), NOW)
    with pytest.raises(domain.GroupNotFound):
        await flows.hold(gb, seat(4, 13, activity_id, 999_999), NOW)
    # the user's total: 2 bought in a group that then ends; one more fits, two do not
    await cancel(groupbuy_app, 1, paid=True)  # a paid seat given back: it no longer counts
    second = await flows.hold(gb, seat(5, 11, activity_id, count=2), NOW)
    await pay(groupbuy_app, 5)
    async with groupbuy_app.state.sessionmaker() as session, session.begin():
        group = await session.get(Group, second.group_id, with_for_update=True)
        group.expires_at = NOW  # let the expiry job end it
    groupbuy_app.state.test_clock.advance(seconds=1)
    await flows.end_due_groups(gb, NOW + timedelta(seconds=1))
    await flows.hold(gb, seat(6, 11, activity_id, count=1), NOW)  # failed groups do not count
    await cancel(groupbuy_app, 6)
    async with groupbuy_app.state.sessionmaker() as session, session.begin():
        session.add(Member(group_id=second.group_id, activity_id=activity_id, user_id=11, kind=1, count=2,
                           status=MemberStatus.SUCCESS, created_at=NOW, updated_at=NOW))  # bought 2 before
    with pytest.raises(domain.UserLimitReached):
        await flows.hold(gb, seat(7, 11, activity_id, count=2), NOW)
    await flows.hold(gb, seat(7, 11, activity_id, count=1), NOW)


async def test_activity_window_and_closing(client, tokens, groupbuy_app):
    gb, admin = groupbuy_app.state.groupbuy, tokens["admin"]
    later = await make_activity(client, admin, start=NOW + timedelta(hours=1))
    with pytest.raises(domain.NotStarted):
        await flows.hold(gb, seat(1, 11, later), NOW)
    ended = await make_activity(client, admin, spu_id=302, start=NOW - timedelta(days=2), end=NOW)
    with pytest.raises(domain.Ended):
        await flows.hold(gb, seat(1, 11, ended), NOW)
    running = await make_activity(client, admin, spu_id=303)
    opened = await flows.hold(gb, seat(1, 11, running), NOW)
    await pay(groupbuy_app, 1)
    await client.post(f"/admin-api/groupbuy/activities/{running}/close", headers=admin)
    with pytest.raises(domain.ActivityClosed):
        await flows.hold(gb, seat(2, 12, running, opened.group_id), NOW)
    with pytest.raises(domain.ActivityClosed):
        await flows.hold(gb, seat(2, 12, running), NOW)
    assert (await client.get(f"/app-api/groupbuy/activities/{running}")).status_code == 409


async def test_a_checkout_retry_gets_the_same_seat_and_another_cart_is_refused(client, tokens, groupbuy_app):
    gb = groupbuy_app.state.groupbuy
    activity_id = await make_activity(client, tokens["admin"])
    first = await flows.hold(gb, seat(1, 11, activity_id), NOW)
    again = await asyncio.gather(*[flows.hold(gb, seat(1, 11, activity_id), NOW) for _ in range(5)])
    assert {s.id for s in again} == {first.id}
    with pytest.raises(domain.OrderHoldsAnotherSeat):
        await flows.hold(gb, seat(1, 11, activity_id, count=2), NOW)
    assert (await group_of(groupbuy_app, first.group_id)).seats_taken == 1
    assert await flows.release_order(gb, 1, NOW)
    with pytest.raises(domain.GroupNotJoinable):  # the order's seat was given back
        await flows.hold(gb, seat(1, 11, activity_id), NOW)


async def test_seats_given_back_pending_paid_and_the_leaders(client, tokens, groupbuy_app):
    gb, app = groupbuy_app.state.groupbuy, groupbuy_app
    activity_id = await make_activity(client, tokens["admin"], size=4)
    leader = await flows.hold(gb, seat(1, 11, activity_id), NOW)
    assert await cancel(app, 1)  # the leader never paid: the group is void
    assert not await cancel(app, 1)
    assert (await group_of(app, leader.group_id)).status == GroupStatus.VOID
    assert (await member_of(app, leader.id)).status == MemberStatus.VOID

    leader = await flows.hold(gb, seat(2, 11, activity_id), NOW)
    await pay(app, 2)
    pending = await flows.hold(gb, seat(3, 12, activity_id, leader.group_id), NOW)
    paid = await flows.hold(gb, seat(4, 13, activity_id, leader.group_id), NOW)
    await pay(app, 4)
    group = await group_of(app, leader.group_id)
    assert (group.seats_taken, group.paid_count) == (3, 2)
    assert await cancel(app, 3) and await cancel(app, 4, paid=True)
    group = await group_of(app, leader.group_id)
    assert (group.seats_taken, group.paid_count, group.status) == (1, 1, GroupStatus.IN_PROGRESS)
    assert (await member_of(app, pending.id)).status == MemberStatus.VOID
    assert (await member_of(app, paid.id)).status == MemberStatus.VOID
    # their seats are free again, and they may come back
    await flows.hold(gb, seat(5, 12, activity_id, leader.group_id), NOW)


async def test_unpaid_seats_go_back_when_their_hold_expires(client, tokens, groupbuy_app):
    gb, app = groupbuy_app.state.groupbuy, groupbuy_app
    activity_id = await make_activity(client, tokens["admin"])
    leader = await flows.hold(gb, seat(1, 11, activity_id), NOW)
    await pay(app, 1)
    member = await flows.hold(gb, seat(2, 12, activity_id, leader.group_id), NOW)
    assert member.hold_expires_at == NOW + timedelta(seconds=900)
    assert await flows.expire_holds(gb, NOW + timedelta(seconds=899)) == 0
    assert await flows.expire_holds(gb, NOW + timedelta(seconds=900)) == 1
    assert await flows.expire_holds(gb, NOW + timedelta(seconds=900)) == 0
    assert (await member_of(app, member.id)).status == MemberStatus.VOID
    assert (await group_of(app, leader.group_id)).seats_taken == 1
    # paying now is too late: not counted, and that order alone gets a failure event (refund)
    assert await pay(app, 2, NOW + timedelta(seconds=901))
    assert not await pay(app, 2, NOW + timedelta(seconds=902))
    failed = await events(app, groups.FAILED)
    assert [(e.data["order_ids"], e.data["reason"]) for e in failed] == [([2], "paid_after_seat_released")]
    assert (await group_of(app, leader.group_id)).paid_count == 1


async def test_ten_buyers_race_for_the_last_two_seats(client, tokens, groupbuy_app):
    """10 concurrent checkouts for a group with 2 free seats: exactly 2 get one. Then both pay at
    the same moment: the group succeeds once, with one success event."""
    gb, app = groupbuy_app.state.groupbuy, groupbuy_app
    activity_id = await make_activity(client, tokens["admin"], size=5)
    leader = await flows.hold(gb, seat(1, 11, activity_id), NOW)
    await pay(app, 1)
    for order_id in (2, 3):
        await flows.hold(gb, seat(order_id, 10 + order_id, activity_id, leader.group_id), NOW)
        await pay(app, order_id)

    async def attempt(order_id: int):
        try:
            return await flows.hold(gb, seat(order_id, 100 + order_id, activity_id, leader.group_id), NOW)
        except domain.GroupFull:
            return None

    results = await asyncio.gather(*[attempt(order_id) for order_id in range(100, 110)])
    winners = [r for r in results if r is not None]
    assert len(winners) == 2
    assert (await group_of(app, leader.group_id)).seats_taken == 5
    outcomes = await asyncio.gather(*[pay(app, w.order_id) for w in winners])
    assert outcomes == [True, True]
    group = await group_of(app, leader.group_id)
    assert (group.status, group.paid_count) == (GroupStatus.SUCCESS, 5)
    succeeded = await events(app, groups.SUCCEEDED)
    assert len(succeeded) == 1
    assert sorted(succeeded[0].data["order_ids"]) == sorted([1, 2, 3] + [w.order_id for w in winners])
