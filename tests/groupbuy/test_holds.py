"""What the README promises of a seat's hold (pricing's checkout), on MariaDB: a hold whose
transaction MariaDB picks as a deadlock's victim runs again; one buyer's concurrent checkouts in
one activity get one seat, held by the unique key on (activity, busy buyer) when every checkout
passed the read check; and every refusal code of /internal/groupbuy/holds, one scenario each."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from services.groupbuy import domain, flows
from services.groupbuy import repository as repo
from services.groupbuy.domain import MemberKind, MemberStatus
from services.groupbuy.models import Group, Member
from shared import db
from tests.groupbuy.conftest import NOW, make_activity, seat
from tests.groupbuy.test_checkout_api import HOLDS, hold_body
from tests.groupbuy.test_groups import group_of, pay


async def count(app, model, *where) -> int:
    async with app.state.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where))


async def test_a_hold_picked_as_a_deadlock_victim_runs_again(client, tokens, groupbuy_app, monkeypatch):
    """A real deadlock: the hold locks the group, then inserts its seat; another transaction,
    heavier (it wrote 40 rows), holds an uncommitted row with the seat's order id and asks for
    the group's lock. MariaDB rolls back the lighter one, the hold (1213), which runs again."""
    app, gb = groupbuy_app, groupbuy_app.state.groupbuy
    activity_id = await make_activity(client, tokens["admin"], size=3)
    group_id = (await flows.hold(gb, seat(1, 11, activity_id), NOW)).group_id
    await pay(app, 1)
    group_locked, attempts, errors = asyncio.Event(), [], []
    bought, deadlock = repo.bought_in_activity, db.is_deadlock

    async def bought_with_the_group_locked(session, user_id, activity_id):
        attempts.append(user_id)
        group_locked.set()  # called after the hold locked the group, before its seat is written
        return await bought(session, user_id, activity_id)

    def seen(error) -> bool:
        errors.append(error.orig.args[0])
        return deadlock(error)

    monkeypatch.setattr(repo, "bought_in_activity", bought_with_the_group_locked)
    monkeypatch.setattr(db, "is_deadlock", seen)
    async with app.state.sessionmaker() as other:
        other.add_all([Member(group_id=999, activity_id=999, kind=MemberKind.REAL, status=MemberStatus.PENDING,
                              order_id=order_id, created_at=NOW, updated_at=NOW) for order_id in [2, *range(50, 89)]])
        await other.flush()  # order 2's row, uncommitted: the hold's insert waits for it
        hold = asyncio.create_task(flows.hold(gb, seat(2, 12, activity_id, group_id), NOW))
        await asyncio.wait_for(group_locked.wait(), 10)
        await repo.get_group(other, group_id, for_update=True)  # waits for the hold: a cycle
        await other.rollback()  # the victim's retry may go on
    member = await asyncio.wait_for(hold, 30)
    assert errors == [1213] and attempts == [12, 12]
    assert (member.order_id, member.group_id, member.status) == (2, group_id, MemberStatus.PENDING)
    assert (await group_of(app, group_id)).seats_taken == 2
    assert await count(app, Member, Member.order_id == 2) == 1


async def test_one_buyers_concurrent_checkouts_get_one_seat(client, tokens, groupbuy_app, monkeypatch):
    """Six checkouts of buyer 11 opening groups in one activity, each past the read check (`busy`)
    before any writes: the unique key (activity_id, busy_user_id) lets one seat in; the others are
    refused GROUPBUY_ALREADY_IN_GROUP and leave no group behind."""
    app, gb = groupbuy_app, groupbuy_app.state.groupbuy
    activity_id = await make_activity(client, tokens["admin"])
    busy, everyone_checked, calls = repo.busy_in_activity, asyncio.Barrier(6), []

    async def busy_once_all_have_read(session, user_id, activity_id):
        found = await busy(session, user_id, activity_id)
        calls.append(user_id)
        if len(calls) <= 6:
            await asyncio.wait_for(everyone_checked.wait(), 10)
        return found

    monkeypatch.setattr(repo, "busy_in_activity", busy_once_all_have_read)

    async def checkout(order_id: int):
        try:
            return await flows.hold(gb, seat(order_id, 11, activity_id), NOW)
        except domain.AlreadyInGroup:
            return None

    results = await asyncio.gather(*[checkout(order_id) for order_id in range(1, 7)])
    seats = [r for r in results if r is not None]
    assert len(seats) == 1 and results.count(None) == 5
    assert await count(app, Member, Member.user_id == 11) == 1
    assert await count(app, Group, Group.activity_id == activity_id) == 1
    assert (await group_of(app, seats[0].group_id)).seats_taken == 1


# --- every refusal of /internal/groupbuy/holds ----------------------------------------------------

async def world(client, tokens, app) -> dict[str, int]:
    """A: running (2 seats, 3 per user, 2 per order): G1 full (paid leader 11, pending 12), G2
    opened by 13 and unpaid, G3 led by 14 (paid, a seat free, expires NOW + 24 h), G4 succeeded
    (15 bought 2, 16). B: another running activity. C: closed. D: not started. E: ended."""
    admin, service = tokens["admin"], tokens["service"]
    ids = {"A": await make_activity(client, admin, size=2, user_limit=3, order_limit=2),
           "B": await make_activity(client, admin, spu_id=302),
           "C": await make_activity(client, admin, spu_id=303),
           "D": await make_activity(client, admin, spu_id=304, start=NOW + timedelta(hours=1)),
           "E": await make_activity(client, admin, spu_id=305, start=NOW - timedelta(days=2), end=NOW)}
    await client.post(f"/admin-api/groupbuy/activities/{ids['C']}/close", headers=admin)

    async def hold(order_id, user_id, group=None, count=1, paid=True):
        body = hold_body(order_id, user_id, ids["A"], ids.get(group), count=count)
        answer = await client.post(HOLDS, json=body, headers=service)
        assert answer.status_code == 201, answer.text
        if paid:
            await pay(app, order_id)
        return answer.json()["group_id"]

    ids["G1"] = await hold(1, 11)
    await hold(2, 12, "G1", paid=False)
    ids["G2"] = await hold(3, 13, paid=False)
    ids["G3"] = await hold(4, 14)
    ids["G4"] = await hold(5, 15, count=2)
    await hold(6, 16, "G4")
    return ids


REFUSALS = [  # code, status, (activity, group, order_id, user_id, sku_id, count), when
    ("GROUPBUY_ACTIVITY_NOT_FOUND", 404, (None, None, 20, 20, 3001, 1), NOW),
    ("GROUPBUY_ACTIVITY_CLOSED", 409, ("C", None, 20, 20, 3001, 1), NOW),
    ("GROUPBUY_NOT_STARTED", 409, ("D", None, 20, 20, 3001, 1), NOW),
    ("GROUPBUY_ENDED", 409, ("E", None, 20, 20, 3001, 1), NOW),
    ("GROUPBUY_GROUP_NOT_FOUND", 404, ("A", None, 20, 20, 3001, 1), NOW),  # group 999999
    ("GROUPBUY_GROUP_NOT_JOINABLE", 409, ("A", "G2", 20, 20, 3001, 1), NOW),
    ("GROUPBUY_GROUP_EXPIRED", 409, ("A", "G3", 20, 20, 3001, 1), NOW + timedelta(hours=24)),
    ("GROUPBUY_GROUP_FULL", 409, ("A", "G1", 20, 20, 3001, 1), NOW),
    ("GROUPBUY_ALREADY_IN_GROUP", 409, ("A", None, 20, 13, 3001, 1), NOW),
    ("GROUPBUY_USER_LIMIT_REACHED", 409, ("A", None, 20, 15, 3001, 2), NOW),
    ("GROUPBUY_SKU_NOT_IN_ACTIVITY", 422, ("A", None, 20, 20, 9999, 1), NOW),
    ("GROUPBUY_ORDER_LIMIT_EXCEEDED", 422, ("A", None, 20, 20, 3001, 3), NOW),
    ("GROUPBUY_GROUP_OF_ANOTHER_ACTIVITY", 422, ("B", "G3", 20, 20, 3001, 1), NOW),
    ("GROUPBUY_ORDER_HOLDS_ANOTHER_SEAT", 409, ("A", None, 1, 11, 3001, 2), NOW),
]


@pytest.mark.parametrize(("code", "status", "ask", "when"), REFUSALS, ids=[r[0] for r in REFUSALS])
async def test_each_refusal_of_a_hold(client, tokens, groupbuy_app, code, status, ask, when):
    ids = await world(client, tokens, groupbuy_app)
    activity, group, order_id, user_id, sku_id, units = ask
    group_id = 999_999 if code == "GROUPBUY_GROUP_NOT_FOUND" else ids.get(group)
    body = hold_body(order_id, user_id, ids.get(activity, 999_999), group_id, count=units, sku_id=sku_id)
    seats_before = await count(groupbuy_app, Member)
    groupbuy_app.state.test_clock.at = when
    refused = await client.post(HOLDS, json=body, headers=tokens["service"])
    assert (refused.status_code, refused.json()["error"]["code"]) == (status, code), refused.text
    assert await count(groupbuy_app, Member) == seats_before  # no seat taken
    assert [(await group_of(groupbuy_app, ids[g])).seats_taken for g in ("G1", "G2", "G3")] == [2, 1, 1]
