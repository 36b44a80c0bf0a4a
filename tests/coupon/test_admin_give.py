"""Operators give coupons to lists of users, list issued coupons and recall them."""

from __future__ import annotations

import json

from sqlalchemy import select, update

from services.coupon.models import Coupon, outbox
from tests.coupon.test_api import TEMPLATES, make_template, take
from tests.coupon.test_holds import HOLDS, a_coupon, hold_body, paid, runner


async def test_give_reports_who_got_one_and_who_not(client, tokens):
    template = await make_template(client, tokens, take_type=2, total_count=3, take_limit_count=1)
    response = await client.post(f"{TEMPLATES}/{template['id']}/give", json={"user_ids": [11, 12, 11, 13, 14, 15]},
                                 headers={**tokens["admin"], "Accept-Language": "en"})
    body = response.json()
    assert response.status_code == 200
    assert [g["user_id"] for g in body["given"]] == [11, 12, 13]  # duplicates in the list count once
    assert [(r["user_id"], r["code"]) for r in body["refused"]] == [
        (14, "COUPON_TEMPLATE_NOT_ENOUGH"), (15, "COUPON_TEMPLATE_NOT_ENOUGH")]
    assert body["refused"][0]["message"] == "This coupon is all gone"
    again = (await client.post(f"{TEMPLATES}/{template['id']}/give", json={"user_ids": [11]},
                               headers=tokens["admin"])).json()
    assert again["refused"][0]["code"] == "COUPON_TEMPLATE_NOT_ENOUGH"  # sold out is said first, without the lock
    stats = (await client.get(f"{TEMPLATES}/{template['id']}", headers=tokens["admin"])).json()
    assert stats["take_count"] == 3


async def test_give_needs_an_admin_give_template(client, tokens):
    template = await make_template(client, tokens, take_type=1)
    response = await client.post(f"{TEMPLATES}/{template['id']}/give", json={"user_ids": [1]}, headers=tokens["admin"])
    assert response.status_code == 409 and response.json()["error"]["code"] == "COUPON_TEMPLATE_CANNOT_TAKE"
    assert (await client.post(f"{TEMPLATES}/{template['id']}/give", json={"user_ids": []},
                              headers=tokens["admin"])).status_code == 422


async def test_issued_coupons_listed_and_recalled(client, tokens, coupon_app):
    template = await make_template(client, tokens, take_limit_count=-1)
    kept = (await take(client, template["id"], tokens["member"])).json()["coupon_id"]
    recalled = (await take(client, template["id"], tokens["member"])).json()["coupon_id"]
    await take(client, template["id"], tokens["other_member"])
    page = (await client.get("/admin-api/coupon/coupons", params={"user_id": 1001}, headers=tokens["admin"])).json()
    assert page["total"] == 2 and {c["user_id"] for c in page["items"]} == {1001}
    response = await client.delete(f"/admin-api/coupon/coupons/{recalled}", params={"reason": "发错了"},
                                   headers=tokens["admin"])
    assert response.status_code == 204
    await client.post(HOLDS, json=hold_body(6001, kept), headers=tokens["service"])
    in_use = await client.delete(f"/admin-api/coupon/coupons/{kept}", headers=tokens["admin"])
    assert in_use.status_code == 409 and in_use.json()["error"]["details"] == {"id": kept, "order_id": 6001}
    again = await client.delete(f"/admin-api/coupon/coupons/{recalled}", headers=tokens["admin"])
    assert again.status_code == 409 and again.json()["error"]["code"] == "COUPON_ALREADY_TAKEN_BACK"
    stats = (await client.get(f"{TEMPLATES}/{template['id']}", headers=tokens["admin"])).json()
    assert stats["take_count"] == 2, "the recalled coupon's stock went back"
    assert await revoked_events(coupon_app) == [{
        "coupon_id": recalled, "template_id": template["id"], "user_id": 1001, "status": 6, "kind": "recalled",
        "by": "1", "reason": "发错了"}], "one event, for the recall that happened"


async def test_a_recalled_coupon_stays_with_who_and_why(client, tokens):
    template = await make_template(client, tokens, take_limit_count=1)
    coupon_id = (await take(client, template["id"], tokens["member"])).json()["coupon_id"]
    await client.delete(f"/admin-api/coupon/coupons/{coupon_id}", params={"reason": "重复发放"},
                        headers=tokens["admin"])
    listed = (await client.get("/admin-api/coupon/coupons", params={"status": 6}, headers=tokens["admin"])).json()
    row = listed["items"][0]
    assert listed["total"] == 1 and row["id"] == coupon_id and row["status"] == 6
    assert row["revoked_by"] == "1" and row["revoke_reason"] == "重复发放" and row["revoked_at"] is not None
    mine = (await client.get("/app-api/coupon/coupons", params={"status": 6}, headers=tokens["member"])).json()
    assert [c["id"] for c in mine["items"]] == [coupon_id]
    again = await take(client, template["id"], tokens["member"])
    assert again.status_code == 409 and again.json()["error"]["code"] == "COUPON_TAKE_LIMIT_REACHED", \
        "a recalled coupon keeps counting against the per-user limit (a recalled duplicate is not taken again)"
    center = (await client.get("/app-api/coupon/templates", headers=tokens["member"])).json()
    assert [t["can_take"] for t in center if t["id"] == template["id"]] == [False]


async def revoked_events(app) -> list[dict]:
    async with app.state.sessionmaker() as session:
        rows = (await session.scalars(select(outbox.c.payload).where(outbox.c.topic == "promo.coupon.revoked")
                                      .order_by(outbox.c.id))).all()
    events = [json.loads(payload)["data"] for payload in rows]
    return [{k: v for k, v in event.items() if k != "revoked_at"} for event in events]


async def test_recalling_an_expired_coupon_gives_no_stock_back(client, tokens, coupon_app):
    template = await make_template(client, tokens, total_count=2, take_limit_count=2)
    expired, unused = [(await take(client, template["id"], tokens["member"])).json()["coupon_id"] for _ in range(2)]
    async with coupon_app.state.sessionmaker() as session, session.begin():
        await session.execute(update(Coupon).where(Coupon.id == expired).values(status=3))
    for coupon_id in (expired, unused):
        recalled = await client.delete(f"/admin-api/coupon/coupons/{coupon_id}", headers=tokens["admin"])
        assert recalled.status_code == 204
    stats = (await client.get(f"{TEMPLATES}/{template['id']}", headers=tokens["admin"])).json()
    assert stats["take_count"] == 1, "only the unused one's stock came back"
    answers = [(await take(client, template["id"], tokens["other_member"])).status_code for _ in range(2)]
    assert answers == [201, 409], "one coupon of stock was left"


async def test_recalling_a_held_coupon_says_an_unpaid_order_holds_it(client, tokens, coupon_app):
    held, used = await a_coupon(client, tokens), await a_coupon(client, tokens)
    for order_id, coupon_id in ((6201, held), (6202, used)):
        await client.post(HOLDS, json=hold_body(order_id, coupon_id), headers=tokens["service"])
    await runner(coupon_app).process(paid(6202))
    messages = {}
    for coupon_id in (held, used):
        for locale in ("en", "zh-CN"):
            response = await client.delete(f"/admin-api/coupon/coupons/{coupon_id}",
                                           headers={**tokens["admin"], "Accept-Language": locale})
            assert response.status_code == 409 and response.json()["error"]["code"] == "COUPON_IN_USE"
            messages[coupon_id, locale] = response.json()["error"]["message"]
    assert messages == {
        (held, "en"): f"Coupon {held} is held by the unpaid order 6201 and cannot be recalled",
        (held, "zh-CN"): f"优惠券 {held} 正被未支付的订单 6201 占用，不能回收",
        (used, "en"): f"Coupon {used} was used by the paid order 6202 and cannot be recalled",
        (used, "zh-CN"): f"优惠券 {used} 已被订单 6202 使用（已支付），不能回收"}
