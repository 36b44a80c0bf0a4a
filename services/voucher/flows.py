"""The voucher functions that own their transactions: a verification and a reversal (each in a
READ COMMITTED transaction of its own, run again if MySQL picks it as a deadlock's victim), and
the expiry job's batches. What they change is decided and written by verifying.py and
issuing.py, which only flush.

Why READ COMMITTED: a retried verification waits for the first on the voucher's row lock and must
then see the record the first one committed. Under REPEATABLE READ its snapshot (taken before the
wait) would not show it, and a locking read of a key not there yet would take gap locks that
deadlock staff verifying other vouchers of the same merchant at the same moment."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.voucher import issuing, verifying
from services.voucher.models import Verification
from services.voucher.schemas import VerifyIn
from services.voucher.verifying import Staff
from shared.db import in_transaction

EXPIRY_BATCH = 500
T = TypeVar("T")


@dataclass(frozen=True)
class Vouchers:
    """What the flows need besides a request; built once per app."""

    sessions: async_sessionmaker[AsyncSession]  # READ COMMITTED on MySQL/MariaDB
    zone: ZoneInfo  # the business timezone: days, windows and times shown
    reversal_minutes: int


async def _in_transaction(vouchers: Vouchers, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    return await in_transaction(vouchers.sessions, work)


async def verify(vouchers: Vouchers, staff: Staff, body: VerifyIn, key: str,
                 now: datetime) -> tuple[Verification, bool]:
    """Verify once per Idempotency-Key: (the record, True), or for a retry (the first record, False)."""
    return await _in_transaction(vouchers, lambda session: verifying.verify(session, staff, body, key, now,
                                                                            vouchers.zone))


async def reverse(vouchers: Vouchers, staff: Staff, record_id: int, now: datetime) -> tuple[Verification, bool]:
    """Reverse a verification once: (the reversal, True), or when reversed before (it, False)."""
    return await _in_transaction(vouchers, lambda session: verifying.reverse(
        session, staff, record_id, now, vouchers.zone, vouchers.reversal_minutes))


async def expire_due(vouchers: Vouchers, now: datetime) -> int:
    """Active vouchers past their validity expire, a batch per transaction until none is left."""
    expired = 0
    while True:
        async with vouchers.sessions() as session, session.begin():
            done = await issuing.expire_due(session, now, EXPIRY_BATCH)
        expired += done
        if done < EXPIRY_BATCH:
            return expired
