"""Matching a cart against a user's coupons: every member quote runs it, often several times.

Written with SQLAlchemy Core: one prebuilt SELECT per shape (owners, with or without an order),
executed with bound values, read as plain row tuples. Measured against the ORM path it replaced
(bench/results/pricing.md): building the query per call, the ORM's result machinery and a Terms
object per coupon were most of the call's CPU; the rules (domain.match_coupons) are unchanged.
The two datetimes and the JSON scope are read as the driver gives them, not through their
column types' per-value processing (two fifths of the statement's CPU for 30 rows): the times
are made aware here, and a scope's text is parsed once per distinct text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from functools import lru_cache

from sqlalchemy import DateTime, Engine, Select, String, and_, bindparam, or_, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.util import greenlet_spawn

from services.coupon import domain
from services.coupon.domain import CouponStatus, DiscountType
from services.coupon.models import Coupon
from services.coupon.schemas import CartLineIn, Owners
from shared.enums import ProductScope

COUPON = Coupon.__table__


def _as_stored(column, type_):
    """The column's value as the driver returns it (naive UTC datetime, JSON text)."""
    return type_coerce(column, type_).label(column.name)


# the columns a verdict needs, in the order the rows are unpacked below
COLUMNS = (COUPON.c.id, COUPON.c.name, COUPON.c.business_id, _as_stored(COUPON.c.valid_start, DateTime()),
           _as_stored(COUPON.c.valid_end, DateTime()), COUPON.c.use_price, COUPON.c.product_scope,
           _as_stored(COUPON.c.product_scope_values, String()), COUPON.c.discount_type, COUPON.c.discount_price,
           COUPON.c.discount_percent, COUPON.c.discount_limit_price)


def _statement(owners: Owners, with_order: bool) -> Select:
    """The user's unused coupons (and, `with_order`, those the order holds: a retried checkout sees
    its own holds as the buyer's), soonest to end first."""
    mine = COUPON.c.status == CouponStatus.UNUSED
    if with_order:
        mine = or_(mine, and_(COUPON.c.status == CouponStatus.HELD, COUPON.c.use_order_id == bindparam("order_id")))
    query = select(*COLUMNS).where(COUPON.c.user_id == bindparam("user_id"), mine)
    if owners == "shop":
        query = query.where(COUPON.c.business_id.is_not(None))
    elif owners == "platform":
        query = query.where(COUPON.c.business_id.is_(None))
    return query.order_by(COUPON.c.valid_end, COUPON.c.id)


STATEMENTS = {(owners, with_order): _statement(owners, with_order)
              for owners in ("all", "shop", "platform") for with_order in (False, True)}


async def matchable_coupons(connection: AsyncConnection | AsyncSession, user_id: int, order_id: int | None,
                            owners: Owners) -> Sequence[tuple]:
    """The rows `match` reads (COLUMNS), on a session's connection or a plain one."""
    statement = STATEMENTS[owners, order_id is not None]
    params = {"user_id": user_id} if order_id is None else {"user_id": user_id, "order_id": order_id}
    return (await connection.execute(statement, params)).all()


def _read(engine: Engine, statement: Select, params: dict) -> list:
    with engine.connect() as connection:
        return list(connection.execute(statement, params).all())


async def read_matchable_coupons(engine: AsyncEngine, user_id: int, order_id: int | None, owners: Owners) -> list:
    """`matchable_coupons` on a connection of its own: checkout, statement and return in one step
    of SQLAlchemy's bridge to its synchronous core (greenlet_spawn, what AsyncConnection.run_sync
    uses) rather than one per call (measured: 80-150 us less per match)."""
    params = {"user_id": user_id} if order_id is None else {"user_id": user_id, "order_id": order_id}
    return await greenlet_spawn(_read, engine.sync_engine, STATEMENTS[owners, order_id is not None], params)


@lru_cache(maxsize=4096)
def terms(use_price: int, product_scope: int, scope_values: str, discount_type: int, discount_price: int | None,
          discount_percent: int | None, discount_limit_price: int | None) -> domain.Terms:
    """One Terms per distinct set of values (`scope_values` as stored: JSON text): a template's
    coupons share theirs (terms are frozen)."""
    return domain.Terms(use_price, ProductScope(product_scope), tuple(json.loads(scope_values)),
                        DiscountType(discount_type), discount_price, discount_percent, discount_limit_price)


def verdicts(rows: Sequence[tuple], lines: Sequence[CartLineIn], now: datetime, locale: str, zone: tzinfo) -> dict:
    """The answer of /internal/coupon/match (MatchOut's fields, as plain data) for these rows."""
    held, extra = [], {}
    for (coupon_id, name, business_id, valid_start, valid_end, use_price, scope, values, discount_type, price,
         percent, limit) in rows:
        coupon_terms = terms(use_price, scope, values, discount_type, price, percent, limit)
        valid_start, valid_end = valid_start.replace(tzinfo=UTC), valid_end.replace(tzinfo=UTC)
        held.append(domain.HeldCoupon(coupon_id, coupon_terms, valid_start, valid_end, business_id))
        extra[coupon_id] = (name, business_id, domain.ceiling(coupon_terms), valid_end)
    cart = [domain.CartLine(line.spu_id, line.category_id, line.amount, line.business_id) for line in lines]
    matches, best = domain.match_coupons(held, cart, now, zone=zone)
    answer = []
    messages: dict[tuple, str | None] = {}  # a reason with the same details reads the same: rendered once
    for m in matches:
        name, business_id, ceiling, valid_end = extra[m.coupon_id]
        reason = message = None
        if m.reason is not None:
            reason, said = m.reason.value, (m.reason, *m.details.items())
            message = messages.get(said)
            if message is None:
                message = messages[said] = m.message(locale)
        answer.append({"coupon_id": m.coupon_id, "name": name, "business_id": business_id, "usable": m.usable,
                       "discount": m.discount, "max_discount": ceiling, "line_indexes": m.line_indexes,
                       "reason": reason, "reason_message": message, "valid_end": valid_end})
    return {"best_coupon_id": best.coupon_id if best else None, "coupons": answer}


async def match_cart(connection: AsyncConnection | AsyncSession, user_id: int, lines: Sequence[CartLineIn],
                     now: datetime, locale: str, zone: tzinfo, order_id: int | None = None,
                     owners: Owners = "all") -> dict:
    """Every unused coupon of the user (and those `order_id` holds, for a retried checkout)
    against the cart: usable or why not, and the best one (a plain dict: the route's response
    model documents it). `owners`: the shops' coupons, the platform's, or all. A shop's coupon
    considers only its shop's lines. Times a buyer reads are in `zone`, the business timezone."""
    return verdicts(await matchable_coupons(connection, user_id, order_id, owners), lines, now, locale, zone)
