"""Operators give coupons to lists of users, list issued coupons and recall them."""

from __future__ import annotations

import json

from sqlalchemy import select

from services.coupon.models import outbox
from tests.coupon.test_api import TEMPLATES, make_template, take
from tests.coupon.test_holds import HOLDS, hold_body


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
    assert again.status_code == 201 and again.json()["coupon_id"] != coupon_id, \
        "a recalled coupon no longer counts against the per-user limit"


async def revoked_events(app) -> list[dict]:
    async with app.state.sessionmaker() as session:
        rows = (await session.scalars(select(outbox.c.payload).where(outbox.c.topic == "promo.coupon.revoked")
                                      .order_by(outbox.c.id))).all()
    events = [json.loads(payload)["data"] for payload in rows]
    return [{k: v for k, v in event.items() if k != "revoked_at"} for event in events]
