"""Concurrency against MariaDB: staff racing for one voucher never take more than is left, retries
of one Idempotency-Key take once and all get the first answer, a verification racing its order's
refund: one of them wins, never both; a reversal comes back once. Each race is run as a plain
concurrent burst, and the ordering ones also with one side's transaction held open."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from datetime import UTC, datetime

from services.voucher import issuing, repository_vouchers, verifying
from services.voucher.schemas import VerifyIn
from services.voucher.verifying import Staff
from shared.events import OrderCancelled
from tests.voucher.support import (
    SHANGHAI,
    M,
    buy,
    cancelled,
    events,
    make_product,
    make_store,
    records_of,
    runner,
    verify,
    voucher_row,
)

WAIT = 0.5  # long enough for the other side to reach the lock on a loaded machine; the outcome holds either way


async def uses_voucher(client, people, app, order_id: int, uses: int = 3) -> tuple[int, object]:
    store = await make_store(client, people)
    await make_product(client, people, [store["id"]], sku_id=555, kind=2, value=9000, max_using_times=uses, cost=0)
    [voucher] = await buy(app, order_id, sku_id=555)
    return store["id"], voucher


def chained(records) -> bool:
    """Each record starts where the one before ended: no two decided on the same state."""
    return all(a.surplus_times_after == b.surplus_times_before and a.surplus_value_after == b.surplus_value_before
               for a, b in itertools.pairwise(records))


async def test_twenty_staff_at_once_on_three_uses_exactly_three_succeed(client, people, voucher_app):
    store_id, voucher = await uses_voucher(client, people, voucher_app, 9401)
    answers = await asyncio.gather(*(verify(client, people, voucher.code, store_id, ("a", "a2")[n % 2])
                                     for n in range(20)))
    codes = Counter(a.status_code for a in answers)
    assert codes == {201: 3, 409: 17}, [a.text for a in answers if a.status_code not in (201, 409)]
    assert {a.json()["error"]["code"] for a in answers if a.status_code == 409} == {"VOUCHER_NOTHING_LEFT"}
    row = await voucher_row(voucher_app, voucher.id)
    assert (row.surplus_times, row.surplus_value, row.status) == (0, 0, 2)
    records = await records_of(voucher_app, voucher.id)
    assert len(records) == 3 and chained(records) and sum(r.actual_minus_value for r in records) == 9000
    assert len(await events(voucher_app, "promo.voucher.verified")) == 3


async def test_twenty_staff_at_once_by_value_never_take_more_than_the_value(client, people, voucher_app):
    store = await make_store(client, people)
    await make_product(client, people, [store["id"]], max_using_times=100)
    [voucher] = await buy(voucher_app, 9402)
    answers = await asyncio.gather(*(verify(client, people, voucher.code, store["id"], minus_value=1500,
                                            currency="CNY") for _ in range(20)))
    taken = sorted(a.json()["actual_minus_value"] for a in answers if a.status_code == 201)
    assert taken == [1000] + [1500] * 6, "six full deductions and the last 1000 left"
    assert Counter(a.status_code for a in answers) == {201: 7, 409: 13}
    row = await voucher_row(voucher_app, voucher.id)
    assert (row.surplus_value, row.status, row.cost_settled) == (0, 2, 8500)


async def test_without_the_row_lock_the_conditional_update_still_never_takes_more(client, people, voucher_app,
                                                                                    monkeypatch):
    """The database's last guard: the voucher read without its lock (the decision may be stale), the
    conditional UPDATE applies only to the state the decision read."""
    plain = repository_vouchers.voucher_by_code

    async def unlocked(session, code, business_id, *, for_update=False):
        return await plain(session, code, business_id)

    monkeypatch.setattr(repository_vouchers, "voucher_by_code", unlocked)
    store_id, voucher = await uses_voucher(client, people, voucher_app, 9403)
    answers = await asyncio.gather(*(verify(client, people, voucher.code, store_id) for _ in range(20)))
    won = [a for a in answers if a.status_code == 201]
    assert {a.json()["error"]["code"] for a in answers if a.status_code != 201} <= {"VOUCHER_BUSY",
                                                                                   "VOUCHER_NOTHING_LEFT"}
    row = await voucher_row(voucher_app, voucher.id)
    records = await records_of(voucher_app, voucher.id)
    assert 1 <= len(won) <= 3 and len(records) == len(won) and chained(records)
    assert row.surplus_times == 3 - len(won) and row.surplus_value == 9000 - sum(r.actual_minus_value for r in records)


async def test_ten_retries_of_one_key_take_once_and_all_get_the_first_answer(client, people, voucher_app):
    """One use only: a retry that decided for itself would be told nothing is left."""
    store_id, voucher = await uses_voucher(client, people, voucher_app, 9404, uses=1)
    answers = await asyncio.gather(*(verify(client, people, voucher.code, store_id, key="retry-me")
                                     for _ in range(10)))
    assert sorted(a.status_code for a in answers) == [200] * 9 + [201], [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert len(await records_of(voucher_app, voucher.id)) == 1
    assert (await voucher_row(voucher_app, voucher.id)).surplus_times == 0
    assert len(await events(voucher_app, "promo.voucher.verified")) == 1


async def test_ten_retries_by_value_deduct_once(client, people, voucher_app):
    store = await make_store(client, people)
    await make_product(client, people, [store["id"]])
    [voucher] = await buy(voucher_app, 9405)
    answers = await asyncio.gather(*(verify(client, people, voucher.code, store["id"], key="same", minus_value=1000,
                                            currency="CNY") for _ in range(10)))
    assert Counter(a.status_code for a in answers) == {201: 1, 200: 9}
    assert (await voucher_row(voucher_app, voucher.id)).surplus_value == 9000


async def test_verify_racing_refund_one_wins_never_both(client, people, voucher_app):
    store = await make_store(client, people)
    await make_product(client, people, [store["id"]])
    outcomes = Counter()
    for n in range(10):
        [voucher] = await buy(voucher_app, 9500 + n)
        answer, _ = await asyncio.gather(
            verify(client, people, voucher.code, store["id"], minus_value=100, currency="CNY"),
            runner(voucher_app).process(cancelled(9500 + n)))
        row = await voucher_row(voucher_app, voucher.id)
        if answer.status_code == 201:
            assert (row.status, row.surplus_value) == (1, 9900), "verified first: the refund is refused"
            outcomes["verified"] += 1
        else:
            assert answer.json()["error"]["code"] == "VOUCHER_NOT_ACTIVE", answer.text
            assert (row.status, row.surplus_value) == (4, 10000), "refunded first: nothing is taken"
            outcomes["refunded"] += 1
    assert sum(outcomes.values()) == 10
    refused = await events(voucher_app, "promo.voucher.refund-refused")
    refunded = await events(voucher_app, "promo.voucher.refunded")
    assert (len(refused), len(refunded)) == (outcomes["verified"], outcomes["refunded"])


async def test_a_refund_waits_for_a_verification_in_progress_and_is_refused(client, people, voucher_app):
    store = await make_store(client, people)
    await make_product(client, people, [store["id"]])
    [voucher] = await buy(voucher_app, 9601)
    body = VerifyIn(code=voucher.code, store_id=store["id"], minus_value=100, currency="CNY")
    async with voucher_app.state.vouchers.sessions() as session, session.begin():
        await verifying.verify(session, Staff(194, 38), body, "held-open", datetime.now(UTC), SHANGHAI)
        racing = asyncio.create_task(runner(voucher_app).process(cancelled(9601)))
        await asyncio.sleep(WAIT)
        assert not racing.done(), "the refund waits for the verification's lock"
    await racing
    assert (await voucher_row(voucher_app, voucher.id)).status == 1
    [refused] = await events(voucher_app, "promo.voucher.refund-refused")
    assert refused["vouchers"][0]["used_value"] == 100


async def test_a_verification_waits_for_a_refund_in_progress_and_is_refused(client, people, voucher_app):
    store = await make_store(client, people)
    await make_product(client, people, [store["id"]])
    [voucher] = await buy(voucher_app, 9602)
    event = OrderCancelled(order_id=9602, user_id=1001, cancelled_at=datetime.now(UTC), paid=True)
    async with voucher_app.state.sessionmaker() as session, session.begin():
        refunded, _ = await issuing.order_cancelled(session, event)
        assert [v.id for v in refunded] == [voucher.id]
        racing = asyncio.create_task(verify(client, people, voucher.code, store["id"], minus_value=100,
                                            currency="CNY"))
        await asyncio.sleep(WAIT)
        assert not racing.done(), "the verification waits for the refund's lock"
    answer = await racing
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "VOUCHER_NOT_ACTIVE"
    assert (await voucher_row(voucher_app, voucher.id)).surplus_value == 10000


async def test_two_reversals_at_once_give_back_once(client, people, voucher_app):
    store = await make_store(client, people)
    await make_product(client, people, [store["id"]])
    [voucher] = await buy(voucher_app, 9603)
    record = (await verify(client, people, voucher.code, store["id"], minus_value=2500, currency="CNY")).json()
    answers = await asyncio.gather(*(client.post(f"{M}/verifications/{record['id']}/reversal", headers=people["a"])
                                     for _ in range(6)))
    assert sorted(a.status_code for a in answers) == [200] * 5 + [201]
    assert len({a.json()["id"] for a in answers}) == 1
    assert (await voucher_row(voucher_app, voucher.id)).surplus_value == 10000
    assert len(await records_of(voucher_app, voucher.id)) == 2
