"""The pricing service's calls to the coupon, seckill, group-buy, bargain and points-mall services (their
/internal APIs)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

from services.pricing.calculator import CouponLine, SpecialKind, SpecialPrice
from services.pricing.domain import RECORD_OF_ANOTHER_ACTIVITY, GiftTemplate, SpecialOrder
from shared.http import DependencyUnavailable, Refused, ServiceClient

ADMIN_GIVE = 2  # the coupon service's take type of templates the system may issue (rewards)
DATE_VALIDITY = 1  # its validity type of templates with a fixed end


def _with_order(body: dict[str, Any], order_id: int | None) -> dict[str, Any]:
    """A checkout's order id, so that what the order already holds counts as its own."""
    return body if order_id is None else {**body, "order_id": order_id}


def _known_lines(indexes: list[int], sent: int) -> tuple[int, ...]:
    """The indexes that name a line sent (most answers: all of them, checked at once)."""
    if not indexes or (min(indexes) >= 0 and max(indexes) < sent):
        return tuple(indexes)
    return tuple(i for i in indexes if 0 <= i < sent)


class CouponVerdict(NamedTuple):
    """The coupon service's answer for one of the user's coupons, indexes into the lines sent (a
    named tuple: thirty a quote are built several times faster than frozen dataclasses)."""

    coupon_id: int
    name: str
    usable: bool
    discount: int
    line_indexes: tuple[int, ...]
    reason: str | None
    reason_message: str | None
    valid_end: datetime
    business_id: int | None = None  # a shop coupon's shop; None: the platform's
    max_discount: int | None = None  # the most it takes off any cart; None: not said (no bound)


class CouponClient:
    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    async def match(self, user_id: int, lines: list[CouponLine], locale: str, order_id: int | None = None,
                    owners: str | None = None) -> tuple[list[CouponVerdict], int | None]:
        """`owners`: "shop" or "platform" coupons only, each line sent with its shop; None: every
        coupon, on lines sent as before shops existed (a cart of the platform's own goods)."""
        if owners is None:
            sent = [{"spu_id": line.spu_id, "category_id": line.category_id, "amount": line.amount} for line in lines]
            body: dict[str, Any] = {"user_id": user_id, "lines": sent}
        else:
            sent = [{"spu_id": line.spu_id, "category_id": line.category_id, "amount": line.amount,
                     "business_id": line.business_id} for line in lines]
            body = {"user_id": user_id, "lines": sent, "owners": owners}
        answer = await self.client.post("/internal/coupon/match", _with_order(body, order_id), locale=locale)
        sent_lines = len(lines)
        verdicts = [CouponVerdict(c["coupon_id"], c["name"], c["usable"], c["discount"],
                                  _known_lines(c["line_indexes"], sent_lines), c["reason"], c["reason_message"],
                                  datetime.fromisoformat(c["valid_end"]), c.get("business_id"), c.get("max_discount"))
                    for c in answer["coupons"]]
        return verdicts, answer.get("best_coupon_id")

    async def hold(self, order_id: int, user_id: int, coupons: list[tuple[int, int]], locale: str) -> dict[str, Any]:
        """Hold the order's coupons: (coupon_id, the discount it gave) each, at most one per owner."""
        return await self.client.post("/internal/coupon/holds", {
            "order_id": order_id, "user_id": user_id,
            "coupons": [{"coupon_id": coupon_id, "discount": discount} for coupon_id, discount in coupons]},
            locale=locale)

    async def release(self, order_id: int) -> None:
        await self.client.post(f"/internal/coupon/holds/{order_id}/release")

    async def gift_templates(self, template_ids: list[int], now: datetime) -> dict[int, GiftTemplate]:
        """What the coupon service says of templates a spend-and-save level would give."""
        try:
            answer = await self.client.post("/internal/coupon/templates/lookup", {"template_ids": template_ids})
        except Refused as refused:  # cannot check them: the operator is asked to try again
            raise DependencyUnavailable(service=self.client.service) from refused
        found = {}
        for t in answer["templates"]:
            ends = t["valid_end"] if t["validity_type"] == DATE_VALIDITY else None
            found[t["id"]] = GiftTemplate(t["id"], t["take_type"] == ADMIN_GIVE,
                                          ends is not None and datetime.fromisoformat(ends) <= now,
                                          t.get("business_id"))
        return found


class SeckillClient:
    """The seckill service's flash prices and stock holds; also pricing's SpecialPriceSource for
    seckill orders."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    async def unit_prices(self, user_id: int | None, activity: SpecialOrder, units: Mapping[int, int],
                          order_id: int | None = None, locale: str = "en") -> SpecialPrice:
        answer = await self.client.post("/internal/seckill/prices", _with_order({
            "user_id": user_id, "activity_id": activity.activity_id,
            "sku_ids": sorted(units)}, order_id), locale=locale)
        return SpecialPrice(SpecialKind.SECKILL, activity.activity_id,
                            {int(sku): price for sku, price in answer["prices"].items()},
                            name=answer.get("activity_name") or "", business_id=answer.get("business_id"))

    async def hold(self, order_id: int, user_id: int, activity_id: int, sku_id: int, count: int,
                   reservation_id: int | None, locale: str) -> dict[str, Any]:
        return await self.client.post("/internal/seckill/holds", {
            "order_id": order_id, "user_id": user_id, "activity_id": activity_id, "sku_id": sku_id, "count": count,
            "reservation_id": reservation_id}, locale=locale)

    async def release(self, order_id: int) -> None:
        await self.client.post(f"/internal/seckill/holds/{order_id}/release")


class GroupbuyClient:
    """The group-buy service's group and leader prices and seat holds; also pricing's
    SpecialPriceSource for group-buy orders (no `group_id`: the buyer opens a group and pays the
    leader price)."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    async def unit_prices(self, user_id: int | None, activity: SpecialOrder, units: Mapping[int, int],
                          order_id: int | None = None, locale: str = "en") -> SpecialPrice:
        answer = await self.client.post("/internal/groupbuy/prices", _with_order({
            "user_id": user_id, "activity_id": activity.activity_id, "group_id": activity.group_id,
            "sku_ids": sorted(units)}, order_id), locale=locale)
        return SpecialPrice(SpecialKind.GROUPBUY, activity.activity_id,
                            {int(sku): price for sku, price in answer["prices"].items()},
                            name=answer.get("activity_name") or "", business_id=answer.get("business_id"))

    async def hold(self, order_id: int, user_id: int, activity: SpecialOrder, sku_id: int,
                   count: int, locale: str) -> dict[str, Any]:
        return await self.client.post("/internal/groupbuy/holds", {
            "order_id": order_id, "user_id": user_id, "activity_id": activity.activity_id,
            "group_id": activity.group_id, "sku_id": sku_id, "count": count, "nickname": activity.nickname,
            "avatar": activity.avatar}, locale=locale)

    async def release(self, order_id: int) -> None:
        await self.client.post(f"/internal/groupbuy/holds/{order_id}/release")


class BargainClient:
    """The bargain service's bargained prices and record holds; also pricing's SpecialPriceSource
    for bargain orders (the order's `record_id`: one unit of the record's SKU at its price)."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    async def unit_prices(self, user_id: int | None, activity: SpecialOrder, units: Mapping[int, int],
                          order_id: int | None = None, locale: str = "en") -> SpecialPrice:
        answer = await self.client.post("/internal/bargain/prices", _with_order({
            "user_id": user_id, "record_id": activity.record_id, "sku_ids": sorted(units)}, order_id),
            locale=locale)
        if answer["activity_id"] != activity.activity_id:  # the record is of another bargain than the order's
            raise Refused(self.client.service, 409, "BARGAIN_RECORD_OF_ANOTHER_ACTIVITY",
                          RECORD_OF_ANOTHER_ACTIVITY.render(locale), {"record_id": activity.record_id})
        return SpecialPrice(SpecialKind.BARGAIN, activity.activity_id,
                            {int(sku): price for sku, price in answer["prices"].items()},
                            name=answer.get("activity_name") or "", business_id=answer.get("business_id"))

    async def hold(self, order_id: int, user_id: int, activity: SpecialOrder, sku_id: int,
                   count: int, locale: str) -> dict[str, Any]:
        return await self.client.post("/internal/bargain/holds", {
            "order_id": order_id, "user_id": user_id, "record_id": activity.record_id, "sku_id": sku_id,
            "count": count}, locale=locale)

    async def release(self, order_id: int) -> None:
        await self.client.post(f"/internal/bargain/holds/{order_id}/release")


class PointsClient:
    """The points-mall service's points + cash prices and stock holds; also pricing's
    SpecialPriceSource for points-mall orders (each unit costs its points plus its cash price)."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    async def unit_prices(self, user_id: int | None, activity: SpecialOrder, units: Mapping[int, int],
                          order_id: int | None = None, locale: str = "en") -> SpecialPrice:
        answer = await self.client.post("/internal/points/prices", _with_order({
            "user_id": user_id, "activity_id": activity.activity_id, "sku_ids": sorted(units),
            "counts": {str(sku): count for sku, count in units.items()}}, order_id), locale=locale)
        return SpecialPrice(SpecialKind.POINTS_MALL, activity.activity_id,
                            {int(sku): price for sku, price in answer["prices"].items()},
                            {int(sku): points for sku, points in answer["points"].items()},
                            name=answer.get("activity_name") or "", business_id=answer.get("business_id"))

    async def hold(self, order_id: int, user_id: int, activity: SpecialOrder, sku_id: int,
                   count: int, locale: str) -> dict[str, Any]:
        return await self.client.post("/internal/points/holds", {
            "order_id": order_id, "user_id": user_id, "activity_id": activity.activity_id, "sku_id": sku_id,
            "count": count}, locale=locale)

    async def release(self, order_id: int) -> None:
        await self.client.post(f"/internal/points/holds/{order_id}/release")
