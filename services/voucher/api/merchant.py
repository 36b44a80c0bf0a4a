"""/merchant-api/voucher: a merchant's staff (merchant PC directly, the merchant app through the
gateway) manage their stores and voucher products, verify vouchers and read their records. Every
route sees only the token's own business: another merchant's store, product, voucher or record is
404."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from services.voucher import domain, flows, pages, service
from services.voucher.api.deps import (
    BusinessZone,
    IdempotencyKey,
    MyCatalogQuery,
    MyRecordQuery,
    MyReportQuery,
    StaffMember,
    VouchersContext,
)
from services.voucher.domain import ReviewKind
from services.voucher.schemas import (
    MerchantVoucherOut,
    ProductIn,
    ProductOut,
    ProductTermsIn,
    ReportPage,
    ReviewOut,
    StatusIn,
    StoreIn,
    StoreOut,
    VerificationOut,
    VerifyIn,
)
from shared.auth import Role, require_role
from shared.db import Session
from shared.deps import Now
from shared.errors import Forbidden, Unauthorized
from shared.ids import PathId
from shared.openapi import errors
from shared.pagination import Page, Paging

router = APIRouter(prefix="/merchant-api/voucher", tags=["merchant: voucher"],
                   dependencies=[Depends(require_role(Role.MERCHANT))], responses=errors(Unauthorized, Forbidden))
Code = Annotated[str, Path(min_length=1, max_length=32, description="as scanned or typed")]
VERIFY_ERRORS = (domain.CodeNotFound, domain.StoreNotFound, domain.StoreUnavailable, domain.StoreNotAccepted,
                 domain.NotActive, domain.OutsideValidity, domain.NothingLeft, domain.WrongWay,
                 domain.CurrencyMismatch, domain.KeyReused, domain.VoucherBusy)


# --- stores ---------------------------------------------------------------------------------------

@router.post("/stores", status_code=201, response_model=StoreOut)
async def create_store(body: StoreIn, staff: StaffMember, session: Session, now: Now):
    """A new store waits for the platform's review before it shows or verifies."""
    return await service.create_store(session, staff.business_id, staff.editor, body, now)


@router.get("/stores", response_model=Page[StoreOut])
async def my_stores(session: Session, paging: Paging, f: MyCatalogQuery):
    return await pages.page_stores(session, paging, f)


@router.get("/stores/{store_id}", response_model=StoreOut, responses=errors(domain.StoreNotFound))
async def my_store(store_id: PathId, staff: StaffMember, session: Session):
    return await service.get_store(session, store_id, staff.business_id)


@router.put("/stores/{store_id}", response_model=StoreOut, responses=errors(domain.StoreNotFound))
async def change_store(store_id: PathId, body: StoreIn, staff: StaffMember, session: Session,
                       now: Now):
    """Submits the change for review; an approved store keeps its approved details until then."""
    return await service.change_store(session, staff.business_id, store_id, staff.editor, body, now)


@router.put("/stores/{store_id}/status", response_model=StoreOut, responses=errors(domain.StoreNotFound))
async def set_store_status(store_id: PathId, body: StatusIn, staff: StaffMember,
                           session: Session, now: Now):
    """Open (0) or closed (1): no review needed. A closed store neither shows nor verifies."""
    return await service.set_store_status(session, staff.business_id, store_id, body.status, staff.editor, now)


@router.get("/stores/{store_id}/reviews", response_model=Page[ReviewOut], responses=errors(domain.StoreNotFound))
async def store_reviews(store_id: PathId, staff: StaffMember, session: Session, paging: Paging):
    return await pages.reviews_of(session, ReviewKind.STORE, store_id, staff.business_id, paging)


# --- products -------------------------------------------------------------------------------------

@router.post("/products", status_code=201, response_model=ProductOut,
             responses=errors(domain.ProductInvalid, domain.StoreNotFound, domain.SkuTaken))
async def create_product(body: ProductIn, staff: StaffMember, session: Session, now: Now):
    """A new voucher product waits for the platform's review before it sells."""
    return await service.create_product(session, staff.business_id, staff.editor, body, now)


@router.get("/products", response_model=Page[ProductOut])
async def my_products(session: Session, paging: Paging, f: MyCatalogQuery):
    return await pages.page_products(session, paging, f)


@router.get("/products/{product_id}", response_model=ProductOut, responses=errors(domain.ProductNotFound))
async def my_product(product_id: PathId, staff: StaffMember, session: Session):
    return await service.get_product(session, product_id, staff.business_id)


@router.put("/products/{product_id}", response_model=ProductOut,
            responses=errors(domain.ProductNotFound, domain.ProductInvalid, domain.StoreNotFound))
async def change_product(product_id: PathId, body: ProductTermsIn, staff: StaffMember,
                         session: Session, now: Now):
    """Submits new terms for review: the approved terms stay on sale until then; vouchers sold keep theirs."""
    return await service.change_product(session, staff.business_id, product_id, staff.editor, body, now)


@router.put("/products/{product_id}/status", response_model=ProductOut, responses=errors(domain.ProductNotFound))
async def set_product_status(product_id: PathId, body: StatusIn, staff: StaffMember,
                             session: Session, now: Now):
    """On (0) or off (1) the shelf: no review needed; vouchers sold stay usable."""
    return await service.set_product_status(session, staff.business_id, product_id, body.status, staff.editor,
                                            now)


@router.get("/products/{product_id}/reviews", response_model=Page[ReviewOut],
            responses=errors(domain.ProductNotFound))
async def product_reviews(product_id: PathId, staff: StaffMember, session: Session, paging: Paging):
    return await pages.reviews_of(session, ReviewKind.PRODUCT, product_id, staff.business_id, paging)


# --- verification -------------------------------------------------------------------------------------

@router.get("/codes/{code}", response_model=MerchantVoucherOut, responses=errors(domain.CodeNotFound))
async def look_up_code(code: Code, staff: StaffMember, session: Session, zone: BusinessZone):
    """What staff see after scanning a code: the voucher, what is left, its validity."""
    return await pages.code_lookup(session, staff.business_id, code, zone)


@router.post("/verifications", status_code=201, response_model=VerificationOut, responses=errors(*VERIFY_ERRORS))
async def verify(body: VerifyIn, key: IdempotencyKey, staff: StaffMember, vouchers: VouchersContext, now: Now,
                 response: Response):
    """Verify (核销) at one of my stores: by value (`minus_value`, capped at what is left) or one use.
    201 when verified now; 200 with the first answer for a repeated Idempotency-Key."""
    record, new = await flows.verify(vouchers, staff, body, key, now)
    response.status_code = 201 if new else 200
    return record


@router.get("/verifications", response_model=Page[VerificationOut])
async def my_verifications(session: Session, paging: Paging, f: MyRecordQuery):
    return await pages.page_records(session, paging, f)


@router.get("/verifications/{record_id}", response_model=VerificationOut, responses=errors(domain.RecordNotFound))
async def my_verification(record_id: PathId, staff: StaffMember, session: Session):
    return await pages.get_record(session, record_id, staff.business_id)


@router.post("/verifications/{record_id}/reversal", status_code=201, response_model=VerificationOut,
             responses=errors(domain.RecordNotFound, domain.NotReversible, domain.ReversalWindowPassed,
                              domain.NotActive, domain.VoucherBusy))
async def reverse(record_id: PathId, staff: StaffMember, vouchers: VouchersContext, now: Now, response: Response):
    """Reverse (冲正) a verification within VOUCHER_REVERSAL_MINUTES: what it took comes back, once.
    201 when reversed now; 200 with the reversal when it was reversed before."""
    reversal, new = await flows.reverse(vouchers, staff, record_id, now)
    response.status_code = 201 if new else 200
    return reversal


@router.get("/reports/daily", response_model=ReportPage, responses=errors(domain.ReportRangeInvalid))
async def daily_report(session: Session, paging: Paging, f: MyReportQuery):
    """My verifications by business day, store and currency (net of reversals), with the range's totals."""
    return await pages.report(session, f, paging)


@router.get("/reports/daily.csv", response_class=Response, responses=errors(domain.ReportRangeInvalid))
async def daily_report_csv(session: Session, f: MyReportQuery):
    return Response(await pages.report_csv(session, f), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{pages.report_file_name(f)}"'})
