"""What the routes read: pages, one voucher with its history, stores near a point, the product a
buyer looks at, the staff's code lookup, verification records and the daily report (page and
CSV). Reads only."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.voucher import domain
from services.voucher import repository as repo
from services.voucher import repository_vouchers as vouchers
from services.voucher.models import Store
from services.voucher.schemas import (
    MAX_USES,
    MerchantVoucherOut,
    ProductBriefOut,
    ProductOut,
    ProductPublicOut,
    ReportPage,
    ReportRowOut,
    ReportTotals,
    ReviewOut,
    StoreNearOut,
    StoreOut,
    UsageOut,
    VerificationOut,
    VoucherDetailOut,
    VoucherOut,
    voucher_view,
)
from shared.pagination import PageParams, to_page

CatalogFilter, ReviewFilter = repo.CatalogFilter, repo.ReviewFilter
VoucherFilter, RecordFilter = vouchers.VoucherFilter, vouchers.RecordFilter
PRODUCTS_PER_STORE = 10
CSV_MAX_ROWS = 100_000
REPORT_CSV_HEADER = ("business_date", "business_id", "store_id", "store_name", "currency", "verifications",
                     "reversals", "value_verified", "times_verified", "cost")


@dataclass(frozen=True)
class Origin:
    """A point a buyer sends (micro-degrees)."""

    lat_e6: int
    lon_e6: int


# --- catalog and reviews ----------------------------------------------------------------------------

async def page_stores(session: AsyncSession, paging: PageParams, f: CatalogFilter) -> dict:
    return to_page(StoreOut, await repo.page_stores(session, paging, f), paging)


async def page_products(session: AsyncSession, paging: PageParams, f: CatalogFilter) -> dict:
    return to_page(ProductOut, await repo.page_products(session, paging, f), paging)


async def page_reviews(session: AsyncSession, paging: PageParams, f: ReviewFilter) -> dict:
    return to_page(ReviewOut, await repo.page_reviews(session, paging, f), paging)


async def public_product(session: AsyncSession, product_id: int) -> ProductPublicOut:
    """A product buyers can see: approved and on the shelf, its approved terms (no settlement cost)."""
    product = await repo.get_live_product(session, product_id)
    if product is None:
        raise domain.ProductNotFound(id=product_id)
    return ProductPublicOut.model_validate(product)


# --- stores near a point --------------------------------------------------------------------------

def _near(store: Store, metres: float | None, products: list) -> StoreNearOut:
    return StoreNearOut.model_validate({**{name: getattr(store, name) for name in StoreNearOut.model_fields
                                           if name not in ("distance_m", "products")},
                                        "distance_m": None if metres is None else round(metres),
                                        "products": products})


async def _stores_page(session: AsyncSession, found: list[tuple[int, float | None]], paging: PageParams,
                       with_products: bool) -> dict:
    """One page of (store id, metres), nearest first, as stores (with what they sell)."""
    chosen = found[paging.offset:paging.offset + paging.size]
    stores = {s.id: s for s in await repo.stores_by_ids(session, [store_id for store_id, _ in chosen])}
    products: dict[int, list] = {}
    if with_products and chosen:
        for store_id, product in await repo.live_products_at(session, list(stores)):
            products.setdefault(store_id, []).append(ProductBriefOut.model_validate(product))
    items = [_near(stores[store_id], metres, products.get(store_id, [])[:PRODUCTS_PER_STORE])
             for store_id, metres in chosen]
    return {"items": items, "total": len(found), "page": paging.page, "size": paging.size}


async def nearby(session: AsyncSession, origin: Origin, radius_m: int, product_id: int | None,
                 paging: PageParams) -> dict:
    """Approved, open stores within `radius_m` that accept a voucher on sale, nearest first: the
    bounding box through the index, then the exact distance."""
    box = domain.bounding_box(origin.lat_e6, origin.lon_e6, radius_m)
    found = domain.nearest((origin.lat_e6, origin.lon_e6), await repo.nearby_candidates(session, box), radius_m)
    selling = await repo.stores_selling(session, [store_id for store_id, _ in found], product_id)
    found = [(store_id, metres) for store_id, metres in found if store_id in selling]
    return await _stores_page(session, found, paging, with_products=True)


# --- a buyer's vouchers -------------------------------------------------------------------------------

async def page_my_vouchers(session: AsyncSession, user_id: int, status: int | None, paging: PageParams,
                           zone: tzinfo) -> dict:
    rows, total = await vouchers.page_vouchers(session, paging, VoucherFilter(user_id=user_id, status=status))
    return {"items": [voucher_view(row, zone) for row in rows], "total": total, "page": paging.page,
            "size": paging.size}


async def _mine(session: AsyncSession, user_id: int, voucher_id: int):
    voucher = await vouchers.get_voucher(session, voucher_id, user_id=user_id)
    if voucher is None:
        raise domain.VoucherNotFound(id=voucher_id)
    return voucher


async def my_voucher(session: AsyncSession, user_id: int, voucher_id: int, zone: tzinfo) -> VoucherOut:
    """One of my vouchers, its code and its history (where, what was taken, what was left)."""
    voucher = await _mine(session, user_id, voucher_id)
    records = await vouchers.records_of_voucher(session, voucher_id, 2 * MAX_USES)
    names = {s.id: s.name for s in await repo.stores_by_ids(session, list({r.store_id for r in records}))}
    usages = [UsageOut.model_validate(r).model_copy(update={"store_name": names.get(r.store_id, "")})
              for r in records]
    return voucher_view(voucher, zone, VoucherDetailOut, usages=usages)


async def voucher_stores(session: AsyncSession, user_id: int, voucher_id: int, origin: Origin | None,
                         paging: PageParams) -> dict:
    """Where my voucher can be used: the stores it was sold with and those its product accepts now,
    approved and open; nearest first from `origin` (else by id)."""
    voucher = await _mine(session, user_id, voucher_id)
    ids = set(voucher.store_ids) | set(await repo.product_store_ids(session, voucher.product_id))
    points = sorted(await repo.live_store_points(session, sorted(ids)))
    if origin is None:
        found: list[tuple[int, float | None]] = [(store_id, None) for store_id, _, _ in points]
    else:
        found = list(domain.nearest((origin.lat_e6, origin.lon_e6), points))
    return await _stores_page(session, found, paging, with_products=False)


# --- merchants: codes and records ---------------------------------------------------------------------

async def code_lookup(session: AsyncSession, business_id: int, code: str, zone: tzinfo) -> MerchantVoucherOut:
    """What staff see before verifying: the voucher of this code, if it is their merchant's."""
    voucher = await vouchers.voucher_by_code(session, domain.normalize_code(code), business_id)
    if voucher is None:
        raise domain.CodeNotFound()
    return voucher_view(voucher, zone, MerchantVoucherOut)


async def page_vouchers(session: AsyncSession, paging: PageParams, f: VoucherFilter, zone: tzinfo) -> dict:
    rows, total = await vouchers.page_vouchers(session, paging, f)
    return {"items": [voucher_view(row, zone, MerchantVoucherOut) for row in rows], "total": total,
            "page": paging.page, "size": paging.size}


async def page_records(session: AsyncSession, paging: PageParams, f: RecordFilter) -> dict:
    return to_page(VerificationOut, await vouchers.page_records(session, paging, f), paging)


async def get_record(session: AsyncSession, record_id: int, business_id: int | None = None) -> VerificationOut:
    record = await vouchers.get_record(session, record_id, business_id)
    if record is None:
        raise domain.RecordNotFound(id=record_id)
    return VerificationOut.model_validate(record)


# --- the daily report -------------------------------------------------------------------------------

def report_filter(f: RecordFilter, now: datetime, zone: tzinfo) -> RecordFilter:
    """The filter with its dates settled: by default the 31 business days up to today."""
    start, end = domain.report_range(f.date_from, f.date_to, now.astimezone(zone).date())
    return replace(f, date_from=start, date_to=end)


def _ints(row: dict[str, Any]) -> dict[str, Any]:
    """SUM() is a DECIMAL on MySQL."""
    return {k: int(v) if k in ReportTotals.model_fields and k != "currency" else v for k, v in row.items()}


async def _named(session: AsyncSession, rows: list[dict]) -> list[ReportRowOut]:
    names = {s.id: s.name for s in await repo.stores_by_ids(session, list({r["store_id"] for r in rows}))}
    return [ReportRowOut.model_validate({**_ints(r), "store_name": names.get(r["store_id"], "")}) for r in rows]


async def report(session: AsyncSession, f: RecordFilter, paging: PageParams) -> ReportPage:
    """Verification records by day, store and currency, with the totals of the whole range."""
    rows, total = await vouchers.page_daily(session, paging, f)
    totals = [ReportTotals.model_validate(_ints(t)) for t in await vouchers.totals(session, f)]
    assert f.date_from is not None and f.date_to is not None
    return ReportPage(items=await _named(session, rows), total=total, page=paging.page, size=paging.size,
                      date_from=f.date_from, date_to=f.date_to, totals=totals)


async def report_csv(session: AsyncSession, f: RecordFilter) -> str:
    rows = await _named(session, await vouchers.all_daily(session, f, CSV_MAX_ROWS))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(REPORT_CSV_HEADER)
    for row in rows:
        writer.writerow([getattr(row, name) if name != "business_date" else row.business_date.isoformat()
                         for name in REPORT_CSV_HEADER])
    return out.getvalue()


def report_file_name(f: RecordFilter) -> str:
    return f"voucher-verifications-{f.date_from}-{f.date_to}.csv"


async def reviews_of(session: AsyncSession, kind: domain.ReviewKind, target_id: int, business_id: int,
                     paging: PageParams) -> dict:
    """A merchant's own store's or product's review history (another's: not found)."""
    if kind is domain.ReviewKind.STORE and await repo.get_store(session, target_id, business_id) is None:
        raise domain.StoreNotFound(id=target_id)
    if kind is domain.ReviewKind.PRODUCT and await repo.get_product(session, target_id, business_id) is None:
        raise domain.ProductNotFound(id=target_id)
    return await page_reviews(session, paging, ReviewFilter(kind=kind, target_id=target_id))
