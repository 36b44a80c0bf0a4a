"""A buyer whom Redis counts at the limit while MySQL says there is room, repaired on the spot.

Redis counts a reservation when its script lets it through; MySQL records it a moment later. If
Redis was frozen or the process was killed between the two, Redis keeps counting a reservation
MySQL never recorded (its token stays in the `held` hash). Reconciliation would fix the stock a
minute or two later, but the buyer would be told "limit reached" meanwhile. So a USER_LIMIT
verdict from Redis is checked against MySQL (one primary-key read; remembered for
`SECKILL_SOLD_OUT_SECONDS` when MySQL agrees, so a buyer pressing the button again does not reach
MySQL each time). When MySQL says the user has room, the user's tokens in Redis are compared with
MySQL's rows: the ones MySQL never recorded (and no request of this process is writing), or
recorded as released or expired, give their stock and count back; the paid ones stop being held;
the user's count is lowered to MySQL's; then the reservation is tried once more.

A token another replica is still writing may be taken for a leftover: Redis then counts that
reservation's stock as free until reconciliation reloads it, and MySQL, the final guard, refuses
whoever it lets through too many.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from services.seckill import domain
from services.seckill import repository as repo
from services.seckill.domain import ReservationStatus

if TYPE_CHECKING:
    from services.seckill.service import Seckill

log = logging.getLogger("seckill.repair")


async def repair_user(seckill: Seckill, terms: domain.Terms, user_id: int, count: int) -> bool:
    """True when the user's count in Redis was wrong and was repaired (try again), False when the
    user is at the limit indeed."""
    if seckill.stock.known_at_limit(terms.id, user_id):
        return False
    async with seckill.sessions() as session:
        bought = await repo.quota_of(session, terms.id, user_id)
        if bought + count > terms.user_limit:
            seckill.stock.remember_at_limit(terms.id, user_id)
            return False
        held = await seckill.stock.held_by(terms.id, user_id)
        rows = await repo.statuses_by_token(session, list(held))
    flying = [t for t in held if t not in rows and seckill.stock.in_flight(t)]
    give_back = [t for t in held if rows.get(t) in domain.LATE_PAYABLE or (t not in rows and t not in flying)]
    final = [t for t in held if rows.get(t) == ReservationStatus.COMMITTED]
    counted = bought + sum(held[t] for t in flying)
    after = await seckill.stock.repair_user(terms.id, user_id, counted, give_back, final)
    if give_back or final:
        log.warning("seckill activity %s: user %s was counted at the limit in redis but has %s in mysql; gave "
                    "back %s, dropped %s, count now %s", terms.id, user_id, bought, give_back, final, after)
    return True
