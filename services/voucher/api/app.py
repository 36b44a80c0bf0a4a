"""/app-api/voucher: buyers (through the gateway). The store search and a product's page need no
token; a buyer's vouchers need a member token."""

from __future__ import annotations

from fastapi import APIRouter

from services.voucher import pages
from services.voucher.api.deps import BusinessZone, MaybePoint, Point, Radius
from services.voucher.domain import LocationIncomplete, ProductNotFound, VoucherNotFound, VoucherStatus
from services.voucher.schemas import ProductPublicOut, StoreNearOut, VoucherDetailOut, VoucherOut
from shared.auth import Member
from shared.db import Session
from shared.errors import Forbidden, Unauthorized
from shared.ids import PathId, QueryId
from shared.openapi import errors
from shared.pagination import Page, Paging

router = APIRouter(prefix="/app-api/voucher", tags=["app: voucher"])


@router.get("/stores/nearby", response_model=Page[StoreNearOut])
async def stores_nearby(session: Session, point: Point, paging: Paging, radius_m: Radius = 5000,
                        product_id: QueryId = None):
    """Stores near me with vouchers on sale (anonymous allowed): approved, open stores within the
    radius that accept a voucher product on sale (or `product_id`), nearest first, with what they sell."""
    return await pages.nearby(session, point, radius_m, product_id, paging)


@router.get("/products/{product_id}", response_model=ProductPublicOut, responses=errors(ProductNotFound))
async def product(product_id: PathId, session: Session):
    """A voucher product on sale (anonymous allowed): its approved terms."""
    return await pages.public_product(session, product_id)


@router.get("/vouchers", response_model=Page[VoucherOut], responses=errors(Unauthorized, Forbidden))
async def my_vouchers(member: Member, session: Session, paging: Paging, zone: BusinessZone,
                      status: VoucherStatus | None = None):
    return await pages.page_my_vouchers(session, member.user_id, status, paging, zone)


@router.get("/vouchers/{voucher_id}", response_model=VoucherDetailOut,
            responses=errors(Unauthorized, Forbidden, VoucherNotFound))
async def my_voucher(voucher_id: PathId, member: Member, session: Session, zone: BusinessZone):
    """One of my vouchers: its code, what is left and its history."""
    return await pages.my_voucher(session, member.user_id, voucher_id, zone)


@router.get("/vouchers/{voucher_id}/stores", response_model=Page[StoreNearOut],
            responses=errors(Unauthorized, Forbidden, VoucherNotFound, LocationIncomplete))
async def my_voucher_stores(voucher_id: PathId, member: Member, session: Session, paging: Paging, point: MaybePoint):
    """Where my voucher can be used, nearest first from `lat`/`lon` (both, or neither: by id)."""
    return await pages.voucher_stores(session, member.user_id, voucher_id, point, paging)
