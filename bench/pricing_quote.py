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
  with none, in interleaved rounds.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import event

from bench import wrk
from bench.stack import Stack
from services.coupon import domain as coupon_domain
from services.pricing import calculator as calc
from shared.auth import Role, issue_token
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
USERS = {"busy60": 5_000_001, "busy100": 5_000_002, "none": 5_000_003, "bare": 5_000_004, "shops": 5_000_005}
SKU_BASE = {"busy60": 10_000, "busy100": 20_000, "none": 30_000, "bare": 40_000, "shops": 60_000}
WITH_COUPONS = ("busy60", "busy100", "none", "shops")


def cart(kind: str) -> list[dict]:
    """50 lines (5 categories of 10 lines); the 3-shop cart: the in-process one's 30 lines."""
    if kind == "shops":
        return [{"sku_id": line.sku_id, "spu_id": line.spu_id, "category_id": line.category_id,
                 "unit_price": line.unit_price, "count": line.count, "business_id": line.business_id}
                for line in _shop_inputs()[0].lines]
    base = SKU_BASE[kind]
    return [{"sku_id": base + n, "spu_id": base + n, "category_id": base + n % 5, "unit_price": 1990 + 37 * n,
             "count": 1 + n % 3} for n in range(LINES)]


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


def member_token(kind: str) -> str:
    return issue_token(CommonSettings(_env_file=None, env="dev"), USERS[kind], Role.MEMBER, ttl_seconds=3600)


def wrk_script(workdir: Path, kind: str) -> Path:
    path = workdir / f"quote-{kind}.lua"
    path.write_text(f'wrk.method = "POST"\nwrk.body = [[{quote_body(kind)}]]\n'
                    f'wrk.headers["Content-Type"] = "application/json"\n'
                    f'wrk.headers["Authorization"] = "Bearer {member_token(kind)}"\n')
    return path


def check_answers(pricing: str) -> dict[str, dict]:
    """Every scenario answers 200 and applies what it should (nothing for `none`)."""
    seen = {}
    for kind in USERS:
        response = httpx.post(f"{pricing}/app-api/pricing/quote", content=quote_body(kind),
                              headers={"Content-Type": "application/json",
                                       "Authorization": f"Bearer {member_token(kind)}"}, timeout=30)
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
                await client.post("/app-api/pricing/quote", content=quote_body(kind), headers={
                    "Content-Type": "application/json", "Authorization": f"Bearer {member_token(kind)}"})
                event.listen(app.state.engine.sync_engine, "before_cursor_execute", record)
                statements.clear()
                response = await client.post("/app-api/pricing/quote", content=quote_body(kind), headers={
                    "Content-Type": "application/json", "Authorization": f"Bearer {member_token(kind)}"})
                event.remove(app.state.engine.sync_engine, "before_cursor_execute", record)
                assert response.status_code == 200, response.text
                counts[kind] = len(statements)
    return counts


# --- the run --------------------------------------------------------------------------------------

def run(stack: Stack, seconds: int, rounds: int) -> dict:
    result: dict = {"in_process": in_process(), "in_process_shops": in_process_shops()}
    print(f"  in-process: p50 {result['in_process']['p50_ms']} ms, p99 {result['in_process']['p99_ms']} ms; "
          f"3 shops: p50 {result['in_process_shops']['p50_ms']} ms, p99 {result['in_process_shops']['p99_ms']} ms",
          flush=True)
    stack.start_pricing()
    asyncio.run(seed(stack.urls["pricing"], stack.urls["coupon"]))
    result["answers"] = check_answers(stack.urls["pricing"])
    result["statements"] = asyncio.run(count_statements(
        stack.env["DATABASE_URL"], stack.urls["coupon"], stack.env["REDIS_URL"], stack.env["KAFKA_BOOTSTRAP_SERVERS"]))
    scripts = {kind: wrk_script(stack.workdir, kind) for kind in USERS}
    url = stack.urls["pricing"] + "/app-api/pricing/quote"
    runs: dict[str, list[wrk.WrkResult]] = {kind: [] for kind in USERS}
    latency: list[wrk.WrkResult] = []
    for number in range(1, rounds + 1):
        for kind in ("none", "busy100", "busy60", "bare", "shops"):
            wrk.run(url, CONNECTIONS, 1, script=scripts[kind])  # warm-up
            runs[kind].append(wrk.run(url, CONNECTIONS, seconds, script=scripts[kind]))
            r = runs[kind][-1]
            print(f"  round {number} {kind:<8} c={CONNECTIONS} {r.requests_per_sec:8,.0f} req/s  p50 {r.p50_ms:6.2f} ms"
                  f"  p99 {r.p99_ms:6.2f} ms  errors {r.errors}", flush=True)
        latency.append(wrk.run(url, 1, seconds, script=scripts["busy60"]))
    ratios = [b.requests_per_sec / n.requests_per_sec for b, n in zip(runs["busy100"], runs["none"], strict=True)]
    bare_ratios = [b.requests_per_sec / n.requests_per_sec for b, n in zip(runs["busy100"], runs["bare"], strict=True)]
    result["http"] = {
        kind: {"requests_per_sec": round(statistics.median(r.requests_per_sec for r in rs), 1),
               "p50_ms": round(statistics.median(r.p50_ms for r in rs), 2),
               "p99_ms": round(statistics.median(r.p99_ms for r in rs), 2),
               "errors": sum(r.errors for r in rs)} for kind, rs in runs.items()}
    result["http_c1"] = {"p50_ms": round(statistics.median(r.p50_ms for r in latency), 2),
                         "p99_ms": round(statistics.median(r.p99_ms for r in latency), 2),
                         "requests_per_sec": round(statistics.median(r.requests_per_sec for r in latency), 1)}
    result["ratio_100_vs_none"] = round(statistics.median(ratios), 3)
    result["ratios"] = [round(r, 3) for r in ratios]
    result["ratio_100_vs_bare"] = round(statistics.median(bare_ratios), 3)
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
               ", ".join(f"{k}: {v}" for k, v in statements.items()))]
    labels = {"busy60": "20 discount + 10 spend-and-save activities, 30 coupons",
              "busy100": "100 activities (50 discount, 50 spend-and-save), 30 coupons",
              "none": "no activity, 30 coupons",
              "bare": "no activity, no coupon",
              "shops": "3 shops, 30 lines: 3 shops' and the platform's activities, 30 + 9 coupons"}
    rows = [f"| {labels[kind]} | {http[kind]['requests_per_sec']:,} | {http[kind]['p50_ms']} ms "
            f"| {http[kind]['p99_ms']} ms | {http[kind]['errors']} | {result['answers'][kind]['applied_promotions']} "
            f"| {result['answers'][kind]['coupons_offered']} | {statements[kind]} |"
            for kind in ("busy60", "busy100", "none", "bare", "shops") if kind in http]
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
        "| target | result | |", "|---|---|---|",
        *[f"| {name} | {value} | {'PASS' if ok else 'FAIL'} |" for name, ok, value in checks], ""])
