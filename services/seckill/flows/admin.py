"""Admin writes whose effects outside MySQL follow the commit: a slot written forgets this
process's catalog (other replicas see it within `SECKILL_CACHE_SECONDS`); an activity written
loads its stock into Redis (warm-up), one closed or deleted removes it."""

from __future__ import annotations

from datetime import datetime

from services.seckill import service
from services.seckill.context import Seckill
from services.seckill.flows.reconcile import load_stock
from services.seckill.models import Slot
from services.seckill.schemas import ActivityIn, SlotIn
from shared.ownership import EVERYTHING, OwnerScope

# --- slots ----------------------------------------------------------------------------------------


async def save_slot(seckill: Seckill, slot_id: int | None, data: SlotIn, now: datetime) -> Slot:
    """Create (`slot_id` None) or update, then the cached slots are forgotten."""
    async with seckill.sessions() as session, session.begin():
        if slot_id is None:
            slot = await service.create_slot(session, data, now)
        else:
            slot = await service.update_slot(session, slot_id, data, now)
    seckill.catalog.forget()
    return slot


async def delete_slot(seckill: Seckill, slot_id: int) -> None:
    async with seckill.sessions() as session, session.begin():
        await service.delete_slot(session, slot_id)
    seckill.catalog.forget()


# --- activities: the admin's (every one), or a merchant's own (`scope`) -----------------------------

async def save_activity(seckill: Seckill, activity_id: int | None, data: ActivityIn, now: datetime,
                        scope: OwnerScope = EVERYTHING) -> dict:
    """Create (`activity_id` None; owned by `scope.owner`) or update in one transaction, then load
    the stock into Redis."""
    async with seckill.sessions() as session, session.begin():
        if activity_id is None:
            activity = await service.create_activity(session, data, now, scope)
        else:
            activity = await service.update_activity(session, activity_id, data, now, scope)
        view = (await service.activity_views(session, [activity]))[0]
    await load_stock(seckill, activity.id)
    return view


async def close_and_unload(seckill: Seckill, activity_id: int, now: datetime,
                           scope: OwnerScope = EVERYTHING) -> None:
    async with seckill.sessions() as session, session.begin():
        await service.close_activity(session, activity_id, now, scope)
    seckill.catalog.forget(activity_id)
    await seckill.stock.unload(activity_id)


async def delete_and_unload(seckill: Seckill, activity_id: int, now: datetime,
                            scope: OwnerScope = EVERYTHING) -> None:
    async with seckill.sessions() as session, session.begin():
        await service.delete_activity(session, activity_id, seckill.local(now).date(), scope)
    seckill.catalog.forget(activity_id)
    await seckill.stock.unload(activity_id)
