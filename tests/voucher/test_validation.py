"""Strict inputs: ids and amounts are JSON numbers, coordinates numbers, unknown fields refused,
bodies JSON only; each a 4xx with a stable code and nothing written."""

from __future__ import annotations

from tests.voucher.support import APP, M, make_store, product_body, shop, store_body


async def test_store_and_product_bodies_are_strict(client, people):
    store = await make_store(client, people)
    for body in (store_body(lat="31.2"), store_body(lat=True), store_body(lat=90.01), store_body(lon=-181),
                 {**store_body(), "business_id": 195}, store_body(name=""), store_body(phone="call me")):
        answer = await client.post(f"{M}/stores", json=body, headers=people["a"])
        assert answer.status_code == 422 and answer.json()["error"]["code"] == "VALIDATION_FAILED", body
    for change in ({"value": "10000"}, {"value": 0}, {"max_using_times": 101}, {"store_ids": []}, {"store_ids": [0]},
                   {"currency": "cny"}, {"kind": 3}, {"sku_id": True}, {"image_url": "javascript:x"},
                   {"valid_days": 0}, {"cost": -1},
                   {"validity_type": 1, "valid_days": None, "valid_start_at": "2026-01-01T00:00:00+08:00",
                    "valid_end_at": "9999-12-31T23:59:59-14:00"}):
        answer = await client.post(f"{M}/products", json={**product_body([store["id"]]), **change},
                                   headers=people["a"])
        assert answer.status_code == 422 and answer.json()["error"]["code"] == "VALIDATION_FAILED", change
    assert (await client.get(f"{M}/products", headers=people["a"])).json()["total"] == 0
    wrong_type = await client.post(f"{M}/stores", content="name=x", headers={**people["a"],
                                                                               "Content-Type": "text/plain"})
    assert wrong_type.status_code == 415


async def test_a_verification_s_body_is_strict_and_its_messages_are_translated(client, people, voucher_app):
    store, _, voucher = await shop(client, people, voucher_app)
    base = {"code": voucher.code, "store_id": store["id"]}
    for body in ({**base, "minus_value": "100", "currency": "CNY"}, {**base, "minus_value": 100},
                 {**base, "currency": "CNY"}, {**base, "store_id": "1"}, {**base, "extra": 1},
                 {**base, "code": "abc"}, {**base, "minus_value": 0, "currency": "CNY"}):
        answer = await client.post(f"{M}/verifications", json=body, headers={**people["a"], "Idempotency-Key": "v",
                                                                          "Accept-Language": "zh-CN"})
        assert answer.status_code == 422 and answer.json()["error"]["code"] == "VALIDATION_FAILED", body
    only_value = await client.post(f"{M}/verifications", json={**base, "minus_value": 100},
                                   headers={**people["a"], "Idempotency-Key": "v", "Accept-Language": "zh-CN"})
    assert only_value.json()["error"]["details"]["errors"][0]["msg"] == "核销金额和币种须同时填写"
    assert (await client.get(f"{APP}/vouchers/{voucher.id}", headers=people["buyer"])).json()["usages"] == []


async def test_report_dates_at_the_calendar_s_edges_are_answered(client, people):
    for params in ({"date_to": "0001-01-05"}, {"date_to": "9999-12-31"}, {"date_from": "0001-01-01"}):
        answer = await client.get(f"{M}/reports/daily", params=params, headers=people["a"])
        assert answer.status_code in (200, 422), answer.text


async def test_paging_is_bounded(client, people):
    for params in ({"size": 101}, {"page": 0}, {"review_status": 9}):
        answer = await client.get(f"{M}/stores", params=params, headers=people["a"])
        assert answer.status_code == 422, params
