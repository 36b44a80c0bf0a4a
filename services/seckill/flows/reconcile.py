"""Redis derived from MySQL: the warm-up (an activity created, edited, or found missing in Redis)
and reconciliation: Redis's stock per SKU against MySQL's. The admin endpoint reloads at once;
the periodic rounds (`Reconciler`, run by jobs.py) reload a drift only when the same one is seen
twice in a row, as a drift seen once may be reservations between Redis and MySQL at that moment."""

from __future__ import annotations

import logging
from datetime import datetime

from services.seckill import repository as repo
from services.seckill.context import Seckill
from services.seckill.service import derive
from shared.enums import CommonStatus

log = logging.getLogger("seckill.reconcile")


async def load_stock(seckill: Seckill, activity_id: int) -> None:
    """Warm-up: after an activity is created, edited or found missing in Redis."""
    async with seckill.sessions() as session:
        activity = await repo.get_activity(session, activity_id)
        if activity is None or activity.status != CommonStatus.ENABLED:
            await seckill.stock.unload(activity_id)
            return
        loaded = await derive(session, activity_id)
    await seckill.stock.load(activity_id, loaded)
    seckill.catalog.forget(activity_id)


async def reconcile(seckill: Seckill, activity_id: int, *, fix: bool) -> dict:
    """Redis against MySQL for one activity: the drift per SKU (Redis's count minus MySQL's),
    reloaded when `fix` (or when not loaded at all)."""
    async with seckill.sessions() as session:
        truth = await repo.stock_of(session, activity_id)
    seen = await seckill.stock.stock_left(activity_id)
    drift = {} if seen is None else {sku: seen.get(sku, 0) - left for sku, left in truth.items()
                                     if seen.get(sku, 0) != left}
    if fix and (drift or seen is None):
        await load_stock(seckill, activity_id)
    return {"activity_id": activity_id, "loaded": seen is not None, "drift": drift, "fixed": fix and bool(drift)}


class Reconciler:
    """The periodic rounds over today's activities. Each round remembers the drifts it saw; a
    drift equal to the one the previous round saw is real, and reloaded from MySQL. An activity
    missing from Redis is loaded at once."""

    def __init__(self, seckill: Seckill) -> None:
        self.seckill = seckill
        self._previous: dict[int, dict[int, int]] = {}  # activity -> the drift the last round saw

    async def round(self, now: datetime) -> list[int]:
        """One round; the activities reloaded."""
        async with self.seckill.sessions() as session:
            activity_ids = [a.id for a in await repo.activities_on(session, self.seckill.local(now).date())]
        seen: dict[int, dict[int, int]] = {}
        reloaded = []
        for activity_id in activity_ids:
            report = await reconcile(self.seckill, activity_id, fix=False)
            drift = report["drift"]
            if drift:
                log.warning("seckill activity %s: redis stock differs from mysql by %s", activity_id, drift)
            if drift and self._previous.get(activity_id) != drift:
                seen[activity_id] = drift  # maybe reservations on their way: looked at again next round
            elif drift or not report["loaded"]:
                await load_stock(self.seckill, activity_id)
                reloaded.append(activity_id)
        self._previous = seen
        return reloaded
