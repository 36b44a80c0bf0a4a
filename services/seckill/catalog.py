"""What the crowd path reads without the database: activities and slots, cached per process."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import async_sessionmaker

from services.seckill import domain
from services.seckill import repository as repo
from services.seckill.models import Activity, Slot
from shared.enums import CommonStatus


@dataclass(frozen=True)
class Offer:
    terms: domain.Terms
    prices: dict[int, int]  # sku -> flash price


@dataclass
class Catalog:
    """Activities and slots, cached for `seconds` so that a crowd's rejected attempts never reach
    MySQL. One request refreshes an entry while the others keep using the one they have (a crowd
    would otherwise all miss at once). Writes on this replica drop entries at once; other replicas
    see them within `seconds`, and the database step re-checks the activity of every reservation."""

    seconds: float
    _entries: dict[object, tuple[float, object]] = field(default_factory=dict)  # key -> (fresh until, value)
    _loading: dict[object, asyncio.Future] = field(default_factory=dict)

    async def offer(self, session_factory: async_sessionmaker, activity_id: int) -> Offer | None:
        return await self._get(("offer", activity_id), lambda: _load_offer(session_factory, activity_id))

    async def slots(self, session_factory: async_sessionmaker) -> list[domain.Slot]:
        return await self._get("slots", lambda: _load_slots(session_factory))

    async def _get(self, key: object, load: Callable[[], Awaitable[object]]):
        while True:
            entry = self._entries.get(key)
            if entry is not None and (entry[0] > time.monotonic() or key in self._loading):
                return entry[1]  # fresh, or being refreshed by another request
            loading = self._loading.get(key)
            if loading is None:
                return await self._load(key, load)
            try:
                return await asyncio.shield(loading)
            except asyncio.CancelledError:
                if not loading.cancelled():
                    raise  # this request itself was cancelled
                # the loading request went away: try again (maybe loading ourselves)

    async def _load(self, key: object, load: Callable[[], Awaitable[object]]):
        future = self._loading[key] = asyncio.get_running_loop().create_future()
        try:
            value = await load()
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: the waiting requests get it, nobody else needs to
            raise
        except BaseException:
            future.cancel()
            raise
        finally:
            del self._loading[key]
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + self.seconds, value)
        future.set_result(value)
        return value

    def forget(self, activity_id: int | None = None) -> None:
        if activity_id is None:
            self._entries.clear()
        else:
            self._entries.pop(("offer", activity_id), None)


async def _load_offer(session_factory: async_sessionmaker, activity_id: int) -> Offer | None:
    async with session_factory() as session:
        activity = await repo.get_activity(session, activity_id)
        products = (await repo.products_of(session, [activity_id]))[activity_id] if activity else []
    return Offer(terms_of(activity), {p.sku_id: p.price for p in products}) if activity else None


async def _load_slots(session_factory: async_sessionmaker) -> list[domain.Slot]:
    async with session_factory() as session:
        return [slot_of(s) for s in await repo.all_slots(session)]


def terms_of(activity: Activity) -> domain.Terms:
    return domain.Terms(activity.id, activity.name, activity.spu_id, CommonStatus(activity.status),
                        frozenset(activity.slot_ids), activity.start_date, activity.end_date, activity.user_limit,
                        activity.order_limit, activity.business_id)


def slot_of(slot: Slot) -> domain.Slot:
    return domain.Slot(slot.id, slot.name, slot.start_time, slot.end_time, CommonStatus(slot.status))
