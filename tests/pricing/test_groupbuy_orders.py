"""A group-buy order through pricing: the leader or group price from the group-buy service, the
seat as a hold, given back when a later hold fails."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from services.groupbuy import service as groupbuy
from services.groupbuy.domain import MemberStatus
from services.groupbuy.models import Base as GroupbuyBase
from services.groupbuy.models import Member
from tests.conftest import asgi_client, clear_tables
from tests.groupbuy.conftest import NOW, make_activity
from tests.pricing.conftest import give_coupon

CHECKOUT = "/internal/pricing/checkout"


@pytest.fixture
async def activity_id(groupbuy_app, tokens) -> int:
    """A running 2-person group buy of SKU 3001 (group price 5900, leader price 4900)."""
    await clear_tables(groupbuy_app.state.engine, GroupbuyBase.metadata)
    groupbuy_app.state.test_clock.at = NOW
    async with asgi_client(groupbuy_app) as client:
        return await make_activity(client, tokens["admin"], size=2)


def groupbuy_order(order_id: int, activity_id: int, user_id: int = 1001, group_id: int | None = None,
                   **extra) -> dict:
    return {"order_id": order_id, "user_id": user_id,
            "activity": {"type": "groupbuy", "activity_id": activity_id, "group_id": group_id, "nickname": "阿花"},
            "lines": [{"sku_id": 3001, "spu_id": 301, "category_id": 5, "unit_price": 9900, "count": 1}], **extra}


async def seats(groupbuy_app) -> list[Member]:
    async with groupbuy_app.state.sessionmaker() as session:
        return list((await session.scalars(select(Member).order_by(Member.id))).all())


async def test_leader_price_to_open_group_price_to_join_and_the_seat_held_once(
        client, tokens, groupbuy_app, activity_id):
    quote = await client.post("/app-api/pricing/quote", headers=tokens["member"], json={
        k: v for k, v in groupbuy_order(0, activity_id).items() if k in ("activity", "lines")})
    assert quote.status_code == 200, quote.text
    assert quote.json()["totals"]["pay"] == 4900
    opened = await client.post(CHECKOUT, json=groupbuy_order(8501, activity_id), headers=tokens["service"])
    assert opened.status_code == 200, opened.text
    again = await client.post(CHECKOUT, json=groupbuy_order(8501, activity_id), headers=tokens["service"])
    assert again.json() == opened.json()
    [leader] = await seats(groupbuy_app)
    assert (leader.order_id, leader.leader, leader.unit_price, leader.nickname) == (8501, True, 4900, "阿花")
    assert [h["reference"] for h in opened.json()["holds"] if h["owner"] == "groupbuy"] == [leader.group_id]

    async with groupbuy_app.state.sessionmaker() as session, session.begin():
        await groupbuy.pay(session, 8501, NOW, NOW)
    join = groupbuy_order(8502, activity_id, user_id=1002, group_id=leader.group_id)
    joined = await client.post(CHECKOUT, json=join, headers=tokens["service"])
    assert joined.status_code == 200, joined.text
    assert joined.json()["totals"]["pay"] == 5900
    full = await client.post(CHECKOUT, json=groupbuy_order(8503, activity_id, user_id=1003, group_id=leader.group_id),
                             headers=tokens["service"])
    assert full.status_code == 409, full.text
    assert full.json()["error"]["details"]["owner_code"] == "GROUPBUY_GROUP_FULL"


async def test_a_coupon_is_refused_on_a_group_buy_order_and_nothing_is_held(
        client, tokens, coupons, groupbuy_app, activity_id):
    coupon_id = await give_coupon(coupons, tokens, discount_type=1, discount_price=100, use_price=0)
    refused = await client.post(CHECKOUT, json=groupbuy_order(8601, activity_id, coupon_id=coupon_id),
                                headers=tokens["service"])
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "PRICING_COUPON_NOT_ALLOWED"
    assert await seats(groupbuy_app) == []


async def test_a_closed_activity_is_refused_with_the_owners_code(client, tokens, groupbuy_app, activity_id):
    async with asgi_client(groupbuy_app) as admin_client:
        await admin_client.post(f"/admin-api/groupbuy/activities/{activity_id}/close", headers=tokens["admin"])
    refused = await client.post(CHECKOUT, json=groupbuy_order(8701, activity_id), headers=tokens["service"])
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["details"]["owner_code"] == "GROUPBUY_ACTIVITY_CLOSED"


async def test_an_order_with_two_skus_is_refused_and_the_seat_is_not_kept(client, tokens, groupbuy_app, activity_id):
    order = groupbuy_order(8801, activity_id)
    order["lines"].append({"sku_id": 3001, "spu_id": 301, "category_id": 5, "unit_price": 9900, "count": 1})
    refused = await client.post(CHECKOUT, json=order, headers=tokens["service"])
    assert refused.status_code == 409 and refused.json()["error"]["details"]["owner_code"] == (
        "GROUPBUY_ONE_SKU_PER_ORDER")
    assert [s.status for s in await seats(groupbuy_app)] == []
    single = await client.post(CHECKOUT, json=groupbuy_order(8802, activity_id), headers=tokens["service"])
    assert single.status_code == 200
    assert (await seats(groupbuy_app))[0].status == MemberStatus.PENDING
