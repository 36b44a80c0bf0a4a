"""What the order's events do, through the real consumer runner against MariaDB: order.paid issues
one voucher per unit once (delivered twice, republished with a new id), order.cancelled refunds
untouched vouchers and refuses, and reports, those partly used, once; a payment after its order's
cancel issues nothing."""

from __future__ import annotations

import asyncio

from services.voucher.models import Voucher
from shared.consumer import Outcome
from tests.voucher.support import (
    buy,
    cancelled,
    events,
    make_product,
    make_store,
    paid,
    runner,
    verify,
    voucher_row,
    vouchers_of,
)


async def test_order_paid_issues_one_voucher_per_unit_once(client, people, voucher_app):
    store = await make_store(client, people)
    product = await make_product(client, people, [store["id"]])
    times = await make_product(client, people, [store["id"]], sku_id=555, kind=2, value=9000, cost=0)
    event = paid(7001, [(537, 2, 17601), (999, 1, 500), (555, 1, 8000)])
    for raw in (event, event, paid(7001, [(537, 2, 17601), (999, 1, 500), (555, 1, 8000)])):
        await runner(voucher_app).process(raw)  # delivered twice, then republished with a new event id
    vouchers = await vouchers_of(voucher_app, 7001)
    assert [(v.sku_id, v.unit_no, v.pay_price, v.product_id) for v in vouchers] == [
        (537, 1, 8801, product["id"]), (537, 2, 8800, product["id"]), (555, 1, 8000, times["id"])], \
        "SKU 999 is no voucher product"
    assert len({v.code for v in vouchers}) == 3 and all(v.status == 1 and v.user_id == 1001 for v in vouchers)
    assert (vouchers[0].surplus_value, vouchers[0].surplus_times, vouchers[2].kind) == (10000, 3, 2)
    issued = await events(voucher_app, "promo.voucher.issued")
    assert [e["voucher_id"] for e in issued] == [v.id for v in vouchers] and {e["_key"] for e in issued} == {"7001"}
    assert {k: issued[0][k] for k in ("business_id", "product_id", "sku_id", "spu_id", "user_id", "order_id",
                                       "unit_no", "kind", "value", "currency", "max_using_times")} == {
        "business_id": 194, "product_id": product["id"], "sku_id": 537, "spu_id": 537, "user_id": 1001,
        "order_id": 7001, "unit_no": 1, "kind": 1, "value": 10000, "currency": "CNY", "max_using_times": 3}
    assert "code" not in issued[0], "the code is the buyer's secret"


async def test_a_unit_issued_by_a_concurrent_delivery_is_left_to_it(client, people, voucher_app, caplog):
    """Republished copies handled at once: each finds the units the first issued and leaves them, at
    the first attempt (no handler failure, no retry)."""
    store = await make_store(client, people)
    await make_product(client, people, [store["id"]])
    outcomes = await asyncio.gather(*(runner(voucher_app).process(paid(7002, [(537, 3, 26400)])) for _ in range(4)))
    assert set(outcomes) == {Outcome.PROCESSED}
    assert [r.message for r in caplog.records if r.name == "shared.consumer"] == []
    vouchers = await vouchers_of(voucher_app, 7002)
    assert sorted(v.unit_no for v in vouchers) == [1, 2, 3]
    assert len(await events(voucher_app, "promo.voucher.issued")) == 3


async def test_a_refund_of_untouched_and_partly_used_vouchers(client, people, voucher_app):
    store = await make_store(client, people)
    await make_product(client, people, [store["id"]])
    untouched, used = await buy(voucher_app, 7101, count=2, pay_price=17600)
    answer = await verify(client, people, used.code, store["id"], minus_value=3000, currency="CNY")
    assert answer.status_code == 201
    event = cancelled(7101)
    for raw in (event, event, cancelled(7101)):
        await runner(voucher_app).process(raw)
    refunded = await voucher_row(voucher_app, untouched.id)
    assert (refunded.status, refunded.ended_by, refunded.end_reason) == (4, "order:7101",
                                                                         "order_cancelled:after_sale_close")
    assert refunded.ended_at is not None and refunded.surplus_value == 10000, "kept, never deleted"
    still = await voucher_row(voucher_app, used.id)
    assert (still.status, still.surplus_value) == (1, 7000), "a partly used voucher stays usable"
    [done] = await events(voucher_app, "promo.voucher.refunded")
    assert done["_key"] == "7101" and done["vouchers"] == [{"voucher_id": untouched.id, "sku_id": 537,
                                                             "value": 10000, "currency": "CNY", "pay_price": 8800}]
    [refused] = await events(voucher_app, "promo.voucher.refund-refused")
    assert refused["order_id"] == 7101 and refused["reason"] == "after_sale_close"
    assert refused["vouchers"] == [{"voucher_id": used.id, "sku_id": 537, "status": 1, "currency": "CNY",
                                    "value": 10000, "surplus_value": 7000, "used_value": 3000, "max_using_times": 3,
                                    "surplus_times": 2, "used_times": 1, "pay_price": 8800}]
    again = await verify(client, people, untouched.code, store["id"], minus_value=100, currency="CNY")
    assert again.status_code == 409 and again.json()["error"]["code"] == "VOUCHER_NOT_ACTIVE"
    assert (await verify(client, people, used.code, store["id"], minus_value=100, currency="CNY")).status_code == 201


async def test_a_used_up_voucher_s_refund_is_refused_and_a_reversed_one_is_refunded(client, people, voucher_app):
    store = await make_store(client, people)
    await make_product(client, people, [store["id"]])
    [spent] = await buy(voucher_app, 7201)
    await verify(client, people, spent.code, store["id"], minus_value=10000, currency="CNY")
    [undone] = await buy(voucher_app, 7202)
    record = (await verify(client, people, undone.code, store["id"], minus_value=500, currency="CNY")).json()
    await client.post(f"/merchant-api/voucher/verifications/{record['id']}/reversal", headers=people["a"])
    for order_id in (7201, 7202):
        await runner(voucher_app).process(cancelled(order_id))
    assert (await voucher_row(voucher_app, spent.id)).status == 2
    assert (await voucher_row(voucher_app, undone.id)).status == 4, "reversed: untouched again, so refunded"
    [refused] = await events(voucher_app, "promo.voucher.refund-refused")
    assert (refused["order_id"], refused["vouchers"][0]["used_value"], refused["vouchers"][0]["status"]) == \
        (7201, 10000, 2)


async def test_a_payment_after_its_order_s_cancel_issues_nothing(client, people, voucher_app):
    store = await make_store(client, people)
    await make_product(client, people, [store["id"]])
    await runner(voucher_app).process(cancelled(7301, paid_before=False))
    assert await buy(voucher_app, 7301) == []
    assert await events(voucher_app, "promo.voucher.refunded") == []


async def test_an_order_without_vouchers_cancelled_reports_nothing(client, people, voucher_app):
    await runner(voucher_app).process(cancelled(7401))
    for kind in ("promo.voucher.refunded", "promo.voucher.refund-refused"):
        assert await events(voucher_app, kind) == []


async def test_vouchers_are_never_deleted(client, people, voucher_app):
    store = await make_store(client, people)
    await make_product(client, people, [store["id"]])
    await buy(voucher_app, 7501)
    await runner(voucher_app).process(cancelled(7501))
    [voucher] = await vouchers_of(voucher_app, 7501)
    assert isinstance(voucher, Voucher) and voucher.status == 4
