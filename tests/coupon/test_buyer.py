"""What a buyer sees: the coupon center and their own coupons."""

from __future__ import annotations

from tests.coupon.test_api import make_expired_template, make_template, take

CENTER = "/app-api/coupon/templates"


async def test_coupon_center_lists_what_can_be_taken_with_can_take(client, tokens, coupon_app):
    once = await make_template(client, tokens, name="限领1张", take_limit_count=1)
    await make_template(client, tokens, name="停用", status=1)
    await make_template(client, tokens, name="后台发放", take_type=2)
    await make_expired_template(client, tokens, coupon_app, name="已过期")
    gone = await make_template(client, tokens, name="已领完", total_count=1, take_limit_count=1)
    await take(client, gone["id"], tokens["other_member"])
    await take(client, once["id"], tokens["member"])
    anonymous = (await client.get(CENTER)).json()
    assert [t["name"] for t in anonymous] == ["限领1张"] and anonymous[0]["can_take"] is True
    mine = (await client.get(CENTER, headers=tokens["member"])).json()
    assert mine[0]["can_take"] is False and mine[0]["take_count"] == 1


async def test_coupon_center_filtered_by_a_product(client, tokens):
    await make_template(client, tokens, name="全场")
    await make_template(client, tokens, name="指定商品", product_scope=2, product_scope_values=[7, 8])
    await make_template(client, tokens, name="指定品类", product_scope=3, product_scope_values=[30])
    names = lambda rows: sorted(t["name"] for t in rows)  # noqa: E731
    assert names((await client.get(CENTER, params={"spu_id": 7})).json()) == ["全场", "指定商品"]
    assert names((await client.get(CENTER, params={"spu_id": 9, "category_id": 30})).json()) == ["全场", "指定品类"]
    assert names((await client.get(CENTER)).json()) == ["全场", "指定品类", "指定商品"]


async def test_my_coupons_summary_and_expiring_soon(client, tokens):
    week = await make_template(client, tokens, take_limit_count=-1, fixed_end_term=7)
    two_days = await make_template(client, tokens, take_limit_count=-1, fixed_end_term=2)
    for template in (week, two_days, two_days):
        await take(client, template["id"], tokens["member"])
    summary = (await client.get("/app-api/coupon/coupons/summary", headers=tokens["member"])).json()
    assert summary == {"unused": 3, "expiring_soon": 2, "expiring_within_days": 3}
    soon = (await client.get("/app-api/coupon/coupons", params={"status": 1, "expiring_within_days": 3},
                             headers=tokens["member"])).json()
    assert soon["total"] == 2 and {c["template_id"] for c in soon["items"]} == {two_days["id"]}
    assert (await client.get("/app-api/coupon/coupons/summary", headers=tokens["other_member"])).json()["unused"] == 0
