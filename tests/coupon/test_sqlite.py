"""The embedded default (`make run`) is SQLite: coupon, template and code ids must never come
back there either (SQLite reuses the highest id after a delete unless the table is AUTOINCREMENT)."""

from __future__ import annotations

import asyncio
import sqlite3

from services.coupon.main import create_app
from services.coupon.settings import CouponSettings
from shared.migrations import upgrade
from tests.conftest import asgi_client
from tests.coupon.test_api import TEMPLATES, template_body

COUPON_COLUMNS = ("template_id, user_id, name, take_type, status, valid_start, valid_end, use_order_id, used_at, "
                  "hold_expires_at, created_at, updated_at, use_price, product_scope, product_scope_values, "
                  "discount_type, discount_price")


async def test_ids_are_never_reused_on_sqlite(tmp_path, infra, tokens):
    url = f"sqlite+aiosqlite:///{tmp_path}/coupon.db"
    await asyncio.to_thread(upgrade, "coupon", url)
    app = create_app(CouponSettings(_env_file=None, database_url=url, **infra))
    async with app.router.lifespan_context(app), asgi_client(app) as client:
        template = (await client.post(TEMPLATES, json=template_body(take_limit_count=1),
                                      headers=tokens["admin"])).json()
        take = f"/app-api/coupon/templates/{template['id']}/take"
        first = (await client.post(take, headers=tokens["member"])).json()["coupon_id"]
        recalled = await client.delete(f"/admin-api/coupon/coupons/{first}", headers=tokens["admin"])
        assert recalled.status_code == 204
        second = (await client.post(take, headers=tokens["member"])).json()["coupon_id"]
        assert second > first
        gone = (await client.post(TEMPLATES, json=template_body(), headers=tokens["admin"])).json()
        assert (await client.delete(f"{TEMPLATES}/{gone['id']}", headers=tokens["admin"])).status_code == 204
        after = (await client.post(TEMPLATES, json=template_body(), headers=tokens["admin"])).json()
        assert after["id"] > gone["id"], "a deleted template's id is not given to the next one"


async def test_the_migration_moves_holds_to_held_and_keeps_the_ids_taken(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path}/old.db"
    await asyncio.to_thread(upgrade, "coupon", url, "0004")
    with sqlite3.connect(tmp_path / "old.db") as db:
        terms = "'2026-01-01 00:00:00', '2026-01-01 00:00:00', 0, 1, '[]', 1, 100"
        for status, hold in ((2, "'2026-01-01 00:30:00'"), (2, "NULL"), (1, "NULL")):
            db.execute(f"INSERT INTO coupon ({COUPON_COLUMNS}) VALUES (1, 7, 'c', 1, {status}, '2026-01-01 00:00:00',"
                       f" '2099-01-01 00:00:00', 9, '2026-01-01 00:00:00', {hold}, {terms})")
    await asyncio.to_thread(upgrade, "coupon", url)
    with sqlite3.connect(tmp_path / "old.db") as db:
        rows = db.execute("SELECT id, status, used_at IS NULL FROM coupon ORDER BY id").fetchall()
        assert rows == [(1, 4, 1), (2, 2, 0), (3, 1, 0)], "a hold became HELD; a paid use and the rest stay"
        db.execute("DELETE FROM coupon WHERE id = 3")
        db.execute(f"INSERT INTO coupon ({COUPON_COLUMNS}) VALUES (1, 7, 'c', 1, 1, '2026-01-01 00:00:00', "
                   f"'2099-01-01 00:00:00', NULL, NULL, NULL, {terms})")
        assert db.execute("SELECT max(id) FROM coupon").fetchone() == (4,)
        tables = dict(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall())
    assert all("AUTOINCREMENT" in tables[name] for name in ("coupon_template", "coupon", "coupon_code"))
