"""Quote cost: a 50-line cart priced with many promotions, in-process and over HTTP.

- in-process: the calculator with the coupon service's own matching, as one quote does it
  (50 lines, 20 discount activities, 10 spend-and-save activities, 30 coupons); and a 3-shop,
  30-line cart with each shop's and the platform's discounts, spend-and-save and coupons, priced
  as a member's multi-shop quote is (shop coupons matched, the best combination tried, platform
  coupons matched on each choice);
- SQL statements per quote, counted on an in-process pricing app, for carts touched by 0, 60
  and 100 promotions;
- over HTTP (wrk, the pricing and coupon services as `make run` starts them, on MariaDB): the
  60-promotion cart for p50/p99, and throughput with 100 promotions against the same cart shape
  with none, in interleaved rounds;
- member against anonymous quotes (issue 19): a 3-line cart, the member holding 30 coupons, with
  the CPU each process spends per quote and the coupon service per match call (utime + stime from
  /proc/<pid>/stat over the measured run, calls from its metrics); the same two scenarios on the
  code as it was before (`BASELINE`, a `git archive` of that commit run beside it on its own
  databases), in the same rounds;
- SQLAlchemy ORM against Core on the hot statements (the match, the catalog versions), and the
  pool's checkout round trips, in-process on the seeded databases.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import statistics
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import create_async_engine

from bench import stack as stack_module
from bench import wrk
from bench.stack import Stack
from services.coupon import domain as coupon_domain
from services.coupon import matching
from services.coupon.models import Coupon
from services.coupon.schemas import CartLineIn
from services.pricing import calculator as calc
from services.pricing import repository as pricing_repo
from services.pricing.models import Mutex
from shared.auth import Role, issue_token
from shared.db import create_engine, make_sessionmaker
from shared.settings import CommonSettings

LINES = 50
CONNECTIONS = 16
# Scenarios: each has its own member and its own SKUs/SPUs/categories (same shape and prices).
#   busy60:  the issue's cart: 20 discount and 10 spend-and-save activities, 30 coupons
#   busy100: 100 activities touching the cart (50 discount, 50 spend-and-save), 30 coupons
#   none:    no activity, the same 30 coupons: "the same with none" for the ratio
#   bare:    no activity and no coupon (context: the cheapest possible quote)
#   shops:   3 shops, 30 lines: each shop's discount and two spend-and-save, the platform's discount
#            and spend-and-save across shops; the same 30 platform coupons and 3 of each shop's
#   member3: a 3-line cart (no activity), the member holding the same 30 coupons (one match call)
#   anon3:   the same cart, anonymous (no coupon call)
USERS = {"busy60": 5_000_001, "busy100": 5_000_002, "none": 5_000_003, "bare": 5_000_004, "shops": 5_000_005,
         "member3": 5_000_006, "anon3": None}
SKU_BASE = {"busy60": 10_000, "busy100": 20_000, "none": 30_000, "bare": 40_000, "shops": 60_000,
            "member3": 50_000, "anon3": 50_000}
WITH_COUPONS = ("busy60", "busy100", "none", "shops", "member3")
SMALL_LINES = 3
# The code before issue 19's cheap member quotes: its coupon and pricing services run beside the
# current ones in the same rounds (PRICING_BENCH_BASELINE=<commit>, or "off").
BASELINE = os.environ.get("PRICING_BENCH_BASELINE", "b41b470")
BASELINE_DATABASES = "mysql+asyncmy://root@127.0.0.1:3306/promo_bench_before_{service}"


def cart(kind: str) -> list[dict]:
    """50 lines (5 categories of 10 lines); the 3-shop cart: the in-process one's 30 lines."""
    if kind == "shops":
        return [{"sku_id": line.sku_id, "spu_id": line.spu_id, "category_id": line.category_id,
                 "unit_price": line.unit_price, "count": line.count, "business_id": line.business_id}
                for line in _shop_inputs()[0].lines]
    base = SKU_BASE[kind]
    return [{"sku_id": base + n, "spu_id": base + n, "category_id": base + n % 5, "unit_price": 1990 + 37 * n,
             "count": 1 + n % 3} for n in range(SMALL_LINES if kind in ("member3", "anon3") else LINES)]


# --- in-process -----------------------------------------------------------------------------------

def _inputs() -> tuple[calc.Cart, calc.Offers, list[coupon_domain.HeldCoupon]]:
    lines = tuple(calc.Line(x["sku_id"], x["spu_id"], x["category_id"], x["unit_price"], x["count"])
                  for x in cart("busy60"))
    discounts = {}
    for activity in range(20):  # 20 activities, two SKUs each: 40 of the 50 lines
        for sku in (lines[2 * activity].sku_id, lines[2 * activity + 1].sku_id):
            discounts[sku] = calc.SkuDiscount(activity + 1, f"d{activity}", sku, calc.DiscountType.PERCENT,
                                              pay_bp=8000 + 50 * activity)
    rewards = tuple(_reward_rule(n, lines) for n in range(10))
    now = datetime.now(UTC)
    coupons = [coupon_domain.HeldCoupon(n + 1, _coupon_terms(n, lines), now - timedelta(days=1),
                                        now + timedelta(days=n + 1)) for n in range(30)]
    return calc.Cart(lines, member_pay_bp=9500, use_points=True, points_balance=5000), \
        calc.Offers(discounts, rewards), coupons


def _reward_rule(n: int, lines) -> calc.RewardRule:
    levels = (calc.RewardLevel(5_000, 500), calc.RewardLevel(20_000, 2_500, points=20),
              calc.RewardLevel(80_000, 9_000, free_delivery=True))
    if n < 5:  # category scopes
        return calc.RewardRule(n + 1, f"r{n}", calc.ConditionType.AMOUNT, calc.ProductScope.CATEGORY,
                               frozenset({lines[n].category_id}), levels)
    spus = frozenset(line.spu_id for line in lines[40 + 2 * (n - 5): 42 + 2 * (n - 5)])
    return calc.RewardRule(n + 1, f"r{n}", calc.ConditionType.COUNT, calc.ProductScope.SPU, spus,
                           (calc.RewardLevel(2, 300), calc.RewardLevel(4, 800)))


def _coupon_terms(n: int, lines) -> coupon_domain.Terms:
    scope = (coupon_domain.ProductScope.ALL, coupon_domain.ProductScope.SPU, coupon_domain.ProductScope.CATEGORY)[n % 3]
    values = () if n % 3 == 0 else tuple(
        (line.spu_id if n % 3 == 1 else line.category_id) for line in lines[n % 7::5])
    if n % 2:
        return coupon_domain.Terms(1000 * n, scope, values, coupon_domain.DiscountType.PRICE, discount_price=100 * n)
    return coupon_domain.Terms(500 * n, scope, values, coupon_domain.DiscountType.PERCENT, discount_percent=90,
                               discount_limit_price=3000)


def quote_in_process(cart_: calc.Cart, offers: calc.Offers, coupons, rules: calc.PointsRules, now) -> calc.Quote:
    """What a quote computes: steps 1-3, the coupon service's matching, the rest."""
    draft = calc.price_until_coupon(cart_, offers)
    lines = [coupon_domain.CartLine(cl.spu_id, cl.category_id, cl.amount) for cl in draft.coupon_lines()]
    _, best = coupon_domain.match_coupons(coupons, lines, now)
    chosen = calc.ChosenCoupon(best.coupon_id, "best", best.discount, best.line_indexes) if best else None
    return calc.finish(draft, chosen, rules)


def in_process(rounds: int = 5, per_round: int = 1000) -> dict:
    """Rounds of quotes; the median round's p50/p99 (a VM's speed drifts, as for the HTTP runs)."""
    cart_, offers, coupons = _inputs()
    rules = calc.PointsRules(True, 1, 2000, 1)
    now = datetime.now(UTC)
    for _ in range(300):
        quote = quote_in_process(cart_, offers, coupons, rules, now)
    p50s, p99s, means = [], [], []
    for _ in range(rounds):
        samples = []
        for _ in range(per_round):
            started = time.perf_counter_ns()
            quote_in_process(cart_, offers, coupons, rules, now)
            samples.append(time.perf_counter_ns() - started)
        samples.sort()
        p50s.append(samples[len(samples) // 2] / 1e6)
        p99s.append(samples[int(len(samples) * 0.99)] / 1e6)
        means.append(statistics.fmean(samples) / 1e6)
    return {"iterations": rounds * per_round, "rounds": rounds, "p50_ms": round(statistics.median(p50s), 3),
            "p99_ms": round(statistics.median(p99s), 3), "p99_range_ms": [round(min(p99s), 3), round(max(p99s), 3)],
            "mean_ms": round(statistics.median(means), 3),
            "applied": sum(1 for p in quote.promotions if p.applied), "pay": quote.totals.pay}


# --- in-process: a 3-shop cart ---------------------------------------------------------------------

SHOPS = (7001, 7002, 7003)
SHOP_LINES = 30


def _shop_inputs() -> tuple[calc.Cart, calc.Offers, list[coupon_domain.HeldCoupon]]:
    """30 lines, 10 per shop (2 categories a shop, one shared category 90 across shops); a discount
    on 20 lines (10 the platform's, 10 their shop's); per shop 2 spend-and-save activities (a
    category and all its lines), 2 of the platform's (the shared category, everything); 5 coupons
    per shop and 10 of the platform's."""
    lines = tuple(calc.Line(60_000 + n, 60_000 + n, (90 if n % 4 == 0 else 80 + 2 * (n // 10) + n % 2),
                            2990 + 41 * n, 1 + n % 3, True, SHOPS[n // 10]) for n in range(SHOP_LINES))
    discounts = {}
    for n, line in enumerate(lines):
        if n % 3 == 0:
            discounts[line.sku_id] = calc.SkuDiscount(100 + n, f"平台折扣{n}", line.sku_id, calc.DiscountType.PERCENT,
                                                      pay_bp=8800)
        elif n % 3 == 1:
            discounts[line.sku_id] = calc.SkuDiscount(200 + n, f"店铺折扣{n}", line.sku_id, calc.DiscountType.AMOUNT,
                                                      amount_off=300, business_id=line.business_id)
    levels = (calc.RewardLevel(5_000, 500), calc.RewardLevel(20_000, 2_500, points=20),
              calc.RewardLevel(60_000, 8_000, free_delivery=True))
    rewards = []
    for s, shop in enumerate(SHOPS):
        rewards.append(calc.RewardRule(10 + s, f"店铺满减{s}", calc.ConditionType.AMOUNT, calc.ProductScope.CATEGORY,
                                       frozenset({80 + 2 * s}), levels, shop))
        rewards.append(calc.RewardRule(20 + s, f"店铺全场{s}", calc.ConditionType.COUNT, calc.ProductScope.ALL,
                                       frozenset(), (calc.RewardLevel(5, 400), calc.RewardLevel(12, 1_200)), shop))
    rewards.append(calc.RewardRule(30, "平台跨店满减", calc.ConditionType.AMOUNT, calc.ProductScope.CATEGORY,
                                   frozenset({90}), levels))
    rewards.append(calc.RewardRule(31, "平台全场", calc.ConditionType.AMOUNT, calc.ProductScope.ALL, frozenset(),
                                   (calc.RewardLevel(100_000, 5_000), calc.RewardLevel(200_000, 12_000))))
    now = datetime.now(UTC)
    coupons = []
    for n in range(25):
        shop = SHOPS[n % 3] if n < 15 else None
        coupons.append(coupon_domain.HeldCoupon(n + 1, _coupon_terms(n % 9, lines), now - timedelta(days=1),
                                                now + timedelta(days=n + 1), shop))
    return calc.Cart(lines, member_pay_bp=9500, use_points=True, points_balance=5000), \
        calc.Offers(discounts, tuple(rewards)), coupons


def _usable(coupons, lines: list[calc.CouponLine], now) -> list[calc.ChosenCoupon]:
    """The coupon service's matching of these coupons, as pricing takes its verdicts."""
    owners = {c.id: c.business_id for c in coupons}
    matches, _ = coupon_domain.match_coupons(
        coupons, [coupon_domain.CartLine(cl.spu_id, cl.category_id, cl.amount, cl.business_id) for cl in lines], now)
    return [calc.ChosenCoupon(m.coupon_id, "c", m.discount, m.line_indexes, owners[m.coupon_id])
            for m in matches if m.usable]


def quote_shops_in_process(cart_: calc.Cart, offers: calc.Offers, coupons, rules: calc.PointsRules,
                           now) -> calc.Quote:
    """What a member's multi-shop quote computes: the shops' steps, their coupons matched, each
    choice of shop coupons worth trying (each shop's largest, then those whose floor could beat it)
    priced with the platform's spend-and-save and its coupons matched, the best combination, the
    rest."""
    shop_coupons = [c for c in coupons if c.business_id is not None]
    platform_coupons = [c for c in coupons if c.business_id is None]
    base = calc.price_until_shop_coupons(cart_, offers)
    options: dict[int, list[calc.ChosenCoupon]] = {}
    for chosen in _usable(shop_coupons, base.coupon_lines(), now):
        options.setdefault(chosen.business_id, []).append(chosen)
    most = max((coupon_domain.ceiling(c.terms) for c in platform_coupons), default=0)  # the match's max_discount
    pick = calc.best_coupons(base, options, lambda draft: _usable(platform_coupons, draft.coupon_lines(), now),
                             coupon_ceiling=most)
    return calc.finish(pick.draft, pick.platform, rules)


def in_process_shops(rounds: int = 5, per_round: int = 1000) -> dict:
    cart_, offers, coupons = _shop_inputs()
    return _timed(lambda: quote_shops_in_process(cart_, offers, coupons, calc.PointsRules(True, 1, 2000, 1),
                                                 datetime.now(UTC)), rounds, per_round)


def _timed(quote, rounds: int, per_round: int) -> dict:
    for _ in range(300):
        result = quote()
    p50s, p99s, means = [], [], []
    for _ in range(rounds):
        samples = []
        for _ in range(per_round):
            started = time.perf_counter_ns()
            quote()
            samples.append(time.perf_counter_ns() - started)
        samples.sort()
        p50s.append(samples[len(samples) // 2] / 1e6)
        p99s.append(samples[int(len(samples) * 0.99)] / 1e6)
        means.append(statistics.fmean(samples) / 1e6)
    return {"iterations": rounds * per_round, "rounds": rounds, "p50_ms": round(statistics.median(p50s), 3),
            "p99_ms": round(statistics.median(p99s), 3), "p99_range_ms": [round(min(p99s), 3), round(max(p99s), 3)],
            "mean_ms": round(statistics.median(means), 3),
            "applied": sum(1 for p in result.promotions if p.applied), "pay": result.totals.pay,
            "coupons": len(result.coupon_ids), "shops": len({p.line.business_id for p in result.lines})}


# --- setup over HTTP ------------------------------------------------------------------------------

async def seed(pricing: str, coupon: str) -> None:
    settings = CommonSettings(_env_file=None, env="dev")
    admin = {"Authorization": f"Bearer {issue_token(settings, 1, Role.ADMIN)}"}
    now = datetime.now(UTC)
    window = {"start_at": (now - timedelta(minutes=1)).isoformat(), "end_at": (now + timedelta(days=1)).isoformat()}
    async with httpx.AsyncClient(timeout=30) as client:
        async def post(url: str, body: dict) -> dict:
            response = await client.post(url, json=body, headers=admin)
            assert response.status_code in (200, 201), response.text
            return response.json()

        async def discounts(kind: str, activities: int, per_activity: int) -> None:
            lines = cart(kind)
            for n in range(activities):
                products = [{"spu_id": x["spu_id"], "sku_id": x["sku_id"], "discount_type": 2,
                             "pay_bp": 8000 + 30 * n} for x in lines[per_activity * n: per_activity * (n + 1)]]
                await post(f"{pricing}/admin-api/pricing/discounts", {"name": f"{kind}-d{n}", **window,
                                                                      "products": products})

        async def rewards(kind: str, scopes: list[dict], levels: list[dict]) -> None:
            for n, scope in enumerate(scopes):
                await post(f"{pricing}/admin-api/pricing/rewards", {
                    "name": f"{kind}-r{n}", **window, "condition_type": 10, **scope, "levels": levels})

        busy60 = cart("busy60")
        await discounts("busy60", 20, 2)
        await rewards("busy60", [{"product_scope": 3, "product_scope_values": [SKU_BASE["busy60"] + n]}
                                 for n in range(5)] +
                      [{"product_scope": 2, "product_scope_values": [x["spu_id"] for x in busy60[2 * n:2 * n + 2]]}
                       for n in range(5)],
                      [{"threshold": 5000, "amount_off": 500}, {"threshold": 20000, "amount_off": 2500}])
        await discounts("busy100", 50, 1)
        await rewards("busy100", [{"product_scope": 2, "product_scope_values": [x["spu_id"]]}
                                  for x in cart("busy100")],
                      [{"threshold": 1000, "amount_off": 100}, {"threshold": 6000, "amount_off": 700}])
        await seed_shops(client, post, pricing, coupon, window)
        for n in range(30):  # 30 coupon templates over all products, one of each to every coupon holder
            template = await post(f"{coupon}/admin-api/coupon/templates", {
                "name": f"c{n}", "take_type": 2, "total_count": -1, "take_limit_count": -1,
                "validity_type": 2, "fixed_start_term": 0, "fixed_end_term": 7, "use_price": 500 * n,
                **({"discount_type": 1, "discount_price": 100 + n} if n % 2 else
                   {"discount_type": 2, "discount_percent": 90, "discount_limit_price": 3000})})
            await post(f"{coupon}/admin-api/coupon/templates/{template['id']}/give",
                       {"user_ids": [USERS[kind] for kind in WITH_COUPONS]})


def headers_of(kind: str) -> dict[str, str]:
    """The quote's headers: a member's token, none for the anonymous scenario."""
    token = member_token(kind)
    return {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}


async def seed_shops(client: httpx.AsyncClient, post, pricing: str, coupon: str, window: dict) -> None:
    """The 3-shop cart's promotions: per shop (its merchant's token) a discount of 300 fen on a
    third of its lines, spend-and-save on each of its two categories, and 3 coupons the member
    takes; the platform's discount on another third of the lines and spend-and-save on the
    category every shop sells (90)."""
    settings = CommonSettings(_env_file=None, env="dev")
    member = {"Authorization": f"Bearer {issue_token(settings, USERS['shops'], Role.MEMBER)}"}
    lines = _shop_inputs()[0].lines

    async def as_merchant(url: str, body: dict, shop: int) -> dict:
        token = issue_token(settings, 900_000 + shop, Role.MERCHANT, business_id=shop)
        response = await client.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code in (200, 201), response.text
        return response.json()

    amount_levels = [{"threshold": 5000, "amount_off": 500}, {"threshold": 20000, "amount_off": 2500}]
    for s, shop in enumerate(SHOPS):
        mine = lines[10 * s: 10 * s + 10]
        await as_merchant(f"{pricing}/merchant-api/pricing/discounts", {
            "name": f"shop{shop}-d", **window, "products": [
                {"spu_id": x.spu_id, "sku_id": x.sku_id, "discount_type": 1, "amount_off": 300}
                for n, x in enumerate(mine, 10 * s) if n % 3 == 1]}, shop)
        await as_merchant(f"{pricing}/merchant-api/pricing/rewards", {
            "name": f"shop{shop}-r1", **window, "condition_type": 10, "product_scope": 3,
            "product_scope_values": [80 + 2 * s], "levels": amount_levels}, shop)
        await as_merchant(f"{pricing}/merchant-api/pricing/rewards", {
            "name": f"shop{shop}-r2", **window, "condition_type": 20, "product_scope": 3,
            "product_scope_values": [81 + 2 * s], "levels": [{"threshold": 5, "amount_off": 400}]}, shop)
        for n in range(3):
            template = await as_merchant(f"{coupon}/merchant-api/coupon/templates", {
                "name": f"shop{shop}-c{n}", "take_type": 1, "total_count": -1, "take_limit_count": -1,
                "validity_type": 2, "fixed_start_term": 0, "fixed_end_term": 7, "use_price": 3000 * n,
                "discount_type": 1, "discount_price": 200 + 300 * n}, shop)
            taken = await client.post(f"{coupon}/app-api/coupon/templates/{template['id']}/take", headers=member)
            assert taken.status_code == 201, taken.text
    await post(f"{pricing}/admin-api/pricing/discounts", {"name": "platform-d", **window, "products": [
        {"spu_id": x.spu_id, "sku_id": x.sku_id, "discount_type": 2, "pay_bp": 8800}
        for n, x in enumerate(lines) if n % 3 == 0]})
    await post(f"{pricing}/admin-api/pricing/rewards", {
        "name": "platform-r", **window, "condition_type": 10, "product_scope": 3, "product_scope_values": [90],
        "levels": [{"threshold": 10000, "amount_off": 1000}, {"threshold": 30000, "amount_off": 4000}]})


def quote_body(kind: str) -> str:
    return json.dumps({"lines": cart(kind), "use_best_coupon": True, "use_points": True, "points_balance": 3000})


def member_token(kind: str) -> str | None:
    if USERS[kind] is None:
        return None
    return issue_token(CommonSettings(_env_file=None, env="dev"), USERS[kind], Role.MEMBER, ttl_seconds=3600)


def wrk_script(workdir: Path, kind: str) -> Path:
    path = workdir / f"quote-{kind}.lua"
    path.write_text(f'wrk.method = "POST"\nwrk.body = [[{quote_body(kind)}]]\n'
                    + "".join(f'wrk.headers["{name}"] = "{value}"\n' for name, value in headers_of(kind).items()))
    return path


def check_answers(pricing: str) -> dict[str, dict]:
    """Every scenario answers 200 and applies what it should (nothing for `none`)."""
    seen = {}
    for kind in USERS:
        response = httpx.post(f"{pricing}/app-api/pricing/quote", content=quote_body(kind), headers=headers_of(kind),
                              timeout=30)
        if response.status_code != 200:
            raise RuntimeError(f"quote {kind}: {response.status_code} {response.text[:500]}")
        body = response.json()
        applied = sum(1 for p in body["promotions"] if p["applied"] and p["kind"] in ("discount", "reward"))
        seen[kind] = {"applied_promotions": applied, "shops": len(body.get("shops", [])),
                      "coupons_applied": len(body["coupons"].get("applied_coupon_ids", [])),
                      "coupons_offered": len(body["coupons"]["usable"]) + len(body["coupons"]["unusable"]),
                      "pay": body["totals"]["pay"], "bytes": len(response.content)}
    if seen["none"]["applied_promotions"] or seen["bare"]["applied_promotions"] or seen["bare"]["coupons_offered"]:
        raise RuntimeError(f"a cart without activities got some: {seen}")
    if seen["busy100"]["applied_promotions"] < 100:
        raise RuntimeError(f"the 100-activity cart applied too few: {seen['busy100']}")
    if seen["shops"]["shops"] != 3 or seen["shops"]["applied_promotions"] < 8 or seen["shops"]["coupons_applied"] < 2:
        raise RuntimeError(f"the 3-shop cart: {seen['shops']}")
    if seen["member3"]["coupons_offered"] != 30 or seen["anon3"]["coupons_offered"]:
        raise RuntimeError(f"the 3-line carts: {seen['member3']}, {seen['anon3']}")
    return seen


# --- SQL statements per quote ---------------------------------------------------------------------

async def count_statements(database_url: str, coupon_url: str, redis_url: str, kafka: str) -> dict[str, int]:
    from services.pricing.main import create_app
    from services.pricing.settings import PricingSettings

    settings = PricingSettings(_env_file=None, env="dev", database_url=database_url, coupon_url=coupon_url,
                               redis_url=redis_url, kafka_bootstrap_servers=kafka, kafka_enable_idempotence=False,
                               log_level="WARNING")
    app = create_app(settings)
    counts = {}
    async with app.router.lifespan_context(app):
        statements: list[str] = []

        def record(_conn, _cursor, statement, *_args) -> None:
            statements.append(statement)

        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pricing") as client:
            for kind in USERS:
                await client.post("/app-api/pricing/quote", content=quote_body(kind), headers=headers_of(kind))
                event.listen(app.state.engine.sync_engine, "before_cursor_execute", record)
                statements.clear()
                response = await client.post("/app-api/pricing/quote", content=quote_body(kind),
                                             headers=headers_of(kind))
                event.remove(app.state.engine.sync_engine, "before_cursor_execute", record)
                assert response.status_code == 200, response.text
                counts[kind] = len(statements)
    return counts


# --- CPU per quote, per process --------------------------------------------------------------------

TICKS = os.sysconf("SC_CLK_TCK")
MATCH_CALLS = re.compile(r'^http_requests_total\{[^}]*route="/internal/coupon/match"[^}]*status="200"[^}]*\} '
                         r'([\d.e+]+)$', re.MULTILINE)


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process so far (fields 14 and 15 of /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def match_calls(coupon: str) -> float:
    """The coupon service's answered match calls so far (its metrics)."""
    return sum(float(n) for n in MATCH_CALLS.findall(httpx.get(f"{coupon}/metrics", timeout=10).text))


def measured(on: Stack, url: str, script: Path, seconds: int) -> tuple[wrk.WrkResult, dict]:
    """One wrk run with the CPU the pricing and coupon processes spent on it, per quote and (the
    coupon service) per match call."""
    pids = {name: on._processes[name].pid for name in ("pricing", "coupon")}
    calls = match_calls(on.urls["coupon"])
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    run_ = wrk.run(url, CONNECTIONS, seconds, script=script)
    spent = {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}
    calls = match_calls(on.urls["coupon"]) - calls
    quotes = max(run_.requests, 1)
    return run_, {"pricing_us_per_quote": round(spent["pricing"] * 1e6 / quotes, 1),
                  "coupon_us_per_quote": round(spent["coupon"] * 1e6 / quotes, 1),
                  "match_calls_per_quote": round(calls / quotes, 3),
                  "coupon_us_per_match": round(spent["coupon"] * 1e6 / calls, 1) if calls else None}


# --- the code before, beside it ---------------------------------------------------------------------

@contextlib.contextmanager
def _stack_from(source: Path, databases: str):
    """Stack starts processes from the repository's root on promo_bench_*: from `source` and
    `databases` instead, while the block runs."""
    saved = stack_module.ROOT, stack_module.MARIADB_URL
    stack_module.ROOT, stack_module.MARIADB_URL = source, databases
    try:
        yield
    finally:
        stack_module.ROOT, stack_module.MARIADB_URL = saved


def start_baseline(workdir: Path) -> Stack | None:
    """The coupon and pricing services of BASELINE (a `git archive` of that commit), on databases of
    their own; None when switched off or the commit is not in this clone."""
    if BASELINE in ("", "off"):
        return None
    source = workdir / "before"
    source.mkdir()
    archive = subprocess.run(["git", "-C", str(stack_module.ROOT), "archive", BASELINE], capture_output=True)
    if archive.returncode != 0:
        print(f"  no baseline: git archive {BASELINE} failed: {archive.stderr.decode()[-300:]}", flush=True)
        return None
    subprocess.run(["tar", "-x", "-C", str(source)], input=archive.stdout, check=True)
    (workdir / "before-run").mkdir()
    baseline = Stack(workdir / "before-run")
    with _stack_from(source, BASELINE_DATABASES):
        try:
            baseline.start_pricing()
        except Exception:
            baseline.stop()
            raise
    return baseline


# --- ORM against Core, in-process -------------------------------------------------------------------

async def _orm_match(session, user_id: int, lines: list[CartLineIn], now: datetime) -> dict:
    """The match as it was before matching.py: an ORM-enabled select built per call, a Terms per
    coupon (kept here to measure against)."""
    mine = Coupon.status == coupon_domain.CouponStatus.UNUSED
    query = (select(Coupon.id, Coupon.name, Coupon.business_id, Coupon.valid_start, Coupon.valid_end,
                    Coupon.use_price, Coupon.product_scope, Coupon.product_scope_values, Coupon.discount_type,
                    Coupon.discount_price, Coupon.discount_percent, Coupon.discount_limit_price)
             .where(Coupon.user_id == user_id, mine).order_by(Coupon.valid_end, Coupon.id))
    coupons = list(await session.execute(query))
    held = [coupon_domain.HeldCoupon(c.id, coupon_domain.Terms(
        c.use_price, coupon_domain.ProductScope(c.product_scope), tuple(c.product_scope_values),
        coupon_domain.DiscountType(c.discount_type), c.discount_price, c.discount_percent, c.discount_limit_price),
        c.valid_start, c.valid_end, c.business_id) for c in coupons]
    cart = [coupon_domain.CartLine(line.spu_id, line.category_id, line.amount, line.business_id) for line in lines]
    matches, best = coupon_domain.match_coupons(held, cart, now)
    by_id = {c.id: c for c in coupons}
    return {"best_coupon_id": best.coupon_id if best else None, "coupons": [
        {"coupon_id": m.coupon_id, "name": by_id[m.coupon_id].name, "usable": m.usable, "discount": m.discount,
         "reason_message": m.message("zh-CN"), "valid_end": by_id[m.coupon_id].valid_end} for m in matches]}


async def orm_against_core(database_url: str, rounds: int = 7, per_round: int = 300) -> dict[str, float]:
    """CPU microseconds per call (median of interleaved rounds) of the hot statements, each in a
    transaction of its own as a request runs it; the pool's checkout as it was (pre-ping and
    rollback-on-return) against shared.db's."""
    coupon_engine = create_engine(database_url.replace("{service}", "coupon"))
    pricing_url = database_url.replace("{service}", "pricing")
    pricing_engine, before_engine = create_engine(pricing_url), create_async_engine(
        pricing_url, pool_size=10, max_overflow=10, pool_pre_ping=True, pool_recycle=1800)
    coupons, prices, before = (make_sessionmaker(e) for e in (coupon_engine, pricing_engine, before_engine))
    lines = [CartLineIn(spu_id=x["spu_id"], category_id=x["category_id"], amount=x["unit_price"] * x["count"])
             for x in cart("member3")]
    user, zone = USERS["member3"], ZoneInfo("Asia/Shanghai")
    orm_versions = select(Mutex.name, Mutex.version)

    async def in_session(maker, work):
        async with maker() as session, session.begin():
            return await work(session)

    variants = {
        "match: ORM select built per call (before)": lambda: in_session(
            coupons, lambda s: _orm_match(s, user, lines, datetime.now(UTC))),
        "match: Core, prebuilt (matching.py), in a session": lambda: in_session(
            coupons, lambda s: matching.match_cart(s, user, lines, datetime.now(UTC), "zh-CN", zone)),
        "match: Core, the fast path's read (one step to the sync core)": lambda: _fast_path_match(
            coupon_engine, user, lines, zone),
        "catalog versions: ORM select (before)": lambda: in_session(
            prices, lambda s: s.execute(orm_versions)),
        "catalog versions: Core (repository.py)": lambda: in_session(prices, pricing_repo.catalog_versions),
        "catalog versions: the quote fast path's read (one step to the sync core)": lambda: (
            pricing_repo.read_catalog_versions(pricing_engine)),
        "a transaction, no statement: pre-ping + rollback-on-return (before)": lambda: in_session(
            before, lambda s: s.connection()),
        "a transaction, no statement: shared.db's pool": lambda: in_session(prices, lambda s: s.connection()),
    }
    samples: dict[str, list[float]] = {name: [] for name in variants}
    try:
        if len((await variants["match: Core, the fast path's read (one step to the sync core)"]())["coupons"]) != 30:
            raise RuntimeError("the member of the 3-line cart should hold 30 coupons")
        for _ in range(rounds):
            for name, call in variants.items():
                for _ in range(30):
                    await call()
                started = time.process_time()
                for _ in range(per_round):
                    await call()
                samples[name].append((time.process_time() - started) * 1e6 / per_round)
    finally:
        for engine in (coupon_engine, pricing_engine, before_engine):
            await engine.dispose()
    return {name: round(statistics.median(values), 1) for name, values in samples.items()}


async def _fast_path_match(engine, user: int, lines: list[CartLineIn], zone: ZoneInfo) -> dict:
    rows = await matching.read_matchable_coupons(engine, user, None, "all")
    return matching.verdicts(rows, lines, datetime.now(UTC), "zh-CN", zone)


# --- the run --------------------------------------------------------------------------------------

def _median(values: list) -> float | None:
    known = [v for v in values if v is not None]
    return round(statistics.median(known), 1) if known else None


ROUND_KINDS = ("none", "busy100", "busy60", "bare", "shops", "member3", "anon3")
SMALL = ("member3", "anon3")


def run(stack: Stack, seconds: int, rounds: int) -> dict:
    result: dict = {"in_process": in_process(), "in_process_shops": in_process_shops()}
    print(f"  in-process: p50 {result['in_process']['p50_ms']} ms, p99 {result['in_process']['p99_ms']} ms; "
          f"3 shops: p50 {result['in_process_shops']['p50_ms']} ms, p99 {result['in_process_shops']['p99_ms']} ms",
          flush=True)
    stack.start_pricing()
    baseline = start_baseline(stack.workdir)
    try:
        return _run(stack, baseline, seconds, rounds, result)
    finally:
        if baseline is not None:
            baseline.stop()


def _run(stack: Stack, baseline: Stack | None, seconds: int, rounds: int, result: dict) -> dict:
    asyncio.run(seed(stack.urls["pricing"], stack.urls["coupon"]))
    result["answers"] = check_answers(stack.urls["pricing"])
    if baseline is not None:
        asyncio.run(seed(baseline.urls["pricing"], baseline.urls["coupon"]))
        result["baseline"] = {"commit": BASELINE, "answers": check_answers(baseline.urls["pricing"])}
    result["statements"] = asyncio.run(count_statements(
        stack.env["DATABASE_URL"], stack.urls["coupon"], stack.env["REDIS_URL"], stack.env["KAFKA_BOOTSTRAP_SERVERS"]))
    result["orm_vs_core_us"] = asyncio.run(orm_against_core(stack.env["DATABASE_URL"]))
    for name, value in result["orm_vs_core_us"].items():
        print(f"  in-process {name}: {value} us CPU per call", flush=True)
    scripts = {kind: wrk_script(stack.workdir, kind) for kind in USERS}
    targets = {"": stack, **({"before:": baseline} if baseline is not None else {})}
    runs: dict[str, list[wrk.WrkResult]] = {kind: [] for kind in USERS}
    cpu: dict[str, list[dict]] = {}
    latency: list[wrk.WrkResult] = []
    for number in range(1, rounds + 1):
        for kind in ROUND_KINDS:
            for prefix, on in targets.items():
                if prefix and kind not in SMALL:
                    continue
                url = on.urls["pricing"] + "/app-api/pricing/quote"
                wrk.run(url, CONNECTIONS, 1, script=scripts[kind])  # warm-up
                r, spent = measured(on, url, scripts[kind], seconds)
                runs.setdefault(prefix + kind, []).append(r)
                cpu.setdefault(prefix + kind, []).append(spent)
                print(f"  round {number} {prefix + kind:<15} c={CONNECTIONS} {r.requests_per_sec:8,.0f} req/s  "
                      f"p50 {r.p50_ms:6.2f} ms  p99 {r.p99_ms:6.2f} ms  errors {r.errors}  pricing "
                      f"{spent['pricing_us_per_quote']:7,.0f} us/quote  coupon {spent['coupon_us_per_quote']:7,.0f} "
                      f"us/quote  {spent['coupon_us_per_match'] or 0:7,.0f} us/match", flush=True)
        latency.append(wrk.run(stack.urls["pricing"] + "/app-api/pricing/quote", 1, seconds, script=scripts["busy60"]))

    def per_round(top: str, bottom: str) -> list[float]:
        return [round(a.requests_per_sec / b.requests_per_sec, 3) for a, b in zip(runs[top], runs[bottom], strict=True)]

    ratios, bare_ratios = per_round("busy100", "none"), per_round("busy100", "bare")
    result["http"] = {
        kind: {"requests_per_sec": round(statistics.median(r.requests_per_sec for r in rs), 1),
               "p50_ms": round(statistics.median(r.p50_ms for r in rs), 2),
               "p99_ms": round(statistics.median(r.p99_ms for r in rs), 2),
               "errors": sum(r.errors for r in rs)} for kind, rs in runs.items() if rs}
    result["cpu_per_quote"] = {kind: {key: _median([x[key] for x in xs]) for key in xs[0]} for kind, xs in cpu.items()}
    result["http_c1"] = {"p50_ms": round(statistics.median(r.p50_ms for r in latency), 2),
                         "p99_ms": round(statistics.median(r.p99_ms for r in latency), 2),
                         "requests_per_sec": round(statistics.median(r.requests_per_sec for r in latency), 1)}
    result["ratio_100_vs_none"] = round(statistics.median(ratios), 3)
    result["ratios"] = ratios
    result["ratio_100_vs_bare"] = round(statistics.median(bare_ratios), 3)
    result["member_vs_anonymous"] = per_round("member3", "anon3")
    if baseline is not None:
        result["baseline"]["member_vs_anonymous"] = per_round("before:member3", "before:anon3")
        result["anonymous_vs_before"] = per_round("anon3", "before:anon3")
        result["member_vs_before"] = per_round("member3", "before:member3")
    result["rounds"], result["seconds"], result["connections"] = rounds, seconds, CONNECTIONS
    return result


def markdown(result: dict) -> str:
    ip, http, statements = result["in_process"], result["http"], result["statements"]
    ratio = result["ratio_100_vs_none"]
    worst_statements = max(statements.values())
    shops = result.get("in_process_shops")
    checks = [("in-process p99 <= 1 ms", ip["p99_ms"] <= 1.0, f"{ip['p99_ms']} ms"),
              *([("in-process p99 <= 1 ms, 3 shops, 30 lines", shops["p99_ms"] <= 1.0, f"{shops['p99_ms']} ms")]
                if shops else []),
              ("throughput with 100 activities / with none (same 30 coupons) >= 0.8", ratio >= 0.8, f"{ratio}"),
              ("SQL statements per quote <= 5 and constant",
               worst_statements <= 5 and len(set(statements.values())) == 1,
               ", ".join(f"{k}: {v}" for k, v in statements.items())),
              *member_checks(result)]
    labels = {"busy60": "20 discount + 10 spend-and-save activities, 30 coupons",
              "busy100": "100 activities (50 discount, 50 spend-and-save), 30 coupons",
              "none": "no activity, 30 coupons",
              "bare": "no activity, no coupon",
              "shops": "3 shops, 30 lines: 3 shops' and the platform's activities, 30 + 9 coupons"}
    rows = [f"| {labels[kind]} | {http[kind]['requests_per_sec']:,} | {http[kind]['p50_ms']} ms "
            f"| {http[kind]['p99_ms']} ms | {http[kind]['errors']} | {result['answers'][kind]['applied_promotions']} "
            f"| {result['answers'][kind]['coupons_offered']} | {statements[kind]} |"
            for kind in ("busy60", "busy100", "none", "bare", "shops") if kind in http]
    small = member_section(result) if "member3" in http else []
    return "\n".join([
        "## Quote", "",
        f"A 50-line cart. In-process: the calculator plus the coupon service's matching of 30 coupons, "
        f"{ip['rounds']} rounds of {ip['iterations'] // ip['rounds']:,} quotes, median round: p50 {ip['p50_ms']} ms, "
        f"p99 {ip['p99_ms']} ms (rounds' p99 from {ip['p99_range_ms'][0]} to {ip['p99_range_ms'][1]} ms), "
        f"mean {ip['mean_ms']} ms.", "",
        *([f"A 3-shop, 30-line cart (each shop's and the platform's discounts, spend-and-save and coupons; the "
           f"best combination of coupons tried): p50 {shops['p50_ms']} ms, p99 {shops['p99_ms']} ms (rounds' p99 "
           f"from {shops['p99_range_ms'][0]} to {shops['p99_range_ms'][1]} ms), mean {shops['mean_ms']} ms; "
           f"{shops['applied']} promotions applied, {shops['coupons']} coupons.", ""] if shops else []),
        f"Over HTTP: `POST /app-api/pricing/quote` straight to the pricing service (one uvicorn process; it calls "
        f"the coupon service, another), wrk -c{result['connections']}, {result['rounds']} interleaved rounds of "
        f"{result['seconds']} s, medians:", "",
        "| cart | req/s | p50 | p99 | errors | activities applied | coupons offered | SQL statements |",
        "|---|---:|---:|---:|---:|---:|---:|---:|", *rows, "",
        f"One connection (first cart): p50 {result['http_c1']['p50_ms']} ms, p99 {result['http_c1']['p99_ms']} ms.",
        f"Throughput ratio, 100 activities / none, per round: {result['ratios']} (median {ratio}). "
        f"Against the bare quote (no activity and no coupon either): {result['ratio_100_vs_bare']}.", "",
        *small,
        "| target | result | |", "|---|---|---|",
        *[f"| {name} | {value} | {'PASS' if ok else 'FAIL'} |" for name, ok, value in checks], ""])


SMALL_LABELS = {"member3": "member, 3 lines, 30 coupons (one match call)", "anon3": "anonymous, the same 3 lines"}


def member_checks(result: dict) -> list[tuple[str, bool, str]]:
    """Issue 19's targets for member quotes (when the run has the 3-line scenarios)."""
    if "member_vs_anonymous" not in result:
        return []
    ratio = statistics.median(result["member_vs_anonymous"])
    per_match = result["cpu_per_quote"]["member3"]["coupon_us_per_match"]
    checks = [("member / anonymous throughput, 3 lines, 30 coupons >= 0.6", ratio >= 0.6,
               f"{ratio:.3f} (per round {result['member_vs_anonymous']})"),
              ("coupon service CPU per match call <= 1 ms", per_match is not None and per_match <= 1000,
               f"{per_match} us")]
    if "anonymous_vs_before" in result:
        gain = statistics.median(result["anonymous_vs_before"])
        checks.append((f"anonymous 3-line throughput >= 1.5x the code before ({result['baseline']['commit']}), "
                       "same run", gain >= 1.5, f"{gain:.3f}x (per round {result['anonymous_vs_before']})"))
    return checks


def member_section(result: dict) -> list[str]:
    http, cpu = result["http"], result["cpu_per_quote"]
    kinds = [k for k in ("member3", "anon3", "before:member3", "before:anon3") if k in http]

    def label(kind: str) -> str:
        prefix, _, base = kind.rpartition(":")
        return SMALL_LABELS[base] + (f" — before ({result['baseline']['commit']})" if prefix else "")

    def us(value) -> str:
        return "–" if value is None else f"{value:,.0f}"

    rows = [f"| {label(k)} | {http[k]['requests_per_sec']:,} | {http[k]['p50_ms']} ms | {http[k]['p99_ms']} ms "
            f"| {http[k]['errors']} | {us(cpu[k]['pricing_us_per_quote'])} | {us(cpu[k]['coupon_us_per_quote'])} "
            f"| {cpu[k]['match_calls_per_quote']} | {us(cpu[k]['coupon_us_per_match'])} |" for k in kinds]
    lines = [
        "## Member and anonymous quotes (issue 19)", "",
        "The same 3-line cart (no activity), as a member holding 30 coupons and anonymously, in the same "
        "interleaved rounds; CPU is utime + stime of each process over the measured run (/proc/<pid>/stat) per "
        "quote, and the coupon service's per match call (calls counted from its metrics). Medians:", "",
        "| scenario | req/s | p50 | p99 | errors | pricing CPU µs/quote | coupon CPU µs/quote | match calls/quote "
        "| coupon CPU µs/match |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|", *rows, "",
        f"Member / anonymous per round: {result['member_vs_anonymous']}."]
    if "baseline" in result:
        lines.append(f"Before ({result['baseline']['commit']}, the same run): member / anonymous "
                     f"{result['baseline']['member_vs_anonymous']}; anonymous now / before "
                     f"{result['anonymous_vs_before']}; member now / before {result['member_vs_before']}.")
    lines += ["", "SQLAlchemy ORM against Core on the hot paths, in-process on the seeded databases (CPU µs per "
              "call, each in its own transaction as a request runs it, median of interleaved rounds):", "",
              "| what | CPU µs per call |", "|---|---:|",
              *[f"| {name} | {value:,} |" for name, value in result["orm_vs_core_us"].items()], ""]
    return lines
