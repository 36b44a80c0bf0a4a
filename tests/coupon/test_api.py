"""Coupon templates and taking, over HTTP against real MariaDB."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from services.coupon.models import Coupon, CouponTemplate, outbox
from services.coupon.schemas import MatchOut
from shared.auth import Role
from tests.conftest import bearer

TEMPLATES = "/admin-api/coupon/templates"


def template_body(**overrides) -> dict:
    return {"name": "满100减10", "take_type": 1, "total_count": 100, "take_limit_count": 2, "use_price": 10000,
            "validity_type": 2, "fixed_start_term": 0, "fixed_end_term": 7, "discount_type": 1,
            "discount_price": 1000, **overrides}


async def make_template(client, tokens, **overrides) -> dict:
    response = await client.post(TEMPLATES, json=template_body(**overrides), headers=tokens["admin"])
    assert response.status_code == 201, response.text
    return response.json()


async def make_expired_template(client, tokens, app, **overrides) -> dict:
    """A template whose fixed dates are past (the API refuses to create one: its dates are moved)."""
    created = await make_template(client, tokens, validity_type=1, fixed_start_term=None, fixed_end_term=None,
                                  valid_start="2030-01-01T00:00:00+08:00", valid_end="2030-02-01T00:00:00+08:00",
                                  **overrides)
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(update(CouponTemplate).where(CouponTemplate.id == created["id"]).values(
            valid_start=datetime(2020, 1, 1, tzinfo=UTC), valid_end=datetime(2020, 2, 1, tzinfo=UTC)))
    return created


async def take(client, template_id: int, headers) -> object:
    return await client.post(f"/app-api/coupon/templates/{template_id}/take", headers=headers)


# --- templates ----------------------------------------------------------------------------------

async def test_template_round_trip(client, tokens):
    created = await make_template(client, tokens)
    assert created["status"] == 0 and created["take_count"] == 0 and created["product_scope"] == 1
    url = f"{TEMPLATES}/{created['id']}"
    updated = await client.put(url, json=template_body(name="满200减30", use_price=20000, discount_price=3000),
                               headers=tokens["admin"])
    assert updated.status_code == 200 and updated.json()["name"] == "满200减30"
    disabled = await client.put(f"{url}/status", json={"status": 1}, headers=tokens["admin"])
    assert disabled.json()["status"] == 1
    assert (await client.delete(url, headers=tokens["admin"])).status_code == 204
    assert (await client.get(url, headers=tokens["admin"])).json()["error"]["code"] == "COUPON_TEMPLATE_NOT_FOUND"


@pytest.mark.parametrize("overrides, code", [
    ({"total_count": 1, "take_limit_count": 2}, "COUPON_TEMPLATE_INVALID"),
    ({"product_scope": 2}, "COUPON_TEMPLATE_INVALID"),
    ({"validity_type": 1}, "COUPON_TEMPLATE_INVALID"),
    ({"discount_type": 2}, "COUPON_TEMPLATE_INVALID"),
    ({"discount_type": 2, "discount_percent": 100, "discount_limit_price": 1}, "VALIDATION_FAILED"),
    ({"total_count": -2}, "VALIDATION_FAILED"),
    ({"valid_start": "2026-01-01T00:00:00"}, "VALIDATION_FAILED"),  # no offset: ambiguous
    ({"take_type": 4}, "VALIDATION_FAILED"),
])
async def test_template_validation(client, tokens, overrides, code):
    response = await client.post(TEMPLATES, json=template_body(**overrides), headers=tokens["admin"])
    assert response.status_code == 422 and response.json()["error"]["code"] == code, response.text


async def test_total_cannot_go_below_what_was_taken(client, tokens):
    template = await make_template(client, tokens, total_count=5, take_limit_count=-1)
    for _ in range(3):
        assert (await take(client, template["id"], tokens["member"])).status_code == 201
    response = await client.put(f"{TEMPLATES}/{template['id']}", json=template_body(total_count=2, take_limit_count=-1),
                                headers=tokens["admin"])
    assert response.status_code == 409 and response.json()["error"]["details"] == {"take_count": 3}


async def test_template_with_unused_coupons_cannot_be_deleted(client, tokens):
    template = await make_template(client, tokens)
    await take(client, template["id"], tokens["member"])
    response = await client.delete(f"{TEMPLATES}/{template['id']}", headers=tokens["admin"])
    assert response.status_code == 409 and response.json()["error"]["code"] == "COUPON_TEMPLATE_HAS_UNUSED_COUPONS"


async def test_template_page_filters(client, tokens):
    await make_template(client, tokens, name="新人券", take_type=3)
    await make_template(client, tokens, name="八折券", discount_type=2, discount_percent=80, discount_limit_price=500,
                        discount_price=None)
    page = (await client.get(TEMPLATES, params={"discount_type": 2}, headers=tokens["admin"])).json()
    assert [t["name"] for t in page["items"]] == ["八折券"]
    page = (await client.get(TEMPLATES, params={"take_type": 3, "name": "新人"}, headers=tokens["admin"])).json()
    assert [t["name"] for t in page["items"]] == ["新人券"]
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    page = (await client.get(TEMPLATES, params={"created_from": future}, headers=tokens["admin"])).json()
    assert page["total"] == 0


# --- taking -------------------------------------------------------------------------------------

async def test_take_snapshots_the_template_and_reports_can_take_again(client, tokens, coupon_app):
    template = await make_template(client, tokens)
    first = await take(client, template["id"], tokens["member"])
    assert first.status_code == 201 and first.json()["can_take_again"] is True
    assert (await take(client, template["id"], tokens["member"])).json()["can_take_again"] is False
    refused = await take(client, template["id"], tokens["member"])
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "COUPON_TAKE_LIMIT_REACHED"
    await client.put(f"{TEMPLATES}/{template['id']}", json=template_body(name="改名了", discount_price=500),
                     headers=tokens["admin"])
    mine = (await client.get("/app-api/coupon/coupons", params={"status": 1}, headers=tokens["member"])).json()
    assert mine["total"] == 2 and {c["name"] for c in mine["items"]} == {"满100减10"}
    assert {c["discount_price"] for c in mine["items"]} == {1000}  # later edits do not touch issued coupons
    coupon = mine["items"][0]
    start, end = datetime.fromisoformat(coupon["valid_start"]), datetime.fromisoformat(coupon["valid_end"])
    assert end - start == timedelta(days=7)
    async with coupon_app.state.sessionmaker() as session:
        issued = select(func.count()).select_from(outbox).where(outbox.c.topic == "promo.coupon.issued")
        events = await session.scalar(issued)
    assert events == 2


@pytest.mark.parametrize("overrides, code", [
    ({"status": 1}, "COUPON_TEMPLATE_DISABLED"),
    ({"take_type": 2}, "COUPON_TEMPLATE_CANNOT_TAKE"),
])
async def test_take_refusals(client, tokens, overrides, code):
    template = await make_template(client, tokens, **overrides)
    response = await take(client, template["id"], tokens["member"])
    assert response.status_code == 409 and response.json()["error"]["code"] == code


async def test_take_refused_once_the_template_ended(client, tokens, coupon_app):
    template = await make_expired_template(client, tokens, coupon_app)
    response = await take(client, template["id"], tokens["member"])
    assert response.status_code == 409 and response.json()["error"]["code"] == "COUPON_TEMPLATE_EXPIRED"


async def test_take_needs_a_member(client, tokens):
    template = await make_template(client, tokens)
    assert (await take(client, template["id"], {})).status_code == 401
    assert (await take(client, template["id"], tokens["admin"])).status_code == 403
    assert (await take(client, 999999, tokens["member"])).status_code == 404


# --- races (real MariaDB, real concurrency) ------------------------------------------------------

async def count_rows(app, template_id: int) -> tuple[int, int]:
    async with app.state.sessionmaker() as session:
        of_template = select(func.count()).select_from(Coupon).where(Coupon.template_id == template_id)
        coupons = await session.scalar(of_template)
        taken = await session.scalar(select(CouponTemplate.take_count).where(CouponTemplate.id == template_id))
    return coupons, taken


async def test_300_users_racing_for_50_coupons_get_exactly_50(client, tokens, dev_settings, coupon_app):
    template = await make_template(client, tokens, total_count=50, take_limit_count=1)
    users = [bearer(dev_settings, Role.MEMBER, 500000 + i) for i in range(300)]
    responses = await asyncio.gather(*(take(client, template["id"], headers) for headers in users))
    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == 50 and statuses.count(409) == 250
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"COUPON_TEMPLATE_NOT_ENOUGH"}
    assert await count_rows(coupon_app, template["id"]) == (50, 50)


async def test_one_user_racing_30_takes_with_limit_2_gets_exactly_2(client, tokens, coupon_app):
    template = await make_template(client, tokens, total_count=1000, take_limit_count=2)
    responses = await asyncio.gather(*(take(client, template["id"], tokens["member"]) for _ in range(30)))
    assert [r.status_code for r in responses].count(201) == 2
    assert await count_rows(coupon_app, template["id"]) == (2, 2)


# --- matching -------------------------------------------------------------------------------------

CART = {"lines": [{"spu_id": 1, "category_id": 10, "amount": 8000}, {"spu_id": 2, "category_id": 20, "amount": 3000}]}


async def test_cart_matching_for_the_buyer_and_the_order_service(client, tokens):
    fits = await make_template(client, tokens, name="满100减10", take_limit_count=-1)
    short = await make_template(client, tokens, name="满200减30", use_price=20000, discount_price=3000)
    scoped = await make_template(client, tokens, name="指定品类八折", use_price=0, product_scope=3,
                                 product_scope_values=[20], discount_type=2, discount_price=None,
                                 discount_percent=80, discount_limit_price=5000)
    for template in (fits, short, scoped):
        await take(client, template["id"], tokens["member"])
    await take(client, fits["id"], tokens["other_member"])  # someone else's coupon never shows up
    mine = (await client.post("/app-api/coupon/match", json=CART,
                              headers={**tokens["member"], "Accept-Language": "en"})).json()
    by_name = {c["name"]: c for c in mine["coupons"]}
    assert len(mine["coupons"]) == 3
    assert by_name["满100减10"]["usable"] and by_name["满100减10"]["discount"] == 1000
    assert by_name["满200减30"]["reason_message"] == "Spend ¥90.00 more to use it"
    assert by_name["指定品类八折"]["discount"] == 600 and by_name["指定品类八折"]["line_indexes"] == [1]
    assert mine["best_coupon_id"] == by_name["满100减10"]["coupon_id"]
    internal = await client.post("/internal/coupon/match", json={**CART, "user_id": 1001}, headers=tokens["service"])
    assert internal.status_code == 200 and internal.json()["best_coupon_id"] == mine["best_coupon_id"]
    assert MatchOut.model_validate(internal.json()).model_dump(mode="json") == internal.json(), \
        "the prebuilt answer keeps to the documented schema"
    assert [c["coupon_id"] for c in internal.json()["coupons"]] == [c["coupon_id"] for c in mine["coupons"]]
    assert by_name["满200减30"]["reason"] == "BELOW_THRESHOLD"
    assert [by_name[n]["max_discount"] for n in ("满100减10", "满200减30", "指定品类八折")] == [1000, 3000, 5000], \
        "the amount, or a percent coupon's cap, usable or not"


async def test_internal_match_needs_a_service_token(client, tokens):
    body = {**CART, "user_id": 1001}
    assert (await client.post("/internal/coupon/match", json=body)).status_code == 401
    assert (await client.post("/internal/coupon/match", json=body, headers=tokens["member"])).status_code == 403
    empty = await client.post("/internal/coupon/match", json={"user_id": 1001, "lines": []}, headers=tokens["service"])
    assert empty.status_code == 422


async def test_a_coupon_larger_than_the_cart_is_usable_leaving_one_fen(client, tokens):
    big = await make_template(client, tokens, name="无门槛减10元", use_price=0, discount_price=1000)
    await take(client, big["id"], tokens["member"])
    cart = {"lines": [{"spu_id": 1, "category_id": 10, "amount": 500}]}
    answer = (await client.post("/app-api/coupon/match", json=cart, headers=tokens["member"])).json()
    [coupon] = answer["coupons"]
    assert coupon["usable"] and coupon["discount"] == 499 and answer["best_coupon_id"] == coupon["coupon_id"]
    penny = {"lines": [{"spu_id": 1, "category_id": 10, "amount": 1}]}
    answer = (await client.post("/app-api/coupon/match", json=penny,
                                headers={**tokens["member"], "Accept-Language": "zh-CN"})).json()
    assert answer["best_coupon_id"] is None and answer["coupons"][0]["reason"] == "NOTHING_TO_PAY"
    assert answer["coupons"][0]["reason_message"] == "订单金额过低，无法使用优惠券"


async def test_a_coupon_taking_nothing_off_is_unusable(client, tokens):
    tiny = await make_template(client, tokens, name="九五折", use_price=0, discount_type=2, discount_price=None,
                               discount_percent=95, discount_limit_price=5000)
    await take(client, tiny["id"], tokens["member"])
    cart = {"lines": [{"spu_id": 1, "category_id": 10, "amount": 10}]}
    answer = (await client.post("/app-api/coupon/match", json=cart,
                                headers={**tokens["member"], "Accept-Language": "en"})).json()
    assert answer["best_coupon_id"] is None
    assert [(c["usable"], c["discount"], c["reason"], c["reason_message"]) for c in answer["coupons"]] == [
        (False, 0, "ZERO_DISCOUNT", "It takes nothing off this order")]


async def test_not_yet_valid_is_told_in_the_business_timezone(client, tokens, coupon_app):
    later = await make_template(client, tokens, name="明天起可用", fixed_start_term=1)
    await take(client, later["id"], tokens["member"])
    mine = (await client.get("/app-api/coupon/coupons", headers=tokens["member"])).json()["items"][0]
    zone = ZoneInfo(coupon_app.state.settings.business_timezone)
    local = datetime.fromisoformat(mine["valid_start"]).astimezone(zone)
    for locale, text in (("zh-CN", f"{local:%Y-%m-%d %H:%M} 起可用"), ("en", f"Usable from {local:%Y-%m-%d %H:%M}")):
        answer = (await client.post("/app-api/coupon/match", json=CART,
                                    headers={**tokens["member"], "Accept-Language": locale})).json()
        assert answer["coupons"][0]["reason_message"] == text


# --- lookup for pricing ---------------------------------------------------------------------------

async def test_pricing_looks_templates_up_by_id(client, tokens):
    reward = await make_template(client, tokens, name="返券", take_type=2, take_limit_count=-1)
    center = await make_template(client, tokens, name="领券中心券", status=1)
    body = {"template_ids": [center["id"], 99999999, reward["id"], reward["id"]]}
    response = await client.post("/internal/coupon/templates/lookup", json=body, headers=tokens["service"])
    assert response.status_code == 200
    assert response.json() == {"templates": [
        {"id": reward["id"], "name": "返券", "business_id": None, "take_type": 2, "status": 0, "validity_type": 2,
         "valid_end": None},
        {"id": center["id"], "name": "领券中心券", "business_id": None, "take_type": 1, "status": 1, "validity_type": 2,
         "valid_end": None},
    ]}
    assert (await client.post("/internal/coupon/templates/lookup", json=body,
                              headers=tokens["admin"])).status_code == 403
    for ids in ([], list(range(1, 102))):
        refused = await client.post("/internal/coupon/templates/lookup", json={"template_ids": ids},
                                    headers=tokens["service"])
        assert refused.status_code == 422


async def test_openapi_lists_each_enum_value_with_its_meaning(client):
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    for name in ("CouponStatus", "TakeType", "ValidityType", "DiscountType"):
        assert len(schemas[name]["x-enum-descriptions"]) == len(schemas[name]["enum"]), name
    assert schemas["CouponStatus"]["x-enum-varnames"] == ["UNUSED", "USED", "EXPIRED", "HELD", "REVOKED", "RECALLED"]
