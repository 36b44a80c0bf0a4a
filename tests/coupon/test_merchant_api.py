"""/merchant-api/coupon: a merchant runs its own templates and reads their figures; another
merchant's and the platform's are 404 on every route and absent from its lists; the admin sees
every owner's and filters by owner. Against MariaDB."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime

import pytest
from alembic import command

from services.coupon.api import merchant
from services.coupon.seed import DEMO, DEMO_SHOP, DEMO_SHOP_TEMPLATES, seed_demo
from shared.auth import Role
from shared.migrations import alembic_config, upgrade
from tests.conftest import bearer
from tests.coupon.test_api import TEMPLATES, make_template, take, template_body
from tests.coupon.test_holds import HOLDS, paid, runner

M = "/merchant-api/coupon"


@pytest.fixture
def shops(dev_settings) -> dict[str, dict[str, str]]:
    return {"a": bearer(dev_settings, Role.MERCHANT, 2001, business_id=1),
            "b": bearer(dev_settings, Role.MERCHANT, 2002, business_id=2)}


async def shop_template(client, headers, **overrides) -> dict:
    response = await client.post(f"{M}/templates", json=template_body(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def requests(template_id: int) -> list[tuple[str, str, dict]]:
    """(method, path under the prefix, json) of every merchant route aimed at one template."""
    url = f"/templates/{template_id}"
    return [("GET", url, {}), ("GET", f"{url}/stats", {}), ("PUT", url, {"json": template_body(name="改")}),
            ("PUT", f"{url}/status", {"json": {"status": 1}}), ("DELETE", url, {})]


async def test_a_merchant_creates_updates_closes_lists_reads_and_deletes_its_own(client, tokens, shops):
    created = await shop_template(client, shops["a"])
    assert created["business_id"] == 1 and created["take_type"] == 1
    url = f"{M}/templates/{created['id']}"
    assert (await client.get(url, headers=shops["a"])).json() == created
    updated = await client.put(url, json=template_body(name="店铺满200减30", use_price=20000, discount_price=3000),
                               headers=shops["a"])
    assert updated.status_code == 200 and updated.json()["name"] == "店铺满200减30"
    assert updated.json()["business_id"] == 1
    closed = await client.put(f"{url}/status", json={"status": 1}, headers=shops["a"])
    assert closed.status_code == 200 and closed.json()["status"] == 1
    listed = (await client.get(f"{M}/templates", headers=shops["a"])).json()
    assert [t["id"] for t in listed["items"]] == [created["id"]] and listed["total"] == 1
    assert (await client.get(f"{M}/templates?status=0", headers=shops["a"])).json()["total"] == 0
    assert (await client.delete(url, headers=shops["a"])).status_code == 204
    gone = await client.get(url, headers=shops["a"])
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "COUPON_TEMPLATE_NOT_FOUND"


async def test_the_same_validation_as_the_admin_s(client, shops):
    refused = await client.post(f"{M}/templates", json=template_body(total_count=1, take_limit_count=2),
                                headers=shops["a"])
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "COUPON_TEMPLATE_INVALID"
    unknown = await client.post(f"{M}/templates", json={**template_body(), "business_id": 2}, headers=shops["a"])
    assert unknown.status_code == 422, "the owner comes from the token, never from the body"


async def test_a_shop_may_give_its_own_coupons_through_its_spend_and_save(client, shops):
    given = await client.post(f"{M}/templates", json=template_body(take_type=2), headers=shops["a"])
    assert given.status_code == 201 and given.json()["take_type"] == 2, given.text


@pytest.mark.parametrize("take_type", [3])
async def test_take_types_only_the_platform_may_use_are_refused(client, tokens, shops, take_type):
    for locale, words in (("en", "Only the platform"), ("zh-CN", "仅限平台")):
        refused = await client.post(f"{M}/templates", json=template_body(take_type=take_type),
                                    headers={**shops["a"], "Accept-Language": locale})
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["code"] == "COUPON_TAKE_TYPE_PLATFORM_ONLY"
        assert words in refused.json()["error"]["message"]
    mine = await shop_template(client, shops["a"])
    changed = await client.put(f"{M}/templates/{mine['id']}", json=template_body(take_type=take_type),
                               headers=shops["a"])
    assert changed.json()["error"]["code"] == "COUPON_TAKE_TYPE_PLATFORM_ONLY"
    by_admin = await client.put(f"{TEMPLATES}/{mine['id']}", json=template_body(take_type=take_type),
                                headers=tokens["admin"])
    assert by_admin.json()["error"]["code"] == "COUPON_TAKE_TYPE_PLATFORM_ONLY", "a shop's template stays a shop's"
    await make_template(client, tokens, take_type=take_type)  # the platform's own: as before


async def test_another_merchant_s_and_the_platform_s_are_404_on_every_route(client, tokens, shops):
    theirs = await shop_template(client, shops["b"], name="B 的券")
    platform = await make_template(client, tokens, name="平台券")
    mine = await shop_template(client, shops["a"], name="A 的券")
    routes = {(method, route.path.removeprefix(M)) for route in merchant.router.routes for method in route.methods}
    tried = {(method, path.replace(str(theirs["id"]), "{template_id}")) for method, path, _ in requests(theirs["id"])}
    assert routes == tried | {("GET", "/templates"), ("POST", "/templates"), ("GET", "/stats/daily")}, \
        "every merchant route is tried (the day's figures are per owner: tested in test_day_stats.py)"
    for other in (theirs, platform):
        for method, path, kwargs in requests(other["id"]):
            answer = await client.request(method, M + path, headers=shops["a"], **kwargs)
            assert answer.status_code == 404, (method, path, answer.text)
            assert answer.json()["error"] == {
                "code": "COUPON_TEMPLATE_NOT_FOUND", "message": f"优惠券模板 {other['id']} 不存在",
                "details": {"id": other["id"]}}, "the same answer as a missing id"
    missing = await client.get(f"{M}/templates/99999999", headers=shops["a"])
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "COUPON_TEMPLATE_NOT_FOUND"
    for other in (theirs, platform):
        row = (await client.get(f"{TEMPLATES}/{other['id']}", headers=tokens["admin"])).json()
        assert row == other, "nothing of theirs changed"
    listed = (await client.get(f"{M}/templates?page_size=100", headers=shops["a"])).json()
    assert [t["id"] for t in listed["items"]] == [mine["id"]]
    assert [t["id"] for t in (await client.get(f"{M}/templates", headers=shops["b"])).json()["items"]] == \
        [theirs["id"]]


async def test_members_anonymous_callers_operators_and_services_cannot_use_it(client, tokens, shops):
    mine = await shop_template(client, shops["a"])
    for method, path, kwargs in [*requests(mine["id"]), ("GET", "/templates", {}),
                                 ("POST", "/templates", {"json": template_body()})]:
        assert (await client.request(method, M + path, **kwargs)).status_code == 401, (method, path)
        for caller in ("member", "admin", "service"):
            answer = await client.request(method, M + path, headers=tokens[caller], **kwargs)
            assert answer.status_code == 403, (caller, method, path)
    assert (await client.get(f"{M}/templates/{mine['id']}", headers=tokens["merchant"])).status_code == 200, \
        "the suite's merchant token (business 1) works"


async def test_the_admin_sees_every_owner_and_filters_by_owner(client, tokens, shops):
    a = await shop_template(client, shops["a"], name="A", take_limit_count=-1)
    b = await shop_template(client, shops["b"], name="B", take_limit_count=-1)
    platform = await make_template(client, tokens, name="平台", take_limit_count=-1)
    assert platform["business_id"] is None

    async def ids(url: str) -> list[int]:
        answer = await client.get(url, headers=tokens["admin"])
        assert answer.status_code == 200, answer.text
        return [item["id"] for item in answer.json()["items"]]

    assert await ids(TEMPLATES) == [platform["id"], b["id"], a["id"]]
    assert await ids(f"{TEMPLATES}?business_id=1") == [a["id"]]
    assert await ids(f"{TEMPLATES}?platform=true") == [platform["id"]]
    both = await client.get(f"{TEMPLATES}?business_id=1&platform=true", headers=tokens["admin"])
    assert both.status_code == 422 and both.json()["error"]["code"] == "OWNER_FILTER_CONFLICT"
    coupons = {t["id"]: (await take(client, t["id"], tokens["member"])).json()["coupon_id"] for t in (a, b, platform)}
    assert await ids("/admin-api/coupon/coupons") == sorted(coupons.values(), reverse=True)
    assert await ids("/admin-api/coupon/coupons?business_id=2") == [coupons[b["id"]]]
    assert await ids("/admin-api/coupon/coupons?platform=true") == [coupons[platform["id"]]]
    owners = {c["id"]: c["business_id"] for c in
              (await client.get("/admin-api/coupon/coupons", headers=tokens["admin"])).json()["items"]}
    assert owners == {coupons[a["id"]]: 1, coupons[b["id"]]: 2, coupons[platform["id"]]: None}
    # the admin keeps its powers over every row: read, close, figures of a merchant's template
    assert (await client.get(f"{TEMPLATES}/{a['id']}", headers=tokens["admin"])).json()["business_id"] == 1
    closed = await client.put(f"{TEMPLATES}/{a['id']}/status", json={"status": 1}, headers=tokens["admin"])
    assert closed.status_code == 200 and closed.json()["business_id"] == 1
    assert (await client.get(f"{TEMPLATES}/{a['id']}/stats", headers=tokens["admin"])).json()["issued"] == 1


async def test_buyers_see_each_coupon_s_owner(client, tokens, shops):
    a = await shop_template(client, shops["a"], name="A 店券")
    platform = await make_template(client, tokens, name="平台券")
    center = (await client.get("/app-api/coupon/templates")).json()
    assert {t["id"]: t["business_id"] for t in center} == {a["id"]: 1, platform["id"]: None}
    for template in (a, platform):
        assert (await take(client, template["id"], tokens["member"])).status_code == 201
    mine = (await client.get("/app-api/coupon/coupons", headers=tokens["member"])).json()["items"]
    assert {c["template_id"]: c["business_id"] for c in mine} == {a["id"]: 1, platform["id"]: None}


async def test_a_merchant_reads_its_template_s_figures(client, tokens, shops, coupon_app):
    template = await shop_template(client, shops["a"], take_limit_count=-1, use_price=0, discount_price=500)
    stats = f"{M}/templates/{template['id']}/stats"
    assert (await client.get(stats, headers=shops["a"])).json() == {
        "template_id": template["id"], "business_id": 1, "issued": 0, "unused": 0, "held": 0, "used": 0,
        "expired": 0, "revoked": 0, "recalled": 0, "discount_given": 0, "orders": 0}
    coupons = [(await take(client, template["id"], tokens["member"])).json()["coupon_id"] for _ in range(5)]
    for order_id, coupon_id in ((9101, coupons[0]), (9102, coupons[1])):
        held = await client.post(HOLDS, json={"order_id": order_id, "user_id": 1001, "coupon_id": coupon_id},
                                 headers=tokens["service"])
        assert held.status_code == 201, held.text
    await runner(coupon_app).process(paid(9101))
    assert (await client.delete(f"/admin-api/coupon/coupons/{coupons[4]}", headers=tokens["admin"])).status_code == 204
    figures = (await client.get(stats, headers=shops["a"])).json()
    assert {k: figures[k] for k in ("issued", "unused", "held", "used", "recalled", "orders")} == {
        "issued": 5, "unused": 2, "held": 1, "used": 1, "recalled": 1, "orders": 1}


async def test_the_migration_goes_down_and_up_on_sqlite_keeping_ids_never_reused(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path}/coupon.db"
    await asyncio.to_thread(upgrade, "coupon", url)
    await asyncio.to_thread(command.downgrade, alembic_config("coupon", url), "0007")
    await asyncio.to_thread(upgrade, "coupon", url)
    with sqlite3.connect(tmp_path / "coupon.db") as db:
        tables = dict(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall())
    assert all("AUTOINCREMENT" in tables[name] for name in ("coupon_template", "coupon"))
    assert "business_id" in tables["coupon_template"] and "use_discount" in tables["coupon"]


async def test_the_demo_data_has_a_template_of_the_dev_merchant_s_shop(client, coupon_app, tokens):
    async with coupon_app.state.sessionmaker() as session, session.begin():
        assert await seed_demo(session, datetime.now(UTC))
    templates = (await client.get(f"{TEMPLATES}?page_size=100", headers=tokens["admin"])).json()["items"]
    assert sorted((t["business_id"] or 0, t["name"]) for t in templates) == sorted(
        [(0, values["name"]) for values in DEMO] + [(DEMO_SHOP, values["name"]) for values in DEMO_SHOP_TEMPLATES])
    mine = (await client.get(f"{M}/templates", headers=tokens["merchant"])).json()
    assert [t["name"] for t in mine["items"]] == [values["name"] for values in DEMO_SHOP_TEMPLATES]
