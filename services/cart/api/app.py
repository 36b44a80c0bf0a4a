"""/app-api/cart: a buyer's cart, a device's (X-Device-Id, anonymous) or a member's (token)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.cart import flows, service
from services.cart.api.deps import CartOwner, Context, MergeFrom
from services.cart.domain import MAX_LINES
from services.cart.errors import CartFull, DeviceIdRequired, LineNotFound, QuantityOutOfRange
from services.cart.schemas import (
    AddOut,
    CartLineOut,
    CartPageOut,
    ChangedOut,
    CountOut,
    LineIn,
    MergeOut,
    QuantityIn,
    SelectedIn,
)
from shared.auth import InvalidDeviceId
from shared.db import Session
from shared.deps import Locale, Now
from shared.errors import Forbidden, Unauthorized
from shared.ids import MAX_ID, PathId
from shared.openapi import errors
from shared.responses import prebuilt_json

router = APIRouter(prefix="/app-api/cart", tags=["app: cart"],
                   responses=errors(Unauthorized, Forbidden, InvalidDeviceId, DeviceIdRequired))

SkuIds = Annotated[list[Annotated[int, Query(ge=1, le=MAX_ID)]], Query(alias="sku_id", min_length=1,
                                                                         max_length=MAX_LINES)]


@router.get("", response_model=CartPageOut)
async def cart_page(owner: CartOwner, cart: Context, locale: Locale):
    """The cart page: the lines priced by one pricing quote (selected lines count towards the
    totals), promotions and near misses, a member's coupons and the best one, each line's price
    since it was added. Pricing unavailable: plain prices and `promotions_available: false`."""
    return prebuilt_json(await flows.page(cart, owner, locale))


@router.get("/count", response_model=CountOut)
async def count(owner: CartOwner, session: Session):
    """The badge."""
    return await service.count(session, owner)


@router.post("/lines", response_model=AddOut, responses=errors(CartFull, QuantityOutOfRange))
async def add(body: LineIn, owner: CartOwner, session: Session, now: Now):
    """Adds a SKU, or more of it: one line per SKU, the quantity capped at 999 (`capped`)."""
    return await service.add(session, owner, body, now)


@router.put("/lines/{sku_id}", response_model=CartLineOut, responses=errors(LineNotFound, QuantityOutOfRange))
async def set_quantity(sku_id: PathId, body: QuantityIn, owner: CartOwner, session: Session, now: Now):
    return await service.set_quantity(session, owner, sku_id, body.quantity, body.unit_price, now)


@router.put("/lines/{sku_id}/selected", response_model=CartLineOut, responses=errors(LineNotFound))
async def select_line(sku_id: PathId, body: SelectedIn, owner: CartOwner, session: Session, now: Now):
    return await service.select_line(session, owner, sku_id, body.selected, now)


@router.put("/selected", response_model=ChangedOut)
async def select_all(body: SelectedIn, owner: CartOwner, session: Session, now: Now):
    return await service.select_all(session, owner, body.selected, now)


@router.delete("/lines", response_model=ChangedOut)
async def remove_lines(sku_ids: SkuIds, owner: CartOwner, session: Session, now: Now):
    """`?sku_id=1&sku_id=2`: those lines leave the cart (SKUs it lacks are no error)."""
    return await service.remove(session, owner, sku_ids, now)


@router.delete("", response_model=ChangedOut)
async def clear(owner: CartOwner, session: Session, now: Now):
    return await service.remove(session, owner, None, now)


@router.post("/merge", response_model=MergeOut)
async def merge(source: MergeFrom, session: Session, now: Now):
    """On login: the member (token) merges the device cart named by X-Device-Id into theirs.
    Idempotent: a retried merge changes nothing."""
    return await service.merge(session, *source, now)
