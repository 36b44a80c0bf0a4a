"""The coupon rush (抢券): a buyer takes a self-take coupon, built for a crowd on one template.

Checks without I/O first (the template's terms cached for `COUPON_CACHE_SECONDS`, a local
sold-out flag), then Redis (rush_gate.py: one script per take turns away whoever the stock or the
per-user limit refuses; such a take never reaches the database), then the database (rush_writer.py:
the takes Redis let through, coalesced), which has the last word: what it refuses is given back in
Redis. Keys missing in Redis (a restart, a flush) are rebuilt from the database and the take tried
again; Redis unreachable: the take goes the database's way alone (`service.issue`), as it does
for every take with `COUPON_REDIS_FRONT` off.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.coupon import repository as repo
from services.coupon import service, template_rules
from services.coupon.domain import UNLIMITED, TakeType, Validity, ValidityType
from services.coupon.errors import OutOfStock, TakeLimitReached, TemplateNotFound
from services.coupon.flows.rush_gate import ITEM, TemplateGate
from services.coupon.flows.rush_writer import Taken, TakeWriter
from services.coupon.models import CouponTemplate
from shared.enums import CommonStatus
from shared.quota_gate import REDIS_DOWN, Verdict

log = logging.getLogger("coupon.rush")


@dataclass(frozen=True)
class TakeTerms:
    """What a take checks before Redis, cached per process."""

    id: int
    status: int
    take_type: int
    take_limit_count: int
    validity: Validity

    @classmethod
    def of(cls, template: CouponTemplate) -> TakeTerms:
        return cls(template.id, template.status, template.take_type, template.take_limit_count,
                   Validity(ValidityType(template.validity_type), template.valid_start, template.valid_end,
                            template.fixed_start_term, template.fixed_end_term))


class TemplateCache:
    """Templates' take terms for a short while; a write in this process forgets its template at
    once, other replicas see it within `seconds` (the database re-checks every take anyway)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._cached: dict[int, tuple[float, TakeTerms | None]] = {}

    async def get(self, sessions: async_sessionmaker[AsyncSession], template_id: int) -> TakeTerms | None:
        cached = self._cached.get(template_id)
        if cached is not None and time.monotonic() < cached[0]:
            return cached[1]
        async with sessions() as session:
            template = await repo.get_template(session, template_id)
        terms = None if template is None else TakeTerms.of(template)
        if len(self._cached) > 10_000:
            self._cached.clear()
        self._cached[template_id] = (time.monotonic() + self.seconds, terms)
        return terms

    def forget(self, template_id: int) -> None:
        self._cached.pop(template_id, None)


@dataclass
class Rush:
    """What the take path needs besides a request, built once per app (main.py)."""

    sessions: async_sessionmaker[AsyncSession]
    templates: TemplateGate
    writer: TakeWriter
    cache: TemplateCache
    redis_front: bool = True  # False: every take is the database's alone (the benchmark's comparison)

    async def written(self, template_id: int) -> None:
        """A template's row changed and was committed: Redis and the cache follow."""
        self.cache.forget(template_id)
        try:
            await self.templates.load(template_id, join=False)
        except (*REDIS_DOWN, SQLAlchemyError) as exc:  # the write stands; a take or the reconciliation loads it
            log.warning("could not reload template %s in redis (reconciliation will): %r", template_id, exc)


async def take(rush: Rush, template_id: int, user_id: int, now: datetime) -> Taken:
    """One coupon of a self-take template for the user, or why not."""
    terms = await rush.cache.get(rush.sessions, template_id)
    if terms is None:
        raise TemplateNotFound(id=template_id)
    template_rules.check_takeable(enabled=terms.status == CommonStatus.ENABLED, take_type=TakeType(terms.take_type),
                                  requested=TakeType.USER, validity=terms.validity, now=now)
    if not rush.redis_front:
        return await database_only(rush.sessions, template_id, user_id, now)
    gate = rush.templates.gate
    if gate.known_sold_out(template_id, ITEM):
        raise OutOfStock()
    token = uuid.uuid4().hex
    try:
        reserved = await _reserve(rush, terms, token, user_id)
    except REDIS_DOWN as exc:
        log.warning("redis unavailable for a take of template %s, the database decides alone: %r", template_id, exc)
        reserved = False
    if not reserved:
        return await database_only(rush.sessions, template_id, user_id, now)
    return await rush.writer.write(template_id, user_id, token, now)


async def _reserve(rush: Rush, terms: TakeTerms, token: str, user_id: int) -> bool:
    """True when Redis took the user's one coupon; the refusal raised. Keys missing: rebuilt from
    the database (one load per process at a time) and asked again; False if still missing (the
    template stopped being gated since it was cached, or Redis lost them again): the database
    decides alone, and gives the precise answer."""
    limit = 0 if terms.take_limit_count == UNLIMITED else terms.take_limit_count
    for attempt in range(2):
        answer = await rush.templates.gate.reserve(terms.id, token, ITEM, user_id, 1, limit, 0)
        if answer.verdict in (Verdict.RESERVED, Verdict.REPLAY):  # REPLAY: a resent script ran twice, the token is new
            return True
        if answer.verdict in (Verdict.SOLD_OUT, Verdict.NOT_ENOUGH):
            raise OutOfStock()
        if answer.verdict == Verdict.USER_LIMIT:
            raise TakeLimitReached(limit=terms.take_limit_count)
        if attempt == 0 and answer.verdict in (Verdict.NOT_LOADED, Verdict.NOT_IN_ENTITY):
            await rush.templates.load(terms.id)
    rush.cache.forget(terms.id)
    return False


async def database_only(sessions: async_sessionmaker[AsyncSession], template_id: int, user_id: int,
                        now: datetime) -> Taken:
    """The take without Redis: `service.issue` in a transaction of its own (the template's row
    lock queues the takes one by one)."""
    async with sessions() as session, session.begin():
        coupons, again = await service.issue(session, template_id, user_id, TakeType.USER, now)
    return Taken(coupons[0].id, again)

