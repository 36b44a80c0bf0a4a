"""Merchants run their own discounts and spend-and-save (/merchant-api/pricing): each sees and
changes its own only (another owner's activity is the same 404 as a missing one), conflicts stay
global without naming another owner's activity, a level gives only its owner's coupon templates,
and the admin sees every owner's and filters by owner."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.pricing import snapshots
from services.pricing.domain import CheckoutStatus
from services.pricing.models import Checkout
from shared.auth import Role
from tests.conftest import bearer
from tests.pricing.conftest import gift_template
from tests.pricing.test_admin import discount, reward
from tests.pricing.test_checkout import CHECKOUT, order

A, B = 7001, 7002  # two merchants' business ids
MERCHANT = "/merchant-api/pricing"
ADMIN = "/admin-api/pricing"
KINDS = ("discounts", "rewards")
MISSING = 987654321


@pytest.fixture(scope="module")
def shops(dev_settings) -> dict[str, dict[str, str]]:
    return {"a": bearer(dev_settings, Role.MERCHANT, 3001, business_id=A),
            "b": bearer(dev_settings, Role.MERCHANT, 3002, business_id=B)}


def body(kind: str, name: str, sku: int = 1001, spu: int = 101, **w) -> dict:
    """A discount of one SKU, or a spend-and-save of one SPU (so that owners do not collide)."""
    if kind == "discounts":
        return discount(name, skus=((spu, sku),), **w)
    return reward(name, scope=2, values=[spu], **w)


async def create(client, headers, kind: str, name: str, prefix: str = MERCHANT, **terms) -> dict:
    created = await client.post(f"{prefix}/{kind}", json=body(kind, name, **terms), headers=headers)
    assert created.status_code == 201, created.text
    return created.json()


@pytest.mark.parametrize("kind", KINDS)
async def test_a_merchant_runs_its_own_activity(client, shops, kind):
    a = shops["a"]
    mine = await create(client, a, kind, "店铺活动")
    assert mine["business_id"] == A and mine["status"] == 0 and mine["state"] == "running"
    url = f"{MERCHANT}/{kind}/{mine['id']}"
    assert (await client.get(url, headers=a)).json()["name"] == "店铺活动"
    changed = await client.put(url, json=body(kind, "改名", sku=1002, spu=102), headers=a)
    assert changed.status_code == 200, changed.text
    assert changed.json()["name"] == "改名" and changed.json()["business_id"] == A
    page = await client.get(f"{MERCHANT}/{kind}", params={"name": "改"}, headers=a)
    assert [(x["id"], x["business_id"]) for x in page.json()["items"]] == [(mine["id"], A)]
    stats = await client.get(f"{url}/stats", headers=a)
    assert stats.status_code == 200 and stats.json() == {
        "activity_id": mine["id"], "orders": 0, "awaiting_payment": 0, "paid": 0, "cancelled": 0,
        "discount_given": 0, "discount_awaiting_payment": 0}
    refused = await client.delete(url, headers=a)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "PRICING_ACTIVITY_NOT_CLOSED"
    assert (await client.post(f"{url}/close", headers=a)).status_code == 204
    assert (await client.get(url, headers=a)).json()["state"] == "closed"
    closed = await client.put(url, json=body(kind, "再改"), headers=a)
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "PRICING_ACTIVITY_CLOSED"
    assert (await client.delete(url, headers=a)).status_code == 204
    assert (await client.get(url, headers=a)).status_code == 404


@pytest.mark.parametrize("kind", KINDS)
async def test_the_same_validation_as_the_admin(client, shops, kind):
    bad = {**body(kind, "x"), "end_at": body(kind, "x")["start_at"]}
    response = await client.post(f"{MERCHANT}/{kind}", json=bad, headers=shops["a"])
    assert response.status_code == 422 and response.json()["error"]["code"] == "PRICING_ACTIVITY_INVALID"
    unknown = await client.post(f"{MERCHANT}/{kind}", json={**body(kind, "x"), "business_id": B}, headers=shops["a"])
    assert unknown.status_code == 422, "the owner comes from the token, never from the body"
    assert (await client.get(f"{MERCHANT}/{kind}", headers=shops["a"])).json()["total"] == 0


@pytest.mark.parametrize("kind", KINDS)
async def test_another_owners_activity_is_as_missing_as_one_that_never_was(client, shops, tokens, kind):
    a = shops["a"]
    theirs = await create(client, shops["b"], kind, "B 的活动", sku=2001, spu=201)
    platform = await create(client, tokens["admin"], kind, "平台活动", prefix=ADMIN, sku=3001, spu=301)
    mine = await create(client, a, kind, "A 的活动", sku=4001, spu=401)
    missing_code = (await client.get(f"{MERCHANT}/{kind}/{MISSING}", headers=a)).json()["error"]["code"]
    assert missing_code in ("DISCOUNT_ACTIVITY_NOT_FOUND", "REWARD_ACTIVITY_NOT_FOUND")
    for other in (theirs, platform):
        url = f"{MERCHANT}/{kind}/{other['id']}"
        attempts = [client.get(url, headers=a), client.get(f"{url}/stats", headers=a),
                    client.put(url, json=body(kind, "抢改", sku=4002, spu=402), headers=a),
                    client.post(f"{url}/close", headers=a), client.delete(url, headers=a)]
        for attempt in attempts:
            response = await attempt
            assert response.status_code == 404, response.text
            assert response.json()["error"] == {
                "code": missing_code, "message": response.json()["error"]["message"], "details": {"id": other["id"]}}
        untouched = await client.get(f"{ADMIN}/{kind}/{other['id']}", headers=tokens["admin"])
        assert untouched.json()["name"] == other["name"] and untouched.json()["status"] == 0
    page = await client.get(f"{MERCHANT}/{kind}", headers=a)
    assert [x["id"] for x in page.json()["items"]] == [mine["id"]] and page.json()["total"] == 1
    everyone = await client.get(f"{MERCHANT}/{kind}", params={"business_id": B}, headers=a)
    assert everyone.status_code == 422 or [x["id"] for x in everyone.json()["items"]] == [mine["id"]]


async def test_only_merchants_reach_the_merchant_api(client, shops, tokens):
    for kind in KINDS:
        for headers, status in (({}, 401), (tokens["member"], 403), (tokens["service"], 403),
                                (tokens["admin"], 403)):
            assert (await client.get(f"{MERCHANT}/{kind}", headers=headers)).status_code == status
            response = await client.post(f"{MERCHANT}/{kind}", json=body(kind, "x"), headers=headers)
            assert response.status_code == status
        assert (await client.get(f"{MERCHANT}/{kind}", headers=tokens["merchant"])).status_code == 200
        assert (await client.get(f"{ADMIN}/{kind}", headers=shops["a"])).status_code == 403


@pytest.mark.parametrize("kind", KINDS)
async def test_the_admin_sees_every_owner_and_filters_by_owner(client, shops, tokens, kind):
    admin = tokens["admin"]
    a = await create(client, shops["a"], kind, "A", sku=1001, spu=101)
    b = await create(client, shops["b"], kind, "B", sku=2001, spu=201)
    platform = await create(client, admin, kind, "平台", prefix=ADMIN, sku=3001, spu=301)
    assert platform["business_id"] is None

    async def listed(**params) -> list[tuple[int, int | None]]:
        page = await client.get(f"{ADMIN}/{kind}", params=params, headers=admin)
        assert page.status_code == 200, page.text
        return [(x["id"], x["business_id"]) for x in page.json()["items"]]

    assert await listed() == [(platform["id"], None), (b["id"], B), (a["id"], A)]
    assert await listed(business_id=A) == [(a["id"], A)]
    assert await listed(platform=True) == [(platform["id"], None)]
    assert await listed(business_id=A, name="B") == []
    both = await client.get(f"{ADMIN}/{kind}", params={"business_id": A, "platform": True}, headers=admin)
    assert both.status_code == 422 and both.json()["error"]["code"] == "OWNER_FILTER_CONFLICT"
    url = f"{ADMIN}/{kind}/{a['id']}"
    assert (await client.get(url, headers=admin)).json()["business_id"] == A
    assert (await client.get(f"{url}/stats", headers=admin)).json()["orders"] == 0
    assert (await client.post(f"{url}/close", headers=admin)).status_code == 204, "the admin may close anyone's"
    assert (await client.get(f"{MERCHANT}/{kind}/{a['id']}", headers=shops["a"])).json()["state"] == "closed"


async def test_discount_conflicts_are_global_and_name_only_the_callers_own(client, shops, tokens):
    admin, a = tokens["admin"], shops["a"]
    await create(client, admin, "discounts", "平台秘密折扣", prefix=ADMIN, sku=1001)
    await create(client, shops["b"], "discounts", "B 秘密折扣", sku=2001, spu=201)
    own = await create(client, a, "discounts", "A 自己的", sku=3001, spu=301)
    for sku, spu in ((1001, 101), (2001, 201)):
        refused = await client.post(f"{MERCHANT}/discounts", json=body("discounts", "A", sku=sku, spu=spu), headers=a)
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "DISCOUNT_ACTIVITY_SKU_CONFLICT"
        error = refused.json()["error"]
        assert "秘密" not in error["message"] and "other_id" not in error["details"]
        assert error["details"]["other_name_code"] == "OTHER_OWNERS_ACTIVITY"
    named = await client.post(f"{MERCHANT}/discounts", json=body("discounts", "A2", sku=3001, spu=301), headers=a)
    assert named.status_code == 409 and "【A 自己的】" in named.json()["error"]["message"]
    assert named.json()["error"]["details"]["other_id"] == own["id"]
    admin_sees = await client.post(f"{ADMIN}/discounts", json=body("discounts", "P", sku=2001, spu=201), headers=admin)
    assert admin_sees.status_code == 409 and "【B 秘密折扣】" in admin_sees.json()["error"]["message"]
    en = await client.post(f"{MERCHANT}/discounts", json=body("discounts", "A", sku=1001),
                           headers={**a, "Accept-Language": "en"})
    assert "activity 【another shop's or the platform's】 at" in en.json()["error"]["message"]
    zh = (await client.post(f"{MERCHANT}/discounts", json=body("discounts", "A", sku=1001), headers=a)).json()
    assert "【其他店铺或平台的】" in zh["error"]["message"]
    assert (await client.get(f"{MERCHANT}/discounts", headers=a)).json()["total"] == 1, "nothing was written"


async def test_reward_scopes_conflict_within_one_owner_and_shops_stack_under_the_platform(client, shops, tokens):
    """A shop's spend-and-save counts its own lines, the platform's spans the shops after it: the
    platform's all-products campaign leaves room for every shop's own, and two shops' never meet."""
    admin, a = tokens["admin"], shops["a"]
    assert (await client.post(f"{ADMIN}/rewards", json=reward("跨店满减", scope=1), headers=admin)).status_code == 201
    refused = await client.post(f"{ADMIN}/rewards", json=body("rewards", "平台二", spu=101), headers=admin)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "REWARD_ACTIVITY_SCOPE_CONFLICT"
    assert "【跨店满减】" in refused.json()["error"]["message"]
    mine = await create(client, a, "rewards", "A 满减", spu=101)
    again = await client.post(f"{MERCHANT}/rewards", json=body("rewards", "A2", spu=101), headers=a)
    assert again.status_code == 409 and "【A 满减】" in again.json()["error"]["message"]
    assert again.json()["error"]["details"]["other_id"] == mine["id"]
    b_all = await client.post(f"{MERCHANT}/rewards", json=reward("B 全场", scope=1), headers=shops["b"])
    assert b_all.status_code == 201, b_all.text
    edited = await client.put(f"{ADMIN}/rewards/{mine['id']}", json=body("rewards", "A 满减", spu=101), headers=admin)
    assert edited.status_code == 200 and edited.json()["business_id"] == A, "checked against A's own only"


async def shop_template(coupons, headers: dict[str, str], take_type: int = 2) -> int:
    """A merchant's own coupon template, through the coupon service's merchant API (take type 2:
    given by the system, what its spend-and-save gives; 1: taken by buyers)."""
    body = {"name": "店铺券", "take_type": take_type, "total_count": -1, "take_limit_count": -1, "validity_type": 2,
            "fixed_start_term": 0, "fixed_end_term": 7, "discount_type": 1, "discount_price": 500}
    created = await coupons.post("/merchant-api/coupon/templates", json=body, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["business_id"] is not None
    return created.json()["id"]


def gives(template_id: int) -> list[dict]:
    return [{"threshold": 10000, "amount_off": 1000, "coupons": {str(template_id): 1}}]


async def test_a_level_gives_only_its_owners_coupon_templates(client, coupons, shops, tokens):
    admin, a = tokens["admin"], shops["a"]
    platform_template = await gift_template(coupons, tokens)
    a_template = await shop_template(coupons, a)

    async def refused(headers, template_id, prefix=MERCHANT) -> list[str]:
        response = await client.post(f"{prefix}/rewards", json=reward("送券", scope=2, values=[101],
                                                                      levels=gives(template_id)), headers=headers)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "PRICING_ACTIVITY_INVALID"
        return response.json()["error"]["details"]["problems_codes"]

    assert await refused(a, platform_template) == ["LEVEL_COUPON_NOT_OWN"]
    assert await refused(shops["b"], a_template) == ["LEVEL_COUPON_NOT_OWN"]
    assert await refused(admin, a_template, prefix=ADMIN) == ["LEVEL_COUPON_OF_A_SHOP"]
    buyer_taken = await shop_template(coupons, a, take_type=1)
    assert await refused(a, buyer_taken) == ["LEVEL_COUPON_NOT_GIVEABLE"], "its own, but buyers take it"
    en = await client.post(f"{ADMIN}/rewards", json=reward("送券", levels=gives(a_template)),
                           headers={**admin, "Accept-Language": "en"})
    assert "is a shop's" in en.json()["error"]["message"]
    mine = await client.post(f"{MERCHANT}/rewards", headers=a,
                             json=reward("送券", scope=2, values=[101], levels=gives(a_template)))
    assert mine.status_code == 201, mine.text
    assert mine.json()["levels"][0]["coupons"] == {str(a_template): 1}
    swapped = await client.put(f"{MERCHANT}/rewards/{mine.json()['id']}",
                               json=reward("送券", scope=2, values=[101], levels=gives(platform_template)), headers=a)
    assert swapped.status_code == 422 and swapped.json()["error"]["details"]["problems_codes"] == [
        "LEVEL_COUPON_NOT_OWN"]
    platform = await client.post(f"{ADMIN}/rewards", json=reward("平台送券", scope=2, values=[201],
                                                                 levels=gives(platform_template)), headers=admin)
    assert platform.status_code == 201, platform.text


async def test_figures_count_the_checkouts_that_applied_it(client, pricing_app, shops, tokens):
    """The admin's discount through real checkouts; the merchant's from stored checkouts."""
    platform = await create(client, tokens["admin"], "discounts", "平台折扣", prefix=ADMIN, sku=1001)
    for order_id in (9101, 9102, 9103):
        checked_out = await client.post(CHECKOUT, json=order(order_id), headers=tokens["service"])
        assert checked_out.status_code == 200, checked_out.text
    off = checked_out.json()["totals"]["discount"]
    assert off == 1500
    now = datetime.now(UTC)
    async with pricing_app.state.sessionmaker() as session, session.begin():
        await snapshots.mark_paid(session, 9101, now)
        await snapshots.mark_cancelled(session, 9102, 1001, now)
        await snapshots.mark_cancelled(session, 9999, 1001, now)  # cancelled before it ever checked out
    stats = await client.get(f"{ADMIN}/discounts/{platform['id']}/stats", headers=tokens["admin"])
    assert stats.json() == {"activity_id": platform["id"], "orders": 3, "awaiting_payment": 1, "paid": 1,
                            "cancelled": 1, "discount_given": off, "discount_awaiting_payment": off}
    refused = await client.get(f"{MERCHANT}/discounts/{platform['id']}/stats", headers=shops["a"])
    assert refused.status_code == 404

    mine = await create(client, shops["a"], "discounts", "A 折扣", sku=5001, spu=501)
    reward_ = await create(client, shops["a"], "rewards", "A 满减", spu=501)

    def stored(order_id: int, status: CheckoutStatus, *promotions: tuple[str, int, bool, int]) -> Checkout:
        result = {"promotions": [{"kind": kind, "id": id_, "name": "x", "applied": applied, "amount": amount}
                                 for kind, id_, applied, amount in promotions]}
        return Checkout(order_id=order_id, user_id=1001, snapshot_id=f"s-{order_id}", status=status, fingerprint="",
                        request={}, result=result, holds=[], claimed_at=now, created_at=now, updated_at=now)

    async with pricing_app.state.sessionmaker() as session, session.begin():
        session.add_all([
            stored(9201, CheckoutStatus.PAID, ("discount", mine["id"], True, 300), ("reward", reward_["id"], True, 50)),
            stored(9202, CheckoutStatus.PAID, ("discount", mine["id"], True, 200)),
            stored(9203, CheckoutStatus.HELD, ("discount", mine["id"], True, 100)),
            stored(9204, CheckoutStatus.CANCELLED, ("discount", mine["id"], True, 700)),
            stored(9205, CheckoutStatus.PAID, ("discount", mine["id"], False, 0),
                   ("reward", reward_["id"] + 1, True, 9)),
            stored(9206, CheckoutStatus.PAID, ("discount", mine["id"] * 10 + 1, True, 5))])
    figures = await client.get(f"{MERCHANT}/discounts/{mine['id']}/stats", headers=shops["a"])
    assert figures.json() == {"activity_id": mine["id"], "orders": 4, "awaiting_payment": 1, "paid": 2,
                              "cancelled": 1, "discount_given": 500, "discount_awaiting_payment": 100}
    rewarded = await client.get(f"{MERCHANT}/rewards/{reward_['id']}/stats", headers=shops["a"])
    assert (rewarded.json()["orders"], rewarded.json()["paid"], rewarded.json()["discount_given"]) == (1, 1, 50)
    assert (await client.get(f"{MERCHANT}/rewards/{reward_['id']}/stats", headers=shops["b"])).status_code == 404


async def test_a_merchants_figures_count_only_checkouts_of_its_own_lines(client, pricing_app, shops, tokens):
    a = shops["a"]
    sale = await create(client, a, "discounts", "A 折扣", sku=6001, spu=601)
    spend = await create(client, a, "rewards", "A 满减", spu=601)

    def line(business_id: int | None) -> dict:
        return {"sku_id": 6001, "spu_id": 601, "category_id": 5, "unit_price": 10000, "count": 2,
                "business_id": business_id}

    for order_id, shop in ((9301, A), (9302, B), (9303, None)):
        checked_out = await client.post(CHECKOUT, json=order(order_id, lines=[line(shop)]), headers=tokens["service"])
        assert checked_out.status_code == 200, checked_out.text
        if shop == A:
            totals = checked_out.json()["totals"]
            assert (totals["discount"], totals["reward"]) == (3000, 1000)
        else:
            assert checked_out.json()["totals"]["discount"] == 0, "A's discount prices A's lines only"
    async with pricing_app.state.sessionmaker() as session, session.begin():
        await snapshots.mark_paid(session, 9301, datetime.now(UTC))
    figures = (await client.get(f"{MERCHANT}/discounts/{sale['id']}/stats", headers=a)).json()
    assert (figures["orders"], figures["paid"], figures["discount_given"]) == (1, 1, 3000)
    figures = (await client.get(f"{MERCHANT}/rewards/{spend['id']}/stats", headers=a)).json()
    assert (figures["orders"], figures["paid"], figures["discount_given"]) == (1, 1, 1000)
