"""The whole path once, over HTTP against MariaDB: a merchant's stores and product approved, an
order paid, the buyer's voucher, staff verifying it by value in two visits, a reversal."""

from __future__ import annotations

from tests.voucher.support import APP, M, events, records_of, shop, verify, voucher_row


async def test_bought_listed_verified_reversed(client, people, voucher_app):
    store, _, voucher = await shop(client, people, voucher_app)
    mine = (await client.get(f"{APP}/vouchers", headers=people["buyer"])).json()
    assert [v["id"] for v in mine["items"]] == [voucher.id] and mine["items"][0]["code"] == voucher.code
    assert mine["items"][0]["surplus_value"] == 10000 and mine["items"][0]["status"] == 1

    first = await verify(client, people, voucher.code.lower(), store["id"], minus_value=3000, currency="CNY")
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["actual_minus_value"], body["surplus_value_after"], body["surplus_times_after"]) == (3000, 7000, 2)
    second = await verify(client, people, voucher.code, store["id"], minus_value=9000, currency="CNY")
    assert second.json()["actual_minus_value"] == 7000, "capped at what is left"
    row = await voucher_row(voucher_app, voucher.id)
    assert (row.surplus_value, row.surplus_times, row.status) == (0, 1, 2)

    reversed_ = await client.post(f"{M}/verifications/{second.json()['id']}/reversal", headers=people["a"])
    assert reversed_.status_code == 201, reversed_.text
    assert reversed_.json()["actual_minus_value"] == -7000 and reversed_.json()["reverses_id"] == second.json()["id"]
    row = await voucher_row(voucher_app, voucher.id)
    assert (row.surplus_value, row.surplus_times, row.status) == (7000, 2, 1)
    assert [r.kind for r in await records_of(voucher_app, voucher.id)] == [1, 1, 2]
    assert len(await events(voucher_app, "promo.voucher.verified")) == 2
    assert len(await events(voucher_app, "promo.voucher.verification-reversed")) == 1

    detail = (await client.get(f"{APP}/vouchers/{voucher.id}", headers=people["buyer"])).json()
    assert [u["actual_minus_value"] for u in detail["usages"]] == [3000, 7000, -7000]
    assert detail["usages"][0]["store_name"] == "静安寺店"
