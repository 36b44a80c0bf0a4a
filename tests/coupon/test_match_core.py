"""The Core matcher (matching.py) against the ORM path it replaced, on MariaDB: the same verdicts
for every owner filter, with and without an order's holds, in both languages, over coupons of
every kind (scopes, amounts and percents with their caps, thresholds, not yet valid, expired,
held, used, taken back, another user's); then the gaps the API tests leave, stated outright."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import and_, insert, or_, select

from services.coupon import domain, matching
from services.coupon.domain import CouponStatus
from services.coupon.models import Base, Coupon
from services.coupon.schemas import CartLineIn
from shared.db import create_engine, make_sessionmaker

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
USER, OTHER_USER, ORDER, OTHER_ORDER = 4101, 4102, 88001, 88002


async def reference_match(session, user_id, lines, now, locale, zone, order_id=None, owners="all") -> dict:
    """The previous service.match_cart, as it was (ORM-enabled select, a Terms per coupon): the oracle."""
    mine = Coupon.status == CouponStatus.UNUSED
    if order_id is not None:
        mine = or_(mine, and_(Coupon.status == CouponStatus.HELD, Coupon.use_order_id == order_id))
    query = (select(Coupon.id, Coupon.name, Coupon.business_id, Coupon.valid_start, Coupon.valid_end,
                    Coupon.use_price, Coupon.product_scope, Coupon.product_scope_values, Coupon.discount_type,
                    Coupon.discount_price, Coupon.discount_percent, Coupon.discount_limit_price)
             .where(Coupon.user_id == user_id, mine).order_by(Coupon.valid_end, Coupon.id))
    if owners != "all":
        query = query.where(Coupon.business_id.is_not(None) if owners == "shop" else Coupon.business_id.is_(None))
    coupons = list(await session.execute(query))
    held = [domain.HeldCoupon(c.id, domain.Terms(
        use_price=c.use_price, product_scope=domain.ProductScope(c.product_scope),
        scope_values=tuple(c.product_scope_values), discount_type=domain.DiscountType(c.discount_type),
        discount_price=c.discount_price, discount_percent=c.discount_percent,
        discount_limit_price=c.discount_limit_price), c.valid_start, c.valid_end, c.business_id) for c in coupons]
    cart = [domain.CartLine(line.spu_id, line.category_id, line.amount, line.business_id) for line in lines]
    matches, best = domain.match_coupons(held, cart, now, zone=zone)
    by_id = {c.id: c for c in coupons}
    ceilings = {c.id: domain.ceiling(c.terms) for c in held}
    return {"best_coupon_id": best.coupon_id if best else None, "coupons": [
        {"coupon_id": m.coupon_id, "name": by_id[m.coupon_id].name, "business_id": by_id[m.coupon_id].business_id,
         "usable": m.usable, "discount": m.discount, "max_discount": ceilings[m.coupon_id],
         "line_indexes": m.line_indexes, "reason": m.reason.value if m.reason else None,
         "reason_message": m.message(locale), "valid_end": by_id[m.coupon_id].valid_end} for m in matches]}


def coupon_row(n: int, **overrides) -> dict:
    """The n-th of a spread of coupons: owners, scopes, kinds, thresholds and windows vary with n."""
    scope = (1, 2, 3)[n % 3]
    values = [] if scope == 1 else ([101, 103] if scope == 2 else [12, 19])
    percent = n % 4 == 1
    starts = NOW - timedelta(days=1) if n % 7 else NOW + timedelta(hours=5)  # every 7th: not yet valid
    ends = NOW + timedelta(days=1 + n % 5) if n % 11 != 3 else NOW - timedelta(minutes=1)  # some expired, unjobbed
    owner = None if n % 5 == 0 else (None, 1, 2)[n % 3]
    return {"template_id": 900 + n % 6, "user_id": USER, "name": f"券{n}", "business_id": owner,
            "take_type": 1, "status": CouponStatus.UNUSED, "valid_start": starts, "valid_end": ends,
            "use_price": (0, 5000, 30000, 100000)[n // 2 % 4], "product_scope": scope, "product_scope_values": values,
            "discount_type": 2 if percent else 1, "discount_price": None if percent else 300 * (n % 9 + 1),
            "discount_percent": (80, 95, 99)[n % 3] if percent else None,
            "discount_limit_price": (500, 3000)[n % 2] if percent else None,
            "use_order_id": None, "hold_expires_at": None, "used_at": None, "created_at": NOW, "updated_at": NOW,
            **overrides}  # every row with every key: an insert of many rows takes the first row's columns


CARTS = [
    [CartLineIn(spu_id=101, category_id=12, amount=20000, business_id=1),
     CartLineIn(spu_id=102, category_id=12, amount=9000, business_id=1),
     CartLineIn(spu_id=103, category_id=19, amount=50000, business_id=2),
     CartLineIn(spu_id=104, category_id=20, amount=3000)],
    [CartLineIn(spu_id=101, category_id=12, amount=1)],  # nothing to pay
    [CartLineIn(spu_id=105, category_id=30, amount=120000)],  # no line in the named scopes
    [CartLineIn(spu_id=103, category_id=19, amount=10, business_id=2),  # percents round to nothing
     CartLineIn(spu_id=104, category_id=12, amount=7)],
]


@pytest.fixture
async def spread(coupon_app, client):
    """40 coupons of the user's, some held (by the order and another), used, taken back, and another user's."""
    rows = [coupon_row(n) for n in range(40)]
    rows += [coupon_row(40, status=CouponStatus.HELD, use_order_id=ORDER, hold_expires_at=NOW),
             coupon_row(41, status=CouponStatus.HELD, use_order_id=ORDER, business_id=1, hold_expires_at=NOW),
             coupon_row(42, status=CouponStatus.HELD, use_order_id=OTHER_ORDER, hold_expires_at=NOW),
             coupon_row(43, status=CouponStatus.USED, use_order_id=ORDER, used_at=NOW),
             coupon_row(44, status=CouponStatus.RECALLED), coupon_row(45, status=CouponStatus.EXPIRED),
             coupon_row(46, user_id=OTHER_USER)]
    async with coupon_app.state.engine.begin() as conn:
        await conn.execute(insert(Coupon.__table__), rows)
    return coupon_app


async def test_the_core_matcher_gives_the_verdicts_of_the_orm_path(spread):
    cases = itertools.product(("all", "shop", "platform"), (None, ORDER), ("en", "zh-CN"), range(len(CARTS)))
    compared = reasons = 0
    seen_reasons = set()
    async with spread.state.sessionmaker() as session, session.begin():
        for owners, order_id, locale, cart in cases:
            args = (USER, CARTS[cart], NOW, locale, ZONE, order_id, owners)
            expected = await reference_match(session, *args)
            assert await matching.match_cart(session, *args) == expected, (owners, order_id, locale, cart)
            connection = await session.connection()  # a plain connection
            assert await matching.match_cart(connection, *args) == expected
            rows = await matching.read_matchable_coupons(spread.state.engine, USER, order_id, owners)  # the fast path
            assert matching.verdicts(rows, CARTS[cart], NOW, locale, ZONE) == expected
            compared += len(expected["coupons"])
            reasons += sum(1 for c in expected["coupons"] if c["reason"])
            seen_reasons |= {c["reason"] for c in expected["coupons"]}
    assert compared > 500 and reasons > 200, "the comparison covered many coupons, usable and not"
    assert seen_reasons == {None, *(reason.value for reason in domain.Unusable)}, "every verdict was compared"


async def test_owners_order_holds_and_ceilings_as_the_answer_states_them(spread):
    cart = CARTS[0]
    async with spread.state.engine.connect() as conn:
        every = await matching.match_cart(conn, USER, cart, NOW, "en", ZONE)
        shops = await matching.match_cart(conn, USER, cart, NOW, "en", ZONE, owners="shop")
        platform = await matching.match_cart(conn, USER, cart, NOW, "en", ZONE, owners="platform")
        with_order = await matching.match_cart(conn, USER, cart, NOW, "en", ZONE, ORDER)
    names = {c["coupon_id"]: c["name"] for c in with_order["coupons"]}
    assert len(every["coupons"]) == 40 and len(with_order["coupons"]) == 42, "the order's two holds, not the others"
    assert {"券40", "券41"} <= set(names.values())
    assert not {"券42", "券43", "券44", "券45", "券46"} & set(names.values())
    assert {c["business_id"] for c in shops["coupons"]} == {1, 2}
    assert {c["business_id"] for c in platform["coupons"]} == {None}
    assert len(shops["coupons"]) + len(platform["coupons"]) == len(every["coupons"])
    ends = [c["valid_end"] for c in every["coupons"]]
    assert ends == sorted(ends), "soonest to end first"
    by_name = {c["name"]: c for c in every["coupons"]}
    assert by_name["券1"]["max_discount"] == 3000, "a percent coupon's cap"
    assert by_name["券2"]["max_discount"] == 900, "an amount coupon's amount"
    usable = [c for c in every["coupons"] if c["usable"]]
    best = max(usable, key=lambda c: (c["discount"], -c["valid_end"].timestamp(), -c["coupon_id"]))
    assert every["best_coupon_id"] == best["coupon_id"]


async def test_not_yet_valid_and_expired_are_told_in_both_languages(spread):
    async with spread.state.engine.connect() as conn:
        texts = {locale: {c["name"]: (c["reason"], c["reason_message"])
                          for c in (await matching.match_cart(conn, USER, CARTS[0], NOW, locale, ZONE))["coupons"]}
                 for locale in ("en", "zh-CN")}
    starts = (NOW + timedelta(hours=5)).astimezone(ZONE).strftime("%Y-%m-%d %H:%M")
    assert texts["en"]["券7"] == ("NOT_YET_VALID", f"Usable from {starts}")
    assert texts["zh-CN"]["券7"] == ("NOT_YET_VALID", f"{starts} 起可用")
    assert texts["en"]["券3"] == ("EXPIRED", "Expired") and texts["zh-CN"]["券3"] == ("EXPIRED", "已过期")



async def test_the_core_matcher_reads_sqlite_s_values_alike(tmp_path):
    """`make run` keeps coupons in SQLite: datetimes and the JSON scope come back as text there."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/coupon.db")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
            await conn.execute(insert(Coupon.__table__), [coupon_row(n) for n in range(24)])
        async with make_sessionmaker(engine)() as session:
            for owners, locale in itertools.product(("all", "shop", "platform"), ("en", "zh-CN")):
                args = (USER, CARTS[0], NOW, locale, ZONE, None, owners)
                expected = await reference_match(session, *args)
                assert await matching.match_cart(session, *args) == expected
                assert all(c["valid_end"].tzinfo is UTC for c in expected["coupons"])
    finally:
        await engine.dispose()


def test_a_cart_s_scopes_worked_out_once_give_what_each_scope_names():
    """CartIndex.in_scope keeps its answer per (scope, values, shop): asked again, in any order,
    by coupons sharing a scope or not, it gives what the lines themselves say."""
    lines = [domain.CartLine(1, 10, 8000, 1), domain.CartLine(2, 10, 3000, 1), domain.CartLine(3, 20, 20000, 2),
             domain.CartLine(1, 20, 5000), domain.CartLine(4, 30, 700, 2)]
    scopes = [(domain.ProductScope.ALL, ())] + [
        (kind, values) for kind in (domain.ProductScope.SPU, domain.ProductScope.CATEGORY)
        for values in ((1,), (2, 3), (4, 1), (10,), (20, 30), (99,), ())]
    shops = (None, 1, 2, 3)

    def named(kind, values, shop) -> tuple[int, ...]:
        return tuple(i for i, line in enumerate(lines) if (shop is None or line.business_id == shop) and (
            kind is domain.ProductScope.ALL
            or (line.spu_id if kind is domain.ProductScope.SPU else line.category_id) in values))

    cart = domain.CartIndex(lines)
    asked = [(scope, shop) for scope in scopes for shop in shops] * 2
    for n, ((kind, values), shop) in enumerate(itertools.chain(asked, reversed(asked))):
        terms = domain.Terms(100 * n, kind, values, domain.DiscountType.PRICE, 100)  # other terms differ each time
        assert cart.in_scope(terms, shop) == named(kind, values, shop), (kind, values, shop)
    assert cart.in_scope(domain.Terms(0, domain.ProductScope.ALL, (), domain.DiscountType.PRICE, 1)) is cart.every
