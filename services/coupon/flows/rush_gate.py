"""Redis in front of the coupon rush: the shared quota gate (shared/quota_gate.py) over self-take
templates, and how it is derived from the database.

Keys of a template share the hash tag `{tpl:<id>}`; the one item is the template's remaining
stock (an unlimited template counts down from `UNLIMITED_STOCK`), the users hash counts each
user's coupons that count against the limit. The database is the truth and the final guard:
Redis is (re)built from it when a template is created, edited, enabled or disabled, when the
service starts, when a take finds the keys missing (Redis restarted or flushed), and by the
periodic reconciliation (`Reconciler`). A load while takes are between Redis and the database can
only leave Redis too generous (those takes count twice in the database's favour, never against
it), and the database refuses what Redis lets through too many.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.coupon import repository as repo
from services.coupon.domain import UNLIMITED, TakeType, ValidityType
from services.coupon.models import CouponTemplate
from shared.enums import CommonStatus
from shared.quota_gate import Loaded, QuotaGate, gate_keys

log = logging.getLogger("coupon.rush")

ENTITY = "tpl"
ITEM = 0  # a template has one stock
UNLIMITED_STOCK = 2**53  # where an unlimited template's stock counts down from
KEPT_AFTER_END = timedelta(days=1)  # a template with fixed dates: its keys expire this long after its end


def keys(template_id: int) -> list[str]:
    return gate_keys(ENTITY, template_id)


def gated(template: CouponTemplate | None) -> bool:
    """Templates whose takes go through Redis: enabled, taken by buyers themselves."""
    return template is not None and template.status == CommonStatus.ENABLED and template.take_type == TakeType.USER


def stock_left(template: CouponTemplate) -> int:
    total = UNLIMITED_STOCK if template.total_count == UNLIMITED else template.total_count
    return total - template.take_count


class TemplateGate:
    """The gate and its loads. A process loads one template at a time: the takes that find its
    keys missing at the same moment wait for one load instead of each making their own."""

    def __init__(self, redis: Redis, sessions: async_sessionmaker[AsyncSession], sold_out_seconds: float) -> None:
        self.gate = QuotaGate(redis, ENTITY, sold_out_seconds)
        self.sessions = sessions
        self._loading: dict[int, asyncio.Future[None]] = {}

    async def load(self, template_id: int, *, join: bool = True) -> None:
        """Redis rebuilt from the database for the template (removed if it is not gated). With
        `join`, a load already running in this process is waited for instead (the takes that
        found the keys missing); a write to the template loads after its commit, never joining
        a load that may have read the database before it."""
        running = self._loading.get(template_id)
        if join and running is not None:
            await asyncio.shield(running)
            return
        if running is not None:
            await self._load(template_id)
            return
        future = asyncio.get_running_loop().create_future()
        self._loading[template_id] = future
        try:
            await self._load(template_id)
            future.set_result(None)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters (if any) get it, nobody else must
            raise
        finally:
            del self._loading[template_id]

    async def _load(self, template_id: int) -> None:
        async with self.sessions() as session, session.begin():  # one snapshot of the row and the counts
            template = await repo.get_template(session, template_id)
            loaded = Loaded({ITEM: stock_left(template)}, await repo.take_counts(session, template_id), {}) \
                if gated(template) else None
        if loaded is None:
            await self.gate.unload(template_id)
        else:  # fixed dates: nothing is taken after the end, Redis forgets the keys a day later
            ends = template.valid_end if template.validity_type == ValidityType.DATE else None
            await self.gate.load(template_id, loaded, expire_at=ends + KEPT_AFTER_END if ends else None)

    async def warm_up(self, now: datetime) -> int:
        """On start: every gated template that may still be taken loaded, and other templates'
        keys (not gated any more, past their end, or from another database) removed: a take
        loads what it finds missing. How many were loaded."""
        async with self.sessions() as session:
            template_ids = set(await repo.gated_template_ids(session, now))
        async for key in self.gate.redis.scan_iter(match=f"{{{ENTITY}:*}}:warm", count=1000):
            template_id = _template_of(key)
            if template_id is not None and template_id not in template_ids:
                await self.gate.unload(template_id)
        for template_id in sorted(template_ids):
            await self.load(template_id)
        return len(template_ids)

    async def drift(self, template_id: int) -> int | None:
        """Redis's stock minus the database's (0: none); None when Redis has not loaded it."""
        seen = await self.gate.stock_left(template_id)
        if seen is None:
            return None
        async with self.sessions() as session:
            template = await repo.get_template(session, template_id)
        truth = stock_left(template) if gated(template) else 0
        return seen.get(ITEM, 0) - truth


def _template_of(key: bytes | str) -> int | None:
    text = key.decode() if isinstance(key, bytes) else key
    try:
        return int(text[len(ENTITY) + 2:text.index("}")])
    except ValueError:
        return None


class Reconciler:
    """The periodic rounds over gated templates. A drift seen once may be takes between Redis
    and the database at that moment; the same drift seen again in the next round is real, and the
    template is reloaded. A template missing from Redis is loaded at once."""

    def __init__(self, templates: TemplateGate) -> None:
        self.templates = templates
        self._previous: dict[int, int] = {}  # template -> the drift the last round saw

    async def round(self, now: datetime) -> list[int]:
        """One round; the templates reloaded."""
        async with self.templates.sessions() as session:
            template_ids = await repo.gated_template_ids(session, now)
        seen: dict[int, int] = {}
        reloaded = []
        for template_id in template_ids:
            drift = await self.templates.drift(template_id)
            if drift:
                log.warning("coupon template %s: redis stock differs from the database by %s", template_id, drift)
            if drift and self._previous.get(template_id) != drift:
                seen[template_id] = drift
            elif drift or drift is None:
                await self.templates.load(template_id)
                reloaded.append(template_id)
        self._previous = seen
        return reloaded
