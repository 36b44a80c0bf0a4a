"""MySQL's side of the reservation path, coalesced: reservations of one SKU that Redis let through
at the same moment are written in one transaction.

Every reservation of a SKU updates the same product row, so one at a time they queue on its lock
and on a commit each (the hot-row problem of database-only flash sales). Here, while one batch is
being written, the next ones gather; each batch is a handful of statements whatever its size:

    INSERT IGNORE quota rows          (the users' per-activity totals, made if missing)
    INSERT reservations               (unique token: a repeated request fails the batch)
    UPDATE quota ... CASE ... WHERE bought + n <= limit     (every user's row must change)
    UPDATE product SET stock = stock - total WHERE stock >= total

If any check fails the batch rolls back and its reservations are written one by one, so each gets
its own exact answer (sold out, fewer left than asked for, limit reached, repeated). The database stays the final guard.

Several replicas write the same rows at once (a buyer's taps reach two of them; batches roll back
under a crowd): MySQL may pick one of their transactions as a deadlock's victim and roll it back.
A batch that is a victim is written one by one, and a reservation that is a victim is written again
(`shared.db.DEADLOCK_ATTEMPTS` in all; after that the buyer is told the sale is busy, retry in a second).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.seckill import domain
from services.seckill import repository as repo
from services.seckill.models import Reservation
from shared.db import in_transaction, is_deadlock
from shared.enums import CommonStatus
from shared.errors import DomainError


class Duplicate(Exception):
    """The reservation's token is already in the database: the request was made before."""


@dataclass
class Pending:
    row: dict[str, Any]  # a Reservation's columns (a fresh row is made for each attempt to write it)
    user_limit: int
    done: asyncio.Future[Reservation]

    def reservation(self) -> Reservation:
        return Reservation(**self.row)


class BatchFailed(Exception):
    """Some check of the batch failed: write its reservations one by one."""


class ReservationWriter:
    def __init__(self, sessions: async_sessionmaker, max_batch: int = 200) -> None:
        self.sessions = sessions
        self.max_batch = max_batch
        self._queues: dict[tuple[int, int], list[Pending]] = {}
        self._writing: set[tuple[int, int]] = set()
        self._tasks: set[asyncio.Task] = set()

    async def write(self, row: dict[str, Any], user_limit: int) -> Reservation:
        """The reservation (a Reservation's columns), written; or the domain error that refused
        it, or Duplicate."""
        key = (row["activity_id"], row["sku_id"])
        pending = Pending(row, user_limit, asyncio.get_running_loop().create_future())
        self._queues.setdefault(key, []).append(pending)
        if key not in self._writing:
            self._writing.add(key)
            task = asyncio.create_task(self._drain(key))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        # shielded: a caller that goes away does not stop a write that others share
        return await asyncio.shield(pending.done)

    async def _drain(self, key: tuple[int, int]) -> None:
        try:
            while self._queues.get(key):
                queue = self._queues[key]
                batch, self._queues[key] = queue[:self.max_batch], queue[self.max_batch:]
                await self._write_batch(batch)
        finally:
            self._writing.discard(key)
            if not self._queues.get(key):
                self._queues.pop(key, None)

    async def _write_batch(self, batch: list[Pending]) -> None:
        if len(batch) > 1:
            try:
                for p, written in zip(batch, await self._together(batch), strict=True):
                    _settle(p.done, result=written)
                return
            except BatchFailed:
                pass
            except OperationalError as exc:
                if not is_deadlock(exc):  # the database failed: every waiting request learns it
                    _settle_all(batch, exc)
                    return
            except Exception as exc:
                _settle_all(batch, exc)
                return
        for p in batch:
            try:
                _settle(p.done, result=await self._alone(p))
            except Exception as exc:
                _settle(p.done, error=exc)

    async def _together(self, batch: list[Pending]) -> list[Reservation]:
        rows = [p.reservation() for p in batch]
        activity_id, sku_id = rows[0].activity_id, rows[0].sku_id
        by_user: dict[int, int] = {}
        for r in rows:
            by_user[r.user_id] = by_user.get(r.user_id, 0) + r.count
        limit = batch[0].user_limit
        async with self.sessions() as session, session.begin():
            await _check_enabled(session, activity_id)
            await repo.ensure_quotas(session, activity_id, list(by_user))
            session.add_all(rows)
            try:
                await session.flush()
            except IntegrityError as exc:
                raise BatchFailed() from exc
            if not await repo.add_to_quotas(session, activity_id, by_user, limit):
                raise BatchFailed()
            if not await repo.take_stock(session, activity_id, sku_id, sum(by_user.values())):
                raise BatchFailed()
        return rows

    async def _alone(self, p: Pending) -> Reservation:
        """One reservation in its own transaction, again if MySQL picked it as a deadlock's victim."""
        try:
            return await in_transaction(self.sessions, lambda session: _write_alone(session, p))
        except OperationalError as exc:
            if is_deadlock(exc):
                raise domain.Unavailable() from exc
            raise


async def _write_alone(session: AsyncSession, p: Pending) -> Reservation:
    r = p.reservation()
    await _check_enabled(session, r.activity_id)
    await repo.ensure_quotas(session, r.activity_id, [r.user_id])
    session.add(r)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Duplicate() from exc
    if not await repo.add_to_quotas(session, r.activity_id, {r.user_id: r.count}, p.user_limit):
        raise domain.UserLimitReached(limit=p.user_limit)
    if not await repo.take_stock(session, r.activity_id, r.sku_id, r.count):  # the hot row last
        raise _not_enough(await repo.sku_stock(session, r.activity_id, r.sku_id))
    return r


def _not_enough(left: int | None) -> DomainError:
    """Nothing left is sold out; some left, fewer than asked for, is not (a smaller count may pass)."""
    return domain.StockNotEnough(left=left) if left else domain.SoldOut()


async def _check_enabled(session: AsyncSession, activity_id: int) -> None:
    activity = await repo.get_activity(session, activity_id)
    if activity is None or activity.status != CommonStatus.ENABLED:
        raise domain.ActivityClosed()


def _settle_all(batch: list[Pending], error: BaseException) -> None:
    for p in batch:
        _settle(p.done, error=error)


def _settle(future: asyncio.Future, *, result: Reservation | None = None, error: BaseException | None = None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)

