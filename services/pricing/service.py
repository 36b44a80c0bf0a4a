"""Use cases of the pricing service: activity administration, quotes and checkout."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.pricing import calculator as calc
from services.pricing import domain, snapshots
from services.pricing import repository as repo
from services.pricing.calculator import ChosenCoupon, ConditionType, DiscountType, Kind, ProductScope
from services.pricing.catalog import DISCOUNT, REWARD, Catalog, reward_rule
from services.pricing.clients import CouponClient, CouponVerdict
from services.pricing.domain import CheckoutStatus
from services.pricing.holds import Hold, HoldOwner, HoldRequest, place_holds, release_holds
from services.pricing.models import Checkout, DiscountActivity, DiscountProduct, RewardActivity
from services.pricing.schemas import (
    CheckoutIn,
    CheckoutOut,
    DiscountActivityIn,
    LineIn,
    QuoteIn,
    QuoteOut,
    RewardActivityIn,
    SkuDiscountOut,
    SpecialActivityIn,
)
from shared.enums import CommonStatus
from shared.errors import Unauthorized
from shared.http import DependencyUnavailable, Refused


class SpecialPriceSource(Protocol):
    """A special activity's service pricing its SKUs for an order (seckill, group buy, ...)."""

    async def unit_prices(self, user_id: int | None, activity: SpecialActivityIn,
                          lines: Sequence[LineIn]) -> calc.SpecialPrice: ...


@dataclass
class Pricing:
    """What a quote needs besides the database; built once per app."""

    coupons: CouponClient
    rules: calc.PointsRules
    holds: list[HoldOwner]
    special_prices: dict[calc.SpecialKind, SpecialPriceSource] = field(default_factory=dict)
    stale_seconds: int = 30
    catalog: Catalog = field(default_factory=Catalog)


# --- limited-time discounts -----------------------------------------------------------------------

def _check_discount(data: DiscountActivityIn, now: datetime) -> None:
    items = [domain.DiscountItem(p.spu_id, p.sku_id, p.discount_type, p.amount_off, p.pay_bp) for p in data.products]
    domain.raise_if(domain.check_window(data.start_time, data.end_time, now) + domain.check_discount_items(items))


async def _check_sku_conflicts(session: AsyncSession, data: DiscountActivityIn, exclude_id: int | None) -> None:
    await repo.touch(session, DISCOUNT)
    conflicts = await repo.discount_sku_conflicts(session, [p.sku_id for p in data.products], data.start_time,
                                                  data.end_time, exclude_id)
    if conflicts:
        sku_id, other_name = conflicts[0]
        raise domain.DiscountSkuConflict(sku_id=sku_id, other_name=other_name)


def _products(activity_id: int, data: DiscountActivityIn) -> list[DiscountProduct]:
    return [DiscountProduct(activity_id=activity_id, spu_id=p.spu_id, sku_id=p.sku_id,
                            discount_type=int(p.discount_type), amount_off=p.amount_off, pay_bp=p.pay_bp)
            for p in data.products]


async def create_discount(session: AsyncSession, data: DiscountActivityIn, now: datetime) -> dict:
    _check_discount(data, now)
    await _check_sku_conflicts(session, data, None)
    activity = DiscountActivity(name=data.name, status=CommonStatus.ENABLED, start_time=data.start_time,
                                end_time=data.end_time, remark=data.remark, created_at=now, updated_at=now)
    session.add(activity)
    await session.flush()
    session.add_all(_products(activity.id, data))
    await session.flush()
    return (await discount_views(session, [activity], now))[0]


async def update_discount(session: AsyncSession, activity_id: int, data: DiscountActivityIn, now: datetime) -> dict:
    activity = await _get(session, DiscountActivity, activity_id, for_update=True)
    domain.check_can_update(activity.status)
    _check_discount(data, now)
    await _check_sku_conflicts(session, data, activity_id)
    activity.name, activity.start_time, activity.end_time = data.name, data.start_time, data.end_time
    activity.remark, activity.updated_at = data.remark, now
    await repo.replace_discount_products(session, activity_id, _products(activity_id, data))
    await session.flush()
    return (await discount_views(session, [activity], now))[0]


async def discount_views(session: AsyncSession, activities: Sequence[DiscountActivity], now: datetime) -> list[dict]:
    products = await repo.discount_products(session, [a.id for a in activities])
    return [{**_activity_view(a, now), "products": products[a.id]} for a in activities]


async def get_reward(session: AsyncSession, activity_id: int) -> RewardActivity:
    return await _get(session, RewardActivity, activity_id)


async def get_discount(session: AsyncSession, activity_id: int, now: datetime) -> dict:
    return (await discount_views(session, [await _get(session, DiscountActivity, activity_id)], now))[0]


async def sku_discounts(session: AsyncSession, catalog: Catalog, skus: list[tuple[int, int | None]],
                        now: datetime) -> list[SkuDiscountOut]:
    """Product pages: each SKU's running discount and, when its price was sent, the discounted price."""
    discounts, _ = await catalog.current(session, now)
    out = []
    for sku_id, price in skus:
        running = discounts.running(sku_id, now)
        if running is None:
            out.append(SkuDiscountOut(sku_id=sku_id, price=price, discount_price=price))
            continue
        offer = running.offer
        out.append(SkuDiscountOut(
            sku_id=sku_id, activity_id=offer.activity_id, activity_name=offer.name, discount_type=offer.discount_type,
            amount_off=offer.amount_off if offer.discount_type is DiscountType.AMOUNT else None,
            pay_bp=offer.pay_bp if offer.discount_type is DiscountType.PERCENT else None, end_time=running.end,
            price=price, discount_price=None if price is None else price - offer.unit_off(price)))
    return out


# --- spend-and-save -------------------------------------------------------------------------------

def _levels(data: RewardActivityIn) -> list[calc.RewardLevel]:
    return [calc.RewardLevel(lv.threshold, lv.amount_off, lv.free_delivery, lv.points,
                             tuple(sorted(lv.coupons.items()))) for lv in data.levels]


def _check_reward(data: RewardActivityIn, now: datetime) -> None:
    domain.raise_if(domain.check_window(data.start_time, data.end_time, now) + domain.check_reward(
        data.condition_type, data.product_scope, data.product_scope_values, _levels(data)))


async def _check_scope_conflicts(session: AsyncSession, data: RewardActivityIn, exclude_id: int | None) -> None:
    await repo.touch(session, REWARD)
    others = await repo.enabled_rewards_overlapping(session, data.start_time, data.end_time, exclude_id)
    conflict = domain.first_scope_conflict(
        domain.Scope(data.product_scope, frozenset(data.product_scope_values)),
        ((o.name, domain.Scope(ProductScope(o.product_scope), frozenset(o.product_scope_values))) for o in others))
    if conflict:
        raise domain.RewardScopeConflict(other_name=conflict[0], why=conflict[1])


def _apply_reward(activity: RewardActivity, data: RewardActivityIn, now: datetime) -> None:
    activity.name, activity.start_time, activity.end_time, activity.remark = (
        data.name, data.start_time, data.end_time, data.remark)
    activity.condition_type, activity.product_scope = int(data.condition_type), int(data.product_scope)
    activity.product_scope_values = sorted(data.product_scope_values)
    activity.levels = [snapshots.level_to_json(level) for level in _levels(data)]
    activity.updated_at = now


async def create_reward(session: AsyncSession, data: RewardActivityIn, now: datetime, locale: str) -> dict:
    _check_reward(data, now)
    await _check_scope_conflicts(session, data, None)
    activity = RewardActivity(status=CommonStatus.ENABLED, created_at=now)
    _apply_reward(activity, data, now)
    session.add(activity)
    await session.flush()
    await session.flush()
    return reward_view(activity, now, locale)


async def update_reward(session: AsyncSession, activity_id: int, data: RewardActivityIn, now: datetime,
                        locale: str) -> dict:
    activity = await _get(session, RewardActivity, activity_id, for_update=True)
    domain.check_can_update(activity.status)
    _check_reward(data, now)
    await _check_scope_conflicts(session, data, activity_id)
    _apply_reward(activity, data, now)
    await session.flush()
    return reward_view(activity, now, locale)


def levels_view(condition: ConditionType, levels: Sequence[calc.RewardLevel], locale: str) -> list[dict]:
    return [{"threshold": lv.threshold, "amount_off": lv.amount_off, "free_delivery": lv.free_delivery,
             "points": lv.points, "coupons": dict(lv.coupons),
             "description": calc.describe_level(condition, lv, locale)}
            for lv in levels]


def reward_view(activity: RewardActivity, now: datetime, locale: str) -> dict:
    rule = reward_rule(activity)
    return {**_activity_view(activity, now), "condition_type": rule.condition, "product_scope": rule.scope,
            "product_scope_values": list(activity.product_scope_values),
            "levels": levels_view(rule.condition, rule.levels, locale)}


async def running_rewards_for(session: AsyncSession, catalog: Catalog, spu_id: int, category_id: int | None,
                              now: datetime, locale: str) -> list[dict]:
    """Product pages: the spend-and-save activity that applies to this SPU, levels as display text."""
    _, rewards = await catalog.current(session, now)
    running = rewards.running([spu_id], [category_id] if category_id else [], now)
    return [{"id": r.offer.id, "name": r.offer.name, "condition_type": r.offer.condition, "end_time": r.end,
             "levels": levels_view(r.offer.condition, r.offer.levels, locale)}
            for r in sorted(running, key=lambda r: (calc.SCOPE_PRECEDENCE[r.offer.scope], r.offer.id))]


# --- both kinds -----------------------------------------------------------------------------------

def _activity_view(activity: DiscountActivity | RewardActivity, now: datetime) -> dict:
    return {"id": activity.id, "name": activity.name, "status": activity.status,
            "state": domain.activity_state(activity.status, activity.start_time, activity.end_time, now),
            "start_time": activity.start_time, "end_time": activity.end_time, "remark": activity.remark,
            "created_at": activity.created_at, "updated_at": activity.updated_at}


async def _get(session: AsyncSession, model: type[repo.Activity], activity_id: int, *,
               for_update: bool = False) -> repo.Activity:
    activity = await repo.get_activity(session, model, activity_id, for_update=for_update)
    if activity is None:
        error = domain.DiscountActivityNotFound if model is DiscountActivity else domain.RewardActivityNotFound
        raise error(id=activity_id)
    return activity


async def close_activity(session: AsyncSession, model: type[repo.Activity], activity_id: int, now: datetime) -> None:
    activity = await _get(session, model, activity_id, for_update=True)
    domain.check_can_close(activity.status)
    activity.status, activity.updated_at = CommonStatus.DISABLED, now
    await repo.touch(session, _kind(model))


async def delete_activity(session: AsyncSession, model: type[repo.Activity], activity_id: int) -> None:
    activity = await _get(session, model, activity_id, for_update=True)
    domain.check_can_delete(activity.status)
    await repo.delete_activity(session, activity)
    await repo.touch(session, _kind(model))


def _kind(model: type[repo.Activity]) -> str:
    return DISCOUNT if model is DiscountActivity else REWARD


# --- quote ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Priced:
    cart: calc.Cart
    offers: calc.Offers
    quote: calc.Quote
    chosen: ChosenCoupon | None
    coupons: dict  # CouponsOut's fields


async def price(session: AsyncSession, pricing: Pricing, user_id: int | None, body: QuoteIn, now: datetime,
                locale: str) -> Priced:
    lines = tuple(calc.Line(x.sku_id, x.spu_id, x.category_id, x.unit_price, x.count, x.selected) for x in body.lines)
    special = await _special_price(pricing, user_id, body)
    cart = calc.Cart(lines, body.member_pay_bp, body.use_points, body.points_balance, special)
    offers = await pricing.catalog.offers(session, lines, now) if special is None else calc.Offers()
    draft = calc.price_until_coupon(cart, offers)
    coupons, chosen = await _coupons(pricing, user_id, body, draft, locale)
    return Priced(cart, offers, calc.finish(draft, chosen, pricing.rules), chosen, coupons)


async def _special_price(pricing: Pricing, user_id: int | None, body: QuoteIn) -> calc.SpecialPrice | None:
    if body.activity is None:
        return None
    source = pricing.special_prices.get(body.activity.type)
    if source is None:
        raise domain.ActivityTypeUnavailable(type=body.activity.type.value)
    try:
        return await source.unit_prices(user_id, body.activity, body.lines)
    except Refused as refused:
        raise domain.ActivityRefused(type=body.activity.type.value, reason=refused.message,
                                     owner_code=refused.code) from refused


def no_coupons(available: bool = True) -> dict:
    return {"available": available, "usable": [], "unusable": [], "best_coupon_id": None, "best_discount": 0,
            "applied_coupon_id": None}


async def _coupons(pricing: Pricing, user_id: int | None, body: QuoteIn, draft: calc.Draft,
                   locale: str) -> tuple[dict, ChosenCoupon | None]:
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
    try:
        verdicts, best_id = await pricing.coupons.match(user_id, coupon_lines, locale)
    except DependencyUnavailable:
        if body.coupon_id is not None or body.use_best_coupon:
            raise
        return no_coupons(available=False), None
    by_id = {v.coupon_id: v for v in verdicts}
    wanted = body.coupon_id if body.coupon_id is not None else (best_id if body.use_best_coupon else None)
    chosen = None
    if wanted is not None:
        verdict = by_id.get(wanted)
        if verdict is None or not verdict.usable:
            reason = verdict.reason_message if verdict else None
            raise domain.CouponCannotBeUsed(coupon_id=wanted, reason=reason or "not one of your unused coupons")
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


# --- checkout -------------------------------------------------------------------------------------

def fingerprint(body: CheckoutIn) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _stored(row: Checkout) -> CheckoutOut:
    return CheckoutOut.model_validate({**(row.result or {}), "order_id": row.order_id,
                                       "snapshot_id": row.snapshot_id, "holds": row.holds})


async def checkout(sessionmaker: async_sessionmaker[AsyncSession], pricing: Pricing, body: CheckoutIn,
                   now: datetime, locale: str) -> CheckoutOut:
    """Price the order and hold what it uses, once. A retry returns the first answer; a retry
    while the first is still running is told to wait; a different cart for the order is refused."""
    request_hash = fingerprint(body)
    stored = await _claim(sessionmaker, pricing, body, request_hash, now)
    if stored is not None:
        return stored
    try:
        async with sessionmaker() as session:
            priced = await price(session, pricing, body.user_id, body, now, locale)
        holds = await place_holds(pricing.holds, HoldRequest(body.order_id, body.user_id, priced.quote, body.activity))
    except Exception:
        await _forget_claim(sessionmaker, body.order_id)
        raise
    return await _finish(sessionmaker, pricing, body, priced, holds, locale, now)


async def _finish(sessionmaker: async_sessionmaker[AsyncSession], pricing: Pricing, body: CheckoutIn,
                  priced: Priced, holds: list[Hold], locale: str, now: datetime) -> CheckoutOut:
    """Store the priced order and its holds, unless the order was cancelled meanwhile (then give
    the holds back) or an attempt that took over a stale claim finished first (then its answer
    stands, and the holds, the same ones by order id, stay)."""
    result = QuoteOut.model_validate(render(priced, locale)).model_dump(mode="json")
    hold_rows = [{"owner": h.owner, "reference": h.reference,
                  "expires_at": h.expires_at.isoformat() if h.expires_at else None} for h in holds]
    async with sessionmaker() as session, session.begin():
        row = await repo.get_checkout(session, body.order_id, for_update=True)
        if row is not None and row.status == CheckoutStatus.PENDING:
            row.status, row.result, row.holds, row.updated_at = CheckoutStatus.HELD, result, hold_rows, now
            row.offers = snapshots.to_json(priced.offers, priced.chosen, pricing.rules, priced.cart.special)
        cancelled = row is None or row.status == CheckoutStatus.CANCELLED
    if cancelled:  # order.cancelled arrived while the holds were being placed
        await release_holds(_owners_of(pricing, holds), body.order_id)
        raise domain.OrderAlreadyCancelled(order_id=body.order_id)
    return _stored(row)


def _owners_of(pricing: Pricing, holds: Sequence[Hold]) -> list[HoldOwner]:
    names = {h.owner for h in holds}
    return [owner for owner in pricing.holds if owner.name in names]


async def _claim(sessionmaker: async_sessionmaker[AsyncSession], pricing: Pricing, body: CheckoutIn, request_hash: str,
                 now: datetime) -> CheckoutOut | None:
    """Mark the order's checkout as running, or return the answer a previous attempt stored.
    Insert first: of concurrent attempts exactly one inserts, the others wait for it and then
    find its row (reading a missing row first would gap-lock and deadlock on MySQL)."""
    try:
        async with sessionmaker() as session, session.begin():
            session.add(Checkout(order_id=body.order_id, user_id=body.user_id, snapshot_id=str(uuid.uuid4()),
                                 status=CheckoutStatus.PENDING, fingerprint=request_hash,
                                 request=body.model_dump(mode="json"), holds=[], claimed_at=now,
                                 created_at=now, updated_at=now))
        return None
    except IntegrityError:
        pass
    async with sessionmaker() as session, session.begin():
        row = await repo.get_checkout(session, body.order_id, for_update=True)
        if row is None:  # the other attempt failed and forgot its claim just now
            raise domain.CheckoutInProgress(order_id=body.order_id, retry_after=1)
        if row.status == CheckoutStatus.CANCELLED:
            raise domain.OrderAlreadyCancelled(order_id=body.order_id)
        if row.fingerprint != request_hash:
            raise domain.CheckoutMismatch(order_id=body.order_id)
        if row.status != CheckoutStatus.PENDING:
            return _stored(row)
        if row.claimed_at > now - timedelta(seconds=pricing.stale_seconds):
            raise domain.CheckoutInProgress(order_id=body.order_id, retry_after=1)
        row.claimed_at, row.updated_at = now, now  # the earlier attempt died: take over
        return None


async def _forget_claim(sessionmaker: async_sessionmaker[AsyncSession], order_id: int) -> None:
    """A failed checkout leaves nothing behind, so the order service may try again."""
    async with sessionmaker() as session, session.begin():
        row = await repo.get_checkout(session, order_id, for_update=True)
        if row is not None and row.status == CheckoutStatus.PENDING:
            await session.delete(row)


async def get_snapshot(session: AsyncSession, order_id: int) -> Checkout:
    row = await repo.get_checkout(session, order_id)
    if row is None or row.result is None:  # still running, or cancelled before it ever ran
        raise domain.SnapshotNotFound(order_id=order_id)
    return row


def rederive(row: Checkout) -> calc.Quote:
    """The snapshot's price computed again from what it stored (for audits and refunds)."""
    body = CheckoutIn.model_validate(row.request)
    offers, coupon, rules, special = snapshots.from_json(row.offers or {})
    lines = tuple(calc.Line(x.sku_id, x.spu_id, x.category_id, x.unit_price, x.count, x.selected) for x in body.lines)
    cart = calc.Cart(lines, body.member_pay_bp, body.use_points, body.points_balance, special)
    return calc.finish(calc.price_until_coupon(cart, offers), coupon, rules)


async def mark_paid(session: AsyncSession, order_id: int, now: datetime) -> bool:
    return await repo.set_checkout_status(session, order_id, CheckoutStatus.PAID, now,
                                          only_from=(CheckoutStatus.HELD,))


async def mark_cancelled(session: AsyncSession, order_id: int, user_id: int, now: datetime) -> bool:
    """order.cancelled: the checkout is closed; one that never ran is recorded so a late one is refused."""
    if await repo.set_checkout_status(session, order_id, CheckoutStatus.CANCELLED, now,
                                      only_from=(CheckoutStatus.PENDING, CheckoutStatus.HELD, CheckoutStatus.PAID)):
        return True
    if await repo.get_checkout(session, order_id) is None:
        session.add(Checkout(order_id=order_id, user_id=user_id, snapshot_id=str(uuid.uuid4()),
                             status=CheckoutStatus.CANCELLED, fingerprint="", request={}, holds=[],
                             claimed_at=now, created_at=now, updated_at=now))
        await session.flush()
        return True
    return False
