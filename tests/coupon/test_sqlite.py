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
        template = (await client.post(TEMPLATES, json=template_body(take_limit_count=2),
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


TEMPLATE_COLUMNS = ("name, description, status, take_type, total_count, take_limit_count, validity_type, take_count, "
                    "use_count, created_at, updated_at, use_price, product_scope, product_scope_values, discount_type")
A_TEMPLATE = "'t', '', 0, 2, -1, -1, 2, 0, 0, '2026-01-01 00:00:00', '2026-01-01 00:00:00', 0, 1, '[]', 1"
A_COUPON = ("1, 7, 'c', 2, 1, '2026-01-01 00:00:00', '2099-01-01 00:00:00', NULL, NULL, NULL, '2026-01-01 00:00:00', "
            "'2026-01-01 00:00:00', 0, 1, '[]', 1, 100")


def next_ids(path) -> dict[str, int]:
    """The ids the next template, coupon and code get."""
    with sqlite3.connect(path) as db:
        template = db.execute(f"INSERT INTO coupon_template ({TEMPLATE_COLUMNS}) VALUES ({A_TEMPLATE})").lastrowid
        coupon = db.execute(f"INSERT INTO coupon ({COUPON_COLUMNS}) VALUES ({A_COUPON})").lastrowid
        code = db.execute("INSERT INTO coupon_code (template_id, code, created_at) "
                          "VALUES (1, 'NEXT', '2026-01-01 00:00:00')").lastrowid
    return {"template": template, "coupon": coupon, "code": code}


async def test_ids_deleted_before_the_upgrade_are_not_given_again(tmp_path):
    """Under 0004, template 3 was deleted while a coupon of it remained; coupon 3, still named
    by the code it was redeemed from, and code 3, still named by its coupon's issue key, were
    deleted too. After the upgrade none of those ids comes back (the rebuilt tables' sequences
    start after the highest id anything still refers to, not after the highest row copied)."""
    url = f"sqlite+aiosqlite:///{tmp_path}/old.db"
    await asyncio.to_thread(upgrade, "coupon", url, "0004")
    with sqlite3.connect(tmp_path / "old.db") as db:
        for _ in range(3):
            db.execute(f"INSERT INTO coupon_template ({TEMPLATE_COLUMNS}) VALUES ({A_TEMPLATE})")
        for _ in range(3):
            db.execute(f"INSERT INTO coupon ({COUPON_COLUMNS}) VALUES ({A_COUPON})")
        for n in (1, 2, 3):
            db.execute(f"INSERT INTO coupon_code (template_id, code, created_at, coupon_id) "
                       f"VALUES (1, 'C{n}', '2026-01-01 00:00:00', {3 if n == 1 else 'NULL'})")
        db.execute("UPDATE coupon SET template_id = 3 WHERE id = 1")
        db.execute("UPDATE coupon SET issue_key = 'code:3' WHERE id = 2")
        for table, row_id in (("coupon_template", 3), ("coupon", 3), ("coupon_code", 3), ("coupon_code", 2)):
            db.execute(f"DELETE FROM {table} WHERE id = {row_id}")
    await asyncio.to_thread(upgrade, "coupon", url)
    assert next_ids(tmp_path / "old.db") == {"template": 4, "coupon": 4, "code": 4}


async def test_a_deleted_template_named_only_by_its_codes_is_not_given_again(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path}/old.db"
    await asyncio.to_thread(upgrade, "coupon", url, "0004")
    with sqlite3.connect(tmp_path / "old.db") as db:
        for _ in range(2):
            db.execute(f"INSERT INTO coupon_template ({TEMPLATE_COLUMNS}) VALUES ({A_TEMPLATE})")
        db.execute("INSERT INTO coupon_code (template_id, code, created_at) VALUES (2, 'C1', '2026-01-01 00:00:00')")
        db.execute("DELETE FROM coupon_template WHERE id = 2")
    await asyncio.to_thread(upgrade, "coupon", url)
    assert next_ids(tmp_path / "old.db") == {"template": 3, "coupon": 1, "code": 2}
