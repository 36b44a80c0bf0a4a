"""The coupon rush (抢券) through Redis, on real MariaDB and Redis: the stock and each user's count
are checked in Redis first (one script per take, keys on the template's hash tag), the database
last; what the database refuses is given back in Redis; Redis lost mid-rush is rebuilt and the
result stays exact."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import event, func, select

from services.coupon.flows.rush_gate import ITEM, UNLIMITED_STOCK, Reconciler, keys
from services.coupon.models import Coupon, CouponTemplate, outbox
from shared.auth import Role
from shared.events import decode
from shared.quota_gate import Loaded, QuotaGate
from shared.redis import make_redis
from tests.conftest import bearer
from tests.coupon.test_api import TEMPLATES, make_template, take


async def in_database(app, template_id: int) -> tuple[int, int]:
    """(coupons of the template, its take_count)."""
    async with app.state.sessionmaker() as session:
        coupons = await session.scalar(select(func.count()).select_from(Coupon)
                                       .where(Coupon.template_id == template_id))
        taken = await session.scalar(select(CouponTemplate.take_count).where(CouponTemplate.id == template_id))
    return coupons, taken


async def in_redis(redis, template_id: int) -> tuple[int | None, dict[int, int], int]:
    """(stock left, user -> count, reservations still held) as Redis has them."""
    stock, users, held, _ = keys(template_id)
    left = await redis.hget(stock, str(ITEM))
    counts = {int(user): int(count) for user, count in (await redis.hgetall(users)).items()}
    return (None if left is None else int(left)), counts, await redis.hlen(held)


@contextlib.contextmanager
def statements(app):
    """The SQL statements the app runs meanwhile (a list, filled as they run), but the outbox
    relay's background polls (an earlier take's event may be on its way)."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.startswith(("SELECT coupon_outbox.", "UPDATE coupon_outbox ")):
            seen.append(statement)

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def members(settings, first: int, count: int) -> list[dict[str, str]]:
    return [bearer(settings, Role.MEMBER, first + i) for i in range(count)]


async def test_300_users_for_50_coupons_get_50_and_redis_agrees(client, tokens, dev_settings, coupon_app, redis):
    template = await make_template(client, tokens, total_count=50, take_limit_count=1)
    assert await in_redis(redis, template["id"]) == (50, {}, 0), "loaded when created"
    responses = await asyncio.gather(*(take(client, template["id"], h) for h in members(dev_settings, 600_000, 300)))
    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == 50 and statuses.count(409) == 250
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"COUPON_TEMPLATE_NOT_ENOUGH"}
    assert await in_database(coupon_app, template["id"]) == (50, 50)
    left, users, held = await in_redis(redis, template["id"])
    assert (left, sum(users.values()), held) == (0, 50, 0), "every take settled: counted, none held"
    answered = {r.json()["coupon_id"] for r in responses if r.status_code == 201}
    async with coupon_app.state.sessionmaker() as session:
        coupons = set((await session.execute(select(Coupon.id, Coupon.user_id)
                                             .where(Coupon.template_id == template["id"]))).all())
        events = [decode(payload) for payload in (await session.scalars(
            select(outbox.c.payload).where(outbox.c.topic == "promo.coupon.issued"))).all()]
    assert answered == {coupon_id for coupon_id, _ in coupons}
    assert {(e.data["coupon_id"], e.data["user_id"]) for e in events if e.data["template_id"] == template["id"]} \
        == coupons, "one promo.coupon.issued per coupon, naming it and its owner"


async def test_one_user_racing_30_takes_with_limit_2_gets_2(client, tokens, coupon_app, redis):
    template = await make_template(client, tokens, total_count=1000, take_limit_count=2)
    responses = await asyncio.gather(*(take(client, template["id"], tokens["member"]) for _ in range(30)))
    assert sorted(r.status_code for r in responses) == [201] * 2 + [409] * 28
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"COUPON_TAKE_LIMIT_REACHED"}
    assert sorted(r.json()["can_take_again"] for r in responses if r.status_code == 201) == [False, True]
    assert await in_database(coupon_app, template["id"]) == (2, 2)
    assert await in_redis(redis, template["id"]) == (998, {1001: 2}, 0)


async def test_a_take_refused_in_redis_never_reaches_the_database(client, tokens, dev_settings, coupon_app,
                                                                  monkeypatch):
    monkeypatch.setattr(coupon_app.state.rush.cache, "seconds", 60.0)  # the terms stay cached for the test
    template = await make_template(client, tokens, total_count=2, take_limit_count=1)
    assert (await take(client, template["id"], tokens["member"])).status_code == 201
    with statements(coupon_app) as at_limit:
        again = await take(client, template["id"], tokens["member"])
    assert again.json()["error"]["code"] == "COUPON_TAKE_LIMIT_REACHED"
    assert at_limit == [], "Redis refused: no SQL"
    assert (await take(client, template["id"], tokens["other_member"])).status_code == 201
    with statements(coupon_app) as sold_out:
        late = await asyncio.gather(*(take(client, template["id"], h) for h in members(dev_settings, 610_000, 20)))
    assert {r.json()["error"]["code"] for r in late} == {"COUPON_TEMPLATE_NOT_ENOUGH"}
    assert sold_out == [], "sold out in Redis (then in this process): no SQL"


async def test_redis_flushed_mid_rush_is_rebuilt_and_the_result_stays_exact(client, tokens, dev_settings, coupon_app,
                                                                            redis, monkeypatch):
    """100 users take 3 times each (limit 2, stock 150) in waves of 30; Redis is flushed while the
    third wave is on its way."""
    template = await make_template(client, tokens, total_count=150, take_limit_count=2)
    templates = coupon_app.state.rush.templates
    loads = []
    load = templates._load
    monkeypatch.setattr(templates, "_load", lambda template_id: loads.append(template_id) or load(template_id))
    users = members(dev_settings, 620_000, 100) * 3
    responses = []
    for wave in range(10):
        takes = [take(client, template["id"], h) for h in users[wave * 30:(wave + 1) * 30]]
        if wave == 2:
            takes.insert(15, redis.flushdb())
        responses += [r for r in await asyncio.gather(*takes) if hasattr(r, "status_code")]  # not the flush
    assert loads, "rebuilt from the database after the flush"
    assert [r.status_code for r in responses].count(201) == 150
    assert await in_database(coupon_app, template["id"]) == (150, 150)
    async with coupon_app.state.sessionmaker() as session:
        per_user = dict((await session.execute(select(Coupon.user_id, func.count()).where(
            Coupon.template_id == template["id"]).group_by(Coupon.user_id))).all())
    assert max(per_user.values()) == 2
    left, counted, held = await in_redis(redis, template["id"])
    assert held == 0 and left >= 0, "every take settled"
    assert all(counted.get(user, 0) <= n for user, n in per_user.items()), \
        "a rebuild leaves Redis too generous at worst (the database refuses the excess), never too strict"


async def test_one_user_racing_with_redis_flushed_still_gets_2(client, tokens, coupon_app, redis):
    template = await make_template(client, tokens, total_count=100, take_limit_count=2)
    first = await take(client, template["id"], tokens["member"])
    assert first.status_code == 201

    async def flush():
        await redis.flushdb()

    results = await asyncio.gather(flush(), *(take(client, template["id"], tokens["member"]) for _ in range(30)))
    assert [r.status_code for r in results[1:]].count(201) == 1
    assert await in_database(coupon_app, template["id"]) == (2, 2)


async def test_more_stock_given_mid_rush_is_honoured(client, tokens, dev_settings, coupon_app, redis):
    body = {"name": "满100减10", "take_type": 1, "total_count": 50, "take_limit_count": 1, "use_price": 10000,
            "validity_type": 2, "fixed_start_term": 0, "fixed_end_term": 7, "discount_type": 1,
            "discount_price": 1000}
    template = (await client.post(TEMPLATES, json=body, headers=tokens["admin"])).json()
    edited = asyncio.Event()
    count = 0

    async def one(headers):
        nonlocal count
        response = await take(client, template["id"], headers)
        count += response.status_code == 201
        if count == 25:
            edited.set()
        return response

    async def edit_when_25_taken():
        await edited.wait()
        response = await client.put(f"{TEMPLATES}/{template['id']}", json={**body, "total_count": 80},
                                    headers=tokens["admin"])
        assert response.status_code == 200, response.text

    first_wave, _ = await asyncio.gather(asyncio.gather(*(one(h) for h in members(dev_settings, 630_000, 150))),
                                         edit_when_25_taken())
    second_wave = await asyncio.gather(*(take(client, template["id"], h) for h in members(dev_settings, 631_000, 150)))
    statuses = [r.status_code for r in [*first_wave, *second_wave]]
    assert statuses.count(201) == 80, "the new total, exactly"
    assert await in_database(coupon_app, template["id"]) == (80, 80)
    assert (await in_redis(redis, template["id"]))[0] == 0


async def test_what_the_database_refuses_is_given_back_in_redis(client, tokens, coupon_app, redis):
    """Redis made too generous (a stale count): the database refuses, Redis's reservation returns."""
    template = await make_template(client, tokens, total_count=10, take_limit_count=1)
    assert (await take(client, template["id"], tokens["member"])).status_code == 201
    gate: QuotaGate = coupon_app.state.rush.templates.gate
    await gate.load(template["id"], Loaded({ITEM: 9}, {}, {}))  # forgets that member 1001 has one
    refused = await take(client, template["id"], tokens["member"])
    assert refused.json()["error"]["code"] == "COUPON_TAKE_LIMIT_REACHED", "the database's last word"
    assert await in_redis(redis, template["id"]) == (9, {1001: 0}, 0), "stock and count given back"
    assert await in_database(coupon_app, template["id"]) == (1, 1)


async def test_the_database_never_over_issues_when_redis_has_too_much_stock(client, tokens, dev_settings, coupon_app):
    template = await make_template(client, tokens, total_count=5, take_limit_count=1)
    await coupon_app.state.rush.templates.gate.load(template["id"], Loaded({ITEM: 500}, {}, {}))
    responses = await asyncio.gather(*(take(client, template["id"], h) for h in members(dev_settings, 640_000, 40)))
    assert [r.status_code for r in responses].count(201) == 5
    assert await in_database(coupon_app, template["id"]) == (5, 5)


async def test_redis_down_the_database_decides_alone(client, tokens, coupon_app):
    template = await make_template(client, tokens, total_count=3, take_limit_count=2)
    gate = coupon_app.state.rush.templates.gate
    working, gate.redis = gate.redis, make_redis("redis://127.0.0.1:1/0")
    scripts = {name: getattr(gate, name) for name in ("_reserve", "_release")}
    down = QuotaGate(gate.redis, "tpl", 1.0)
    gate._reserve, gate._release = down._reserve, down._release
    try:
        responses = await asyncio.gather(*(take(client, template["id"], tokens["member"]) for _ in range(5)))
        assert [r.status_code for r in responses].count(201) == 2
        other = await take(client, template["id"], tokens["other_member"])
        assert other.status_code == 201
        assert (await take(client, template["id"], tokens["other_member"])).json()["error"]["code"] == \
            "COUPON_TEMPLATE_NOT_ENOUGH"
    finally:
        await gate.redis.aclose()
        gate.redis = working
        gate._reserve, gate._release = scripts["_reserve"], scripts["_release"]
    assert await in_database(coupon_app, template["id"]) == (3, 3)


async def test_template_writes_reload_redis(client, tokens, coupon_app, redis):
    template = await make_template(client, tokens, total_count=10, take_limit_count=-1)
    status = f"{TEMPLATES}/{template['id']}/status"
    assert (await take(client, template["id"], tokens["member"])).status_code == 201
    assert (await client.put(status, json={"status": 1}, headers=tokens["admin"])).status_code == 200
    assert not await redis.exists(*keys(template["id"])), "disabled: not gated"
    refused = await take(client, template["id"], tokens["member"])
    assert refused.json()["error"]["code"] == "COUPON_TEMPLATE_DISABLED"
    assert (await client.put(status, json={"status": 0}, headers=tokens["admin"])).status_code == 200
    assert await in_redis(redis, template["id"]) == (9, {1001: 1}, 0), "enabled: loaded from the database"
    coupon_id = (await take(client, template["id"], tokens["member"])).json()["coupon_id"]
    assert (await client.delete(f"/admin-api/coupon/coupons/{coupon_id}", headers=tokens["admin"])).status_code == 204
    assert await in_redis(redis, template["id"]) == (9, {1001: 2}, 0), "a recall returns its stock, still counted"
    unlimited = await make_template(client, tokens, total_count=-1, take_limit_count=-1)
    assert (await take(client, unlimited["id"], tokens["member"])).status_code == 201
    assert (await in_redis(redis, unlimited["id"]))[0] == UNLIMITED_STOCK - 1


async def test_merchant_templates_are_gated_too(client, tokens, coupon_app, redis):
    created = await client.post("/merchant-api/coupon/templates", json={
        "name": "店铺券", "take_type": 1, "total_count": 3, "take_limit_count": 1, "use_price": 10000,
        "validity_type": 2, "fixed_start_term": 0, "fixed_end_term": 7, "discount_type": 1, "discount_price": 1000},
        headers=tokens["merchant"])
    assert created.status_code == 201, created.text
    assert (await in_redis(redis, created.json()["id"]))[0] == 3


async def test_start_and_reconciliation_rebuild_redis_from_the_database(client, tokens, coupon_app, redis):
    templates = coupon_app.state.rush.templates
    kept = await make_template(client, tokens, total_count=10, take_limit_count=1)
    assert (await take(client, kept["id"], tokens["member"])).status_code == 201
    stale_id = kept["id"] + 10_000  # keys of a template this database does not have
    await templates.gate.load(stale_id, Loaded({ITEM: 7}, {}, {}))
    await redis.delete(*keys(kept["id"]))
    assert await templates.warm_up(coupon_app.state.clock.now()) >= 1
    assert not await redis.exists(*keys(stale_id))
    assert await in_redis(redis, kept["id"]) == (9, {1001: 1}, 0)

    reconciler, now = Reconciler(templates), coupon_app.state.clock.now()
    await redis.hset(keys(kept["id"])[0], str(ITEM), 4)  # drifted: 5 fewer than the database says
    assert kept["id"] not in await reconciler.round(now), "a drift seen once may be takes on their way"
    assert kept["id"] in await reconciler.round(now), "the same drift twice: reloaded"
    assert (await in_redis(redis, kept["id"]))[0] == 9
    await redis.delete(*keys(kept["id"]))
    assert kept["id"] in await reconciler.round(now), "missing: loaded at once"


async def test_with_the_front_off_takes_skip_redis(client, tokens, coupon_app, redis, monkeypatch):
    template = await make_template(client, tokens, total_count=10, take_limit_count=1)
    monkeypatch.setattr(coupon_app.state.rush, "redis_front", False)
    assert (await take(client, template["id"], tokens["member"])).status_code == 201
    assert (await take(client, template["id"], tokens["member"])).json()["error"]["code"] == \
        "COUPON_TAKE_LIMIT_REACHED"
    assert await in_redis(redis, template["id"]) == (10, {}, 0), "Redis untouched"
    assert await in_database(coupon_app, template["id"]) == (1, 1)


async def test_the_fast_route_answers_like_the_framework_would(client, tokens, coupon_app):
    template = await make_template(client, tokens, total_count=1, take_limit_count=1)
    path = f"/app-api/coupon/templates/{template['id']}/take"
    for bad in ("0", "-1", "abc", str(2**63)):
        response = await client.post(f"/app-api/coupon/templates/{bad}/take", headers=tokens["member"])
        assert response.json()["error"]["code"] == "VALIDATION_FAILED", bad
    refused = await client.post(path, headers={**tokens["member"], "Accept-Language": "zh-CN"},
                                json={"ignored": True})
    assert refused.status_code == 201 and refused.json()["can_take_again"] is False
    gone = await client.post(path, headers={**tokens["other_member"], "Accept-Language": "zh-CN"})
    assert gone.status_code == 409 and gone.json()["error"]["message"] == "优惠券已被领完"
    unauthorized, framework = await client.post(path), await client.get("/app-api/coupon/coupons")
    assert unauthorized.status_code == framework.status_code == 401
    assert unauthorized.json()["error"]["code"] == framework.json()["error"]["code"]
    assert (await client.post(path, headers={"Authorization": "Bearer nonsense"})).status_code == 401
    missing = await client.post("/app-api/coupon/templates/999999999/take", headers=tokens["member"])
    assert missing.json()["error"]["code"] == "COUPON_TEMPLATE_NOT_FOUND"
    assert missing.headers.get("x-request-id")
    metrics = (await client.get("/metrics")).text
    assert 'route="/app-api/coupon/templates/{template_id}/take"' in metrics
    openapi = (await client.get("/openapi.json")).json()
    assert "post" in openapi["paths"]["/app-api/coupon/templates/{template_id}/take"]


async def test_the_database_path_alone_stays_exact_under_races(client, tokens, dev_settings, coupon_app, monkeypatch):
    """COUPON_REDIS_FRONT off (the benchmark's comparison, and a take when Redis is down)."""
    monkeypatch.setattr(coupon_app.state.rush, "redis_front", False)
    crowd = await make_template(client, tokens, total_count=50, take_limit_count=1)
    responses = await asyncio.gather(*(take(client, crowd["id"], h) for h in members(dev_settings, 650_000, 300)))
    assert [r.status_code for r in responses].count(201) == 50
    assert await in_database(coupon_app, crowd["id"]) == (50, 50)
    limited = await make_template(client, tokens, total_count=1000, take_limit_count=2)
    responses = await asyncio.gather(*(take(client, limited["id"], tokens["member"]) for _ in range(30)))
    assert [r.status_code for r in responses].count(201) == 2
    assert await in_database(coupon_app, limited["id"]) == (2, 2)


async def test_keys_of_a_template_with_fixed_dates_expire_a_day_after_its_end(client, tokens, coupon_app, redis):
    dated = await make_template(client, tokens, validity_type=1, fixed_start_term=None, fixed_end_term=None,
                                valid_start="2030-01-01T00:00:00+08:00", valid_end="2030-02-01T00:00:00+08:00")
    end_plus_a_day = int(datetime(2030, 2, 2, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp())
    assert (await take(client, dated["id"], tokens["member"])).status_code == 201
    await redis.hset(keys(dated["id"])[2], "a-take-on-its-way", "0:1001:1:0")  # `held` exists only meanwhile
    assert (await take(client, dated["id"], tokens["other_member"])).status_code == 201
    expiries = {await redis.expiretime(key) for key in keys(dated["id"])}
    assert expiries - {end_plus_a_day} <= {end_plus_a_day - 1}, "every key, those made by takes too"
    relative = await make_template(client, tokens)
    assert (await take(client, relative["id"], tokens["member"])).status_code == 201
    assert {await redis.ttl(key) for key in keys(relative["id"]) if await redis.exists(key)} == {-1}, "no end: kept"
