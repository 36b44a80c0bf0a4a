"""Typed dependencies of the voucher routers: the flows' context and the business timezone, the
staff member a merchant token is, the point a buyer sends, the Idempotency-Key, and the filters of
every list built from their query parameters (a merchant's always fixed to its own business)."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Header, Query, Request

from services.voucher import domain
from services.voucher.domain import RecordKind, ReviewKind, ReviewOutcome, ReviewStatus, VoucherStatus
from services.voucher.flows import Vouchers
from services.voucher.pages import CatalogFilter, Origin, RecordFilter, ReviewFilter, VoucherFilter, report_filter
from services.voucher.verifying import Staff
from shared.auth import Merchant
from shared.deps import Now
from shared.enums import CommonStatus
from shared.ids import QueryId

KEY_PATTERN = "^[A-Za-z0-9_-]{1,64}$"


async def _vouchers(request: Request) -> Vouchers:
    return request.app.state.vouchers


VouchersContext = Annotated[Vouchers, Depends(_vouchers)]


async def _zone(vouchers: VouchersContext) -> ZoneInfo:
    return vouchers.zone


BusinessZone = Annotated[ZoneInfo, Depends(_zone)]


async def _staff(merchant: Merchant) -> Staff:
    assert merchant.business_id is not None  # the verifier refuses a merchant token without one
    return Staff(business_id=merchant.business_id, user_id=merchant.user_id)


StaffMember = Annotated[Staff, Depends(_staff)]  # a merchant's staff: its business and its own id

IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", pattern=KEY_PATTERN, description=(
    "required: a retry with the same key (per merchant) gets the first answer and takes nothing twice"))]

Latitude = Annotated[float, Query(ge=-90, le=90, description="degrees")]
Longitude = Annotated[float, Query(ge=-180, le=180, description="degrees")]


async def _origin(lat: Latitude, lon: Longitude) -> Origin:
    return Origin(domain.to_e6(lat), domain.to_e6(lon))


async def _maybe_origin(lat: Latitude | None = None, lon: Longitude | None = None) -> Origin | None:
    if (lat is None) != (lon is None):
        raise domain.LocationIncomplete()
    return None if lat is None or lon is None else Origin(domain.to_e6(lat), domain.to_e6(lon))


Point = Annotated[Origin, Depends(_origin)]
MaybePoint = Annotated[Origin | None, Depends(_maybe_origin)]
Radius = Annotated[int, Query(ge=domain.MIN_RADIUS_M, le=domain.MAX_RADIUS_M, description="metres")]


async def _my_catalog(staff: StaffMember, review_status: ReviewStatus | None = None,
                      status: CommonStatus | None = None) -> CatalogFilter:
    return CatalogFilter(staff.business_id, review_status, status)


async def _catalog(business_id: QueryId = None, review_status: ReviewStatus | None = None,
                   status: CommonStatus | None = None) -> CatalogFilter:
    return CatalogFilter(business_id, review_status, status)


MyCatalogQuery = Annotated[CatalogFilter, Depends(_my_catalog)]
CatalogQuery = Annotated[CatalogFilter, Depends(_catalog)]


async def _reviews(kind: ReviewKind | None = None, status: ReviewOutcome | None = None, business_id: QueryId = None,
                   target_id: QueryId = None) -> ReviewFilter:
    return ReviewFilter(kind, status, business_id, target_id)


ReviewQuery = Annotated[ReviewFilter, Depends(_reviews)]


async def _vouchers_filter(business_id: QueryId = None, user_id: QueryId = None, order_id: QueryId = None,
                           product_id: QueryId = None, status: VoucherStatus | None = None) -> VoucherFilter:
    return VoucherFilter(business_id, user_id, order_id, product_id, status)


VoucherQuery = Annotated[VoucherFilter, Depends(_vouchers_filter)]
Day = Annotated[date | None, Query(description="a business date (BUSINESS_TIMEZONE), e.g. 2026-11-22")]


async def _records(business_id: QueryId = None, store_id: QueryId = None, voucher_id: QueryId = None,
                   kind: RecordKind | None = None, date_from: Day = None, date_to: Day = None) -> RecordFilter:
    return RecordFilter(business_id, store_id, voucher_id, kind, date_from, date_to)


async def _my_records(staff: StaffMember, store_id: QueryId = None, voucher_id: QueryId = None,
                      kind: RecordKind | None = None, date_from: Day = None, date_to: Day = None) -> RecordFilter:
    return RecordFilter(staff.business_id, store_id, voucher_id, kind, date_from, date_to)


RecordQuery = Annotated[RecordFilter, Depends(_records)]
MyRecordQuery = Annotated[RecordFilter, Depends(_my_records)]


async def _report(now: Now, zone: BusinessZone, business_id: QueryId = None, store_id: QueryId = None,
                  date_from: Day = None, date_to: Day = None) -> RecordFilter:
    return report_filter(RecordFilter(business_id, store_id, date_from=date_from, date_to=date_to), now, zone)


async def _my_report(staff: StaffMember, now: Now, zone: BusinessZone, store_id: QueryId = None,
                     date_from: Day = None, date_to: Day = None) -> RecordFilter:
    return report_filter(RecordFilter(staff.business_id, store_id, date_from=date_from, date_to=date_to), now, zone)


ReportQuery = Annotated[RecordFilter, Depends(_report)]  # dates settled: by default the last 31 days
MyReportQuery = Annotated[RecordFilter, Depends(_my_report)]
