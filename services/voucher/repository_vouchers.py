"""Every query of issued vouchers, verification records, reports and cancelled orders. Changes of
a voucher are single conditional statements: each re-checks what the decision was made on, so a
second replica, a redelivered event or a racing request changes nothing twice."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.voucher.domain import RecordKind, Taking, VoucherStatus
from services.voucher.models import CancelledOrder, Verification, Voucher
from shared.pagination import PageParams, fetch_page

# --- issuing ------------------------------------------------------------------------------------

async def existing_units(session: AsyncSession, order_id: int) -> set[tuple[int, int]]:
    rows = await session.execute(select(Voucher.sku_id, Voucher.unit_no).where(Voucher.order_id == order_id))
    return {(sku_id, unit_no) for sku_id, unit_no in rows}


async def unit_exists(session: AsyncSession, order_id: int, sku_id: int, unit_no: int) -> bool:
    """A shared locking read: sees a unit another delivery committed, whatever this transaction's
    snapshot. Shared, because the duplicate insert that led here already holds a shared lock on the
    row: asking for an exclusive one deadlocked two late deliveries holding one each."""
    return await session.scalar(select(Voucher.id).where(Voucher.order_id == order_id, Voucher.sku_id == sku_id,
                                                         Voucher.unit_no == unit_no)
                                .with_for_update(read=True)) is not None


async def is_cancelled(session: AsyncSession, order_id: int) -> bool:
    """A locking read: a payment racing its order's cancel waits for it and sees it."""
    return await session.scalar(select(CancelledOrder.order_id).where(CancelledOrder.order_id == order_id)
                                .with_for_update()) is not None


async def record_cancelled(session: AsyncSession, order_id: int, at: datetime) -> bool:
    """True when this is the order's first cancel (written first, before its effects)."""
    try:
        async with session.begin_nested():
            session.add(CancelledOrder(order_id=order_id, cancelled_at=at))
            await session.flush()
    except IntegrityError:
        return False
    return True


async def vouchers_of_order(session: AsyncSession, order_id: int) -> Sequence[Voucher]:
    """Locked: a verification racing the refund waits, then sees it (and the other way round)."""
    return (await session.scalars(select(Voucher).where(Voucher.order_id == order_id).order_by(Voucher.id)
                                  .with_for_update().execution_options(populate_existing=True))).all()


# --- one voucher ----------------------------------------------------------------------------------

async def get_voucher(session: AsyncSession, voucher_id: int, *, user_id: int | None = None,
                      business_id: int | None = None, for_update: bool = False) -> Voucher | None:
    query = select(Voucher).where(Voucher.id == voucher_id)
    if user_id is not None:
        query = query.where(Voucher.user_id == user_id)
    if business_id is not None:
        query = query.where(Voucher.business_id == business_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(query)


async def voucher_by_code(session: AsyncSession, code: str, business_id: int, *,
                          for_update: bool = False) -> Voucher | None:
    query = select(Voucher).where(Voucher.code == code, Voucher.business_id == business_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(query)


async def code_exists(session: AsyncSession, code: str) -> bool:
    return await session.scalar(select(Voucher.id).where(Voucher.code == code)) is not None


async def apply_taking(session: AsyncSession, voucher: Voucher, taking: Taking, now: datetime) -> bool:
    """One conditional UPDATE: it applies only to the voucher as the decision read it (same status,
    same value and uses left), so two staff can never together take more than is left."""
    v = Voucher
    result = await session.execute(
        update(v).where(v.id == voucher.id, v.status == voucher.status,
                        v.surplus_value == taking.before.value, v.surplus_times == taking.before.times,
                        v.surplus_value >= taking.value, v.surplus_times >= taking.times)
        .values(surplus_value=v.surplus_value - taking.value, surplus_times=v.surplus_times - taking.times,
                cost_settled=v.cost_settled + taking.cost, status=taking.status_after, updated_at=now)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


async def refund(session: AsyncSession, voucher_id: int, by: str, reason: str, now: datetime) -> bool:
    """Refunded only if still untouched and not refunded: a verification that got there first wins."""
    v = Voucher
    result = await session.execute(
        update(v).where(v.id == voucher_id, v.status.in_([VoucherStatus.ACTIVE, VoucherStatus.EXPIRED]),
                        v.surplus_value == v.value, v.surplus_times == v.max_using_times)
        .values(status=VoucherStatus.REFUNDED, ended_at=now, ended_by=by, end_reason=reason, updated_at=now)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


async def due_for_expiry(session: AsyncSession, now: datetime, limit: int) -> Sequence[Voucher]:
    return (await session.scalars(select(Voucher).where(Voucher.status == VoucherStatus.ACTIVE,
                                                        Voucher.valid_end_at <= now)
                                  .order_by(Voucher.valid_end_at, Voucher.id).limit(limit))).all()


async def expire(session: AsyncSession, voucher_id: int, now: datetime) -> bool:
    """Still active and past its end: expired (by whichever replica gets there first)."""
    v = Voucher
    result = await session.execute(
        update(v).where(v.id == voucher_id, v.status == VoucherStatus.ACTIVE, v.valid_end_at <= now)
        .values(status=VoucherStatus.EXPIRED, ended_at=now, ended_by="job", end_reason="validity_ended",
                updated_at=now).execution_options(synchronize_session=False))
    return result.rowcount == 1


# --- lists ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class VoucherFilter:
    business_id: int | None = None
    user_id: int | None = None
    order_id: int | None = None
    product_id: int | None = None
    status: int | None = None


async def page_vouchers(session: AsyncSession, paging: PageParams, f: VoucherFilter) -> tuple[Sequence[Voucher], int]:
    query = select(Voucher).order_by(Voucher.id.desc())
    for column, value in ((Voucher.business_id, f.business_id), (Voucher.user_id, f.user_id),
                          (Voucher.order_id, f.order_id), (Voucher.product_id, f.product_id),
                          (Voucher.status, f.status)):
        if value is not None:
            query = query.where(column == value)
    return await fetch_page(session, query, paging)


# --- verification records ---------------------------------------------------------------------------

async def record_by_key(session: AsyncSession, business_id: int, key: str) -> Verification | None:
    return await session.scalar(select(Verification).where(Verification.business_id == business_id,
                                                           Verification.idempotency_key == key))


async def get_record(session: AsyncSession, record_id: int, business_id: int | None = None, *,
                     for_update: bool = False) -> Verification | None:
    query = select(Verification).where(Verification.id == record_id)
    if business_id is not None:
        query = query.where(Verification.business_id == business_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(query)


async def reversal_of(session: AsyncSession, record_id: int) -> Verification | None:
    return await session.scalar(select(Verification).where(Verification.reverses_id == record_id))


async def records_of_voucher(session: AsyncSession, voucher_id: int, limit: int) -> Sequence[Verification]:
    return (await session.scalars(select(Verification).where(Verification.voucher_id == voucher_id)
                                  .order_by(Verification.id).limit(limit))).all()


@dataclass(frozen=True)
class RecordFilter:
    business_id: int | None = None
    store_id: int | None = None
    voucher_id: int | None = None
    kind: int | None = None
    date_from: date | None = None
    date_to: date | None = None


def _records(query: Select, f: RecordFilter) -> Select:
    v = Verification
    for column, value in ((v.business_id, f.business_id), (v.store_id, f.store_id), (v.voucher_id, f.voucher_id),
                          (v.kind, f.kind)):
        if value is not None:
            query = query.where(column == value)
    if f.date_from is not None:
        query = query.where(v.business_date >= f.date_from)
    if f.date_to is not None:
        query = query.where(v.business_date <= f.date_to)
    return query


async def page_records(session: AsyncSession, paging: PageParams,
                       f: RecordFilter) -> tuple[Sequence[Verification], int]:
    return await fetch_page(session, _records(select(Verification).order_by(Verification.id.desc()), f), paging)


# --- reports --------------------------------------------------------------------------------------

def _sums():
    v = Verification
    return (func.sum(case((v.kind == RecordKind.VERIFICATION, 1), else_=0)).label("verifications"),
            func.sum(case((v.kind == RecordKind.REVERSAL, 1), else_=0)).label("reversals"),
            func.sum(v.actual_minus_value).label("value_verified"), func.sum(v.times_taken).label("times_verified"),
            func.sum(v.cost).label("cost"))


def _daily(f: RecordFilter) -> Select:
    v = Verification
    keys = (v.business_date, v.business_id, v.store_id, v.currency)
    return _records(select(*keys, *_sums()), f).group_by(*keys).order_by(
        v.business_date.desc(), v.business_id, v.store_id, v.currency)


async def page_daily(session: AsyncSession, paging: PageParams, f: RecordFilter) -> tuple[list, int]:
    """Verification records by day, merchant, store and currency (the days in the business timezone)."""
    query = _daily(f)
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = await session.execute(query.offset(paging.offset).limit(paging.size))
    return [row._asdict() for row in rows], total


async def all_daily(session: AsyncSession, f: RecordFilter, limit: int) -> list[dict]:
    return [row._asdict() for row in await session.execute(_daily(f).limit(limit))]


async def totals(session: AsyncSession, f: RecordFilter) -> list[dict]:
    query = _records(select(Verification.currency, *_sums()), f).group_by(Verification.currency)
    return [row._asdict() for row in await session.execute(query.order_by(Verification.currency))]
