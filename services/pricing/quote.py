"""Quotes: a cart priced with the promotions running now, the buyer's coupons (the coupon
service matches them) and, for a special activity's order, that activity's price (its service
gives it). The calculator itself is pure (`calculator.py`); this module gathers its inputs."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from services.pricing import calculator as calc
from services.pricing import domain
from services.pricing.calculator import ChosenCoupon, ConditionType, Kind
from services.pricing.catalog import Catalog
from services.pricing.clients import CouponClient, CouponVerdict
from services.pricing.domain import SpecialOrder
from services.pricing.holds import HoldOwner
from services.pricing.schemas import QuoteIn, SpecialActivityIn
from shared.errors import Unauthorized
from shared.http import DependencyUnavailable, Refused
from shared.money import MAX_FEN

log = logging.getLogger("pricing.quote")


class SpecialPriceSource(Protocol):
    """A special activity's service pricing its SKUs for an order (seckill, group buy, ...). With
    `order_id` (a checkout), what that order already holds counts as its own."""

    async def unit_prices(self, user_id: int | None, activity: SpecialOrder, sku_ids: Sequence[int],
                          order_id: int | None, locale: str) -> calc.SpecialPrice: ...


@dataclass
class Pricing:
    """What a quote needs besides the database; built once per app."""

    coupons: CouponClient
    rules: calc.PointsRules
    holds: list[HoldOwner]
    special_prices: dict[calc.SpecialKind, SpecialPriceSource] = field(default_factory=dict)
    stale_seconds: int = 30
    catalog: Catalog = field(default_factory=Catalog)


@dataclass(frozen=True)
class Priced:
    cart: calc.Cart
    offers: calc.Offers
    quote: calc.Quote
    chosen: ChosenCoupon | None
    coupons: dict  # CouponsOut's fields


def check_cart_size(lines: Sequence[calc.Line]) -> None:
    """Every amount of a quote fits what the suite's services accept (MAX_FEN): an order may
    come to at most 100 million yuan."""
    if sum(line.unit_price * line.count for line in lines) > MAX_FEN:
        raise domain.CartTooLarge(limit=f"{MAX_FEN // 100:,}")


async def price(session: AsyncSession, pricing: Pricing, user_id: int | None, body: QuoteIn, now: datetime,
                locale: str, *, order_id: int | None = None) -> Priced:
    """`order_id` for a checkout: what the order already holds (a retry after a crash) is its own."""
    lines = tuple(calc.Line(x.sku_id, x.spu_id, x.category_id, x.unit_price, x.count, x.selected) for x in body.lines)
    check_cart_size(lines)
    special = await _special_price(pricing, user_id, body, order_id, locale)
    cart = calc.Cart(lines, body.member_pay_bp, body.use_points, body.points_balance, special)
    # a special activity's order takes none of them, but the quote lists those it excluded
    offers = await pricing.catalog.offers(session, lines, now)
    draft = calc.price_until_coupon(cart, offers)
    coupons, chosen = await _coupons(pricing, user_id, body, draft, locale, order_id)
    return Priced(cart, offers, calc.finish(draft, chosen, pricing.rules), chosen, coupons)


async def _special_price(pricing: Pricing, user_id: int | None, body: QuoteIn, order_id: int | None,
                         locale: str) -> calc.SpecialPrice | None:
    if body.activity is None:
        return None
    kind = body.activity.type.value
    source = pricing.special_prices.get(body.activity.type)
    if source is None:
        raise domain.ActivityTypeUnavailable(type=kind, type_name=domain.activity_kind_name(kind))
    try:
        return await source.unit_prices(user_id, special_order(body.activity), [line.sku_id for line in body.lines],
                                        order_id, locale)
    except Refused as refused:
        raise domain.ActivityRefused(type=kind, type_name=domain.activity_kind_name(kind), reason=refused.message,
                                     owner_code=refused.code) from refused


def special_order(activity: SpecialActivityIn | None) -> SpecialOrder | None:
    """The order service's description of a special activity's order, as the rules take it."""
    if activity is None:
        return None
    return SpecialOrder(activity.type, activity.activity_id, activity.group_id, activity.record_id,
                        activity.reservation_id, activity.nickname, activity.avatar)


def no_coupons(available: bool = True) -> dict:
    return {"available": available, "usable": [], "unusable": [], "best_coupon_id": None, "best_discount": 0,
            "applied_coupon_id": None}


async def _match(pricing: Pricing, user_id: int, body: QuoteIn, lines: list[calc.CouponLine], locale: str,
                 order_id: int | None) -> tuple[list[CouponVerdict], int | None] | None:
    """The coupon service's verdicts, or None when it cannot answer and no coupon was asked for
    (the quote goes on without coupons)."""
    wanted = body.coupon_id is not None or body.use_best_coupon
    try:
        return await pricing.coupons.match(user_id, lines, locale, order_id)
    except DependencyUnavailable:
        if wanted:
            raise
    except Refused as refused:  # a contract mismatch: logged, never the buyer's 500
        log.warning("the coupon service refused a match: %s %s", refused.code, refused.message)
        if wanted:
            raise domain.CouponCannotBeUsed(coupon_id=body.coupon_id, reason=domain.COUPONS_UNAVAILABLE) from refused
    return None


async def _coupons(pricing: Pricing, user_id: int | None, body: QuoteIn, draft: calc.Draft, locale: str,
                   order_id: int | None) -> tuple[dict, ChosenCoupon | None]:
    """The user's coupons against what the lines cost now, and the one to apply."""
    if body.activity is not None:
        if body.coupon_id is not None:
            raise calc.CouponNotAllowed()
        return no_coupons(), None
    if user_id is None:
        if body.coupon_id is not None:
            raise Unauthorized()
        return no_coupons(), None
    coupon_lines = draft.coupon_lines()
    matched = await _match(pricing, user_id, body, coupon_lines, locale, order_id)
    if matched is None:
        return no_coupons(available=False), None
    verdicts, best_id = matched
    by_id = {v.coupon_id: v for v in verdicts}
    wanted = body.coupon_id if body.coupon_id is not None else (best_id if body.use_best_coupon else None)
    chosen = None
    if wanted is not None:
        verdict = by_id.get(wanted)
        if verdict is None or not verdict.usable:
            reason = verdict.reason_message if verdict and verdict.reason_message else domain.NOT_YOUR_COUPON
            raise domain.CouponCannotBeUsed(coupon_id=wanted, reason=reason)
        chosen = ChosenCoupon(verdict.coupon_id, verdict.name, verdict.discount, verdict.line_indexes)

    def option(v: CouponVerdict) -> dict:
        return {"coupon_id": v.coupon_id, "name": v.name, "usable": v.usable, "discount": v.discount,
                "line_indexes": [coupon_lines[i].line_index for i in v.line_indexes], "reason": v.reason,
                "reason_message": v.reason_message, "valid_end": v.valid_end}
    best = by_id.get(best_id) if best_id is not None else None
    return {"available": True, "usable": [option(v) for v in verdicts if v.usable],
            "unusable": [option(v) for v in verdicts if not v.usable], "best_coupon_id": best_id,
            "best_discount": best.discount if best else 0,
            "applied_coupon_id": chosen.coupon_id if chosen else None}, chosen


# An enum member's `.value` is a Python-level property; at some 300 a quote a dict is worth it.
_VALUE = {member: member.value for member in (*Kind, *calc.NotApplied)}


def render(priced: Priced, locale: str) -> dict:
    """The quote as the API shows it, as plain data (enums as their values: pydantic-core
    serializes those six times faster)."""
    quote = priced.quote
    conditions = {rule.id: rule.condition for rule in priced.offers.rewards}
    return {
        "lines": [{"index": p.index, "sku_id": p.line.sku_id, "spu_id": p.line.spu_id, "count": p.line.count,
                   "unit_price": p.line.unit_price, "selected": p.line.selected, "original_amount": p.original,
                   "adjustments": [{"kind": _VALUE[a.kind], "promotion_id": a.promotion_id, "amount": a.amount}
                                   for a in p.adjustments],
                   "pay_amount": p.pay if p.line.selected else p.original, "points_used": p.points_used,
                   "points_granted": p.points_granted} for p in quote.lines],
        "totals": asdict(quote.totals),
        "promotions": [_promotion(r, conditions, locale) for r in quote.promotions],
        "coupons": priced.coupons,
        "grants": {"points": quote.grants.points, "coupons": quote.grants.coupons,
                   "free_delivery": quote.grants.free_delivery},
    }


def _promotion(r: calc.PromotionResult, conditions: dict[int, ConditionType], locale: str) -> dict:
    condition = conditions.get(r.id) if r.kind is Kind.REWARD else None
    return {"kind": _VALUE[r.kind], "id": r.id, "name": r.name, "applied": r.applied, "amount": r.amount,
            "line_indexes": r.line_indexes, "reason": _VALUE[r.reason] if r.reason else None,
            "reason_message": calc.reason_message(r.reason, locale) if r.reason else None,
            "level": calc.describe_level(condition, r.level, locale) if r.level and condition else None,
            "hint": calc.describe_hint(r.hint, locale) if r.hint else None}


async def quote(session: AsyncSession, pricing: Pricing, user_id: int | None, body: QuoteIn, now: datetime,
                locale: str) -> dict:
    return render(await price(session, pricing, user_id, body, now, locale), locale)
