"""Use cases of stores and voucher products: merchants create and change them, the platform
reviews every submission (pre-review: only approved terms are live). Like every use case of the
service these flush and never commit: the request (or the consumer runner) owns the transaction.

A store or product row holds the terms that are live (before the first approval: the terms that
would be). A submission is a `voucher_review` row; approving it applies its terms to the row, so
a change of an approved product changes nothing on sale until it is approved, and never a voucher
already sold (each keeps a copy of the terms it was bought with)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.voucher import domain
from services.voucher import repository as repo
from services.voucher.domain import ProductTerms, ReviewKind, ReviewOutcome, ReviewStatus, StoreTerms
from services.voucher.models import Product, Review, Store
from services.voucher.schemas import ProductIn, ProductTermsIn, StoreIn
from shared.auth import Principal
from shared.enums import CommonStatus


def editor(principal: Principal) -> str:
    """Who made a change (`last_editor`, `submitted_by`, `decided_by`)."""
    return f"{principal.role}:{principal.subject}"


def store_terms(body: StoreIn) -> StoreTerms:
    return StoreTerms(body.name, body.address, body.phone, body.opening_hours, domain.to_e6(body.lat),
                      domain.to_e6(body.lon))


def product_terms(body: ProductTermsIn) -> ProductTerms:
    return ProductTerms(body.name, body.kind, body.value, body.currency, body.max_using_times, body.cost,
                        body.bright_desc, body.image_url, body.validity_type, body.valid_start_at, body.valid_end_at,
                        body.valid_days, body.selling_store_id, tuple(body.store_ids))


def _apply_store(store: Store, terms: StoreTerms) -> None:
    for name, value in domain.store_terms_json(terms).items():
        setattr(store, name, value)


def _apply_product(product: Product, terms: ProductTerms) -> None:
    for name, value in vars(terms).items():
        setattr(product, name, list(value) if name == "store_ids" else value)


async def _submit(session: AsyncSession, kind: ReviewKind, row: Store | Product, terms: dict, by: str,
                  now: datetime) -> Review:
    """The change waits for review (replacing one still waiting); a row never approved shows it at
    once (nothing of it is live), an approved one keeps its live terms."""
    await repo.supersede_pending(session, kind, row.id)
    review = Review(kind=kind, target_id=row.id, business_id=row.business_id, terms=terms,
                    status=ReviewOutcome.PENDING, submitted_by=by, submitted_at=now)
    session.add(review)
    await session.flush()
    row.pending_review_id, row.last_editor, row.updated_at = review.id, by, now
    row.review_status = domain.status_after_submission(ReviewStatus(row.review_status))
    await session.flush()
    return review


# --- stores ---------------------------------------------------------------------------------------

async def create_store(session: AsyncSession, business_id: int, by: str, body: StoreIn, now: datetime,
                       store_id: int | None = None) -> Store:
    """`store_id`: the demo's stores keep the seed's ids (new stores take the next)."""
    terms = store_terms(body)
    store = Store(id=store_id, business_id=business_id, status=CommonStatus.ENABLED, review_status=ReviewStatus.PENDING,
                  last_editor=by, created_at=now, updated_at=now)
    _apply_store(store, terms)
    session.add(store)
    await session.flush()
    await _submit(session, ReviewKind.STORE, store, domain.store_terms_json(terms), by, now)
    return store


async def get_store(session: AsyncSession, store_id: int, business_id: int | None = None,
                    *, for_update: bool = False) -> Store:
    store = await repo.get_store(session, store_id, business_id, for_update=for_update)
    if store is None:
        raise domain.StoreNotFound(id=store_id)
    return store


async def change_store(session: AsyncSession, business_id: int, store_id: int, by: str, body: StoreIn,
                       now: datetime) -> Store:
    store = await get_store(session, store_id, business_id, for_update=True)
    terms = store_terms(body)
    if store.review_status != ReviewStatus.APPROVED:
        _apply_store(store, terms)
    await _submit(session, ReviewKind.STORE, store, domain.store_terms_json(terms), by, now)
    return store


async def set_store_status(session: AsyncSession, business_id: int, store_id: int, status: CommonStatus, by: str,
                           now: datetime) -> Store:
    """Opening or closing a store is the merchant's own call (no review)."""
    store = await get_store(session, store_id, business_id, for_update=True)
    store.status, store.last_editor, store.updated_at = status, by, now
    await session.flush()
    return store


# --- products -------------------------------------------------------------------------------------

async def _check_terms(session: AsyncSession, business_id: int, terms: ProductTerms, now: datetime) -> None:
    domain.check_product(terms, now)
    mine = await repo.owned_store_ids(session, business_id, terms.store_ids)
    for store_id in terms.store_ids:
        if store_id not in mine:
            raise domain.StoreNotFound(id=store_id)


async def create_product(session: AsyncSession, business_id: int, by: str, body: ProductIn,
                         now: datetime) -> Product:
    terms = product_terms(body)
    await _check_terms(session, business_id, terms, now)
    if await repo.sku_taken(session, body.sku_id):
        raise domain.SkuTaken(sku_id=body.sku_id)
    product = Product(business_id=business_id, spu_id=body.spu_id, sku_id=body.sku_id, status=CommonStatus.ENABLED,
                      review_status=ReviewStatus.PENDING, last_editor=by, created_at=now, updated_at=now)
    _apply_product(product, terms)
    try:
        async with session.begin_nested():
            session.add(product)
            await session.flush()
    except IntegrityError:  # another merchant's create of the SKU got there first
        raise domain.SkuTaken(sku_id=body.sku_id) from None
    await _submit(session, ReviewKind.PRODUCT, product, domain.product_terms_json(terms), by, now)
    return product


async def get_product(session: AsyncSession, product_id: int, business_id: int | None = None,
                      *, for_update: bool = False) -> Product:
    product = await repo.get_product(session, product_id, business_id, for_update=for_update)
    if product is None:
        raise domain.ProductNotFound(id=product_id)
    return product


async def change_product(session: AsyncSession, business_id: int, product_id: int, by: str, body: ProductTermsIn,
                         now: datetime) -> Product:
    product = await get_product(session, product_id, business_id, for_update=True)
    terms = product_terms(body)
    await _check_terms(session, business_id, terms, now)
    if product.review_status != ReviewStatus.APPROVED:
        _apply_product(product, terms)
    await _submit(session, ReviewKind.PRODUCT, product, domain.product_terms_json(terms), by, now)
    return product


async def set_product_status(session: AsyncSession, business_id: int, product_id: int, status: CommonStatus,
                             by: str, now: datetime) -> Product:
    """On or off the shelf: the merchant's own call (no review). Vouchers sold stay usable."""
    product = await get_product(session, product_id, business_id, for_update=True)
    product.status, product.last_editor, product.updated_at = status, by, now
    await session.flush()
    return product


# --- the platform's review --------------------------------------------------------------------------

async def get_review(session: AsyncSession, review_id: int) -> Review:
    review = await repo.get_review(session, review_id)
    if review is None:
        raise domain.ReviewNotFound(id=review_id)
    return review


async def _target(session: AsyncSession, review: Review) -> Store | Product:
    """The store or product, locked: a merchant's change and a decision run one after the other."""
    if review.kind == ReviewKind.STORE:
        return await get_store(session, review.target_id, for_update=True)
    return await get_product(session, review.target_id, for_update=True)


async def _decide(session: AsyncSession, review: Review, outcome: ReviewOutcome, by: str, reason: str | None,
                  now: datetime) -> Store | Product:
    domain.check_undecided(review.id, ReviewOutcome(review.status))
    target = await _target(session, review)
    if not await repo.decide(session, review.id, outcome, by, reason, now):  # superseded or decided meanwhile
        current = await repo.get_review(session, review.id, for_update=True)
        assert current is not None
        domain.check_undecided(current.id, ReviewOutcome(current.status))
    target.review_status = domain.status_after_decision(ReviewStatus(target.review_status),
                                                        outcome is ReviewOutcome.APPROVED)
    if target.pending_review_id == review.id:
        target.pending_review_id = None
    target.updated_at = now
    return target


async def approve(session: AsyncSession, review_id: int, by: str, now: datetime) -> Review:
    """The change's terms become live (a product's stores too); decided once."""
    review = await get_review(session, review_id)
    if review.kind == ReviewKind.PRODUCT:
        domain.check_product(domain.product_terms_from(review.terms), now)  # a window may have ended meanwhile
    target = await _decide(session, review, ReviewOutcome.APPROVED, by, None, now)
    if isinstance(target, Store):
        _apply_store(target, domain.store_terms_from(review.terms))
    else:
        terms = domain.product_terms_from(review.terms)
        _apply_product(target, terms)
        await repo.replace_product_stores(session, target.id, terms.store_ids)
    target.approved_at, target.last_editor = now, review.submitted_by
    await session.flush()
    await session.refresh(review)
    return review


async def reject(session: AsyncSession, review_id: int, by: str, reason: str, now: datetime) -> Review:
    """The live terms stay as they were; one never approved is marked rejected."""
    review = await get_review(session, review_id)
    await _decide(session, review, ReviewOutcome.REJECTED, by, reason, now)
    await session.flush()
    await session.refresh(review)
    return review
