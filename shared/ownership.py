"""Who owns a promotion: the platform (`business_id` NULL) or one merchant (its `business_id`).

A merchant's routes see only its own rows: another owner's id answers 404, as if it did not exist,
so ids do not leak. The admin's routes see every row and may narrow a list to one owner
(`?business_id=` for a merchant's, `?platform=true` for the platform's own). Conflict rules stay
global: they never go through a scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query
from sqlalchemy import ColumnElement, true

from shared.auth import Merchant
from shared.errors import DomainError
from shared.ids import QueryId

PLATFORM = None  # the business_id of the platform's own promotions


class OwnerFilterConflict(DomainError):
    status = 422
    code = "OWNER_FILTER_CONFLICT"
    messages = {"en": "Filter by business_id or by platform=true, not both",
                "zh-CN": "不能同时按某个商家和按平台自营筛选"}


@dataclass(frozen=True)
class OwnerScope:
    """The rows a caller may see. `merchant`: a merchant's own only (every route of the merchant
    API); otherwise the admin's view, narrowed to one merchant (`business_id`) or to the platform's
    own (`platform_only`), or everything."""

    business_id: int | None = None
    platform_only: bool = False
    merchant: bool = False

    def where(self, column: Any) -> ColumnElement[bool]:
        """The condition on an owner column (`business_id`) that keeps what this scope sees."""
        if self.platform_only:
            return column.is_(None)
        if self.business_id is not None:
            return column == self.business_id
        return true()

    def sees(self, business_id: int | None) -> bool:
        """Whether a row owned by `business_id` is visible (else the route answers 404)."""
        if self.platform_only:
            return business_id is None
        return self.business_id is None or business_id == self.business_id

    @property
    def owner(self) -> int | None:
        """The owner of what this caller creates: its business, or the platform for the admin."""
        return self.business_id if self.merchant else PLATFORM


EVERYTHING = OwnerScope()


async def _merchant_scope(merchant: Merchant) -> OwnerScope:
    assert merchant.business_id is not None  # the token verifier refuses a merchant token without one
    return OwnerScope(business_id=merchant.business_id, merchant=True)


PlatformQuery = Annotated[bool, Query(description="true: only the platform's own (business_id null)")]


async def _admin_scope(business_id: QueryId = None, platform: PlatformQuery = False) -> OwnerScope:
    if business_id is not None and platform:
        raise OwnerFilterConflict()
    return OwnerScope(business_id=business_id, platform_only=platform)


MerchantScope = Annotated[OwnerScope, Depends(_merchant_scope)]  # a merchant's own, nothing else
AdminScope = Annotated[OwnerScope, Depends(_admin_scope)]  # everything, or one owner's when filtered
