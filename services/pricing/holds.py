"""Checkout holds (docs/checkout.md): each owner of a limited resource reserves it for the
order, and gives it back when a later hold fails. Owners are tried in order; every call is
idempotent by order id on the owner's side, so a retried checkout takes nothing twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from services.pricing.calculator import Line, Quote, SpecialKind
from services.pricing.clients import BargainClient, CouponClient, GroupbuyClient, PointsClient, SeckillClient
from services.pricing.domain import ONE_SKU_PER_ORDER, HoldFailed, SpecialOrder, owner_name
from shared.http import DependencyUnavailable, Refused

log = logging.getLogger("pricing.holds")


@dataclass(frozen=True)
class HoldRequest:
    order_id: int
    user_id: int
    quote: Quote
    activity: SpecialOrder | None = None  # a special activity order's context, as the order service sent it
    locale: str = "en"  # an owner's refusal is relayed in the caller's language


@dataclass(frozen=True)
class Hold:
    owner: str
    reference: int | None = None
    expires_at: datetime | None = None
    references: tuple[int, ...] = ()  # coupon: every coupon held (one per shop, one of the platform's)


class HoldOwner(Protocol):
    name: str

    def needed(self, request: HoldRequest) -> bool: ...

    async def hold(self, request: HoldRequest) -> Hold: ...

    async def release(self, order_id: int) -> None: ...


class CouponHolds:
    name = "coupon"

    def __init__(self, coupons: CouponClient) -> None:
        self.coupons = coupons

    def needed(self, request: HoldRequest) -> bool:
        return bool(request.quote.coupon_ids)

    async def hold(self, request: HoldRequest) -> Hold:
        """Every coupon the quote applied, each with the discount it gave, in one call."""
        answer = await self.coupons.hold(request.order_id, request.user_id, request.quote.coupon_discounts(),
                                         request.locale)
        expires = answer.get("hold_expires_at")
        held = tuple(answer.get("coupon_ids") or [answer["coupon_id"]])
        return Hold(self.name, request.quote.coupon_id if request.quote.coupon_id in held else held[0],
                    datetime.fromisoformat(expires) if expires else None, held)

    async def release(self, order_id: int) -> None:
        await self.coupons.release(order_id)


class SeckillHolds:
    """The flash stock of a seckill order: the buyer's reservation, or taken at checkout."""

    name = "seckill"

    def __init__(self, seckill: SeckillClient) -> None:
        self.seckill = seckill

    def needed(self, request: HoldRequest) -> bool:
        return request.activity is not None and request.activity.type is SpecialKind.SECKILL

    async def hold(self, request: HoldRequest) -> Hold:
        assert request.activity is not None
        line = the_one_line(request, self.name)
        answer = await self.seckill.hold(request.order_id, request.user_id, request.activity.activity_id,
                                         line.sku_id, line.count, request.activity.reservation_id, request.locale)
        return Hold(self.name, answer["id"], datetime.fromisoformat(answer["expires_at"]))

    async def release(self, order_id: int) -> None:
        await self.seckill.release(order_id)


class GroupbuyHolds:
    """The seat of a group-buy order: in a new group (the buyer leads it) or in the one joined.
    The hold's reference is the group id (the buyer shares it to invite others)."""

    name = "groupbuy"

    def __init__(self, groupbuy: GroupbuyClient) -> None:
        self.groupbuy = groupbuy

    def needed(self, request: HoldRequest) -> bool:
        return request.activity is not None and request.activity.type is SpecialKind.GROUPBUY

    async def hold(self, request: HoldRequest) -> Hold:
        assert request.activity is not None
        line = the_one_line(request, self.name)
        answer = await self.groupbuy.hold(request.order_id, request.user_id, request.activity, line.sku_id,
                                          line.count, request.locale)
        return Hold(self.name, answer["group_id"], datetime.fromisoformat(answer["hold_expires_at"]))

    async def release(self, order_id: int) -> None:
        await self.groupbuy.release(order_id)


class BargainHolds:
    """The record of a bargain order and one unit of its activity's stock. The hold's reference
    is the bargain service's order row (its id)."""

    name = "bargain"

    def __init__(self, bargain: BargainClient) -> None:
        self.bargain = bargain

    def needed(self, request: HoldRequest) -> bool:
        return request.activity is not None and request.activity.type is SpecialKind.BARGAIN

    async def hold(self, request: HoldRequest) -> Hold:
        assert request.activity is not None
        line = the_one_line(request, self.name)
        answer = await self.bargain.hold(request.order_id, request.user_id, request.activity, line.sku_id,
                                         line.count, request.locale)
        return Hold(self.name, answer["id"], datetime.fromisoformat(answer["hold_expires_at"]))

    async def release(self, order_id: int) -> None:
        await self.bargain.release(order_id)


class PointsHolds:
    """The stock of a points-mall order's SKU and the buyer's count against its limit. The hold's
    reference is the points service's hold row (its id)."""

    name = "points_mall"

    def __init__(self, points: PointsClient) -> None:
        self.points = points

    def needed(self, request: HoldRequest) -> bool:
        return request.activity is not None and request.activity.type is SpecialKind.POINTS_MALL

    async def hold(self, request: HoldRequest) -> Hold:
        assert request.activity is not None
        line = the_one_line(request, self.name)
        answer = await self.points.hold(request.order_id, request.user_id, request.activity, line.sku_id,
                                        line.count, request.locale)
        return Hold(self.name, answer["id"], datetime.fromisoformat(answer["hold_expires_at"]))

    async def release(self, order_id: int) -> None:
        await self.points.release(order_id)


def the_one_line(request: HoldRequest, owner: str) -> Line:
    """Seckill, group-buy, bargain and points-mall orders have one SKU (one reservation, one seat,
    one record, one exchange)."""
    selected = [p.line for p in request.quote.lines if p.line.selected]
    if len(selected) != 1:
        raise Refused(owner, 422, f"{owner.upper()}_ONE_SKU_PER_ORDER", ONE_SKU_PER_ORDER.render(request.locale), {})
    return selected[0]


async def place_holds(owners: list[HoldOwner], request: HoldRequest, *, after_crash: bool = False) -> list[Hold]:
    """Every needed hold, or none: when one fails, the ones taken are released and HoldFailed
    says which owner refused and why. `after_crash`: an earlier attempt for this order died
    half-way, so any owner may hold for it already; those this attempt does not need are
    released first, and a failure releases every owner's."""
    if after_crash:
        await release_holds([o for o in owners if not o.needed(request)], request.order_id)
    taken: list[tuple[HoldOwner, Hold]] = []
    for owner in owners:
        if not owner.needed(request):
            continue
        try:
            taken.append((owner, await owner.hold(request)))
        except Refused as refused:
            await release_holds(owners if after_crash else [o for o, _ in taken], request.order_id)
            raise HoldFailed(owner=owner.name, owner_name=owner_name(owner.name), reason=refused.message,
                             owner_code=refused.code,
                             owner_details=refused.details) from refused
        except DependencyUnavailable as unavailable:
            # The hold may have been taken before the answer was lost: give it back too.
            await release_holds(owners if after_crash else [o for o, _ in taken] + [owner], request.order_id)
            raise unavailable
    return [hold for _, hold in taken]


async def release_holds(owners: list[HoldOwner], order_id: int) -> None:
    """Best effort, newest first: a release that cannot be delivered now expires with its TTL."""
    for owner in reversed(owners):
        try:
            await owner.release(order_id)
        except (Refused, DependencyUnavailable) as exc:
            log.warning("could not release the %s hold of order %s (its TTL will): %r", owner.name, order_id, exc)
