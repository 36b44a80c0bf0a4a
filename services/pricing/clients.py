"""The pricing service's calls to the coupon service (its /internal API)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.pricing.calculator import CouponLine
from shared.http import ServiceClient


@dataclass(frozen=True)
class CouponVerdict:
    """The coupon service's answer for one of the user's coupons, indexes into the lines sent."""

    coupon_id: int
    name: str
    usable: bool
    discount: int
    line_indexes: tuple[int, ...]
    reason: str | None
    reason_message: str | None
    valid_end: datetime


class CouponClient:
    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    async def match(self, user_id: int, lines: list[CouponLine], locale: str) -> tuple[list[CouponVerdict], int | None]:
        body = {"user_id": user_id, "lines": [
            {"spu_id": line.spu_id, "category_id": line.category_id, "amount": line.amount} for line in lines]}
        answer = await self.client.post("/internal/coupon/match", body, locale=locale)
        verdicts = [CouponVerdict(c["coupon_id"], c["name"], c["usable"], c["discount"],
                                  tuple(i for i in c["line_indexes"] if 0 <= i < len(lines)), c["reason"],
                                  c["reason_message"], datetime.fromisoformat(c["valid_end"]))
                    for c in answer["coupons"]]
        return verdicts, answer.get("best_coupon_id")

    async def hold(self, order_id: int, user_id: int, coupon_id: int) -> dict[str, Any]:
        return await self.client.post("/internal/coupon/holds",
                                      {"order_id": order_id, "user_id": user_id, "coupon_id": coupon_id})

    async def release(self, order_id: int) -> None:
        await self.client.post(f"/internal/coupon/holds/{order_id}/release")
