"""What a client reads in the OpenAPI document matches what the service answers (slot times,
reservation status), and the demo seed (issue 12, points 9 and 18)."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from services.seckill import domain, repository
from services.seckill.catalog import slot_of
from services.seckill.seed import DEMO_SKU, DEMO_SPU, seed_demo
from shared.migrations import upgrade
from tests.seckill.conftest import slot


def resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


async def test_slot_times_declare_the_wall_clock_pattern_their_values_match(client, tokens):
    spec = (await client.get("/openapi.json")).json()
    slot_schemas = [name for name in spec["components"]["schemas"] if name.startswith(("SlotIn", "SlotOut",
                                                                                       "TodaySlotOut"))]
    assert len(slot_schemas) >= 3, slot_schemas
    for name in slot_schemas:
        for field in ("start_time", "end_time"):
            declared = spec["components"]["schemas"][name]["properties"][field]
            assert declared["type"] == "string" and "format" not in declared, (name, declared)
            assert re.match(declared["pattern"], "08:00:00") and re.match(declared["pattern"], "23:59")
            assert not re.match(declared["pattern"], "08:00:00+08:00") and not re.match(declared["pattern"], "24:00")
    made = await client.post("/admin-api/seckill/slots", json=slot(start="08:00", end="09:30:00"),
                             headers=tokens["admin"])
    assert made.status_code == 201, made.text
    pattern = spec["components"]["schemas"]["SlotOut"]["properties"]["start_time"]["pattern"]
    assert re.match(pattern, made.json()["start_time"]) and made.json()["start_time"] == "08:00:00"
    today = (await client.get("/app-api/seckill/slots/today")).json()
    assert all(re.match(pattern, s["end_time"]) for s in today["slots"])
    for wrong in ("08:00:00+08:00", "08:00:00.5", "8:00", 28800, "24:00:00", "08:00:00\n", "٠٨:٠٠"):
        refused = await client.post("/admin-api/seckill/slots", json=slot(start=wrong, end="23:00:00"),
                                    headers=tokens["admin"])
        assert refused.status_code == 422, (wrong, refused.text)
        assert refused.json()["error"]["details"]["errors"][0]["loc"] == ["body", "start_time"]


async def test_reservation_status_is_documented_value_by_value(client):
    spec = (await client.get("/openapi.json")).json()
    status = resolve(spec, spec["components"]["schemas"]["ReservationOut"]["properties"]["status"])
    assert status["enum"] == [10, 20, 30, 40]
    assert status["x-enum-varnames"] == ["HELD", "COMMITTED", "RELEASED", "EXPIRED"]
    assert "40 = EXPIRED: expired: not paid in time" in status["description"]
    prices = spec["components"]["schemas"]["PricesOut"]["properties"]
    assert "activity_name" in prices and "order_id" in spec["components"]["schemas"]["PricesIn"]["properties"]


@pytest.mark.parametrize("hour", [0, 9, 16, 23])
async def test_the_demo_is_seeded_once_and_on_at_any_hour(client, seckill_app, hour):
    now = datetime(2026, 11, 22, hour, 59, 59, tzinfo=UTC)
    async with seckill_app.state.sessionmaker() as session, session.begin():
        assert await seed_demo(session, now) is True
    async with seckill_app.state.sessionmaker() as session, session.begin():
        assert await seed_demo(session, now) is False, "the service has data: nothing added"
    async with seckill_app.state.sessionmaker() as session:
        [demo_slot] = await repository.all_slots(session)
        [demo] = await repository.activities_on(session, (now + timedelta(days=29, hours=8)).date())
        products = (await repository.products_of(session, [demo.id]))[demo.id]
    assert (demo.spu_id, demo.user_limit, demo.slot_ids) == (DEMO_SPU, 2, [demo_slot.id])
    assert [(p.sku_id, p.stock) for p in products] == [(DEMO_SKU, 100)] and 0 < products[0].price < 19900
    for local in ("00:00:00", "12:00:00", "23:59:59"):
        assert domain.current_slot([slot_of(demo_slot)], datetime.fromisoformat(f"2026-01-01T{local}").time())
    seckill_app.state.test_clock.at = now
    today = (await client.get("/app-api/seckill/slots/today")).json()
    assert today["current_slot_id"] == demo_slot.id and [s["state"] for s in today["slots"]] == ["on"]
    listed = (await client.get(f"/app-api/seckill/slots/{demo_slot.id}/activities")).json()
    assert [a["id"] for a in listed] == [demo.id]


async def test_migration_0004_keeps_the_activity_name_on_earlier_reservations(tmp_path):
    """Earlier reservations get their activity's name; one whose activity is gone gets none (a
    generic name is shown for it)."""
    url = f"sqlite+aiosqlite:///{tmp_path}/seckill.db"
    await asyncio.to_thread(upgrade, "seckill", url, "0003")
    with sqlite3.connect(tmp_path / "seckill.db") as db:
        db.execute("INSERT INTO seckill_activity (id, name, spu_id, slot_ids, start_date, end_date, user_limit, "
                   "order_limit, status, sort, remark, created_at, updated_at) VALUES (1, '早场秒杀', 101, '[1]', "
                   "'2026-11-22', '2026-11-23', 0, 0, 0, 0, '', '2026-11-22 00:00:00', '2026-11-22 00:00:00')")
        for token, activity_id, status in (("o:1", 1, 20), ("o:2", 2, 30)):
            db.execute("INSERT INTO seckill_reservation (token, activity_id, sku_id, user_id, count, price, status, "
                       "order_id, expires_at, paid_at, created_at, updated_at) VALUES (?, ?, 1001, 1001, 1, 9900, ?, "
                       "NULL, '2026-11-22 00:05:00', NULL, '2026-11-22 00:00:00', '2026-11-22 00:01:00')",
                       (token, activity_id, status))
    await asyncio.to_thread(upgrade, "seckill", url)
    with sqlite3.connect(tmp_path / "seckill.db") as db:
        rows = db.execute("SELECT token, activity_name, cancelled_at FROM seckill_reservation "
                          "ORDER BY token").fetchall()
    assert rows == [("o:1", "早场秒杀", None), ("o:2", "", None)]
