"""The daily report against MariaDB: verification records by business day, store and currency,
net of reversals, with the range's totals, as a page and as CSV; a merchant's own, every
merchant's for the platform."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import update

from services.voucher.models import Verification
from tests.voucher.support import LUJIAZUI, SHANGHAI, A, M, buy, make_product, make_store, verify


async def verified_in_two_stores(client, people, app) -> tuple[dict, dict]:
    jingan = await make_store(client, people)
    lujiazui = await make_store(client, people, name="陆家嘴店", at=LUJIAZUI)
    await make_product(client, people, [jingan["id"], lujiazui["id"]])
    v1, v2 = await buy(app, 9701, count=2, pay_price=17600)
    await verify(client, people, v1.code, jingan["id"], minus_value=3000, currency="CNY")
    await verify(client, people, v1.code, jingan["id"], minus_value=2000, currency="CNY")
    undone = (await verify(client, people, v2.code, jingan["id"], minus_value=1000, currency="CNY")).json()
    await client.post(f"{M}/verifications/{undone['id']}/reversal", headers=people["a"])
    await verify(client, people, v2.code, lujiazui["id"], minus_value=10000, currency="CNY")
    return jingan, lujiazui


def today() -> date:
    return datetime.now(UTC).astimezone(SHANGHAI).date()


async def test_a_day_by_store_net_of_reversals_with_totals(client, people, voucher_app):
    jingan, lujiazui = await verified_in_two_stores(client, people, voucher_app)
    report = (await client.get(f"{M}/reports/daily", headers=people["a"])).json()
    assert (report["date_from"], report["date_to"]) == ((today() - timedelta(days=30)).isoformat(), today().isoformat())
    rows = {row["store_id"]: row for row in report["items"]}
    assert report["total"] == 2 and set(rows) == {jingan["id"], lujiazui["id"]}
    day = today().isoformat()
    assert rows[jingan["id"]] == {"business_id": 194, "store_id": jingan["id"], "store_name": "静安寺店",
                                  "business_date": day, "currency": "CNY", "verifications": 3, "reversals": 1,
                                  "value_verified": 5000, "times_verified": 2, "cost": 4250}
    assert (rows[lujiazui["id"]]["value_verified"], rows[lujiazui["id"]]["cost"]) == (10000, 8500)
    assert report["totals"] == [{"currency": "CNY", "verifications": 4, "reversals": 1, "value_verified": 15000,
                                 "times_verified": 3, "cost": 12750}]
    one_store = (await client.get(f"{M}/reports/daily", params={"store_id": lujiazui["id"]},
                                  headers=people["a"])).json()
    assert [r["store_id"] for r in one_store["items"]] == [lujiazui["id"]] and one_store["totals"][0]["cost"] == 8500
    paged = (await client.get(f"{M}/reports/daily", params={"size": 1, "page": 2}, headers=people["a"])).json()
    assert (paged["total"], len(paged["items"])) == (2, 1)


async def test_the_csv_has_the_same_rows(client, people, voucher_app):
    jingan, _ = await verified_in_two_stores(client, people, voucher_app)
    answer = await client.get(f"{M}/reports/daily.csv", headers=people["a"])
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-disposition"].endswith(f'-{today().isoformat()}.csv"')
    lines = answer.text.strip().splitlines()
    assert lines[0] == ("business_date,business_id,store_id,store_name,currency,verifications,reversals,"
                        "value_verified,times_verified,cost")
    assert f"{today().isoformat()},194,{jingan['id']},静安寺店,CNY,3,1,5000,2,4250" in lines and len(lines) == 3


async def test_days_are_business_days_and_ranges_are_checked(client, people, voucher_app):
    jingan, _ = await verified_in_two_stores(client, people, voucher_app)
    async with voucher_app.state.sessionmaker() as session, session.begin():
        await session.execute(update(Verification).values(business_date=date(2026, 1, 31)))
    january = (await client.get(f"{M}/reports/daily", params={"date_from": "2026-01-01", "date_to": "2026-01-31"},
                                headers=people["a"])).json()
    assert {r["business_date"] for r in january["items"]} == {"2026-01-31"}
    assert (await client.get(f"{M}/reports/daily", headers=people["a"])).json()["total"] == 0
    for params, code in (({"date_from": "2026-02-01", "date_to": "2026-01-01"}, "VOUCHER_REPORT_RANGE_INVALID"),
                         ({"date_from": "2024-01-01", "date_to": "2026-01-01"}, "VOUCHER_REPORT_RANGE_INVALID"),
                         ({"date_from": "2026-13-01"}, "VALIDATION_FAILED")):
        answer = await client.get(f"{M}/reports/daily", params=params, headers=people["a"])
        assert answer.status_code == 422 and answer.json()["error"]["code"] == code, answer.text
    assert jingan["id"]


async def test_the_platform_sees_every_merchant_and_filters_by_business(client, people, voucher_app):
    await verified_in_two_stores(client, people, voucher_app)
    theirs = await make_store(client, people, "b")
    await make_product(client, people, [theirs["id"]], "b", sku_id=777, currency="USD")
    [voucher] = await buy(voucher_app, 9702, sku_id=777)
    await verify(client, people, voucher.code, theirs["id"], "b", minus_value=700, currency="USD")
    everyone = (await client.get(f"{A}/reports/daily", headers=people["admin"])).json()
    assert everyone["total"] == 3 and {t["currency"] for t in everyone["totals"]} == {"CNY", "USD"}, \
        "totals never mix currencies"
    only_b = (await client.get(f"{A}/reports/daily", params={"business_id": 195}, headers=people["admin"])).json()
    assert [(r["business_id"], r["value_verified"]) for r in only_b["items"]] == [(195, 700)]
    csv = (await client.get(f"{A}/reports/daily.csv", headers=people["admin"])).text
    assert csv.strip().count("\n") == 3
    records = (await client.get(f"{A}/verifications", params={"business_id": 195}, headers=people["admin"])).json()
    assert records["total"] == 1
    mine = (await client.get(f"{M}/verifications", params={"kind": 2}, headers=people["a"])).json()
    assert mine["total"] == 1 and mine["items"][0]["actual_minus_value"] == -1000
