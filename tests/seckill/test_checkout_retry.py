"""Pricing's calls for a checkout retried after a crash: the order's own reservation never makes
its prices refused, the hold is the first one, and the answer names the activity (issue 12,
points 1 and 14)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from services.seckill.domain import ReservationStatus
from services.seckill.models import Reservation
from tests.seckill.conftest import make_sale
from tests.seckill.test_reservations import state


def hold_body(order_id: int, activity_id: int, count: int = 2, **extra) -> dict:
    return {"order_id": order_id, "user_id": 1001, "activity_id": activity_id, "sku_id": 1001, "count": count,
            **extra}


async def test_a_retried_checkout_is_priced_and_held_as_the_first_attempt(client, tokens, seckill_app):
    activity_id = await make_sale(client, tokens["admin"], stock=2, user_limit=2)
    service = tokens["service"]
    first = await client.post("/internal/seckill/holds", json=hold_body(9001, activity_id), headers=service)
    assert first.status_code == 201, first.text
    # the order's own hold took the last units and the buyer's whole limit: the retry still prices and holds
    prices = await client.post("/internal/seckill/prices", headers=service,
                               json={"user_id": 1001, "activity_id": activity_id, "sku_ids": [1001], "order_id": 9001})
    assert prices.status_code == 200, prices.text
    assert prices.json() == {"activity_id": activity_id, "activity_name": "秒杀", "business_id": None,
                               "prices": {"1001": 9900}}
    again = await client.post("/internal/seckill/holds", json=hold_body(9001, activity_id), headers=service)
    assert again.status_code == 201 and again.json() == first.json(), "the same reservation"
    after = await state(seckill_app, activity_id)
    assert (after["mysql_stock"], after["redis_stock"], after["quotas"]) == (0, 0, {1001: 2}), "taken once"
    other = await client.post("/internal/seckill/holds", json=hold_body(9002, activity_id, 1), headers=service)
    assert other.status_code == 409 and other.json()["error"]["code"] == "SECKILL_SOLD_OUT"


async def test_a_retry_after_the_slot_ended_is_priced_as_reserved(client, tokens, seckill_app):
    activity_id = await make_sale(client, tokens["admin"], stock=5)
    service = tokens["service"]
    held = await client.post("/internal/seckill/holds", json=hold_body(9011, activity_id), headers=service)
    assert held.status_code == 201 and held.json()["status"] == ReservationStatus.HELD
    seckill_app.state.test_clock.at += timedelta(hours=2)  # 12:30: the 10:00-12:00 slot is over

    def body(**extra) -> dict:
        return {"activity_id": activity_id, "sku_ids": [1001], **extra}

    retried = await client.post("/internal/seckill/prices", json=body(order_id=9011), headers=service)
    assert retried.status_code == 200, retried.text
    assert retried.json() == {"activity_id": activity_id, "activity_name": "秒杀", "business_id": None,
                               "prices": {"1001": 9900}}
    again = await client.post("/internal/seckill/holds", json=hold_body(9011, activity_id), headers=service)
    assert again.status_code == 201 and again.json() == held.json()
    for refused in (body(), body(order_id=9012), {**body(order_id=9011), "sku_ids": [1001, 1002]}):
        late = await client.post("/internal/seckill/prices", json=refused, headers=service)
        assert late.status_code == 409 and late.json()["error"]["code"] == "SECKILL_NOT_ON_NOW", refused


async def test_a_retry_after_the_activity_was_deleted_is_priced_and_named(client, tokens, seckill_app):
    activity_id = await make_sale(client, tokens["admin"], stock=5)
    service, admin = tokens["service"], tokens["admin"]
    held = await client.post("/internal/seckill/holds", json=hold_body(9021, activity_id), headers=service)
    assert held.status_code == 201, held.text
    assert (await client.post(f"/admin-api/seckill/activities/{activity_id}/close", headers=admin)).status_code == 204
    assert (await client.delete(f"/admin-api/seckill/activities/{activity_id}", headers=admin)).status_code == 204
    body = {"activity_id": activity_id, "sku_ids": [1001], "order_id": 9021}
    retried = await client.post("/internal/seckill/prices", json=body, headers=service)
    assert retried.status_code == 200, retried.text
    assert retried.json() == {"activity_id": activity_id, "activity_name": "秒杀", "business_id": None,
                               "prices": {"1001": 9900}}, \
        "named as when reserved"
    other = await client.post("/internal/seckill/prices", json={**body, "order_id": 9022}, headers=service)
    assert other.status_code == 404 and other.json()["error"]["code"] == "SECKILL_ACTIVITY_NOT_FOUND"
    async with seckill_app.state.sessionmaker() as session, session.begin():  # reserved before names were kept
        await session.execute(update(Reservation).values(activity_name=""))
    for language, name in (("en", "flash sale"), ("zh-CN", "秒杀活动")):
        unnamed = await client.post("/internal/seckill/prices", json=body,
                                    headers={**service, "Accept-Language": language})
        assert unnamed.status_code == 200 and unnamed.json()["activity_name"] == name, unnamed.text
