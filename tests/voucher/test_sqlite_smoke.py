"""The embedded default (`make run` without DATABASE_URL) is SQLite: the migration and the main
flows must work there too: a store and product approved, the search, an order paid, a verification
retried with its key, a reversal, the report, a refund."""

from __future__ import annotations

import asyncio

from services.voucher.main import create_app
from services.voucher.settings import VoucherSettings
from shared.migrations import upgrade
from tests.conftest import asgi_client
from tests.voucher.support import APP, A, M, cancelled, paid, product_body, runner, store_body


async def test_voucher_on_sqlite(tmp_path, infra, people):
    url = f"sqlite+aiosqlite:///{tmp_path}/not-yet/voucher.db"
    await asyncio.to_thread(upgrade, "voucher", url)
    await asyncio.to_thread(upgrade, "voucher", url)  # idempotent
    app = create_app(VoucherSettings(_env_file=None, database_url=url, **infra))
    async with app.router.lifespan_context(app), asgi_client(app) as client:
        store = (await client.post(f"{M}/stores", json=store_body(), headers=people["a"])).json()
        assert (await client.post(f"{A}/reviews/{store['pending_review_id']}/approve",
                                  headers=people["admin"])).status_code == 200
        product = (await client.post(f"{M}/products", json=product_body([store["id"]]), headers=people["a"])).json()
        await client.post(f"{A}/reviews/{product['pending_review_id']}/approve", headers=people["admin"])
        near = (await client.get(f"{APP}/stores/nearby", params={"lat": 31.23, "lon": 121.47})).json()
        assert [s["id"] for s in near["items"]] == [store["id"]]

        event = paid(1, [(537, 1, 8800)])
        await runner(app).process(event)
        await runner(app).process(event)
        [voucher] = (await client.get(f"{APP}/vouchers", headers=people["buyer"])).json()["items"]
        body = {"code": voucher["code"], "store_id": store["id"], "minus_value": 3000, "currency": "CNY"}
        headers = {**people["a"], "Idempotency-Key": "sqlite-1"}
        first = await client.post(f"{M}/verifications", json=body, headers=headers)
        again = await client.post(f"{M}/verifications", json=body, headers=headers)
        assert (first.status_code, again.status_code) == (201, 200) and first.json() == again.json()
        reversal = await client.post(f"{M}/verifications/{first.json()['id']}/reversal", headers=people["a"])
        assert reversal.status_code == 201 and reversal.json()["surplus_value_after"] == 10000
        await client.post(f"{M}/verifications", json={**body, "minus_value": 500},
                          headers={**people["a"], "Idempotency-Key": "sqlite-2"})
        report = (await client.get(f"{M}/reports/daily", headers=people["a"])).json()
        assert report["totals"][0]["value_verified"] == 500 and report["totals"][0]["reversals"] == 1
        await runner(app).process(cancelled(1))
        refused = (await client.get(f"{APP}/vouchers/{voucher['id']}", headers=people["buyer"])).json()
        assert refused["status"] == 1 and len(refused["usages"]) == 3, "partly used: the refund is refused"
        assert (await client.get("/readyz")).json()["checks"]["database"] == "ok"
