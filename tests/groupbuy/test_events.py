"""order.paid and order.cancelled reach the group-buy service through Kafka; delivered twice,
the second delivery changes nothing; a payment for a seat already given back is refunded."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from services.groupbuy import flows, groups
from services.groupbuy.domain import GroupStatus, MemberStatus
from shared.events import encode, new_event
from shared.kafka import make_producer
from tests.groupbuy.conftest import NOW, events, make_activity, seat
from tests.groupbuy.test_groups import group_of, member_of


def paid(order_id: int, user_id: int, at: datetime) -> bytes:
    return encode(new_event("order.paid", source="test", subject=order_id, time=at, data={
        "order_id": order_id, "user_id": user_id, "order_type": "groupbuy", "pay_price": 5900,
        "paid_at": at.isoformat(), "items": [{"sku_id": 3001, "spu_id": 301, "count": 1, "pay_price": 5900}]}))


def cancelled(order_id: int, user_id: int, at: datetime) -> bytes:
    return encode(new_event("order.cancelled", source="test", subject=order_id, time=at, data={
        "order_id": order_id, "user_id": user_id, "cancelled_at": at.isoformat(), "reason": "member_cancel"}))


async def eventually(check, what: str) -> None:
    for _ in range(300):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"never happened: {what}")


async def test_paid_and_cancelled_delivered_twice_change_state_once(client, tokens, groupbuy_app):
    app, gb = groupbuy_app, groupbuy_app.state.groupbuy
    activity_id = await make_activity(client, tokens["admin"], size=2)
    leader = await flows.hold(gb, seat(8101, 11, activity_id), NOW)
    producer = make_producer(app.state.settings)
    await producer.start()
    try:
        for _ in range(2):
            await producer.send_and_wait("order.paid", paid(8101, 11, NOW), key=b"8101")

        async def opened():
            return (await group_of(app, leader.group_id)).status == GroupStatus.IN_PROGRESS
        await eventually(opened, "the leader's payment opened the group")
        member = await flows.hold(gb, seat(8102, 12, activity_id, leader.group_id), NOW)
        for _ in range(2):
            await producer.send_and_wait("order.cancelled", cancelled(8102, 12, NOW), key=b"8102")

        async def freed():
            return (await member_of(app, member.id)).status == MemberStatus.VOID
        await eventually(freed, "the cancelled order's seat was given back")
        # the seat went back once: one free seat, and another buyer takes it and completes the group
        late = await flows.hold(gb, seat(8103, 13, activity_id, leader.group_id), NOW)
        for _ in range(2):
            await producer.send_and_wait("order.paid", paid(8103, 13, NOW), key=b"8103")

        async def succeeded():
            return (await group_of(app, leader.group_id)).status == GroupStatus.SUCCESS
        await eventually(succeeded, "the group succeeded")
        # a payment for the cancelled order arrives after all (twice): one refund event for it alone
        for _ in range(2):
            await producer.send_and_wait("order.paid", paid(8102, 12, NOW + timedelta(minutes=1)), key=b"8102")

        async def refunded():
            return len(await events(app, groups.FAILED)) == 1
        await eventually(refunded, "the late payment got its failure event")
        await asyncio.sleep(1.0)  # let the second deliveries land too
    finally:
        await producer.stop()
    group = await group_of(app, leader.group_id)
    assert (group.paid_count, group.seats_taken) == (2, 2)
    assert [sorted(e.data["order_ids"]) for e in await events(app, groups.SUCCEEDED)] == [[8101, 8103]]
    assert [e.data["order_ids"] for e in await events(app, groups.FAILED)] == [[8102]]
    assert (await member_of(app, late.id)).status == MemberStatus.SUCCESS
