"""The bargain functions that own their transactions: starting a record, a help, a checkout's hold
and its release (each run again when MariaDB picks it as a deadlock's victim), and the jobs, whose
every record or order is a transaction of its own. What changes is decided by service.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.bargain import domain, service
from services.bargain import repository as repo
from services.bargain.models import Help, Order, Record
from services.bargain.schemas import HoldIn
from shared.db import in_transaction


@dataclass(frozen=True)
class Bargain:
    """What the flows need besides a request; built once per app."""

    sessions: async_sessionmaker[AsyncSession]
    lifetime_seconds: int
    hold_seconds: int


async def start(bg: Bargain, user_id: int, activity_id: int, nickname: str, avatar: str, now: datetime) -> Record:
    try:
        return await in_transaction(bg.sessions, lambda session: service.start(
            session, user_id, activity_id, nickname, avatar, now, bg.lifetime_seconds))
    except IntegrityError:  # the same buyer started one meanwhile
        raise domain.RecordInProgress() from None


async def help_record(bg: Bargain, record_id: int, helper_id: int, nickname: str, avatar: str,
                      now: datetime, pick=None) -> Help:
    for attempt in (1, 2):
        try:
            return await in_transaction(bg.sessions, lambda session: service.help_record(
                session, record_id, helper_id, nickname, avatar, now, pick))
        except IntegrityError:  # the unique help key behind the locks: run it again, it reads the help
            if attempt == 2:  # the same helper got there first
                raise domain.AlreadyHelped() from None
    raise AssertionError("unreachable")


async def hold(bg: Bargain, request: HoldIn, now: datetime) -> Order:
    """Idempotent by order id: the same order asking again gets the same hold."""
    try:
        return await in_transaction(bg.sessions, lambda session: service.hold(session, request, now,
                                                                              bg.hold_seconds))
    except IntegrityError:  # a retry of the same order raced the first attempt
        async with bg.sessions() as session:
            existing = await repo.order_by_id(session, request.order_id)
        if existing is None:
            raise
        return service.same_hold(existing, request)


async def release(bg: Bargain, order_id: int, now: datetime) -> bool:
    """Checkout failed elsewhere: the order's unit and record go back, if not paid (idempotent)."""
    return await in_transaction(bg.sessions, lambda session: service.release(session, order_id, now,
                                                                             "checkout_released"))


# --- jobs: each record or order in a transaction of its own ---------------------------------------

async def fail_due_records(bg: Bargain, now: datetime) -> int:
    """Records in progress past their lifetime or their activity's window fail, each once."""
    async with bg.sessions() as session:
        due = await repo.due_records(session, now)
    failed = 0
    for record_id in due:
        failed += await in_transaction(bg.sessions, lambda session, rid=record_id: service.fail_if_due(
            session, rid, now))
    return failed


async def expire_holds(bg: Bargain, now: datetime) -> int:
    """Orders not paid in time give their unit and record back (each once, whichever replica)."""
    async with bg.sessions() as session:
        due = await repo.due_holds(session, now)
    released = 0
    for order_id in due:
        released += await in_transaction(bg.sessions, lambda session, oid=order_id: service.release(
            session, oid, now, "hold_expired", due_by=now))
    return released
