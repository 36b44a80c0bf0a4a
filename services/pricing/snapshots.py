"""What a checkout stores so its price can be re-derived later (audits, refunds): the promotions'
terms as they were priced, the coupon verdict and the points rules, as plain JSON; and the
snapshot's status, which follows the order (paid, cancelled)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.pricing import calculator as calc
from services.pricing import domain
from services.pricing import repository as repo
from services.pricing.calculator import (
    ChosenCoupon,
    ConditionType,
    DiscountType,
    Offers,
    PointsRules,
    ProductScope,
    RewardLevel,
    RewardRule,
    SkuDiscount,
    SpecialKind,
    SpecialPrice,
)
from services.pricing.domain import CheckoutStatus
from services.pricing.models import Checkout
from services.pricing.schemas import CheckoutIn


def level_to_json(level: RewardLevel) -> dict[str, Any]:
    return {"threshold": level.threshold, "amount_off": level.amount_off, "free_delivery": level.free_delivery,
            "points": level.points, "coupons": {str(t): c for t, c in level.coupons}}


def level_from_json(data: dict[str, Any]) -> RewardLevel:
    coupons = tuple(sorted((int(t), int(c)) for t, c in (data.get("coupons") or {}).items()))
    return RewardLevel(int(data["threshold"]), int(data.get("amount_off", 0)), bool(data.get("free_delivery")),
                       int(data.get("points", 0)), coupons)


def _coupon_to_json(coupon: ChosenCoupon) -> dict[str, Any]:
    return {"coupon_id": coupon.coupon_id, "name": coupon.name, "discount": coupon.discount,
            "line_indexes": list(coupon.line_indexes), "business_id": coupon.business_id}


def _coupon_from_json(c: dict[str, Any]) -> ChosenCoupon:
    return ChosenCoupon(c["coupon_id"], c["name"], c["discount"], tuple(c["line_indexes"]), c.get("business_id"))


def to_json(offers: Offers, coupon: ChosenCoupon | None, rules: PointsRules,
            special: SpecialPrice | None, shop_coupons: Sequence[ChosenCoupon] = ()) -> dict[str, Any]:
    """Each promotion with its owner (business_id, null: the platform's); `coupon` is the
    platform's, `shop_coupons` one per shop."""
    return {
        "discounts": [{"activity_id": d.activity_id, "name": d.name, "sku_id": d.sku_id,
                       "discount_type": int(d.discount_type), "amount_off": d.amount_off, "pay_bp": d.pay_bp,
                       "business_id": d.business_id}
                      for d in offers.discounts.values()],
        "rewards": [{"id": r.id, "name": r.name, "condition": int(r.condition), "scope": int(r.scope),
                     "scope_values": sorted(r.scope_values), "levels": [level_to_json(lv) for lv in r.levels],
                     "business_id": r.business_id}
                    for r in offers.rewards],
        "coupon": None if coupon is None else _coupon_to_json(coupon),
        "shop_coupons": [_coupon_to_json(c) for c in shop_coupons],
        "points_rules": {"enabled": rules.enabled, "fen_per_point": rules.fen_per_point,
                         "max_points_per_order": rules.max_points_per_order, "grant_per_yuan": rules.grant_per_yuan},
        "special": None if special is None else {
            "kind": special.kind.value, "activity_id": special.activity_id,
            "unit_prices": {str(k): v for k, v in special.unit_prices.items()},
            "unit_points": {str(k): v for k, v in special.unit_points.items()}, "name": special.name,
            "business_id": special.business_id},
    }


def from_json(data: dict[str, Any]) -> tuple[Offers, ChosenCoupon | None, PointsRules, SpecialPrice | None,
                                             tuple[ChosenCoupon, ...]]:
    """What `to_json` stored (a snapshot from before owners existed reads as the platform's)."""
    discounts = {d["sku_id"]: SkuDiscount(d["activity_id"], d["name"], d["sku_id"], DiscountType(d["discount_type"]),
                                          d["amount_off"], d["pay_bp"], d.get("business_id"))
                 for d in data["discounts"]}
    rewards = tuple(RewardRule(r["id"], r["name"], ConditionType(r["condition"]), ProductScope(r["scope"]),
                               frozenset(r["scope_values"]), tuple(level_from_json(lv) for lv in r["levels"]),
                               r.get("business_id"))
                    for r in data["rewards"])
    c = data["coupon"]
    coupon = None if c is None else _coupon_from_json(c)
    s = data["special"]
    special = None if s is None else SpecialPrice(
        SpecialKind(s["kind"]), s["activity_id"], {int(k): v for k, v in s["unit_prices"].items()},
        {int(k): v for k, v in s["unit_points"].items()}, s.get("name", ""), s.get("business_id"))
    shop_coupons = tuple(_coupon_from_json(x) for x in data.get("shop_coupons") or [])
    return Offers(discounts, rewards), coupon, PointsRules(**data["points_rules"]), special, shop_coupons


async def get_snapshot(session: AsyncSession, order_id: int) -> Checkout:
    row = await repo.get_checkout(session, order_id)
    if row is None or row.result is None:  # still running, or cancelled before it ever ran
        raise domain.SnapshotNotFound(order_id=order_id)
    return row


def rederive(row: Checkout) -> calc.Quote:
    """The snapshot's price computed again from what it stored (for audits and refunds)."""
    body = CheckoutIn.model_validate(row.request)
    offers, coupon, rules, special, shop_coupons = from_json(row.offers or {})
    lines = tuple(calc.Line(x.sku_id, x.spu_id, x.category_id, x.unit_price, x.count, x.selected, x.business_id)
                  for x in body.lines)
    cart = calc.Cart(lines, body.member_pay_bp, body.use_points, body.points_balance, special)
    return calc.finish(calc.price_until_coupon(cart, offers, shop_coupons), coupon, rules)


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
