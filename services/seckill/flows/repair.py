"""Reservations Redis counts but MySQL never recorded, repaired on the buyer's request.

Redis counts a reservation when its script lets it through; MySQL records it a moment later. If
Redis was frozen or the process was killed between the two, Redis keeps counting a reservation
that does not exist: its token stays in the `held` hash, with the time Redis took it. Such a
token is a *leftover* once it is `LEFTOVER_SECONDS` old by Redis's clock (the stamp is Redis's
TIME, and so is the age: the hosts' clocks may differ), has no MySQL row in a read made after
Redis was looked at, and no request of this process is writing it (a write takes milliseconds; one
still running after that long on another replica is taken for a leftover too: Redis then counts
that unit as free until reconciliation reloads it, and MySQL, the final guard, refuses whoever it
lets through too many). A token without a stamp was loaded from MySQL's held reservations: never a
leftover.
Reconciliation would fix the stock a minute or two later; the buyer is not made to wait for it:

- A USER_LIMIT verdict from Redis is checked against MySQL (one primary-key read; remembered for
  `SECKILL_SOLD_OUT_SECONDS` when MySQL agrees, so a buyer pressing the button again does not
  reach MySQL each time). When MySQL says the user has room, the user's leftovers and the tokens
  MySQL says were released or expired give their stock and count back, the paid ones stop being
  held, the user's count is lowered to MySQL's, and the reservation is tried once more.
- A repeated token (the same Idempotency-Key, or a checkout retried for the same order) whose
  first request left such a leftover is not answered "in progress" for ever: the leftover is given
  back and the request runs again.
"""

from __future__ import annotations

import logging

from services.seckill import domain
from services.seckill import repository as repo
from services.seckill.context import Seckill
from services.seckill.domain import ReservationStatus

log = logging.getLogger("seckill.repair")

LEFTOVER_SECONDS = 10  # a token held this long without a MySQL row was never written


async def repair_user(seckill: Seckill, terms: domain.Terms, user_id: int, count: int) -> bool:
    """True when the user's count in Redis was checked and lowered to MySQL's (try again), False
    when the user is at the limit indeed."""
    if seckill.stock.known_at_limit(terms.id, user_id) or not await _has_room(seckill, terms, user_id, count):
        return False
    held = await seckill.stock.held_by(terms.id, user_id)  # Redis first: MySQL is read after, fresh
    async with seckill.sessions() as session, session.begin():
        bought = await repo.quota_of(session, terms.id, user_id)
        rows = await repo.statuses_by_token(session, list(held))
    unwritten = [t for t in held if t not in rows]
    leftovers = [t for t in unwritten if _is_leftover(seckill, t, held[t].age)]
    give_back = leftovers + [t for t in held if rows.get(t) in domain.LATE_PAYABLE]
    final = [t for t in held if rows.get(t) == ReservationStatus.COMMITTED]
    counted = bought + sum(held[t].count for t in unwritten if t not in leftovers)
    after = await seckill.stock.repair_user(terms.id, user_id, counted, give_back, final)
    if give_back or final:
        log.warning("seckill activity %s: user %s was counted at the limit in redis but has %s in mysql; gave "
                    "back %s, dropped %s, count now %s", terms.id, user_id, bought, give_back, final, after)
    return True


async def _has_room(seckill: Seckill, terms: domain.Terms, user_id: int, count: int) -> bool:
    """MySQL's count leaves the user room (one primary-key read); remembered a moment when not."""
    async with seckill.sessions() as session:
        bought = await repo.quota_of(session, terms.id, user_id)
    if bought + count > terms.user_limit:
        seckill.stock.remember_at_limit(terms.id, user_id)
        return False
    return True


async def drop_leftover(seckill: Seckill, activity_id: int, token: str) -> bool:
    """The repeated token's first request never reached MySQL: its stock and count go back in
    Redis (True: run the request again). False when it may still be on its way."""
    held = await seckill.stock.held(activity_id, token)
    if held is None or not _is_leftover(seckill, token, held.age, besides_me=True):
        return held is None  # gone meanwhile: run again
    async with seckill.sessions() as session:  # read after Redis: a write that landed meanwhile is seen
        if await repo.reservation_by_token(session, token) is not None:
            return True  # run again: the request finds its first answer
    log.warning("seckill activity %s: token %s was held in redis %s s without a mysql row; given back",
                activity_id, token, held.age)
    await seckill.stock.release(activity_id, token)
    return True


def _is_leftover(seckill: Seckill, token: str, age: int | None, *, besides_me: bool = False) -> bool:
    """Old enough by Redis's clock, and not being written by this process. A token without a stamp
    was loaded from MySQL's held reservations: it has a row, whatever an earlier read said."""
    return (age is not None and age >= LEFTOVER_SECONDS
            and not seckill.stock.in_flight(token, besides_me=besides_me))
