"""Verification (核销) by staff at a store, and its reversal (冲正). These flush; flows.py runs each
in a READ COMMITTED transaction of its own (run again if MySQL picks it as a deadlock's victim).

A verification locks the voucher row, reads it afresh, lets the domain decide, writes its record
(unique per merchant and Idempotency-Key) and takes what it decided by one conditional UPDATE that
re-checks what the decision read. Retries of one key wait for the first on the voucher's lock and
then find its record: they get the first answer and take nothing."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.voucher import domain
from services.voucher import repository as repo
from services.voucher import repository_vouchers as vouchers
from services.voucher.domain import RecordKind, ReviewStatus, Taking
from services.voucher.issuing import publish, state
from services.voucher.models import Verification, Voucher
from services.voucher.schemas import VerifyIn
from shared.enums import CommonStatus


@dataclass(frozen=True)
class Staff:
    """Who verifies: a merchant's staff member (the merchant token's business and subject)."""

    business_id: int
    user_id: int

    @property
    def editor(self) -> str:
        """As `last_editor` and `submitted_by` name them."""
        return f"merchant:{self.user_id}"


def fingerprint(code: str, body: VerifyIn) -> str:
    request = {"code": code, "store_id": body.store_id, "minus_value": body.minus_value, "currency": body.currency}
    return hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()


def _same(known: Verification, digest: str) -> Verification:
    """A retry gets the first answer; another request under the same key is refused."""
    if known.request_hash != digest:
        raise domain.KeyReused(id=known.id)
    return known


async def verify(session: AsyncSession, staff: Staff, body: VerifyIn, key: str, now: datetime,
                 zone: tzinfo) -> tuple[Verification, bool]:
    """(the record, True) when verified now; (the first record, False) for a retried key."""
    code, business_id = domain.normalize_code(body.code), staff.business_id
    digest = fingerprint(code, body)
    known = await vouchers.record_by_key(session, business_id, key)
    if known is not None:
        return _same(known, digest), False
    voucher = await vouchers.voucher_by_code(session, code, business_id, for_update=True)
    known = await vouchers.record_by_key(session, business_id, key)  # committed while we waited for the lock
    if known is not None:
        return _same(known, digest), False
    store = await _store_at_check(session, business_id, body.store_id, voucher)
    taking = domain.check_verification(state(voucher) if voucher else None, body.store_id, store,
                                       domain.VerifyRequest(body.minus_value, body.currency), now, zone)
    assert voucher is not None
    record = _record(voucher, taking, RecordKind.VERIFICATION, body.store_id, staff, now, zone)
    record.idempotency_key, record.request_hash = key, digest
    if not await _inserted(session, record):  # the same key on another voucher, committed first
        return _same(await vouchers.record_by_key(session, business_id, key), digest), False
    if not await vouchers.apply_taking(session, voucher, taking, now):
        raise domain.VoucherBusy(retry_after=1)
    await publish(session, "promo.voucher.verified", voucher.order_id, event_data(record, taking), now)
    return record, True


async def _store_at_check(session: AsyncSession, business_id: int, store_id: int,
                          voucher: Voucher | None) -> domain.StoreAtCheck | None:
    """The store as this merchant sees it: none if it is another's. It accepts the voucher when the
    voucher was sold with it, or its product's approved terms name it now."""
    store = await repo.get_store(session, store_id, business_id)
    if store is None:
        return None
    accepts = voucher is not None and (store_id in voucher.store_ids
                                       or await repo.product_accepts(session, voucher.product_id, store_id))
    return domain.StoreAtCheck(store.id, store.review_status == ReviewStatus.APPROVED,
                               store.status == CommonStatus.ENABLED, accepts)


def _record(voucher: Voucher, taking: Taking, kind: RecordKind, store_id: int, staff: Staff, now: datetime,
            zone: tzinfo) -> Verification:
    """The seed's record: the voucher's terms and what was left before and after."""
    return Verification(
        business_id=voucher.business_id, kind=kind, voucher_id=voucher.id, order_id=voucher.order_id,
        user_id=voucher.user_id, product_id=voucher.product_id, spu_id=voucher.spu_id, sku_id=voucher.sku_id,
        selling_store_id=voucher.selling_store_id, store_id=store_id, staff_user_id=staff.user_id,
        voucher_kind=voucher.kind, currency=voucher.currency, value=voucher.value,
        max_using_times=voucher.max_using_times, minus_value=taking.requested, actual_minus_value=taking.value,
        times_taken=taking.times, cost=taking.cost, surplus_value_before=taking.before.value,
        surplus_times_before=taking.before.times, surplus_value_after=taking.after.value,
        surplus_times_after=taking.after.times, business_date=now.astimezone(zone).date(), created_at=now)


async def _inserted(session: AsyncSession, record: Verification) -> bool:
    try:
        async with session.begin_nested():
            session.add(record)
            await session.flush()
    except IntegrityError:
        return False
    return True


def event_data(record: Verification, taking: Taking) -> dict:
    return {"verification_id": record.id, "kind": int(record.kind), "reverses_id": record.reverses_id,
            "business_id": record.business_id, "voucher_id": record.voucher_id, "order_id": record.order_id,
            "user_id": record.user_id, "product_id": record.product_id, "sku_id": record.sku_id,
            "store_id": record.store_id, "selling_store_id": record.selling_store_id,
            "staff_user_id": record.staff_user_id, "currency": record.currency, "minus_value": record.minus_value,
            "actual_minus_value": record.actual_minus_value, "times_taken": record.times_taken, "cost": record.cost,
            "surplus_value": taking.after.value, "surplus_times": taking.after.times,
            "voucher_status": int(taking.status_after), "at": record.created_at.isoformat()}


async def reverse(session: AsyncSession, staff: Staff, record_id: int, now: datetime, zone: tzinfo,
                  window_minutes: int) -> tuple[Verification, bool]:
    """(the reversal, True) when reversed now; (the earlier reversal, False) when it was already.
    The original record is locked first, then its voucher: reversals of one record run one at a
    time, and the value comes back once (the unique `reverses_id` is the last guard)."""
    original = await vouchers.get_record(session, record_id, staff.business_id, for_update=True)
    if original is None:
        raise domain.RecordNotFound(id=record_id)
    done = await vouchers.reversal_of(session, record_id)
    if done is not None:
        return done, False
    voucher = await vouchers.get_voucher(session, original.voucher_id, for_update=True)
    assert voucher is not None
    taking = domain.check_reversal(domain.RecordState(original.id, RecordKind(original.kind),
                                                      original.actual_minus_value, original.times_taken,
                                                      original.cost, original.created_at),
                                   state(voucher), now, window_minutes, zone)
    reversal = _record(voucher, taking, RecordKind.REVERSAL, original.store_id, staff, now, zone)
    reversal.reverses_id = original.id
    if not await _inserted(session, reversal):
        return await vouchers.reversal_of(session, record_id), False
    if not await vouchers.apply_taking(session, voucher, taking, now):
        raise domain.VoucherBusy(retry_after=1)
    await publish(session, "promo.voucher.verification-reversed", voucher.order_id, event_data(reversal, taking), now)
    return reversal, True
