"""Coupons issued by events: new users and order rewards, each exactly once."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from services.coupon.models import Coupon, CouponTemplate
from shared.events import encode, new_event
from tests.coupon.test_admin_give import revoked_events
from tests.coupon.test_api import make_template
from tests.coupon.test_holds import HOLDS, cancelled, hold_body, paid, runner


def registered(user_id: int) -> bytes:
    now = datetime.now(UTC)
    return encode(new_event("user.registered", source="test", subject=user_id, time=now,
                            data={"user_id": user_id, "registered_at": now.isoformat()}))


def paid_with_rewards(order_id: int, give_coupons: dict[int, int]) -> bytes:
    now = datetime.now(UTC)
    return encode(new_event("order.paid", source="test", subject=order_id, time=now, data={
        "order_id": order_id, "user_id": 1001, "pay_price": 20000, "paid_at": now.isoformat(),
        "items": [{"sku_id": 1, "spu_id": 1, "count": 1, "pay_price": 20000}], "give_coupons": give_coupons}))


async def coupons_of(app, user_id: int) -> list[Coupon]:
    async with app.state.sessionmaker() as session:
        return list((await session.scalars(select(Coupon).where(Coupon.user_id == user_id).order_by(Coupon.id))).all())


async def take_count(app, template_id: int) -> int:
    async with app.state.sessionmaker() as session:
        return await session.scalar(select(CouponTemplate.take_count).where(CouponTemplate.id == template_id))


async def test_new_user_gets_each_enabled_register_template_once(client, tokens, coupon_app):
    welcome = await make_template(client, tokens, name="新人券", take_type=3, take_limit_count=1)
    shipping = await make_template(client, tokens, name="新人运费券", take_type=3, take_limit_count=1)
    await make_template(client, tokens, name="停用的新人券", take_type=3, status=1)
    await make_template(client, tokens, name="普通券", take_type=1)
    event = registered(4242)
    for raw in (event, event, registered(4242)):  # redelivered, then republished with a new id
        await runner(coupon_app).process(raw)
    coupons = await coupons_of(coupon_app, 4242)
    assert sorted(c.template_id for c in coupons) == sorted([welcome["id"], shipping["id"]])
    assert await take_count(coupon_app, welcome["id"]) == 1


async def test_order_rewards_are_granted_once_and_a_bad_template_is_skipped(client, tokens, coupon_app):
    reward = await make_template(client, tokens, name="返券", take_type=2, take_limit_count=-1)
    bonus = await make_template(client, tokens, name="额外返券", take_type=2, take_limit_count=-1)
    off = await make_template(client, tokens, name="停用返券", take_type=2, take_limit_count=-1, status=1)
    gifts = {reward["id"]: 2, bonus["id"]: 1, off["id"]: 1}
    event = paid_with_rewards(9101, gifts)
    for raw in (event, event, paid_with_rewards(9101, gifts)):
        await runner(coupon_app).process(raw)
    coupons = await coupons_of(coupon_app, 1001)
    assert sorted(c.template_id for c in coupons) == sorted([reward["id"], reward["id"], bonus["id"]])
    assert {c.source_order_id for c in coupons} == {9101}


async def test_cancelled_order_revokes_its_rewards_unused_or_held_once(client, tokens, coupon_app):
    reward = await make_template(client, tokens, name="返券", take_type=2, take_limit_count=-1)
    await runner(coupon_app).process(paid_with_rewards(9201, {reward["id"]: 3}))
    held, unused, spent = await coupons_of(coupon_app, 1001)
    for order_id, coupon in ((9300, held), (9301, spent)):
        answer = await client.post(HOLDS, json=hold_body(order_id, coupon.id), headers=tokens["service"])
        assert answer.status_code == 201
    await runner(coupon_app).process(paid(9301))
    event = cancelled(9201)
    for raw in (event, event, cancelled(9201)):  # redelivered, then republished with a new id
        await runner(coupon_app).process(raw)
    by_id = {c.id: c for c in await coupons_of(coupon_app, 1001)}
    assert set(by_id) == {held.id, unused.id, spent.id}, "nothing is deleted"
    assert by_id[spent.id].status == 2, "the one a paid order used stays with it"
    for coupon in (by_id[held.id], by_id[unused.id]):
        assert coupon.status == 5 and coupon.revoked_by == "order:9201" and coupon.revoked_at is not None
        assert coupon.revoke_reason == "order_cancelled:pay_timeout" and coupon.use_order_id is None
    assert by_id[held.id].hold_expires_at is None and by_id[held.id].released_order_id == 9300, \
        "the holding order's hold ended at once, and is remembered for its payment"
    assert await take_count(coupon_app, reward["id"]) == 1, "the stock of both went back"
    common = {"template_id": reward["id"], "user_id": 1001, "status": 5, "kind": "revoked", "by": "order:9201",
              "reason": "order_cancelled:pay_timeout", "order_id": 9201}
    assert await revoked_events(coupon_app) == [{"coupon_id": held.id, **common, "held_by_order_id": 9300},
                                                {"coupon_id": unused.id, **common}]
    await runner(coupon_app).process(cancelled(9300))  # the holding order is dropped: nothing comes back
    assert [c.status for c in await coupons_of(coupon_app, 1001)] == [5, 5, 2]


async def test_a_revoked_reward_reads_in_the_operator_s_language(client, tokens, coupon_app):
    reward = await make_template(client, tokens, name="返券", take_type=2, take_limit_count=-1)
    await runner(coupon_app).process(paid_with_rewards(9211, {reward["id"]: 1}))
    await runner(coupon_app).process(cancelled(9211))
    texts = {}
    for locale in ("en", "zh-CN"):
        page = (await client.get("/admin-api/coupon/coupons", params={"status": 5},
                                 headers={**tokens["admin"], "Accept-Language": locale})).json()
        [row] = page["items"]
        assert row["revoke_reason"] == "order_cancelled:pay_timeout", "the stored machine value is kept"
        texts[locale] = row["revoke_reason_text"]
    assert texts == {"en": "The rewarding order was cancelled (not paid in time)",
                     "zh-CN": "发券的订单已取消（超时未支付）"}


async def test_a_revoked_reward_no_longer_counts_against_the_limit(client, tokens, coupon_app):
    reward = await make_template(client, tokens, name="返券", take_type=2, total_count=5, take_limit_count=1)
    await runner(coupon_app).process(paid_with_rewards(6101, {reward["id"]: 1}))
    await runner(coupon_app).process(cancelled(6101))
    await runner(coupon_app).process(paid_with_rewards(6102, {reward["id"]: 1}))
    assert sorted((c.source_order_id, c.status) for c in await coupons_of(coupon_app, 1001)) == [(6101, 5), (6102, 1)]
