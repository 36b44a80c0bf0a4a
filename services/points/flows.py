"""The points functions that own their transactions: a checkout's hold and its release (each run
again when MariaDB picks it as a deadlock's victim), and the job, whose every hold is a
transaction of its own. What changes is decided by service.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.points import domain, service
from services.points import repository as repo
from services.points.models import Hold
from services.points.schemas import HoldIn
from shared.db import in_transaction


@dataclass(frozen=True)
class Points:
    """What the flows need besides a request; built once per app."""

    sessions: async_sessionmaker[AsyncSession]
    hold_seconds: int


async def hold(pm: Points, request: HoldIn, now: datetime) -> Hold:
    """Idempotent by order id: the same order asking again gets the same hold, also when its
    attempts race (the buyer's count row queues them: a later one is refused by the first one's
    count, or by the unique order id, after the first one committed)."""
    try:
        return await in_transaction(pm.sessions, lambda session: service.hold(session, request, now,
                                                                              pm.hold_seconds))
    except (IntegrityError, domain.LimitExceeded, domain.SoldOut):
        async with pm.sessions() as session:
            existing = await repo.hold_by_order(session, request.order_id)
        if existing is None:
            raise
        return service.same_hold(existing, request)


async def release(pm: Points, order_id: int, now: datetime) -> bool:
    """Checkout failed elsewhere: the order's units and count go back, if not paid (idempotent)."""
    return await in_transaction(pm.sessions, lambda session: service.release(
        session, order_id, now, domain.END_CHECKOUT_FAILED))


async def expire_holds(pm: Points, now: datetime) -> int:
    """Orders not paid in time give their units and count back (each once, whichever replica)."""
    async with pm.sessions() as session:
        due = await repo.due_holds(session, now)
    released = 0
    for order_id in due:
        released += await in_transaction(pm.sessions, lambda session, oid=order_id: service.release(
            session, oid, now, domain.END_EXPIRED, due_by=now))
    return released
