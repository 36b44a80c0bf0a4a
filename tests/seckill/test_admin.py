"""Slots and activities through the admin API."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from services.seckill import service
from tests.seckill.conftest import TODAY, activity, make_sale, slot


async def test_slots_may_not_overlap_and_a_disabled_slot_cannot_be_used(client, tokens):
    admin = tokens["admin"]
    morning = await client.post("/admin-api/seckill/slots", json=slot(), headers=admin)
    assert morning.status_code == 201, morning.text
    clash = await client.post("/admin-api/seckill/slots", json=slot("x", "11:00:00", "13:00:00"), headers=admin)
    assert clash.status_code == 409 and clash.json()["error"]["code"] == "SECKILL_SLOT_OVERLAPS"
    late = await client.post("/admin-api/seckill/slots", json=slot("夜场", "22:00:00", "00:00:00", status=1),
                             headers=admin)
    assert late.status_code == 201, late.text
    crossing = await client.post("/admin-api/seckill/slots", json=slot("x", "23:00:00", "01:00:00"), headers=admin)
    assert crossing.status_code == 422 and crossing.json()["error"]["code"] == "SECKILL_SLOT_INVALID"
    refused = await client.post("/admin-api/seckill/activities", json=activity([late.json()["id"]]), headers=admin)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "SECKILL_SLOT_DISABLED"
    used = await client.post("/admin-api/seckill/activities", json=activity([morning.json()["id"]]), headers=admin)
    assert used.status_code == 201
    gone = await client.delete(f"/admin-api/seckill/slots/{morning.json()['id']}", headers=admin)
    assert gone.status_code == 409 and gone.json()["error"]["code"] == "SECKILL_SLOT_IN_USE"
    today = (await client.get("/app-api/seckill/slots/today")).json()
    assert today["current_slot_id"] == morning.json()["id"] and [s["state"] for s in today["slots"]] == ["on"]


async def test_an_spu_is_in_one_activity_per_slot_on_overlapping_dates(client, tokens):
    admin = tokens["admin"]
    a = (await client.post("/admin-api/seckill/slots", json=slot(), headers=admin)).json()["id"]
    afternoon = slot("下午", "14:00:00", "16:00:00")
    b = (await client.post("/admin-api/seckill/slots", json=afternoon, headers=admin)).json()["id"]
    assert (await client.post("/admin-api/seckill/activities", json=activity([a]), headers=admin)).status_code == 201
    clash = await client.post("/admin-api/seckill/activities", json=activity([a, b], name="又一个"), headers=admin)
    assert clash.status_code == 409 and clash.json()["error"]["code"] == "SECKILL_ACTIVITY_SPU_CONFLICT"
    other_slot = await client.post("/admin-api/seckill/activities", json=activity([b]), headers=admin)
    later = await client.post("/admin-api/seckill/activities", json=activity([a], start=TODAY + timedelta(days=3)),
                              headers=admin)
    assert other_slot.status_code == 201 and later.status_code == 201, "another slot, or later dates: no conflict"


async def test_activity_lifecycle_and_stock_on_update(client, tokens):
    admin = tokens["admin"]
    activity_id = await make_sale(client, admin, stock=10)
    reserved = await client.post("/app-api/seckill/reservations", json={"activity_id": activity_id, "sku_id": 1001,
                                                                       "count": 3}, headers=tokens["member"])
    assert reserved.status_code == 201, reserved.text
    body = (await client.get(f"/admin-api/seckill/activities/{activity_id}", headers=admin)).json()
    assert (body["stock"], body["total_stock"]) == (7, 10)
    edit = activity(body["slot_ids"], skus=((1001, 8800, 20),))
    updated = await client.put(f"/admin-api/seckill/activities/{activity_id}", json=edit, headers=admin)
    assert updated.status_code == 200, updated.text
    product = updated.json()["products"][0]
    assert (product["price"], product["stock"], product["total_stock"]) == (8800, 20, 23), "what was sold stays sold"
    live = (await client.get(f"/app-api/seckill/activities/{activity_id}")).json()
    assert live["products"][0]["stock"] == 20, "the edit reloaded Redis"
    refused = await client.delete(f"/admin-api/seckill/activities/{activity_id}", headers=admin)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "SECKILL_ACTIVITY_DELETE_REFUSED"
    assert (await client.post(f"/admin-api/seckill/activities/{activity_id}/close", headers=admin)).status_code == 204
    again = await client.post(f"/admin-api/seckill/activities/{activity_id}/close", headers=admin)
    assert again.status_code == 409 and again.json()["error"]["code"] == "SECKILL_ACTIVITY_ALREADY_CLOSED"
    closed = await client.put(f"/admin-api/seckill/activities/{activity_id}", json=edit, headers=admin)
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "SECKILL_ACTIVITY_CLOSED"
    late = await client.post("/app-api/seckill/reservations", json={"activity_id": activity_id, "sku_id": 1001},
                             headers=tokens["member"])
    assert late.status_code == 409 and late.json()["error"]["code"] == "SECKILL_ACTIVITY_CLOSED"
    assert (await client.delete(f"/admin-api/seckill/activities/{activity_id}", headers=admin)).status_code == 204
    assert (await client.get("/admin-api/seckill/activities", headers=admin)).json()["total"] == 0


async def test_concurrent_creates_of_one_spu_let_exactly_one_through(client, tokens):
    """The conflict check reads, then the create writes: concurrent creates take turns."""
    slot_id = (await client.post("/admin-api/seckill/slots", json=slot(), headers=tokens["admin"])).json()["id"]
    answers = await asyncio.gather(*[client.post("/admin-api/seckill/activities", headers=tokens["admin"],
                                                 json=activity([slot_id], name=f"并发{n}")) for n in range(5)])
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409, 409]
    assert {a.json()["error"]["code"] for a in answers if a.status_code == 409} == {"SECKILL_ACTIVITY_SPU_CONFLICT"}


async def test_a_missing_slot_is_404_and_an_activity_cannot_use_one(client, tokens):
    admin = tokens["admin"]
    for answer in (await client.get("/admin-api/seckill/slots/999999", headers=admin),
                   await client.put("/admin-api/seckill/slots/999999", json=slot(), headers=admin),
                   await client.delete("/admin-api/seckill/slots/999999", headers=admin)):
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "SECKILL_SLOT_NOT_FOUND", answer.text
    real = (await client.post("/admin-api/seckill/slots", json=slot(), headers=admin)).json()["id"]
    refused = await client.post("/admin-api/seckill/activities", json=activity([real, 999999]), headers=admin)
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "SECKILL_SLOT_NOT_FOUND", refused.text
    assert refused.json()["error"]["details"] == {"id": 999999}
    assert (await client.get("/admin-api/seckill/activities", headers=admin)).json()["total"] == 0


async def test_an_update_removes_a_sku_without_sales_and_refuses_one_with_sales(client, tokens):
    admin = tokens["admin"]
    activity_id = await make_sale(client, admin, skus=((1001, 9900, 10), (1002, 9900, 10), (1003, 9900, 10)))
    held = await client.post("/app-api/seckill/reservations", json={"activity_id": activity_id, "sku_id": 1002,
                                                                   "count": 1}, headers=tokens["member"])
    assert held.status_code == 201, held.text
    body = (await client.get(f"/admin-api/seckill/activities/{activity_id}", headers=admin)).json()
    kept = activity(body["slot_ids"], skus=((1001, 9900, 10), (1002, 9900, 9)))
    dropped = await client.put(f"/admin-api/seckill/activities/{activity_id}", json=kept, headers=admin)
    assert dropped.status_code == 200, dropped.text
    assert [p["sku_id"] for p in dropped.json()["products"]] == [1001, 1002], "1003 had no sales: removed"
    sold_gone = await client.put(f"/admin-api/seckill/activities/{activity_id}", headers=admin,
                                 json=activity(body["slot_ids"], skus=((1001, 9900, 10),)))
    assert sold_gone.status_code == 422 and sold_gone.json()["error"]["details"]["reason_code"] == "SKU_HAS_SALES"
    assert sold_gone.json()["error"]["details"]["field"] == "products"
    after = (await client.get(f"/admin-api/seckill/activities/{activity_id}", headers=admin)).json()
    assert [(p["sku_id"], p["stock"], p["total_stock"]) for p in after["products"]] == [(1001, 10, 10),
                                                                                       (1002, 9, 10)]


async def test_slot_writes_reach_the_crowd_path_at_once(client, tokens, seckill_app, monkeypatch):
    """The crowd path keeps slots in memory (`SECKILL_CACHE_SECONDS`): a slot written on this
    replica is forgotten there once the write is committed (not before: a reservation meanwhile
    would cache the old hours again), so the next reservation sees it."""
    admin, member = tokens["admin"], tokens["member"]
    first_id = await make_sale(client, admin, stock=5)  # 10:00-12:00, and it is 10:30
    assert (await client.post("/app-api/seckill/reservations", json={"activity_id": first_id, "sku_id": 1001},
                              headers=member)).status_code == 201, "the slots are cached now"
    afternoon = await client.post("/admin-api/seckill/slots", json=slot("下午", "14:00:00", "16:00:00"), headers=admin)
    later = await client.post("/admin-api/seckill/activities", headers=admin,
                              json=activity([afternoon.json()["id"]], spu_id=202, skus=((2001, 500, 5),)))
    seckill_app.state.test_clock.at += timedelta(hours=4)  # 14:30
    grab = {"activity_id": later.json()["id"], "sku_id": 2001}
    created = await client.post("/app-api/seckill/reservations", json=grab, headers=member)
    assert created.status_code == 201, created.text

    written, commit = asyncio.Event(), asyncio.Event()
    update = service.update_slot

    async def update_then_wait(*args, **kwargs):
        slot_row = await update(*args, **kwargs)
        written.set()
        await commit.wait()
        return slot_row

    monkeypatch.setattr(service, "update_slot", update_then_wait)
    moving = asyncio.create_task(client.put(f"/admin-api/seckill/slots/{afternoon.json()['id']}",
                                            json=slot("下午", "15:00:00", "16:00:00"), headers=admin))
    await asyncio.wait_for(written.wait(), 10)
    meanwhile = await client.post("/app-api/seckill/reservations", json=grab, headers=member)
    assert meanwhile.status_code == 201, "the move is not committed yet"
    commit.set()
    assert (await moving).status_code == 200
    refused = await client.post("/app-api/seckill/reservations", json=grab, headers=member)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "SECKILL_NOT_ON_NOW", refused.text
