"""Stores and voucher products under the platform's pre-review, over HTTP against MariaDB: only
approved terms are live, a change waits in its own review, a decision is taken once, a rejection
keeps the live terms, and vouchers sold keep the terms they were bought with."""

from __future__ import annotations

import asyncio

from services.voucher.models import Product
from tests.voucher.support import (
    APP,
    JINGAN,
    LUJIAZUI,
    A,
    M,
    approve,
    buy,
    make_product,
    make_store,
    product_body,
    store_body,
    terms_body,
    verify,
)


async def reviews(client, people, **params) -> list[dict]:
    answer = await client.get(f"{A}/reviews", params=params, headers=people["admin"])
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


async def test_a_new_store_waits_for_review_and_is_live_once_approved(client, people):
    made = await client.post(f"{M}/stores", json=store_body(), headers=people["a"])
    assert made.status_code == 201, made.text
    store = made.json()
    assert (store["review_status"], store["status"], store["business_id"]) == (1, 0, 194)
    assert store["last_editor"] == "merchant:38" and store["approved_at"] is None
    assert (store["lat"], store["lon"]) == JINGAN
    [queued] = await reviews(client, people, status=1)
    assert (queued["kind"], queued["target_id"], queued["submitted_by"]) == (1, store["id"], "merchant:38")
    assert queued["terms"]["lat_e6"] == 31_224_034 and queued["id"] == store["pending_review_id"]

    decided = await approve(client, people, queued["id"])
    assert (decided["status"], decided["decided_by"]) == (2, "admin:1") and decided["decided_at"]
    live = (await client.get(f"{M}/stores/{store['id']}", headers=people["a"])).json()
    assert (live["review_status"], live["pending_review_id"]) == (2, None) and live["approved_at"]
    assert await reviews(client, people, status=1) == []


async def test_a_change_of_an_approved_store_keeps_it_live_until_approved(client, people):
    store = await make_store(client, people)
    changed = await client.put(f"{M}/stores/{store['id']}", json=store_body(name="静安寺旗舰店", at=LUJIAZUI),
                               headers=people["a2"])
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["name"], body["review_status"], body["last_editor"]) == ("静安寺店", 2, "merchant:40")
    assert body["pending_review_id"] is not None and (body["lat"], body["lon"]) == JINGAN
    await approve(client, people, body["pending_review_id"])
    live = (await client.get(f"{M}/stores/{store['id']}", headers=people["a"])).json()
    assert (live["name"], live["lat"], live["lon"], live["pending_review_id"]) == ("静安寺旗舰店", *LUJIAZUI, None)


async def test_a_rejected_change_keeps_the_approved_terms_and_says_why(client, people):
    store = await make_store(client, people)
    product = await make_product(client, people, [store["id"]])
    change = await client.put(f"{M}/products/{product['id']}", json=terms_body([store["id"]], value=20000,
                                                                               cost=1000), headers=people["a"])
    review_id = change.json()["pending_review_id"]
    rejected = await client.post(f"{A}/reviews/{review_id}/reject", json={"reason": "面值与图片不符"},
                                 headers=people["admin"])
    assert rejected.status_code == 200, rejected.text
    assert (rejected.json()["status"], rejected.json()["reason"]) == (3, "面值与图片不符")
    live = (await client.get(f"{M}/products/{product['id']}", headers=people["a"])).json()
    assert (live["value"], live["review_status"], live["pending_review_id"]) == (10000, 2, None)
    history = (await client.get(f"{M}/products/{product['id']}/reviews", headers=people["a"])).json()["items"]
    assert [(h["status"], h["reason"]) for h in history] == [(3, "面值与图片不符"), (2, None)], "newest first"


async def test_a_rejected_new_store_is_rejected_then_pending_again_when_edited(client, people):
    store = await make_store(client, people, approved=False)
    await client.post(f"{A}/reviews/{store['pending_review_id']}/reject", json={"reason": "地址不详"},
                      headers=people["admin"])
    assert (await client.get(f"{M}/stores/{store['id']}", headers=people["a"])).json()["review_status"] == 3
    edited = (await client.put(f"{M}/stores/{store['id']}", json=store_body(address="上海市静安区南京西路1618号1楼"),
                               headers=people["a"])).json()
    assert (edited["review_status"], edited["address"]) == (1, "上海市静安区南京西路1618号1楼"), \
        "nothing of a store never approved is live: it shows the new details at once"


async def test_a_decision_is_taken_once_and_a_superseded_change_cannot_be_approved(client, people):
    store = await make_store(client, people)
    first = (await client.put(f"{M}/stores/{store['id']}", json=store_body(name="一"), headers=people["a"])).json()
    second = (await client.put(f"{M}/stores/{store['id']}", json=store_body(name="二"), headers=people["a"])).json()
    old, new = first["pending_review_id"], second["pending_review_id"]
    refused = await client.post(f"{A}/reviews/{old}/approve", headers={**people["admin"], "Accept-Language": "en"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "VOUCHER_REVIEW_ALREADY_DECIDED"
    assert refused.json()["error"]["message"] == f"Review {old} was already decided (replaced by a later change)"
    both = await asyncio.gather(client.post(f"{A}/reviews/{new}/approve", headers=people["admin"]),
                                client.post(f"{A}/reviews/{new}/reject", json={"reason": "x"}, headers=people["admin"]))
    assert sorted(r.status_code for r in both) == [200, 409]
    assert (await client.get(f"{M}/stores/{store['id']}", headers=people["a"])).json()["name"] in ("二", "静安寺店")
    missing = await client.post(f"{A}/reviews/999999/approve", headers=people["admin"])
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "VOUCHER_REVIEW_NOT_FOUND"


async def test_vouchers_sold_keep_the_terms_they_were_bought_with(client, people, voucher_app):
    store = await make_store(client, people)
    other = await make_store(client, people, name="陆家嘴店", at=LUJIAZUI)
    product = await make_product(client, people, [store["id"]], validity_type=2, valid_days=30)
    [before] = await buy(voucher_app, 5101)
    change = await client.put(f"{M}/products/{product['id']}", headers=people["a"], json=terms_body(
        [other["id"]], name="200元代金券", kind=2, value=20000, max_using_times=5, cost=12000, valid_days=7,
        currency="USD"))
    [pending] = await buy(voucher_app, 5102)
    assert (pending.value, pending.name, pending.currency) == (10000, "100元代金券", "CNY"), \
        "a change waiting for review sells nothing new"
    await approve(client, people, change.json()["pending_review_id"])
    [after] = await buy(voucher_app, 5103)
    for voucher in (before, pending):
        assert (voucher.name, voucher.kind, voucher.value, voucher.currency, voucher.max_using_times, voucher.cost,
                voucher.store_ids) == ("100元代金券", 1, 10000, "CNY", 3, 8500, [store["id"]])
        assert (voucher.valid_end_at - voucher.valid_start_at).days in (29, 30)
    assert (after.name, after.kind, after.value, after.currency, after.max_using_times, after.cost,
            after.store_ids) == ("200元代金券", 2, 20000, "USD", 5, 12000, [other["id"]])
    used = await verify(client, people, before.code, store["id"], minus_value=1000, currency="CNY")
    assert used.status_code == 201, "a voucher sold with a store keeps it, though the product dropped it"
    assert (await verify(client, people, before.code, other["id"], minus_value=1000, currency="CNY")).status_code \
        == 201, "and a store the product's approved terms added since accepts it too"


async def test_product_terms_are_checked_naming_the_field(client, people):
    store = await make_store(client, people)
    for change, field in (({"cost": 10001}, "cost"), ({"validity_type": 1, "valid_days": None}, "valid_start_at"),
                          ({"selling_store_id": 999}, "selling_store_id"),
                          ({"valid_start_at": "2030-01-01T00:00:00+08:00"}, "validity_type")):
        refused = await client.post(f"{M}/products", json=product_body([store["id"]], **change), headers=people["a"])
        assert refused.status_code == 422, refused.text
        assert (refused.json()["error"]["code"], refused.json()["error"]["details"]["field"]) == \
            ("VOUCHER_PRODUCT_INVALID", field)
    not_mine = await make_store(client, people, "b")
    refused = await client.post(f"{M}/products", json=product_body([store["id"], not_mine["id"]]),
                                headers=people["a"])
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "VOUCHER_STORE_NOT_FOUND"
    assert refused.json()["error"]["details"] == {"id": not_mine["id"]}
    await make_product(client, people, [store["id"]])
    taken = await client.post(f"{M}/products", json=product_body([not_mine["id"]]), headers=people["b"])
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "VOUCHER_SKU_TAKEN"
    listed = (await client.get(f"{M}/products", headers=people["a"])).json()
    assert listed["total"] == 1, "nothing refused was written"


async def test_a_product_approved_with_a_window_that_ended_meanwhile_is_refused(client, people, voucher_app):
    store = await make_store(client, people)
    made = await client.post(f"{M}/products", headers=people["a"], json=product_body(
        [store["id"]], validity_type=1, valid_days=None, valid_start_at="2026-01-01T00:00:00+08:00",
        valid_end_at="2099-01-01T00:00:00+08:00"))
    review_id = made.json()["pending_review_id"]
    async with voucher_app.state.sessionmaker() as session, session.begin():
        from services.voucher.models import Review
        review = await session.get(Review, review_id)
        review.terms = {**review.terms, "valid_end_at": "2026-02-01T00:00:00+08:00"}
    refused = await client.post(f"{A}/reviews/{review_id}/approve", headers=people["admin"])
    assert refused.status_code == 422 and refused.json()["error"]["details"]["reason_code"] == "WINDOW_END_PAST"
    assert (await client.get(f"{A}/reviews/{review_id}", headers=people["admin"])).json()["status"] == 1


async def test_only_approved_products_issue_vouchers_and_the_shelf_status_does_not_stop_a_paid_order(
        client, people, voucher_app):
    store = await make_store(client, people)
    await make_product(client, people, [store["id"]], approved=False)
    on = await make_product(client, people, [store["id"]], sku_id=555)
    assert await buy(voucher_app, 5201) == [], "never approved: no voucher"
    off = await client.put(f"{M}/products/{on['id']}/status", json={"status": 1}, headers=people["a"])
    assert off.status_code == 200 and off.json()["status"] == 1 and off.json()["review_status"] == 2
    assert len(await buy(voucher_app, 5202, sku_id=555)) == 1, "paid: the buyer gets the voucher"
    hidden = await client.get(f"{APP}/products/{on['id']}")
    assert hidden.status_code == 404, "off the shelf: not shown"


async def test_admin_lists_every_merchant_s_and_filters_by_business(client, people, voucher_app):
    mine = await make_store(client, people)
    theirs = await make_store(client, people, "b")
    everyone = (await client.get(f"{A}/stores", headers=people["admin"])).json()
    assert {s["id"] for s in everyone["items"]} == {mine["id"], theirs["id"]}
    only_b = (await client.get(f"{A}/stores", params={"business_id": 195}, headers=people["admin"])).json()
    assert [s["id"] for s in only_b["items"]] == [theirs["id"]]
    assert (await client.get(f"{A}/stores/{theirs['id']}", headers=people["admin"])).status_code == 200
    await make_product(client, people, [mine["id"]])
    assert (await client.get(f"{A}/products", params={"business_id": 195}, headers=people["admin"])).json()[
        "total"] == 0
    by_kind = await reviews(client, people, kind=2)
    assert [r["kind"] for r in by_kind] == [2]
    async with voucher_app.state.sessionmaker() as session:
        assert (await session.get(Product, by_kind[0]["target_id"])).business_id == 194
