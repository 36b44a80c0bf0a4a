"""/admin-api/voucher: the platform (主站后台): the review queue of stores and voucher products
(approve, reject with a reason, history), and every merchant's stores, products, vouchers,
verification records and reports (filter by `business_id`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from services.voucher import domain, pages, service
from services.voucher.api.deps import BusinessZone, CatalogQuery, RecordQuery, ReportQuery, ReviewQuery, VoucherQuery
from services.voucher.schemas import (
    MerchantVoucherOut,
    ProductOut,
    RejectIn,
    ReportPage,
    ReviewOut,
    StoreOut,
    VerificationOut,
)
from shared.auth import Admin, Role, require_role
from shared.db import Session
from shared.deps import Now
from shared.errors import Forbidden, Unauthorized
from shared.ids import PathId
from shared.openapi import errors
from shared.pagination import Page, Paging

router = APIRouter(prefix="/admin-api/voucher", tags=["admin: voucher"],
                   dependencies=[Depends(require_role(Role.ADMIN))], responses=errors(Unauthorized, Forbidden))


@router.get("/reviews", response_model=Page[ReviewOut])
async def reviews(session: Session, paging: Paging, f: ReviewQuery):
    """The queue (`status=1`: oldest first) or the history (newest first) of submitted changes."""
    return await pages.page_reviews(session, paging, f)


@router.get("/reviews/{review_id}", response_model=ReviewOut, responses=errors(domain.ReviewNotFound))
async def review(review_id: PathId, session: Session):
    return await service.get_review(session, review_id)


@router.post("/reviews/{review_id}/approve", response_model=ReviewOut,
             responses=errors(domain.ReviewNotFound, domain.ReviewDecided, domain.ProductInvalid))
async def approve(review_id: PathId, admin: Admin, session: Session, now: Now):
    """The submitted terms become live (decided once; a change superseded meanwhile is refused)."""
    return await service.approve(session, review_id, service.editor(admin), now)


@router.post("/reviews/{review_id}/reject", response_model=ReviewOut,
             responses=errors(domain.ReviewNotFound, domain.ReviewDecided))
async def reject(review_id: PathId, body: RejectIn, admin: Admin, session: Session, now: Now):
    """Refused with a reason the merchant reads; the live terms stay as they were."""
    return await service.reject(session, review_id, service.editor(admin), body.reason, now)


@router.get("/stores", response_model=Page[StoreOut])
async def stores(session: Session, paging: Paging, f: CatalogQuery):
    return await pages.page_stores(session, paging, f)


@router.get("/stores/{store_id}", response_model=StoreOut, responses=errors(domain.StoreNotFound))
async def store(store_id: PathId, session: Session):
    return await service.get_store(session, store_id)


@router.get("/products", response_model=Page[ProductOut])
async def products(session: Session, paging: Paging, f: CatalogQuery):
    return await pages.page_products(session, paging, f)


@router.get("/products/{product_id}", response_model=ProductOut, responses=errors(domain.ProductNotFound))
async def product(product_id: PathId, session: Session):
    return await service.get_product(session, product_id)


@router.get("/vouchers", response_model=Page[MerchantVoucherOut])
async def vouchers(session: Session, paging: Paging, f: VoucherQuery, zone: BusinessZone):
    return await pages.page_vouchers(session, paging, f, zone)


@router.get("/verifications", response_model=Page[VerificationOut])
async def verifications(session: Session, paging: Paging, f: RecordQuery):
    return await pages.page_records(session, paging, f)


@router.get("/reports/daily", response_model=ReportPage, responses=errors(domain.ReportRangeInvalid))
async def daily_report(session: Session, paging: Paging, f: ReportQuery):
    """Every merchant's verifications by business day, store and currency, with the range's totals."""
    return await pages.report(session, f, paging)


@router.get("/reports/daily.csv", response_class=Response, responses=errors(domain.ReportRangeInvalid))
async def daily_report_csv(session: Session, f: ReportQuery):
    return Response(await pages.report_csv(session, f), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{pages.report_file_name(f)}"'})
