"""An order holding several coupons, at most one per owner (one per shop, one of the platform):
`/internal/coupon/holds {coupons: [{coupon_id, discount}]}`, all or none, idempotent by order id,
a different set replacing the earlier one; release, payment (on time or late) and cancel act on
all of them. Against MariaDB."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from services.coupon import lifecycle
from services.coupon.models import Coupon, outbox
from shared.auth import Role
from tests.conftest import bearer
from tests.coupon.test_holds import HOLDS, cancelled, coupon_row, paid, runner, use_count, used_events
from tests.coupon.test_shops import platform_coupon, shop_coupon


async def three(client, tokens, dev_settings) -> tuple[int, int, int]:
    """One coupon of shop 1, one of shop 2, one of the platform, in the member's hands."""
    return (await shop_coupon(client, tokens, dev_settings, 1), await shop_coupon(client, tokens, dev_settings, 2),
            await platform_coupon(client, tokens))


async def payment_refusals(app) -> list[tuple[str, dict]]:
    async with app.state.sessionmaker() as session:
        rows = (await session.execute(select(outbox.c.key, outbox.c.payload)
                                      .where(outbox.c.topic == "promo.coupon.payment-refused")
                                      .order_by(outbox.c.id))).all()
    return [(key, json.loads(payload)) for key, payload in rows]


def hold_set(order_id: int, *coupons: tuple[int, int], user_id: int = 1001) -> dict:
    return {"order_id": order_id, "user_id": user_id,
            "coupons": [{"coupon_id": coupon_id, "discount": discount} for coupon_id, discount in coupons]}


async def states(app, *coupon_ids: int) -> dict[int, tuple[int, int | None, int | None]]:
    """(status, use_order_id, use_discount) of each coupon."""
    rows = {coupon_id: await coupon_row(app, coupon_id) for coupon_id in coupon_ids}
    return {coupon_id: (row.status, row.use_order_id, row.use_discount) for coupon_id, row in rows.items()}


async def test_an_order_holds_one_coupon_per_shop_and_one_of_the_platform(client, tokens, dev_settings, coupon_app):
    a, b, p = await three(client, tokens, dev_settings)
    first = await client.post(HOLDS, json=hold_set(9001, (p, 500), (a, 1000), (b, 300)), headers=tokens["service"])
    assert first.status_code == 201, first.text
    assert first.json()["coupon_ids"] == [p, a, b] and first.json()["coupon_id"] == p
    assert await states(coupon_app, a, b, p) == {a: (4, 9001, 1000), b: (4, 9001, 300), p: (4, 9001, 500)}
    again = await client.post(HOLDS, json=hold_set(9001, (p, 500), (a, 1000), (b, 300)), headers=tokens["service"])
    assert again.status_code == 201
    assert {**again.json(), "hold_expires_at": None} == {**first.json(), "hold_expires_at": None}
    assert again.json()["hold_expires_at"] >= first.json()["hold_expires_at"], "the holds run again from now"
    other = await client.post(HOLDS, json=hold_set(9002, (a, 1000)), headers=tokens["service"])
    assert other.status_code == 409 and other.json()["error"]["code"] == "COUPON_NOT_USABLE"


@pytest.mark.parametrize("body", [
    {"order_id": 9101, "user_id": 1001},  # neither form
    {"order_id": 9101, "user_id": 1001, "coupon_id": 1, "coupons": [{"coupon_id": 1, "discount": 0}]},  # both
    {"order_id": 9101, "user_id": 1001, "coupons": []},
    {"order_id": 9101, "user_id": 1001, "coupons": [{"coupon_id": 1, "discount": 0}, {"coupon_id": 1, "discount": 0}]},
    {"order_id": 9101, "user_id": 1001, "coupons": [{"coupon_id": 1, "discount": -1}]},
    {"order_id": 9101, "user_id": 1001, "coupons": [{"coupon_id": 1}]},
    {"order_id": 9101, "user_id": 1001, "coupons": [{"coupon_id": 1, "discount": "1"}]},
])
async def test_exactly_one_form_well_typed(client, tokens, body):
    refused = await client.post(HOLDS, json=body, headers=tokens["service"])
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "VALIDATION_FAILED", refused.text


async def test_two_coupons_of_one_owner_are_refused_and_nothing_is_held(client, tokens, dev_settings, coupon_app):
    a, b, p = await three(client, tokens, dev_settings)
    a2 = await shop_coupon(client, tokens, dev_settings, 1)
    p2 = await platform_coupon(client, tokens)
    for pair, locale, words in (((a, a2), "en", "one coupon per shop"), ((p, p2), "zh-CN", "每个店铺限用 1 张")):
        refused = await client.post(HOLDS, json=hold_set(9201, (b, 100), (pair[0], 100), (pair[1], 100)),
                                    headers={**tokens["service"], "Accept-Language": locale})
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "COUPON_ONE_PER_OWNER"
        assert words in refused.json()["error"]["message"] and str(pair[1]) in refused.json()["error"]["message"]
    assert {status for status, _, _ in (await states(coupon_app, a, b, p, a2, p2)).values()} == {1}


async def test_a_different_set_replaces_the_order_s_holds(client, tokens, dev_settings, coupon_app):
    a, b, p = await three(client, tokens, dev_settings)
    assert (await client.post(HOLDS, json=hold_set(9301, (a, 1000), (b, 300)),
                              headers=tokens["service"])).status_code == 201
    replaced = await client.post(HOLDS, json=hold_set(9301, (a, 900), (p, 500)), headers=tokens["service"])
    assert replaced.status_code == 201 and replaced.json()["coupon_ids"] == [a, p]
    assert await states(coupon_app, a, b, p) == {a: (4, 9301, 900), b: (1, None, None), p: (4, 9301, 500)}
    single = await client.post(HOLDS, json={"order_id": 9301, "user_id": 1001, "coupon_id": b},
                               headers=tokens["service"])
    assert single.status_code == 201 and single.json()["coupon_ids"] == [b], "today's form: one coupon, no discount"
    assert await states(coupon_app, a, b, p) == {a: (1, None, None), b: (4, 9301, None), p: (1, None, None)}


async def test_all_or_none(client, tokens, dev_settings, coupon_app):
    a, b, p = await three(client, tokens, dev_settings)
    assert (await client.post(HOLDS, json=hold_set(9401, (b, 300)), headers=tokens["service"])).status_code == 201
    assert (await client.post(HOLDS, json=hold_set(9402, (a, 100)), headers=tokens["service"])).status_code == 201
    refused = await client.post(HOLDS, json=hold_set(9401, (p, 500), (a, 100)), headers=tokens["service"])
    assert refused.status_code == 409 and refused.json()["error"]["details"] == {"coupon_id": a}
    assert await states(coupon_app, a, b, p) == {a: (4, 9402, 100), b: (4, 9401, 300), p: (1, None, None)}, \
        "nothing of the refused set is held; the order keeps its earlier hold"
    missing = await client.post(HOLDS, json=hold_set(9401, (p, 500), (99999999, 1)), headers=tokens["service"])
    assert missing.status_code == 409


async def test_release_payment_and_cancel_act_on_every_coupon_of_the_order(client, tokens, dev_settings,
                                                                            coupon_app):
    a, b, p = await three(client, tokens, dev_settings)
    body = hold_set(9501, (a, 1000), (b, 300), (p, 500))
    assert (await client.post(HOLDS, json=body, headers=tokens["service"])).status_code == 201
    released = await client.post("/internal/coupon/holds/9501/release", headers=tokens["service"])
    assert released.json() == {"order_id": 9501, "released": 3}
    assert {s for s, _, _ in (await states(coupon_app, a, b, p)).values()} == {1}
    assert (await client.post(HOLDS, json={**body, "order_id": 9502}, headers=tokens["service"])).status_code == 201
    for _ in range(2):
        await runner(coupon_app).process(paid(9502))
    assert await states(coupon_app, a, b, p) == {a: (2, 9502, 1000), b: (2, 9502, 300), p: (2, 9502, 500)}
    assert [await use_count(coupon_app, c) for c in (a, b, p)] == [1, 1, 1]
    assert sorted(e["data"]["coupon_id"] for _, e in await used_events(coupon_app)) == sorted([a, b, p])
    await runner(coupon_app).process(cancelled(9502))
    assert await states(coupon_app, a, b, p) == {a: (1, None, None), b: (1, None, None), p: (1, None, None)}
    assert [await use_count(coupon_app, c) for c in (a, b, p)] == [0, 0, 0]


async def test_a_late_payment_takes_back_every_coupon_whose_hold_ran_out(client, tokens, dev_settings, coupon_app):
    a, _, p = await three(client, tokens, dev_settings)
    assert (await client.post(HOLDS, json=hold_set(9601, (a, 1000), (p, 500)),
                              headers=tokens["service"])).status_code == 201
    async with coupon_app.state.sessionmaker() as session, session.begin():
        assert await lifecycle.expire_due(session, datetime.now(UTC) + timedelta(hours=1)) == (2, 0)
    for _ in range(2):
        await runner(coupon_app).process(paid(9601))
    assert await states(coupon_app, a, p) == {a: (2, 9601, 1000), p: (2, 9601, 500)}, "with the discounts said"
    assert [await use_count(coupon_app, c) for c in (a, p)] == [1, 1]


async def test_a_payment_commits_the_holds_left_and_settles_the_one_that_ran_out(client, tokens, dev_settings,
                                                                                 coupon_app):
    a, b, p = await three(client, tokens, dev_settings)
    assert (await client.post(HOLDS, json=hold_set(9651, (a, 1000), (b, 300)),
                              headers=tokens["service"])).status_code == 201
    async with coupon_app.state.sessionmaker() as session, session.begin():
        await session.execute(update(Coupon).where(Coupon.id == a).values(hold_expires_at=datetime(2020, 1, 1,
                                                                                                   tzinfo=UTC)))
    async with coupon_app.state.sessionmaker() as session, session.begin():
        assert await lifecycle.expire_due(session, datetime.now(UTC)) == (1, 0)
    assert (await client.post(HOLDS, json=hold_set(9652, (a, 50), (p, 500)),
                              headers=tokens["service"])).status_code == 201, "another order took it meanwhile"
    await runner(coupon_app).process(paid(9651))
    assert await states(coupon_app, a, b) == {a: (4, 9652, 50), b: (2, 9651, 300)}
    refused = [e["data"] for _, e in await payment_refusals(coupon_app)]
    assert [(r["order_id"], r["coupon_id"], r["reason"]) for r in refused] == [(9651, a, "coupon_used_elsewhere")]


async def test_a_merchant_s_figures_count_the_discounts_its_coupons_gave(client, tokens, dev_settings, coupon_app):
    a, _, p = await three(client, tokens, dev_settings)
    a2 = await shop_coupon(client, tokens, dev_settings, 1)
    for order_id, coupons in ((9701, ((a, 1000), (p, 500))), (9702, ((a2, 700),))):
        assert (await client.post(HOLDS, json=hold_set(order_id, *coupons),
                                  headers=tokens["service"])).status_code == 201
    await runner(coupon_app).process(paid(9701))
    shop1 = bearer(dev_settings, Role.MERCHANT, 2001, business_id=1)
    template_id = (await coupon_row(coupon_app, a)).template_id
    assert (await coupon_row(coupon_app, a2)).template_id != template_id  # each shop_coupon has its own template
    figures = (await client.get(f"/merchant-api/coupon/templates/{template_id}/stats", headers=shop1)).json()
    assert (figures["used"], figures["discount_given"], figures["orders"]) == (1, 1000, 1)


async def test_two_holds_of_one_order_with_different_sets_end_with_one_set(client, tokens, dev_settings,
                                                                           coupon_app):
    """Each waits for the other's coupons to go back: MySQL rolls one back (a deadlock), it runs
    again and replaces the other's holds. Never a 5xx; the order ends holding one whole set."""
    for order_id in range(9801, 9806):
        a, b, p = await three(client, tokens, dev_settings)
        a2, p2 = await shop_coupon(client, tokens, dev_settings, 1), await platform_coupon(client, tokens)
        sets = [((a, 100), (b, 200), (p, 300)), ((a2, 400), (b, 500), (p2, 600))]  # b in both
        answers = await asyncio.gather(*(client.post(HOLDS, json=hold_set(order_id, *s), headers=tokens["service"])
                                         for s in sets))
        assert [r.status_code for r in answers] == [201, 201], [r.text for r in answers]
        rows = await states(coupon_app, a, b, p, a2, p2)
        held = {c for c, (status, order, _) in rows.items() if status == 4 and order == order_id}
        assert held in ({a, b, p}, {a2, b, p2}), rows
        kept = sets[0] if held == {a, b, p} else sets[1]
        assert {c: rows[c][2] for c in held} == dict(kept), "the discounts of the set held"
        assert all(rows[c][:2] == (1, None) for c in rows if c not in held), "the other set went back whole"
