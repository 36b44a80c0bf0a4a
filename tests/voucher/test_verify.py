"""Verification (核销) and reversal (冲正) over HTTP against MariaDB: by value and by use, each
refusal with its own code and nothing written, the Idempotency-Key, the reversal window."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from services.voucher.models import Verification, Voucher
from tests.voucher.support import (
    APP,
    LUJIAZUI,
    A,
    M,
    buy,
    events,
    make_product,
    make_store,
    records_of,
    shop,
    terms_body,
    verify,
    voucher_row,
)


async def set_voucher(app, voucher_id: int, **values) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(update(Voucher).where(Voucher.id == voucher_id).values(**values))


async def unchanged(app, voucher: Voucher) -> None:
    """A refusal wrote nothing: no record, the voucher as it was, no event."""
    row = await voucher_row(app, voucher.id)
    assert (row.surplus_value, row.surplus_times, row.cost_settled) == (voucher.surplus_value, voucher.surplus_times,
                                                                        voucher.cost_settled)
    assert await records_of(app, voucher.id) == []
    assert await events(app, "promo.voucher.verified") == []


def refused(answer, status: int, code: str) -> dict:
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code, answer.text
    return answer.json()["error"]


async def test_by_value_records_the_seed_s_snapshot_and_publishes(client, people, voucher_app):
    store, product, voucher = await shop(client, people, voucher_app)
    answer = await verify(client, people, f" {voucher.code[:4]}-{voucher.code[4:8]}-{voucher.code[8:]} ".lower(),
                          store["id"], "a2", minus_value=2500, currency="CNY")
    assert answer.status_code == 201, answer.text
    record = answer.json()
    assert {k: record[k] for k in ("business_id", "kind", "voucher_id", "order_id", "user_id", "product_id", "sku_id",
                                   "selling_store_id", "store_id", "staff_user_id", "voucher_kind", "currency",
                                   "value", "max_using_times", "minus_value", "actual_minus_value", "times_taken",
                                   "cost", "surplus_value_before", "surplus_times_before", "surplus_value_after",
                                   "surplus_times_after", "reverses_id")} == {
        "business_id": 194, "kind": 1, "voucher_id": voucher.id, "order_id": 9001, "user_id": 1001,
        "product_id": product["id"], "sku_id": 537, "selling_store_id": store["id"], "store_id": store["id"],
        "staff_user_id": 40, "voucher_kind": 1, "currency": "CNY", "value": 10000, "max_using_times": 3,
        "minus_value": 2500, "actual_minus_value": 2500, "times_taken": 1, "cost": 2125, "surplus_value_before": 10000,
        "surplus_times_before": 3, "surplus_value_after": 7500, "surplus_times_after": 2, "reverses_id": None}
    [event] = await events(voucher_app, "promo.voucher.verified")
    assert event["_key"] == "9001" and event["verification_id"] == record["id"]
    assert (event["actual_minus_value"], event["cost"], event["surplus_value"], event["voucher_status"]) == \
        (2500, 2125, 7500, 1)
    row = await voucher_row(voucher_app, voucher.id)
    assert (row.surplus_value, row.surplus_times, row.cost_settled, row.status) == (7500, 2, 2125, 1)


async def test_by_use_three_visits_use_it_up_and_a_fourth_finds_nothing_left(client, people, voucher_app):
    store, _, voucher = await shop(client, people, voucher_app, sku_id=555, kind=2, value=19900, cost=15000)
    taken = []
    for _ in range(3):
        answer = await verify(client, people, voucher.code, store["id"])
        assert answer.status_code == 201, answer.text
        taken.append((answer.json()["actual_minus_value"], answer.json()["cost"]))
    assert taken == [(6633, 4999), (6633, 5000), (6634, 5001)], "cost in proportion to the value used"
    row = await voucher_row(voucher_app, voucher.id)
    assert (row.surplus_value, row.surplus_times, row.cost_settled, row.status) == (0, 0, 15000, 2)
    refused(await verify(client, people, voucher.code, store["id"]), 409, "VOUCHER_NOTHING_LEFT")
    assert len(await records_of(voucher_app, voucher.id)) == 3


async def test_each_refusal_has_its_code_and_writes_nothing(client, people, voucher_app):
    store, product, voucher = await shop(client, people, voucher_app)
    by_value = {"minus_value": 100, "currency": "CNY"}
    refused(await verify(client, people, "ABCDEFGHJKMN", store["id"], **by_value), 404, "VOUCHER_CODE_NOT_FOUND")
    theirs = await make_store(client, people, "b")
    refused(await verify(client, people, voucher.code, theirs["id"], **by_value), 404, "VOUCHER_STORE_NOT_FOUND")
    pending = await make_store(client, people, approved=False, name="待审核店")
    error = refused(await verify(client, people, voucher.code, pending["id"], **by_value), 409,
                    "VOUCHER_STORE_UNAVAILABLE")
    assert error["details"]["reason_code"] == "STORE_NOT_APPROVED"
    elsewhere = await make_store(client, people, name="不适用的店", at=LUJIAZUI)
    refused(await verify(client, people, voucher.code, elsewhere["id"], **by_value), 422, "VOUCHER_STORE_NOT_ACCEPTED")
    refused(await verify(client, people, voucher.code, store["id"]), 422, "VOUCHER_VERIFY_MODE_MISMATCH")
    error = refused(await verify(client, people, voucher.code, store["id"], minus_value=100, currency="USD"), 422,
                    "VOUCHER_CURRENCY_MISMATCH")
    assert error["details"] == {"expected": "CNY", "given": "USD"}
    await client.put(f"{M}/stores/{store['id']}/status", json={"status": 1}, headers=people["a"])
    error = refused(await verify(client, people, voucher.code, store["id"], **by_value), 409,
                    "VOUCHER_STORE_UNAVAILABLE")
    assert error["details"]["reason_code"] == "STORE_DISABLED"
    await client.put(f"{M}/stores/{store['id']}/status", json={"status": 0}, headers=people["a"])
    await unchanged(voucher_app, voucher)
    assert product["id"] == voucher.product_id


async def test_a_voucher_outside_its_validity_or_not_active_is_refused(client, people, voucher_app):
    store, _, voucher = await shop(client, people, voucher_app)
    body = {"minus_value": 100, "currency": "CNY"}
    await set_voucher(voucher_app, voucher.id, valid_start_at=voucher.valid_start_at + timedelta(days=1))
    error = refused(await verify(client, people, voucher.code, store["id"], **body), 409, "VOUCHER_OUTSIDE_VALIDITY")
    assert error["details"]["reason_code"] == "NOT_YET_VALID"
    await set_voucher(voucher_app, voucher.id, valid_start_at=voucher.valid_start_at - timedelta(days=2),
                      valid_end_at=voucher.valid_start_at - timedelta(days=1))
    error = refused(await verify(client, people, voucher.code, store["id"], **body), 409, "VOUCHER_OUTSIDE_VALIDITY")
    assert error["details"]["reason_code"] == "VALIDITY_ENDED", "past its end, though the job has not run yet"
    for status, reason in ((3, "EXPIRED"), (4, "REFUNDED")):
        await set_voucher(voucher_app, voucher.id, status=status, valid_end_at=voucher.valid_end_at)
        error = refused(await verify(client, people, voucher.code, store["id"], **body), 409, "VOUCHER_NOT_ACTIVE")
        assert error["details"]["reason_code"] == reason
    await unchanged(voucher_app, voucher)


async def test_the_idempotency_key_is_required_and_a_retry_gets_the_first_answer(client, people, voucher_app):
    store, _, voucher = await shop(client, people, voucher_app)
    body = {"code": voucher.code, "store_id": store["id"], "minus_value": 3000, "currency": "CNY"}
    missing = await client.post(f"{M}/verifications", json=body, headers=people["a"])
    assert missing.status_code == 422 and missing.json()["error"]["details"]["errors"][0]["loc"] == \
        ["header", "Idempotency-Key"]
    bad = await client.post(f"{M}/verifications", json=body, headers={**people["a"], "Idempotency-Key": "a b"})
    assert bad.status_code == 422
    first = await verify(client, people, voucher.code, store["id"], key="pos-1-0001", minus_value=3000,
                         currency="CNY")
    again = await verify(client, people, voucher.code.lower(), store["id"], "a2", key="pos-1-0001",
                         minus_value=3000, currency="CNY")
    assert (first.status_code, again.status_code) == (201, 200) and again.json() == first.json()
    other = await verify(client, people, voucher.code, store["id"], key="pos-1-0001", minus_value=10, currency="CNY")
    error = refused(other, 409, "VOUCHER_IDEMPOTENCY_KEY_REUSED")
    assert error["details"] == {"id": first.json()["id"]}
    assert (await voucher_row(voucher_app, voucher.id)).surplus_value == 7000, "taken once"
    assert len(await events(voucher_app, "promo.voucher.verified")) == 1
    theirs = await make_store(client, people, "b")
    their_product = await make_product(client, people, [theirs["id"]], "b", sku_id=777)
    [their_voucher] = await buy(voucher_app, 9002, sku_id=their_product["sku_id"])
    same_key = await verify(client, people, their_voucher.code, theirs["id"], "b", key="pos-1-0001",
                            minus_value=100, currency="CNY")
    assert same_key.status_code == 201, "keys are per merchant"


async def test_a_reversal_gives_back_once_within_the_window(client, people, voucher_app):
    store, _, voucher = await shop(client, people, voucher_app)
    record = (await verify(client, people, voucher.code, store["id"], minus_value=4000, currency="CNY")).json()
    first = await client.post(f"{M}/verifications/{record['id']}/reversal", headers=people["a2"])
    again = await client.post(f"{M}/verifications/{record['id']}/reversal", headers=people["a"])
    assert (first.status_code, again.status_code) == (201, 200) and again.json() == first.json()
    reversal = first.json()
    assert (reversal["kind"], reversal["reverses_id"], reversal["staff_user_id"], reversal["store_id"]) == \
        (2, record["id"], 40, store["id"])
    assert (reversal["actual_minus_value"], reversal["times_taken"], reversal["cost"]) == (-4000, -1, -3400)
    assert (reversal["surplus_value_before"], reversal["surplus_value_after"]) == (6000, 10000)
    row = await voucher_row(voucher_app, voucher.id)
    assert (row.surplus_value, row.surplus_times, row.cost_settled, row.status) == (10000, 3, 0, 1)
    [event] = await events(voucher_app, "promo.voucher.verification-reversed")
    assert (event["reverses_id"], event["actual_minus_value"], event["surplus_value"]) == (record["id"], -4000, 10000)
    refused(await client.post(f"{M}/verifications/{reversal['id']}/reversal", headers=people["a"]), 409,
            "VOUCHER_NOT_REVERSIBLE")
    refused(await client.post(f"{M}/verifications/{record['id']}/reversal", headers=people["b"]), 404,
            "VOUCHER_VERIFICATION_NOT_FOUND")


async def test_a_reversal_after_the_window_is_refused(client, people, voucher_app):
    store, _, voucher = await shop(client, people, voucher_app)
    record = (await verify(client, people, voucher.code, store["id"], minus_value=4000, currency="CNY")).json()
    async with voucher_app.state.sessionmaker() as session, session.begin():
        row = await session.get(Verification, record["id"])
        row.created_at -= timedelta(minutes=30)
    error = refused(await client.post(f"{M}/verifications/{record['id']}/reversal",
                                      headers={**people["a"], "Accept-Language": "en"}), 409,
                    "VOUCHER_REVERSAL_WINDOW_PASSED")
    assert error["details"]["minutes"] == 30 and "within 30 minutes" in error["message"]
    assert (await voucher_row(voucher_app, voucher.id)).surplus_value == 6000


async def test_a_store_the_product_adds_later_accepts_vouchers_sold_before(client, people, voucher_app):
    store, product, voucher = await shop(client, people, voucher_app)
    later = await make_store(client, people, name="新开的店", at=(31.20, 121.40))
    refused(await verify(client, people, voucher.code, later["id"], minus_value=1, currency="CNY"), 422,
            "VOUCHER_STORE_NOT_ACCEPTED")
    change = await client.put(f"{M}/products/{product['id']}", json=terms_body([store["id"], later["id"]]),
                              headers=people["a"])
    refused(await verify(client, people, voucher.code, later["id"], minus_value=1, currency="CNY"), 422,
            "VOUCHER_STORE_NOT_ACCEPTED")  # the change waits for review
    await client.post(f"{A}/reviews/{change.json()['pending_review_id']}/approve", headers=people["admin"])
    assert (await verify(client, people, voucher.code, later["id"], minus_value=1, currency="CNY")).status_code == 201


async def test_only_a_merchant_s_staff_verify(client, people, voucher_app):
    store, _, voucher = await shop(client, people, voucher_app)
    body = {"code": voucher.code, "store_id": store["id"], "minus_value": 100, "currency": "CNY"}
    for who, status in (("buyer", 403), ("admin", 403), ("service", 403)):
        answer = await client.post(f"{M}/verifications", json=body, headers={**people[who], "Idempotency-Key": "k1"})
        assert answer.status_code == status
    assert (await client.post(f"{M}/verifications", json=body, headers={"Idempotency-Key": "k1"})).status_code == 401
    await unchanged(voucher_app, voucher)


async def test_staff_look_up_a_code_before_verifying(client, people, voucher_app):
    _, _, voucher = await shop(client, people, voucher_app)
    seen = await client.get(f"{M}/codes/{voucher.code.lower()}", headers=people["a"])
    assert seen.status_code == 200 and seen.json()["id"] == voucher.id and seen.json()["surplus_value"] == 10000
    assert seen.json()["valid_until_text"].endswith("23:59"), "a voucher valid N days ends at midnight in Shanghai"
    assert (await client.get(f"{M}/codes/{voucher.code}", headers=people["b"])).status_code == 404
    mine = (await client.get(f"{APP}/vouchers/{voucher.id}", headers=people["buyer"])).json()
    assert mine["valid_until_text"] == seen.json()["valid_until_text"]
