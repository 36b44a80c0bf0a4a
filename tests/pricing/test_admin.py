"""Operators manage limited-time discounts and spend-and-save activities."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from tests.pricing.conftest import gift_template, window


def discount(name="限时折扣", skus=((101, 1001),), days=7, **w) -> dict:
    return {"name": name, **window(days, **w), "products": [
        {"spu_id": spu, "sku_id": sku, "discount_type": 2, "pay_bp": 8500} for spu, sku in skus]}


def reward(name="满减", scope=1, values=(), levels=None, days=7, condition=10, **w) -> dict:
    return {"name": name, **window(days, **w), "condition_type": condition, "product_scope": scope,
            "product_scope_values": list(values), "levels": levels or [{"threshold": 10000, "amount_off": 1000}]}


async def test_discount_lifecycle(client, tokens):
    admin = tokens["admin"]
    created = await client.post("/admin-api/pricing/discounts", json=discount(), headers=admin)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == 0 and body["state"] == "running"
    assert body["products"] == [{"spu_id": 101, "sku_id": 1001, "discount_type": 2, "amount_off": None,
                                 "pay_bp": 8500}]
    activity_id = body["id"]

    update = discount("改名", skus=((101, 1001), (101, 1002)))
    updated = await client.put(f"/admin-api/pricing/discounts/{activity_id}", json=update, headers=admin)
    assert updated.status_code == 200 and [p["sku_id"] for p in updated.json()["products"]] == [1001, 1002]

    deleted = await client.delete(f"/admin-api/pricing/discounts/{activity_id}", headers=admin)
    assert deleted.status_code == 409 and deleted.json()["error"]["code"] == "PRICING_ACTIVITY_NOT_CLOSED"
    assert (await client.post(f"/admin-api/pricing/discounts/{activity_id}/close", headers=admin)).status_code == 204
    again = await client.post(f"/admin-api/pricing/discounts/{activity_id}/close", headers=admin)
    assert again.json()["error"]["code"] == "PRICING_ACTIVITY_ALREADY_CLOSED"
    refused = await client.put(f"/admin-api/pricing/discounts/{activity_id}", json=update, headers=admin)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "PRICING_ACTIVITY_CLOSED"
    closed = await client.get(f"/admin-api/pricing/discounts/{activity_id}", headers=admin)
    assert closed.json()["state"] == "closed"
    assert (await client.delete(f"/admin-api/pricing/discounts/{activity_id}", headers=admin)).status_code == 204
    gone = await client.get(f"/admin-api/pricing/discounts/{activity_id}", headers=admin)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "DISCOUNT_ACTIVITY_NOT_FOUND"


async def test_discount_validation(client, tokens):
    admin = tokens["admin"]
    cases = [
        {**discount(), "products": []},
        {**discount(), "products": [{"spu_id": 1, "sku_id": 2, "discount_type": 2, "pay_bp": 10000}]},
        {**discount(), "products": [{"spu_id": 1, "sku_id": 2, "discount_type": 1}]},
        {**discount(), "products": [{"spu_id": 1, "sku_id": 2, "discount_type": 1, "amount_off": 5, "pay_bp": 90}]},
        discount(skus=((1, 2), (1, 2))),
        {**discount(), "end_at": discount()["start_at"]},
        discount(days=-1, start_in=timedelta(days=-2)),
        {**discount(), "name": ""},
    ]
    for body in cases:
        response = await client.post("/admin-api/pricing/discounts", json=body, headers=admin)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"]["code"] in ("VALIDATION_FAILED", "PRICING_ACTIVITY_INVALID")
    page = await client.get("/admin-api/pricing/discounts", headers=admin)
    assert page.json()["total"] == 0, "nothing was written"


async def test_discount_conflicts_compare_time_windows(client, tokens):
    admin = tokens["admin"]
    first = await client.post("/admin-api/pricing/discounts", json=discount("A", days=3), headers=admin)
    assert first.status_code == 201
    overlapping = await client.post("/admin-api/pricing/discounts", json=discount("B", days=5), headers=admin)
    assert overlapping.status_code == 409
    assert overlapping.json()["error"]["code"] == "DISCOUNT_ACTIVITY_SKU_CONFLICT"
    assert "【A】" in overlapping.json()["error"]["message"]
    later = await client.post("/admin-api/pricing/discounts", json=discount("C", days=9, start_in=timedelta(days=3)),
                              headers=admin)
    assert later.status_code == 201, "a later window on the same SKU is fine (yudao refuses it)"
    other_sku = await client.post("/admin-api/pricing/discounts", json=discount("D", skus=((101, 1009),)),
                                  headers=admin)
    assert other_sku.status_code == 201
    await client.post(f"/admin-api/pricing/discounts/{first.json()['id']}/close", headers=admin)
    after_close = await client.post("/admin-api/pricing/discounts", json=discount("E", days=2), headers=admin)
    assert after_close.status_code == 201, "a closed activity no longer holds its SKUs"


async def test_concurrent_conflicting_creates_let_exactly_one_through(client, tokens):
    results = await asyncio.gather(*(client.post("/admin-api/pricing/discounts", json=discount(f"race{n}"),
                                                 headers=tokens["admin"]) for n in range(8)))
    assert sorted(r.status_code for r in results) == [201] + [409] * 7
    rewards = await asyncio.gather(*(client.post("/admin-api/pricing/rewards", json=reward(f"race{n}"),
                                                 headers=tokens["admin"]) for n in range(8)))
    assert sorted(r.status_code for r in rewards) == [201] + [409] * 7


async def test_reward_lifecycle_and_display_text(client, coupons, tokens):
    admin = tokens["admin"]
    gift = await gift_template(coupons, tokens)
    levels = [{"threshold": 10000, "amount_off": 1000},
              {"threshold": 20000, "amount_off": 2500, "free_delivery": True, "points": 50, "coupons": {str(gift): 2}}]
    created = await client.post("/admin-api/pricing/rewards", json=reward(levels=levels), headers=admin)
    assert created.status_code == 201, created.text
    assert [lv["description"] for lv in created.json()["levels"]] == ["满100减10", "满200减25，包邮，送50积分，送2张券"]
    en = await client.get(f"/admin-api/pricing/rewards/{created.json()['id']}",
                          headers={**admin, "Accept-Language": "en"})
    assert en.json()["levels"][0]["description"] == "Spend ¥100: ¥10 off"
    activity_id = created.json()["id"]
    assert (await client.post(f"/admin-api/pricing/rewards/{activity_id}/close", headers=admin)).status_code == 204
    assert (await client.put(f"/admin-api/pricing/rewards/{activity_id}", json=reward(),
                             headers=admin)).status_code == 409
    assert (await client.delete(f"/admin-api/pricing/rewards/{activity_id}", headers=admin)).status_code == 204


async def test_reward_validation(client, tokens):
    admin = tokens["admin"]
    cases = [
        reward(levels=[{"threshold": 200, "amount_off": 10}, {"threshold": 100, "amount_off": 5}]),
        reward(levels=[{"threshold": 100}]),
        reward(levels=[{"threshold": 100, "amount_off": 100}]),
        reward(scope=2),
        reward(scope=1, values=[3]),
        reward(scope=3, values=[3, 3]),
        reward(levels=[{"threshold": 100, "amount_off": 5, "coupons": {"7": 0}}]),
        reward(condition=30),
    ]
    for body in cases:
        response = await client.post("/admin-api/pricing/rewards", json=body, headers=admin)
        assert response.status_code == 422, (body, response.text)
    count_levels = reward(condition=20, levels=[{"threshold": 2, "amount_off": 5000}])
    assert (await client.post("/admin-api/pricing/rewards", json=count_levels, headers=admin)).status_code == 201


async def test_reward_scope_conflicts(client, tokens):
    admin = tokens["admin"]

    async def create(body):
        response = await client.post("/admin-api/pricing/rewards", json=body, headers=admin)
        return response.status_code, response.json()

    assert (await create(reward("SPU 1,2", scope=2, values=[1, 2])))[0] == 201
    assert (await create(reward("category 5", scope=3, values=[5])))[0] == 201
    status, body = await create(reward("SPU 2,3", scope=2, values=[2, 3]))
    assert status == 409 and body["error"]["code"] == "REWARD_ACTIVITY_SCOPE_CONFLICT"
    assert "【SPU 1,2】" in body["error"]["message"]
    assert (await create(reward("category 5,6", scope=3, values=[6, 5])))[0] == 409
    assert (await create(reward("all", scope=1)))[0] == 409
    assert (await create(reward("later all", scope=1, days=20, start_in=timedelta(days=8))))[0] == 201
    assert (await create(reward("category 6", scope=3, values=[6])))[0] == 201


async def test_pages_filter_and_roles(client, tokens):
    admin = tokens["admin"]
    await client.post("/admin-api/pricing/discounts", json=discount("春季", skus=((1, 11),)), headers=admin)
    await client.post("/admin-api/pricing/discounts",
                      json=discount("未来", skus=((1, 12),), days=9, start_in=timedelta(days=2)), headers=admin)
    page = await client.get("/admin-api/pricing/discounts", params={"size": 1}, headers=admin)
    assert page.json()["total"] == 2 and len(page.json()["items"]) == 1
    running = await client.get("/admin-api/pricing/discounts", params={"running": True}, headers=admin)
    assert [a["name"] for a in running.json()["items"]] == ["春季"]
    named = await client.get("/admin-api/pricing/discounts", params={"name": "未"}, headers=admin)
    assert [(a["name"], a["state"]) for a in named.json()["items"]] == [("未来", "not_started")]
    for headers in ({}, tokens["member"], tokens["merchant"]):
        response = await client.get("/admin-api/pricing/discounts", headers=headers)
        assert response.status_code in (401, 403)
    assert (await client.get("/admin-api/pricing/discounts/99999999999999999999", headers=admin)).status_code == 422
