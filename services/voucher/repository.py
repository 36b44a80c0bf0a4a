"""Every query of stores, products, reviews and the store search (vouchers and their records are
in repository_vouchers.py). Merchant-facing reads take the merchant's `business_id`: a row of
another merchant is simply not found."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, delete, exists, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.voucher.domain import Box, ReviewOutcome, ReviewStatus
from services.voucher.models import Product, ProductStore, Review, Store
from shared.enums import CommonStatus
from shared.pagination import PageParams, fetch_page

# A radius search reads at most this many stores of its box (50 km in the densest city is far below).
MAX_CANDIDATES = 20_000


@dataclass(frozen=True)
class CatalogFilter:
    business_id: int | None = None
    review_status: int | None = None
    status: int | None = None


def _filtered(query: Select, model, f: CatalogFilter) -> Select:
    for column, value in ((model.business_id, f.business_id), (model.review_status, f.review_status),
                          (model.status, f.status)):
        if value is not None:
            query = query.where(column == value)
    return query


# --- stores -------------------------------------------------------------------------------------

async def get_store(session: AsyncSession, store_id: int, business_id: int | None = None, *,
                    for_update: bool = False) -> Store | None:
    query = select(Store).where(Store.id == store_id)
    if business_id is not None:
        query = query.where(Store.business_id == business_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(query)


async def page_stores(session: AsyncSession, paging: PageParams, f: CatalogFilter) -> tuple[Sequence[Store], int]:
    return await fetch_page(session, _filtered(select(Store).order_by(Store.id.desc()), Store, f), paging)


async def owned_store_ids(session: AsyncSession, business_id: int, store_ids: Sequence[int]) -> set[int]:
    return set((await session.scalars(select(Store.id).where(Store.business_id == business_id,
                                                             Store.id.in_(list(store_ids))))).all())


async def stores_by_ids(session: AsyncSession, store_ids: Sequence[int]) -> Sequence[Store]:
    return (await session.scalars(select(Store).where(Store.id.in_(list(store_ids))))).all()


LIVE_STORE = (Store.review_status == ReviewStatus.APPROVED, Store.status == CommonStatus.ENABLED)
LIVE_PRODUCT = (Product.review_status == ReviewStatus.APPROVED, Product.status == CommonStatus.ENABLED)


async def live_store_points(session: AsyncSession, store_ids: Sequence[int]) -> list[tuple[int, int, int]]:
    """(id, lat_e6, lon_e6) of those stores that are approved and open."""
    rows = await session.execute(select(Store.id, Store.lat_e6, Store.lon_e6)
                                 .where(Store.id.in_(list(store_ids)), *LIVE_STORE))
    return [tuple(row) for row in rows]


def nearby_query(box: Box) -> Select:
    """Approved, open stores inside the box: a range on the (lat_e6, lon_e6, review_status, status)
    index, read from the index alone (the id is in every secondary index of InnoDB)."""
    lon = or_(*(Store.lon_e6.between(west, east) for west, east in box.lon_ranges))
    return (select(Store.id, Store.lat_e6, Store.lon_e6)
            .where(Store.lat_e6.between(box.lat_min, box.lat_max), lon, *LIVE_STORE).limit(MAX_CANDIDATES))


async def nearby_candidates(session: AsyncSession, box: Box) -> list[tuple[int, int, int]]:
    return [tuple(row) for row in await session.execute(nearby_query(box))]


async def stores_selling(session: AsyncSession, store_ids: Sequence[int], product_id: int | None = None) -> set[int]:
    """Those of the stores that accept a product on sale (`product_id`: that one), by the product-store
    table's store index, a thousand at a time."""
    selling: set[int] = set()
    for start in range(0, len(store_ids), 1000):
        query = (select(ProductStore.store_id).distinct().join(Product, Product.id == ProductStore.product_id)
                 .where(ProductStore.store_id.in_(list(store_ids[start:start + 1000])), *LIVE_PRODUCT))
        if product_id is not None:
            query = query.where(ProductStore.product_id == product_id)
        selling.update((await session.scalars(query)).all())
    return selling


# --- products -----------------------------------------------------------------------------------

async def get_product(session: AsyncSession, product_id: int, business_id: int | None = None, *,
                      for_update: bool = False) -> Product | None:
    query = select(Product).where(Product.id == product_id)
    if business_id is not None:
        query = query.where(Product.business_id == business_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(query)


async def get_live_product(session: AsyncSession, product_id: int) -> Product | None:
    return await session.scalar(select(Product).where(Product.id == product_id, *LIVE_PRODUCT))


async def sku_taken(session: AsyncSession, sku_id: int) -> bool:
    return bool(await session.scalar(select(exists().where(Product.sku_id == sku_id))))


async def page_products(session: AsyncSession, paging: PageParams,
                        f: CatalogFilter) -> tuple[Sequence[Product], int]:
    return await fetch_page(session, _filtered(select(Product).order_by(Product.id.desc()), Product, f), paging)


async def approved_products_by_sku(session: AsyncSession, sku_ids: Sequence[int]) -> Sequence[Product]:
    """Products with approved terms (on the shelf or not: a paid order gets its vouchers)."""
    return (await session.scalars(select(Product).where(Product.sku_id.in_(list(sku_ids)),
                                                        Product.review_status == ReviewStatus.APPROVED))).all()


async def replace_product_stores(session: AsyncSession, product_id: int, store_ids: Sequence[int]) -> None:
    await session.execute(delete(ProductStore).where(ProductStore.product_id == product_id))
    await session.execute(insert(ProductStore), [{"product_id": product_id, "store_id": s} for s in store_ids])


async def product_accepts(session: AsyncSession, product_id: int, store_id: int) -> bool:
    """Does the product's approved list name the store now?"""
    return bool(await session.scalar(select(exists().where(ProductStore.product_id == product_id,
                                                           ProductStore.store_id == store_id))))


async def product_store_ids(session: AsyncSession, product_id: int) -> list[int]:
    return list((await session.scalars(select(ProductStore.store_id)
                                       .where(ProductStore.product_id == product_id))).all())


async def live_products_at(session: AsyncSession, store_ids: Sequence[int]) -> list[tuple[int, Product]]:
    """(store id, product) of the products on sale that these stores accept."""
    rows = await session.execute(select(ProductStore.store_id, Product)
                                 .join(Product, Product.id == ProductStore.product_id)
                                 .where(ProductStore.store_id.in_(list(store_ids)), *LIVE_PRODUCT)
                                 .order_by(ProductStore.store_id, Product.id))
    return [(store_id, product) for store_id, product in rows]


# --- reviews ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReviewFilter:
    kind: int | None = None
    status: int | None = None
    business_id: int | None = None
    target_id: int | None = None


async def page_reviews(session: AsyncSession, paging: PageParams, f: ReviewFilter) -> tuple[Sequence[Review], int]:
    """The queue (status pending: oldest first, as they are worked) or the history (newest first)."""
    oldest_first = f.status == ReviewOutcome.PENDING
    query = select(Review).order_by(Review.id if oldest_first else Review.id.desc())
    for column, value in ((Review.kind, f.kind), (Review.status, f.status), (Review.business_id, f.business_id),
                          (Review.target_id, f.target_id)):
        if value is not None:
            query = query.where(column == value)
    return await fetch_page(session, query, paging)


async def get_review(session: AsyncSession, review_id: int, *, for_update: bool = False) -> Review | None:
    """`for_update`: a locking read, which sees a decision committed after this transaction began."""
    query = select(Review).where(Review.id == review_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(query)


async def supersede_pending(session: AsyncSession, kind: int, target_id: int) -> int:
    """A new change replaces the one waiting (one conditional statement)."""
    result = await session.execute(update(Review).where(
        Review.kind == kind, Review.target_id == target_id, Review.status == ReviewOutcome.PENDING)
        .values(status=ReviewOutcome.SUPERSEDED).execution_options(synchronize_session=False))
    return result.rowcount


async def decide(session: AsyncSession, review_id: int, outcome: ReviewOutcome, by: str, reason: str | None,
                 now) -> bool:
    """Decided once: only a pending review changes (two operators at once: one wins)."""
    result = await session.execute(update(Review).where(Review.id == review_id,
                                                        Review.status == ReviewOutcome.PENDING)
                                   .values(status=outcome, decided_by=by, decided_at=now, reason=reason)
                                   .execution_options(synchronize_session=False))
    return result.rowcount == 1


async def has_any_data(session: AsyncSession) -> bool:
    return bool(await session.scalar(select(or_(exists().where(Store.id.is_not(None)),
                                                exists().where(Product.id.is_not(None))))))
