"""The cart's one call to another service: pricing's quote, one per cart page.

- a member's cart: `POST /internal/pricing/quote` with the service token and the member's
  `user_id` (the member's coupons are matched too);
- a device's cart: `POST /app-api/pricing/quote` as an anonymous caller, without a token. Pricing's
  /internal quote needs a `user_id`, which a device has not, and its /app-api quote refuses a
  service token (members only): the anonymous quote is the one that fits, and gives discounts and
  spend-and-save, which is all an anonymous buyer gets.
"""

from __future__ import annotations

from typing import Any

from services.cart.domain import Owner
from shared.http import ServiceClient


class PricingClient:
    def __init__(self, as_service: ServiceClient, anonymous: ServiceClient) -> None:
        self.as_service = as_service
        self.anonymous = anonymous

    async def quote(self, owner: Owner, lines: list[dict[str, Any]], locale: str) -> dict[str, Any]:
        """Pricing's answer (QuoteOut), or shared.http's DependencyUnavailable / Refused."""
        if owner.user_id is not None:
            return await self.as_service.post("/internal/pricing/quote", {"user_id": owner.user_id, "lines": lines},
                                              locale=locale)
        return await self.anonymous.post("/app-api/pricing/quote", {"lines": lines}, locale=locale)

    async def close(self) -> None:
        await self.as_service.close()
        await self.anonymous.close()
