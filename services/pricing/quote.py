"""Quotes: a cart priced with the promotions running now, the buyer's coupons (the coupon
service matches them) and, for a special activity's order, that activity's price (its service
gives it). The calculator itself is pure (`calculator.py`); this module gathers its inputs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

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

    async def unit_prices(self, user_id: int | None, activity: SpecialOrder, units: Mapping[int, int],
                          order_id: int | None, locale: str) -> calc.SpecialPrice:
        """`units`: the selected lines' SKUs and how many of each the order buys."""


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
    chosen: ChosenCoupon | None  # the platform coupon
    coupons: dict  # CouponsOut's fields
    shop_coupons: tuple[ChosenCoupon, ...] = ()
    shop_options: dict = field(default_factory=dict)  # business_id -> the shop's usable coupons, as CouponOptionOut
    shop_best: dict = field(default_factory=dict)  # business_id -> its coupon in the best combination


def check_cart_size(lines: Sequence[calc.Line]) -> None:
    """Every amount of a quote fits what the suite's services accept (MAX_FEN): an order may
    come to at most 100 million yuan."""
    if sum(line.unit_price * line.count for line in lines) > MAX_FEN:
        raise domain.CartTooLarge(limit=f"{MAX_FEN // 100:,}")


async def price(session: AsyncSession | AsyncEngine, pricing: Pricing, user_id: int | None, body: QuoteIn,
                now: datetime, locale: str, *, order_id: int | None = None) -> Priced:
    """`order_id` for a checkout: what the order already holds (a retry after a crash) is its own.
    `session`: the request's, or the engine (a read of the catalog's versions on a connection of
    its own: see Catalog.current)."""
    lines = tuple(calc.Line(x.sku_id, x.spu_id, x.category_id, x.unit_price, x.count, x.selected, x.business_id)
                  for x in body.lines)
    check_cart_size(lines)
    if not any(line.selected for line in lines):  # before asking an activity's service about no SKU
        raise calc.NothingSelected()
    special = await _special_price(pricing, user_id, body, order_id, locale)
    cart = calc.Cart(lines, body.member_pay_bp, body.use_points, body.points_balance, special)
    # a special activity's order takes none of them, but the quote lists those it excluded
    offers = await pricing.catalog.offers(session, lines, now)
    base = calc.price_until_shop_coupons(cart, offers)
    if base.has_shop_lines() and body.activity is None and user_id is not None:
        chosen_coupons = await _shop_coupons(pricing, user_id, body, base, locale, order_id)
    else:
        calc.apply_shop_coupons(base)
        coupons, chosen = await _coupons(pricing, user_id, body, base, locale, order_id)
        chosen_coupons = ChosenCoupons(base, coupons, chosen)
    quote = calc.finish(chosen_coupons.draft, chosen_coupons.platform, pricing.rules)
    return Priced(cart, offers, quote, chosen_coupons.platform, chosen_coupons.coupons, chosen_coupons.shop,
                  chosen_coupons.shop_options, chosen_coupons.shop_best)


async def _special_price(pricing: Pricing, user_id: int | None, body: QuoteIn, order_id: int | None,
                         locale: str) -> calc.SpecialPrice | None:
    if body.activity is None:
        return None
    kind = body.activity.type.value
    source = pricing.special_prices[body.activity.type]
    if body.activity.type is calc.SpecialKind.BARGAIN:
        _check_bargain_order(user_id, body)
    if body.activity.type is calc.SpecialKind.POINTS_MALL and sum(line.selected for line in body.lines) > 1:
        raise domain.PointsOrderInvalid(reason=domain.POINTS_ONE_LINE)
    try:
        units: dict[int, int] = {}
        for line in body.lines:
            if line.selected:
                units[line.sku_id] = units.get(line.sku_id, 0) + line.count
        return await source.unit_prices(user_id, special_order(body.activity), units, order_id, locale)
    except Refused as refused:
        raise domain.ActivityRefused(type=kind, type_name=domain.activity_kind_name(kind), reason=refused.message,
                                     owner_code=refused.code) from refused


def _check_bargain_order(user_id: int | None, body: QuoteIn) -> None:
    """A bargain order buys one unit of its record's SKU, for the record's buyer (the bargain
    service prices one SKU of a record for its user)."""
    assert body.activity is not None
    if body.activity.record_id is None:
        raise domain.BargainOrderInvalid(reason=domain.BARGAIN_RECORD_REQUIRED)
    if len(body.lines) != 1 or body.lines[0].count != 1:
        raise domain.BargainOrderInvalid(reason=domain.BARGAIN_ONE_UNIT)
    if user_id is None:
        raise domain.BargainOrderInvalid(reason=domain.BARGAIN_SIGN_IN)


def special_order(activity: SpecialActivityIn | None) -> SpecialOrder | None:
    """The order service's description of a special activity's order, as the rules take it."""
    if activity is None:
        return None
    return SpecialOrder(activity.type, activity.activity_id, activity.group_id, activity.record_id,
                        activity.reservation_id, activity.nickname, activity.avatar)


def no_coupons(available: bool = True) -> dict:
    return {"available": available, "usable": [], "unusable": [], "best_coupon_id": None, "best_discount": 0,
            "applied_coupon_id": None, "best_coupon_ids": [], "applied_coupon_ids": []}


def wanted_coupons(body: QuoteIn) -> list[int]:
    """The coupons the buyer chose: `coupon_ids` and `coupon_id`, once each."""
    return list(dict.fromkeys([*body.coupon_ids, *([body.coupon_id] if body.coupon_id is not None else [])]))


async def _match(pricing: Pricing, user_id: int, body: QuoteIn, lines: list[calc.CouponLine], locale: str,
                 order_id: int | None, owners: str | None = None) -> tuple[list[CouponVerdict], int | None] | None:
    """The coupon service's verdicts, or None when it cannot answer and no coupon was asked for
    (the quote goes on without coupons)."""
    wanted = wanted_coupons(body)
    asked = bool(wanted) or body.use_best_coupon
    try:
        return await pricing.coupons.match(user_id, lines, locale, order_id, owners)
    except DependencyUnavailable:
        if asked:
            raise
    except Refused as refused:  # a contract mismatch: logged, never the buyer's 500
        log.warning("the coupon service refused a match: %s %s", refused.code, refused.message)
        if asked:
            raise domain.CouponCannotBeUsed(coupon_id=wanted[0] if wanted else None,
                                            reason=domain.COUPONS_UNAVAILABLE) from refused
    return None


def _chosen(v: CouponVerdict) -> ChosenCoupon:
    return ChosenCoupon(v.coupon_id, v.name, v.discount, v.line_indexes, v.business_id)


def _refuse(coupon_id: int, verdict: CouponVerdict | None) -> domain.CouponCannotBeUsed:
    reason = verdict.reason_message if verdict and verdict.reason_message else domain.NOT_YOUR_COUPON
    return domain.CouponCannotBeUsed(coupon_id=coupon_id, reason=reason)


def _option(v: CouponVerdict, coupon_lines: list[calc.CouponLine]) -> dict:
    return {"coupon_id": v.coupon_id, "name": v.name, "usable": v.usable, "discount": v.discount,
            "line_indexes": [coupon_lines[i].line_index for i in v.line_indexes], "reason": v.reason,
            "reason_message": v.reason_message, "valid_end": v.valid_end, "business_id": v.business_id}


async def _coupons(pricing: Pricing, user_id: int | None, body: QuoteIn, draft: calc.Draft, locale: str,
                   order_id: int | None) -> tuple[dict, ChosenCoupon | None]:
    """A cart of the platform's own goods (or a special activity's order, or an anonymous quote):
    the user's coupons, matched in one call against what the lines cost now, and the one to apply."""
    wanted = wanted_coupons(body)
    if body.activity is not None:
        if wanted:
            raise calc.CouponNotAllowed()
        return no_coupons(), None
    if user_id is None:
        if wanted:
            raise Unauthorized()
        return no_coupons(), None
    coupon_lines = draft.coupon_lines()
    matched = await _match(pricing, user_id, body, coupon_lines, locale, order_id)
    if matched is None:
        return no_coupons(available=False), None
    verdicts, best_id = matched
    by_id = {v.coupon_id: v for v in verdicts}
    chosen = None
    if len(wanted) > 1:  # the platform's goods take one platform coupon (shop coupons have no line here)
        for coupon_id in wanted:
            if not (verdict := by_id.get(coupon_id)) or not verdict.usable:
                raise _refuse(coupon_id, verdict)
        raise calc.CouponsOfOneOwner()
    pick = wanted[0] if wanted else (best_id if body.use_best_coupon else None)
    if pick is not None:
        verdict = by_id.get(pick)
        if verdict is None or not verdict.usable:
            raise _refuse(pick, verdict)
        chosen = _chosen(verdict)
    best = by_id.get(best_id) if best_id is not None else None
    return {"available": True, "usable": [_option(v, coupon_lines) for v in verdicts if v.usable],
            "unusable": [_option(v, coupon_lines) for v in verdicts if not v.usable], "best_coupon_id": best_id,
            "best_discount": best.discount if best else 0,
            "applied_coupon_id": chosen.coupon_id if chosen else None,
            "best_coupon_ids": [best_id] if best_id is not None else [],
            "applied_coupon_ids": [chosen.coupon_id] if chosen else []}, chosen


# The coupon service's reasons that do not depend on what the lines cost: such a coupon is unusable
# whichever shop coupons are chosen.
AMOUNT_FREE_REASONS = frozenset({"NOT_YET_VALID", "EXPIRED", "NO_PRODUCT_IN_SCOPE"})


@dataclass
class ChosenCoupons:
    draft: calc.Draft  # priced up to the platform coupon, with the shop coupons chosen
    coupons: dict  # CouponsOut's fields
    platform: ChosenCoupon | None
    shop: tuple[ChosenCoupon, ...] = ()
    shop_options: dict = field(default_factory=dict)
    shop_best: dict = field(default_factory=dict)


async def _shop_coupons(pricing: Pricing, user_id: int, body: QuoteIn, base: calc.Draft, locale: str,
                        order_id: int | None) -> ChosenCoupons:
    """A member's multi-shop cart: the shops' coupons matched on what the lines cost after each
    shop's spend-and-save, then, for each choice of shop coupons worth trying, the platform's
    coupons on what the lines cost after those and the platform's spend-and-save. The buyer's
    coupons are applied, or with `use_best_coupon` the combination leaving the least to pay."""
    shop_lines = base.coupon_lines()
    matched = await _match(pricing, user_id, body, shop_lines, locale, order_id, "shop")
    if matched is None:
        calc.apply_shop_coupons(base)
        return ChosenCoupons(base, no_coupons(available=False), None)
    shops = {b for b in base.shops() if b is not None}
    shop_verdicts = [v for v in matched[0] if v.business_id is not None]
    options: dict[int, list[ChosenCoupon]] = {}
    for v in shop_verdicts:
        if v.usable and v.business_id in shops:
            options.setdefault(v.business_id, []).append(_chosen(v))
    by_id = {v.coupon_id: v for v in shop_verdicts}
    wanted = wanted_coupons(body)
    wanted_shop = tuple(sorted((_chosen(v) if (v := by_id[c]).usable and v.business_id in shops else _raise(c, v)
                               for c in wanted if c in by_id), key=lambda c: c.business_id or 0))
    if len({c.business_id for c in wanted_shop}) != len(wanted_shop):
        raise calc.CouponsOfOneOwner()

    answers: dict[tuple, asyncio.Future] = {}  # one call per distinct set of amounts

    async def platform_match(draft: calc.Draft) -> tuple[list[CouponVerdict], int | None] | None:
        lines = draft.coupon_lines()
        key = tuple(lines)
        if key not in answers:
            answers[key] = asyncio.ensure_future(_match(pricing, user_id, body, lines, locale, order_id, "platform"))
        return await answers[key]

    searching = body.use_best_coupon and not wanted
    # the search prices every choice worth trying (a platform match each); otherwise only the
    # buyer's shop coupons (or none) are priced, and each shop's largest coupon is shown as its best
    all_choices = calc.shop_coupon_choices(options) if searching else [wanted_shop]

    def platform_usable(answer) -> list[ChosenCoupon]:
        return [_chosen(v) for v in answer[0] if v.usable and v.business_id is None] if answer else []

    def priced(n: int) -> calc.Draft:  # the last choice takes `base` itself
        if n < len(all_choices) - 1:
            return calc.try_shop_coupons(base, all_choices[n])
        calc.apply_shop_coupons(base, all_choices[n])
        return base

    # each shop's largest first; another choice only if it could beat that (calc.best_coupons)
    drafts = [priced(0)] if len(all_choices) == 1 else [calc.try_shop_coupons(base, all_choices[0])]
    first = await platform_match(drafts[0])
    relevant = [v for v in (first[0] if first else []) if v.business_id is None
                and (v.usable or v.reason not in AMOUNT_FREE_REASONS)]
    ceiling = max((v.max_discount for v in relevant), default=0) if first and all(
        v.max_discount is not None for v in relevant) else None
    tried = [0]
    if len(all_choices) > 1:  # `base` is not used up yet: the floors are measured on it
        bounds = calc.floors(base, all_choices, calc.platform_ceiling(base, ceiling))
        best_pay = calc.pick_best([(all_choices[0], drafts[0], platform_usable(first))]).pay
        tried += [n for n in range(1, len(all_choices)) if calc.worth_trying(bounds[n], best_pay)]
    drafts += [priced(n) for n in tried[1:]]
    choices = [all_choices[n] for n in tried]
    if first is not None and not relevant:
        # no platform coupon of the user's is usable on any amounts: every choice has the same verdicts
        platform_answers = [first] * len(drafts)
    else:
        platform_answers = [first, *await asyncio.gather(*(platform_match(d) for d in drafts[1:]))]
    best = calc.pick_best([(choice, d, platform_usable(a)) for choice, d, a in zip(choices, drafts, platform_answers,
                                                                                  strict=True)])
    if wanted:
        n = choices.index(wanted_shop)
        draft, answer = drafts[n], platform_answers[n]
        platform_by_id = {v.coupon_id: v for v in answer[0] if v.business_id is None} if answer else {}
        wanted_platform = [c for c in wanted if c not in by_id]
        if answer is None and wanted_platform:
            raise domain.CouponCannotBeUsed(coupon_id=wanted_platform[0], reason=domain.COUPONS_UNAVAILABLE)
        for coupon_id in wanted_platform:
            verdict = platform_by_id.get(coupon_id)
            if verdict is None or not verdict.usable:
                raise _refuse(coupon_id, verdict)
        if len(wanted_platform) > 1:
            raise calc.CouponsOfOneOwner()
        shop, platform = wanted_shop, (_chosen(platform_by_id[wanted_platform[0]]) if wanted_platform else None)
    elif searching:
        n = choices.index(best.shop)
        draft, answer, shop, platform = drafts[n], platform_answers[n], best.shop, best.platform
    else:
        draft, answer, shop, platform = drafts[0], platform_answers[0], (), None
    platform_verdicts = [v for v in answer[0] if v.business_id is None] if answer else []
    lines = draft.coupon_lines()
    verdicts = [*shop_verdicts, *platform_verdicts]
    options_out = [_option(v, shop_lines) for v in shop_verdicts] + [_option(v, lines) for v in platform_verdicts]
    best_shop = best.shop if searching else calc.shop_coupon_choices(options, limit=0)[0]
    best_ids = [c.coupon_id for c in (*best_shop, *([best.platform] if best.platform else []))]
    best_main = best.platform or (best_shop[0] if best_shop else None)
    applied = [c.coupon_id for c in (*shop, *([platform] if platform else []))]
    coupons = {"available": answer is not None, "usable": [o for o, v in zip(options_out, verdicts, strict=True)
                                                         if v.usable],
               "unusable": [o for o, v in zip(options_out, verdicts, strict=True) if not v.usable],
               "best_coupon_id": best_main.coupon_id if best_main else None,
               "best_discount": best_main.discount if best_main else 0,
               "applied_coupon_id": platform.coupon_id if platform else (applied[0] if applied else None),
               "best_coupon_ids": best_ids, "applied_coupon_ids": applied}
    shop_options = {b: [_option(v, shop_lines) for v in shop_verdicts if v.usable and v.business_id == b]
                    for b in shops}
    return ChosenCoupons(draft, coupons, platform, shop, shop_options,
                         {c.business_id: c.coupon_id for c in best_shop})


def _raise(coupon_id: int, verdict: CouponVerdict) -> ChosenCoupon:
    raise _refuse(coupon_id, verdict)


TOTALS = tuple(f.name for f in fields(calc.Totals))

# An enum member's `.value` is a Python-level property; at some 300 a quote a dict is worth it.
_VALUE = {member: member.value for member in (*Kind, *calc.NotApplied)}


def render(priced: Priced, locale: str) -> dict:
    """The quote as the API shows it, as plain data (enums as their values: pydantic-core
    serializes those six times faster)."""
    quote = priced.quote
    conditions = {rule.id: rule.condition for rule in priced.offers.rewards}
    promotions = [_promotion(r, conditions, locale) for r in quote.promotions]
    return {
        "lines": [{"index": p.index, "sku_id": p.line.sku_id, "spu_id": p.line.spu_id,
                   "business_id": p.line.business_id, "count": p.line.count,
                   "unit_price": p.line.unit_price, "selected": p.line.selected, "original_amount": p.original,
                   "adjustments": [{"kind": _VALUE[a.kind], "promotion_id": a.promotion_id, "amount": a.amount}
                                   for a in p.adjustments],
                   "pay_amount": p.pay if p.line.selected else p.original, "points_used": p.points_used,
                   "points_granted": p.points_granted} for p in quote.lines],
        "totals": {name: getattr(quote.totals, name) for name in TOTALS},  # ints: asdict's deep copy is not needed
        "promotions": promotions,
        "coupons": priced.coupons,
        "grants": {"points": quote.grants.points, "coupons": quote.grants.coupons,
                   "free_delivery": quote.grants.free_delivery},
        "shops": _shops(priced, promotions),
    }


def _shops(priced: Priced, promotions: list[dict]) -> list[dict]:
    """The lines by shop, in the order their first line comes: what they pay, the shop's own
    promotions, its near misses and its usable coupons."""
    quote = priced.quote
    by_shop: dict[int | None, list[calc.LinePrice]] = {}
    for p in quote.lines:
        by_shop.setdefault(p.line.business_id, []).append(p)
    applied = {c.business_id: c.coupon_id for c in priced.shop_coupons}
    delivering = [set(r.line_indexes) for r in quote.promotions
                  if r.applied and r.kind is Kind.REWARD and r.level is not None and r.level.free_delivery]
    shops = []
    for shop, lines in by_shop.items():
        indexes = {p.index for p in lines}
        own = [(r, out) for r, out in zip(quote.promotions, promotions, strict=True)
               if shop is not None and r.business_id == shop]
        shops.append({
            "business_id": shop, "line_indexes": [p.index for p in lines],
            "subtotal": sum(p.pay for p in lines if p.line.selected),
            "promotions": [out for _, out in own],
            "hints": [{"promotion_id": r.id, "shortfall": r.hint.shortfall, "text": out["hint"]}
                      for r, out in own if r.kind is Kind.REWARD and r.hint is not None],
            "coupons": priced.shop_options.get(shop, []) if shop is not None else [],
            "best_coupon_id": priced.shop_best.get(shop) if shop is not None else None,
            "applied_coupon_id": applied.get(shop) if shop is not None else None,
            "free_delivery": any(touched & indexes for touched in delivering),
        })
    return shops


def _promotion(r: calc.PromotionResult, conditions: dict[int, ConditionType], locale: str) -> dict:
    condition = conditions.get(r.id) if r.kind is Kind.REWARD else None
    return {"kind": _VALUE[r.kind], "id": r.id, "name": r.name, "applied": r.applied, "amount": r.amount,
            "line_indexes": r.line_indexes, "reason": _VALUE[r.reason] if r.reason else None,
            "reason_message": calc.reason_message(r.reason, locale) if r.reason else None,
            "level": calc.describe_level(condition, r.level, locale) if r.level and condition else None,
            "hint": calc.describe_hint(r.hint, locale) if r.hint else None, "business_id": r.business_id}


async def quote(session: AsyncSession | AsyncEngine, pricing: Pricing, user_id: int | None, body: QuoteIn,
                now: datetime, locale: str) -> dict:
    return render(await price(session, pricing, user_id, body, now, locale), locale)
