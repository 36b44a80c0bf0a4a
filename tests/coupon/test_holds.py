"""Hold / commit / release of a coupon for an order (the checkout contract, docs/checkout.md), against
MariaDB."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from services.coupon import consumers, lifecycle, payments
from services.coupon.models import Coupon, CouponTemplate, inbox, outbox
from shared.clock import SystemClock
from shared.consumer import ConsumerRunner, Outcome
from shared.events import encode, new_event
from tests.coupon.test_api import make_template, take

HOLDS = "/internal/coupon/holds"


async def a_coupon(client, tokens, **template) -> int:
    created = await make_template(client, tokens, take_limit_count=-1, **template)
    return (await take(client, created["id"], tokens["member"])).json()["coupon_id"]


async def coupon_row(app, coupon_id: int) -> Coupon:
    async with app.state.sessionmaker() as session:
        return await session.get(Coupon, coupon_id)


async def use_count(app, coupon_id: int) -> int:
    async with app.state.sessionmaker() as session:
        coupon = await session.get(Coupon, coupon_id)
        return await session.scalar(select(CouponTemplate.use_count).where(CouponTemplate.id == coupon.template_id))


def hold_body(order_id: int, coupon_id: int, user_id: int = 1001) -> dict:
    return {"order_id": order_id, "user_id": user_id, "coupon_id": coupon_id}


def runner(app) -> ConsumerRunner:
    return ConsumerRunner(handlers=consumers.HANDLERS, inbox=inbox, sessionmaker=app.state.sessionmaker,
                          clock=SystemClock())


def paid(order_id: int) -> bytes:
    now = datetime.now(UTC)
    return encode(new_event("order.paid", source="test", subject=order_id, time=now, data={
        "order_id": order_id, "user_id": 1001, "pay_price": 9000, "paid_at": now.isoformat(),
        "items": [{"sku_id": 1, "spu_id": 1, "count": 1, "pay_price": 9000}]}))


def cancelled(order_id: int, at: datetime | None = None) -> bytes:
    at = at or datetime.now(UTC)
    return encode(new_event("order.cancelled", source="test", subject=order_id, time=at, data={
        "order_id": order_id, "user_id": 1001, "cancelled_at": at.isoformat(), "reason": "pay_timeout"}))


async def test_hold_is_idempotent_per_order_and_exclusive(client, tokens, coupon_app):
    coupon_id = await a_coupon(client, tokens)
    first = await client.post(HOLDS, json=hold_body(7001, coupon_id), headers=tokens["service"])
    again = await client.post(HOLDS, json=hold_body(7001, coupon_id), headers=tokens["service"])
    assert first.status_code == 201 and again.status_code == 201
    assert {**first.json(), "hold_expires_at": None} == {**again.json(), "hold_expires_at": None}
    assert again.json()["hold_expires_at"] >= first.json()["hold_expires_at"], "the hold runs again from now"
    other_order = await client.post(HOLDS, json=hold_body(7002, coupon_id), headers=tokens["service"])
    assert other_order.status_code == 409 and other_order.json()["error"]["code"] == "COUPON_NOT_USABLE"
    not_yours = await client.post(HOLDS, json=hold_body(7001, coupon_id, user_id=1002), headers=tokens["service"])
    assert not_yours.status_code == 409
    assert (await coupon_row(coupon_app, coupon_id)).use_order_id == 7001


async def test_two_orders_racing_for_one_coupon_one_wins(client, tokens, coupon_app):
    coupon_id = await a_coupon(client, tokens)
    responses = await asyncio.gather(*(client.post(HOLDS, json=hold_body(8000 + i, coupon_id),
                                                   headers=tokens["service"]) for i in range(10)))
    winners = [r.json()["order_id"] for r in responses if r.status_code == 201]
    assert len(winners) == 1 and [r.status_code for r in responses].count(409) == 9
    assert (await coupon_row(coupon_app, coupon_id)).use_order_id == winners[0]


async def test_a_coupon_not_yet_valid_cannot_be_held(client, tokens):
    coupon_id = await a_coupon(client, tokens, fixed_start_term=1)
    response = await client.post(HOLDS, json=hold_body(7101, coupon_id), headers=tokens["service"])
    assert response.status_code == 409


async def test_order_paid_twice_commits_once(client, tokens, coupon_app):
    coupon_id = await a_coupon(client, tokens)
    await client.post(HOLDS, json=hold_body(7201, coupon_id), headers=tokens["service"])
    event = paid(7201)
    assert await runner(coupon_app).process(event) is Outcome.PROCESSED
    assert await runner(coupon_app).process(event) is Outcome.DUPLICATE
    assert await runner(coupon_app).process(paid(7201)) is Outcome.PROCESSED  # a new event id, same order
    row = await coupon_row(coupon_app, coupon_id)
    assert row.status == 2 and row.hold_expires_at is None and row.use_order_id == 7201
    assert await use_count(coupon_app, coupon_id) == 1


async def used_events(app) -> list[tuple[str, dict]]:
    """promo.coupon.used as the outbox holds it for the relay: the message key and the envelope."""
    async with app.state.sessionmaker() as session:
        rows = (await session.execute(select(outbox.c.key, outbox.c.payload)
                                      .where(outbox.c.topic == "promo.coupon.used").order_by(outbox.c.id))).all()
    return [(key, json.loads(payload)) for key, payload in rows]


async def test_order_paid_publishes_promo_coupon_used_once_per_coupon_with_its_fields(client, tokens, coupon_app):
    first, second = await a_coupon(client, tokens), await a_coupon(client, tokens)
    for order_id, coupon_id in ((7211, first), (7212, second)):
        assert (await client.post(HOLDS, json=hold_body(order_id, coupon_id),
                                  headers=tokens["service"])).status_code == 201
    event = paid(7211)
    for raw in (event, event, paid(7211), paid(7212)):  # delivered twice, republished with a new id, another order
        await runner(coupon_app).process(raw)
    published = await used_events(coupon_app)
    assert [(key, e["type"], e["source"], e["subject"], e["data"]) for key, e in published] == [
        (str(order_id), "promo.coupon.used", "promo-coupon", str(order_id),
         {"coupon_id": coupon_id, "template_id": (await coupon_row(coupon_app, coupon_id)).template_id,
          "user_id": 1001, "order_id": order_id})
        for order_id, coupon_id in ((7211, first), (7212, second))]
    paid_at = datetime.fromisoformat(json.loads(event)["data"]["paid_at"])
    assert datetime.fromisoformat(published[0][1]["time"]) == paid_at == (await coupon_row(coupon_app, first)).used_at


async def test_order_cancelled_releases_the_coupon_once(client, tokens, coupon_app):
    coupon_id = await a_coupon(client, tokens)
    await client.post(HOLDS, json=hold_body(7301, coupon_id), headers=tokens["service"])
    for _ in range(2):
        await runner(coupon_app).process(cancelled(7301))
    row = await coupon_row(coupon_app, coupon_id)
    assert row.status == 1 and row.use_order_id is None and row.used_at is None
    again = await client.post(HOLDS, json=hold_body(7302, coupon_id), headers=tokens["service"])
    assert again.status_code == 201  # usable by the next order


async def test_a_paid_order_cancelled_later_returns_the_coupon_and_the_use(client, tokens, coupon_app):
    coupon_id = await a_coupon(client, tokens)
    await client.post(HOLDS, json=hold_body(7401, coupon_id), headers=tokens["service"])
    await runner(coupon_app).process(paid(7401))
    assert await use_count(coupon_app, coupon_id) == 1
    await runner(coupon_app).process(cancelled(7401))
    assert (await coupon_row(coupon_app, coupon_id)).status == 1 and await use_count(coupon_app, coupon_id) == 0


async def test_release_after_the_end_expires_the_coupon(client, tokens, coupon_app):
    coupon_id = await a_coupon(client, tokens)
    await client.post(HOLDS, json=hold_body(7501, coupon_id), headers=tokens["service"])
    async with coupon_app.state.sessionmaker() as session, session.begin():
        await payments.release_order(session, 7501, datetime.now(UTC) + timedelta(days=30))
    assert (await coupon_row(coupon_app, coupon_id)).status == 3


async def test_the_expiry_job_releases_due_holds_and_expires_old_coupons(client, tokens, coupon_app):
    held_id = await a_coupon(client, tokens)
    idle_id = await a_coupon(client, tokens)
    await client.post(HOLDS, json=hold_body(7601, held_id), headers=tokens["service"])
    later = datetime.now(UTC) + timedelta(hours=1)  # past the 30-minute hold, within the 7-day validity
    async with coupon_app.state.sessionmaker() as session, session.begin():
        assert await lifecycle.expire_due(session, later) == (1, 0)
    assert (await coupon_row(coupon_app, held_id)).status == 1
    much_later = datetime.now(UTC) + timedelta(days=8)
    async with coupon_app.state.sessionmaker() as session, session.begin():
        assert await lifecycle.expire_due(session, much_later) == (0, 2)
    async with coupon_app.state.sessionmaker() as session, session.begin():
        assert await lifecycle.expire_due(session, much_later) == (0, 0)  # a second replica finds nothing
    assert {(await coupon_row(coupon_app, i)).status for i in (held_id, idle_id)} == {3}


async def test_release_endpoint_for_a_failed_checkout(client, tokens, coupon_app):
    coupon_id = await a_coupon(client, tokens)
    await client.post(HOLDS, json=hold_body(7701, coupon_id), headers=tokens["service"])
    response = await client.post(f"{HOLDS}/7701/release", headers=tokens["service"])
    assert response.json() == {"order_id": 7701, "released": 1}
    assert (await client.post(f"{HOLDS}/7701/release", headers=tokens["service"])).json()["released"] == 0
    assert (await client.post(f"{HOLDS}/7701/release", headers=tokens["member"])).status_code == 403


# --- held is not used (issue 12, point 3) ---------------------------------------------------------

async def statuses_listed(client, headers, path: str = "/app-api/coupon/coupons") -> dict[int, set[int]]:
    listed = {}
    for status in (1, 2, 4):
        page = (await client.get(path, params={"status": status}, headers=headers)).json()
        listed[status] = {c["id"] for c in page["items"]}
    return listed


async def test_a_coupon_held_by_an_unpaid_order_is_held_not_used(client, tokens, coupon_app):
    coupon_id = await a_coupon(client, tokens)
    held = await client.post(HOLDS, json=hold_body(7801, coupon_id), headers=tokens["service"])
    row = await coupon_row(coupon_app, coupon_id)
    assert row.status == 4 and row.used_at is None and row.use_order_id == 7801
    assert row.hold_expires_at is not None and held.json()["hold_expires_at"] is not None
    assert await statuses_listed(client, tokens["member"]) == {1: set(), 2: set(), 4: {coupon_id}}
    assert await statuses_listed(client, tokens["admin"], "/admin-api/coupon/coupons") == {
        1: set(), 2: set(), 4: {coupon_id}}
    assert (await client.get("/app-api/coupon/coupons/summary", headers=tokens["member"])).json()["unused"] == 0
    assert await use_count(coupon_app, coupon_id) == 0
    await runner(coupon_app).process(paid(7801))
    row = await coupon_row(coupon_app, coupon_id)
    assert row.status == 2 and row.used_at is not None and row.hold_expires_at is None
    assert await statuses_listed(client, tokens["member"]) == {1: set(), 2: {coupon_id}, 4: set()}
    assert await use_count(coupon_app, coupon_id) == 1


async def test_a_held_coupon_keeps_its_template_and_cannot_be_recalled(client, tokens):
    coupon_id = await a_coupon(client, tokens)
    await client.post(HOLDS, json=hold_body(7811, coupon_id), headers=tokens["service"])
    recall = await client.delete(f"/admin-api/coupon/coupons/{coupon_id}", headers=tokens["admin"])
    assert recall.status_code == 409 and recall.json()["error"]["code"] == "COUPON_IN_USE"
    template_id = (await client.get("/app-api/coupon/coupons", headers=tokens["member"])).json()["items"][0][
        "template_id"]
    deleted = await client.delete(f"/admin-api/coupon/templates/{template_id}", headers=tokens["admin"])
    assert deleted.status_code == 409 and deleted.json()["error"]["code"] == "COUPON_TEMPLATE_HAS_UNUSED_COUPONS"


# --- a retried checkout sees its own hold (issue 12, point 1) -------------------------------------

def match_body(order_id: int | None = None) -> dict:
    body = {"user_id": 1001, "lines": [{"spu_id": 1, "category_id": 10, "amount": 12000}]}
    return body if order_id is None else {**body, "order_id": order_id}


async def test_a_retried_checkout_is_offered_the_coupon_its_order_holds(client, tokens):
    coupon_id = await a_coupon(client, tokens)
    await client.post(HOLDS, json=hold_body(7821, coupon_id), headers=tokens["service"])
    others = [await client.post("/internal/coupon/match", json=body, headers=tokens["service"])
              for body in (match_body(), match_body(7822))]
    assert [r.json()["coupons"] for r in others] == [[], []], "another order (or none) does not see it"
    retry = (await client.post("/internal/coupon/match", json=match_body(7821), headers=tokens["service"])).json()
    assert retry["best_coupon_id"] == coupon_id
    assert [(c["coupon_id"], c["usable"], c["discount"]) for c in retry["coupons"]] == [(coupon_id, True, 1000)]
    again = await client.post(HOLDS, json=hold_body(7821, coupon_id), headers=tokens["service"])
    assert again.status_code == 201 and (await coupon_row_status(client, tokens)) == {coupon_id: 4}


async def test_an_order_choosing_another_coupon_gives_the_first_back(client, tokens, coupon_app):
    first, second = await a_coupon(client, tokens), await a_coupon(client, tokens)
    await client.post(HOLDS, json=hold_body(7831, first), headers=tokens["service"])
    switched = await client.post(HOLDS, json=hold_body(7831, second), headers=tokens["service"])
    assert switched.status_code == 201 and switched.json()["coupon_id"] == second
    assert await coupon_row_status(client, tokens) == {first: 1, second: 4}
    assert (await coupon_row(coupon_app, first)).use_order_id is None
    back = await client.post(HOLDS, json=hold_body(7831, first), headers=tokens["service"])
    assert back.status_code == 201 and await coupon_row_status(client, tokens) == {first: 4, second: 1}
    await runner(coupon_app).process(paid(7831))
    assert await coupon_row_status(client, tokens) == {first: 2, second: 1}
    assert await use_count(coupon_app, first) == 1


async def test_a_refused_switch_keeps_the_order_s_hold(client, tokens):
    mine, taken = await a_coupon(client, tokens), await a_coupon(client, tokens)
    await client.post(HOLDS, json=hold_body(7841, mine), headers=tokens["service"])
    await client.post(HOLDS, json=hold_body(7842, taken), headers=tokens["service"])
    refused = await client.post(HOLDS, json=hold_body(7841, taken), headers=tokens["service"])
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "COUPON_NOT_USABLE"
    page = (await client.get("/admin-api/coupon/coupons", params={"user_id": 1001}, headers=tokens["admin"])).json()
    assert {c["id"]: c["use_order_id"] for c in page["items"]} == {mine: 7841, taken: 7842}


async def coupon_row_status(client, tokens) -> dict[int, int]:
    page = (await client.get("/app-api/coupon/coupons", headers=tokens["member"])).json()
    return {c["id"]: c["status"] for c in page["items"]}


async def test_one_order_holding_two_coupons_at_once_ends_with_one(client, tokens):
    """Each hold waits for the other's coupon to go back: MySQL rolls one back (a deadlock), it
    runs again and replaces the other's hold. Never a 5xx, never two coupons."""
    for order_id in range(7851, 7856):
        pair = [await a_coupon(client, tokens), await a_coupon(client, tokens)]
        answers = await asyncio.gather(*(client.post(HOLDS, json=hold_body(order_id, coupon_id),
                                                     headers=tokens["service"]) for coupon_id in pair))
        assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
        statuses = await coupon_row_status(client, tokens)
        assert sorted(statuses[c] for c in pair) == [1, 4]
