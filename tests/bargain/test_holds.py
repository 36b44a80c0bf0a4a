"""Pricing's side of a bargain order: the bargained price, the hold of the record and one unit
(idempotent by order id), its release, the order events (each twice: no change the second time),
the hold's expiry, and a cancelled order's record ordered again while it is valid."""

from __future__ import annotations

from datetime import timedelta

from services.bargain import consumers, jobs
from services.bargain.models import Activity, Order, Record
from shared.events import new_event
from tests.bargain.conftest import APP, HOLDS, NOW, PRICES, events, make_activity, start, succeeded_record


def hold_body(order_id: int, record_id: int, user_id: int = 1001, sku_id: int = 5001) -> dict:
    return {"order_id": order_id, "user_id": user_id, "record_id": record_id, "sku_id": sku_id}


async def state(app, record_id: int, activity_id: int, order_id: int | None = None):
    async with app.state.sessionmaker() as session:
        record = await session.get(Record, record_id)
        activity = await session.get(Activity, activity_id)
        order = None
        if order_id is not None:
            from sqlalchemy import select

            order = await session.scalar(select(Order).where(Order.order_id == order_id))
        return record, activity, order


async def deliver(app, event_type: str, data: dict) -> None:
    envelope = new_event(event_type, source="mall-order", subject=data["order_id"], data=data, time=NOW)
    async with app.state.sessionmaker() as session, session.begin():
        await consumers.HANDLERS[event_type](session, envelope)


def paid(order_id: int) -> dict:
    return {"order_id": order_id, "user_id": 1001, "order_type": "bargain", "pay_price": 1_000,
            "paid_at": NOW.isoformat(), "items": [{"sku_id": 5001, "spu_id": 501, "count": 1, "pay_price": 1_000}]}


def cancelled(order_id: int, paid_before: bool = False) -> dict:
    return {"order_id": order_id, "user_id": 1001, "cancelled_at": NOW.isoformat(), "paid": paid_before}


async def test_a_successful_record_is_priced_held_once_and_paid_once(client, tokens, members, bargain_app):
    service_token = tokens["service"]
    record = await succeeded_record(client, tokens["admin"], members, stock=5)
    activity_id = record["activity_id"]
    priced = await client.post(PRICES, headers=service_token,
                               json={"user_id": 1001, "record_id": record["id"], "sku_ids": [5001]})
    assert priced.status_code == 200 and priced.json()["prices"] == {"5001": 1_000}
    held = await client.post(HOLDS, headers=service_token, json=hold_body(71, record["id"]))
    assert held.status_code == 201, held.text
    assert (held.json()["unit_price"], held.json()["status"]) == (1_000, 0)
    again = await client.post(HOLDS, headers=service_token, json=hold_body(71, record["id"]))
    assert again.status_code == 201 and again.json() == held.json()
    other = await client.post(HOLDS, headers=service_token, json=hold_body(72, record["id"]))
    assert other.status_code == 409 and other.json()["error"]["code"] == "BARGAIN_RECORD_ALREADY_ORDERED"
    retried = await client.post(PRICES, headers=service_token, json={
        "user_id": 1001, "record_id": record["id"], "sku_ids": [5001], "order_id": 71})
    assert retried.status_code == 200  # the order's own hold
    stored, activity, _ = await state(bargain_app, record["id"], activity_id)
    assert stored.order_id == 71 and activity.stock == 4

    await deliver(bargain_app, "order.paid", paid(71))
    await deliver(bargain_app, "order.paid", paid(71))
    stored, activity, order = await state(bargain_app, record["id"], activity_id, 71)
    assert (order.status, stored.order_id, activity.stock) == (10, 71, 4)
    figures = (await client.get(f"/admin-api/bargain/activities/{activity_id}/stats", headers=tokens["admin"]))
    assert figures.json()["records_ordered"] == 1 and figures.json()["sales"] == 1_000
    assert not (await client.post(f"{HOLDS}/71/release", headers=service_token)).json()["released"]


async def test_a_cancelled_order_gives_the_unit_back_once_and_the_record_can_be_ordered_again(
        client, tokens, members, bargain_app):
    service_token = tokens["service"]
    record = await succeeded_record(client, tokens["admin"], members, stock=5)
    activity_id = record["activity_id"]
    assert (await client.post(HOLDS, headers=service_token, json=hold_body(81, record["id"]))).status_code == 201
    await deliver(bargain_app, "order.cancelled", cancelled(81))
    await deliver(bargain_app, "order.cancelled", cancelled(81))
    stored, activity, order = await state(bargain_app, record["id"], activity_id, 81)
    assert (order.status, order.end_reason, stored.order_id, activity.stock) == (20, "order_cancelled", None, 5)
    assert (await client.post(HOLDS, headers=service_token, json=hold_body(82, record["id"]))).status_code == 201
    released = await client.post(f"{HOLDS}/82/release", headers=service_token)
    assert released.json() == {"order_id": 82, "released": True}
    assert (await client.post(f"{HOLDS}/82/release", headers=service_token)).json()["released"] is False
    assert (await client.post(HOLDS, headers=service_token, json=hold_body(83, record["id"]))).status_code == 201
    stored, activity, _ = await state(bargain_app, record["id"], activity_id)
    assert (stored.order_id, activity.stock) == (83, 4)


async def test_an_unpaid_hold_expires_and_a_late_payment_takes_it_back_or_asks_for_a_refund(
        client, tokens, members, bargain_app):
    bg, service_token = bargain_app.state.bargain, tokens["service"]
    record = await succeeded_record(client, tokens["admin"], members, stock=5)
    activity_id = record["activity_id"]
    assert (await client.post(HOLDS, headers=service_token, json=hold_body(91, record["id"]))).status_code == 201
    assert await jobs.run_once(bg, NOW + timedelta(seconds=899)) == {"records_failed": 0, "holds_released": 0}
    assert await jobs.run_once(bg, NOW + timedelta(seconds=900)) == {"records_failed": 0, "holds_released": 1}
    await deliver(bargain_app, "order.paid", paid(91))  # the record and a unit were still free
    stored, activity, order = await state(bargain_app, record["id"], activity_id, 91)
    assert (order.status, stored.order_id, activity.stock) == (10, 91, 4)

    second = await succeeded_record(client, tokens["admin"], members, user=1005, activity_id=activity_id,
                                    helpers=(1006, 1007, 1008))
    body = hold_body(92, second["id"], user_id=1005)
    assert (await client.post(HOLDS, headers=service_token, json=body)).status_code == 201
    assert await jobs.run_once(bg, NOW + timedelta(seconds=900)) == {"records_failed": 0, "holds_released": 1}
    assert (await client.post(HOLDS, headers=service_token, json={**body, "order_id": 93})).status_code == 201
    await deliver(bargain_app, "order.paid", paid(92))  # too late: order 93 holds the record now
    await deliver(bargain_app, "order.paid", paid(92))
    refused = await events(bargain_app, "promo.bargain.order-refused")
    assert [(e.data["order_id"], e.data["reason"]) for e in refused] == [(92, "paid_after_hold_released")]


async def test_orders_are_refused_for_a_record_not_succeeded_another_buyers_or_another_sku(client, tokens, members):
    service_token = tokens["service"]
    activity_id = await make_activity(client, tokens["admin"])
    running = await start(client, members[1001], activity_id)
    for body, code in ((hold_body(1, running["id"]), "BARGAIN_RECORD_NOT_SUCCEEDED"),
                       (hold_body(1, running["id"], user_id=1002), "BARGAIN_RECORD_OF_ANOTHER_USER"),
                       (hold_body(1, 10**9), "BARGAIN_RECORD_NOT_FOUND")):
        refused = await client.post(HOLDS, headers=service_token, json=body)
        assert refused.json()["error"]["code"] == code, refused.text
    done = await succeeded_record(client, tokens["admin"], members, user=1002, activity_id=activity_id,
                                  helpers=(1003, 1004, 1005))
    wrong = await client.post(HOLDS, headers=service_token, json=hold_body(1, done["id"], user_id=1002, sku_id=9))
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "BARGAIN_SKU_NOT_IN_ACTIVITY"
    two = await client.post(HOLDS, headers=service_token, json={**hold_body(1, done["id"], user_id=1002),
                                                                "count": 2})
    assert two.status_code == 422
    assert (await client.post(HOLDS, headers=members[1002], json=hold_body(1, done["id"]))).status_code == 403
    assert (await client.get(f"{APP}/my-records", headers=members[1002])).json()["items"][0]["order_id"] is None


async def test_a_closed_or_ended_activity_takes_no_new_bargain_and_no_order(client, tokens, members, bargain_app):
    admin, service_token = tokens["admin"], tokens["service"]
    record = await succeeded_record(client, admin, members)
    activity_id = record["activity_id"]
    assert (await client.post(f"/admin-api/bargain/activities/{activity_id}/close", headers=admin)).status_code == 204
    started = await client.post(f"{APP}/records", json={"activity_id": activity_id}, headers=members[1009])
    assert started.status_code == 409 and started.json()["error"]["code"] == "BARGAIN_ACTIVITY_CLOSED"
    held = await client.post(HOLDS, headers=service_token, json=hold_body(1, record["id"]))
    assert held.status_code == 409 and held.json()["error"]["code"] == "BARGAIN_ACTIVITY_CLOSED"

    ending = await make_activity(client, admin, spu_id=502, end=NOW + timedelta(hours=1))
    other = await succeeded_record(client, admin, members, user=1002, activity_id=ending, helpers=(1003, 1004, 1005))
    bargain_app.state.test_clock.at = NOW + timedelta(hours=1)
    late = await client.post(PRICES, headers=service_token,
                             json={"user_id": 1002, "record_id": other["id"], "sku_ids": [5001]})
    assert late.status_code == 409 and late.json()["error"]["code"] == "BARGAIN_ENDED"


async def test_an_order_cancelled_after_payment_gives_the_unit_and_the_record_back_once(client, tokens, members,
                                                                                       bargain_app):
    service_token = tokens["service"]
    record = await succeeded_record(client, tokens["admin"], members, stock=5)
    activity_id = record["activity_id"]
    assert (await client.post(HOLDS, headers=service_token, json=hold_body(61, record["id"]))).status_code == 201
    await deliver(bargain_app, "order.paid", paid(61))
    await deliver(bargain_app, "order.cancelled", cancelled(61, paid_before=True))
    await deliver(bargain_app, "order.cancelled", cancelled(61, paid_before=True))
    stored, activity, order = await state(bargain_app, record["id"], activity_id, 61)
    assert (order.status, order.end_reason, stored.order_id, activity.stock) == (
        20, "order_cancelled_after_payment", None, 5)
    assert await events(bargain_app, "promo.bargain.order-refused") == [], "the order service refunds it"
    figures = (await client.get(f"/admin-api/bargain/activities/{activity_id}/stats", headers=tokens["admin"])).json()
    assert (figures["records_ordered"], figures["orders_held"], figures["sales"]) == (0, 0, 0)
    assert (await client.post(HOLDS, headers=service_token, json=hold_body(62, record["id"]))).status_code == 201
    stored, activity, _ = await state(bargain_app, record["id"], activity_id)
    assert (stored.order_id, activity.stock) == (62, 4)
