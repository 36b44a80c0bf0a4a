"""The database's side of the coupon rush, coalesced: takes of one template that Redis let through
at the same moment are written in one transaction.

Every take of a template updates its row, so one at a time they queue on its lock and on a commit
each. Here, while one batch is being written, the next ones gather; a batch is a handful of
statements whatever its size, with the template row locked first:

    SELECT template ... FOR UPDATE          (its current terms, status and stock)
    SELECT user, count(*) ... FOR UPDATE    (the batch's users' coupons that count against the limit)
    UPDATE template SET take_count = take_count + n WHERE take_count + n <= total_count
    INSERT the coupons, INSERT their promo.coupon.issued events

Each take gets its own answer from what the locked reads say (the database stays the final guard,
whatever Redis said: the per-user limit and the stock are checked again, the stock by the
conditional update). Then Redis follows, in the writer's task so that a caller who went away
leaves nothing behind: a take written stops being held, a take refused gives its stock and count
back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.coupon import repository as repo
from services.coupon import service, template_rules
from services.coupon.domain import UNLIMITED, CouponStatus, Quota, TakeType, Validity, ValidityType
from services.coupon.errors import OutOfStock, TakeLimitReached, TemplateNotFound
from services.coupon.flows.rush_gate import TemplateGate
from services.coupon.models import CouponTemplate, outbox
from shared.db import in_transaction
from shared.enums import CommonStatus
from shared.errors import DomainError
from shared.outbox import add_all_to_outbox

log = logging.getLogger("coupon.rush")

TERMS_FIELDS = ("use_price", "product_scope", "product_scope_values", "discount_type", "discount_price",
                "discount_percent", "discount_limit_price")


@dataclass(frozen=True)
class Taken:
    coupon_id: int
    can_take_again: bool


@dataclass
class Pending:
    user_id: int
    token: str  # its reservation in Redis
    now: datetime
    done: asyncio.Future[Taken]


class TakeWriter:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], templates: TemplateGate,
                 max_batch: int = 200) -> None:
        self.sessions = sessions
        self.templates = templates
        self.max_batch = max_batch
        self._queues: dict[int, list[Pending]] = {}
        self._tasks: dict[int, asyncio.Task] = {}

    async def write(self, template_id: int, user_id: int, token: str, now: datetime) -> Taken:
        """The take Redis let through, written (the coupon), or the domain error that refused it."""
        pending = Pending(user_id, token, now, asyncio.get_running_loop().create_future())
        pending.done.add_done_callback(_retrieved)  # a caller that went away leaves no "never retrieved" noise
        self._queues.setdefault(template_id, []).append(pending)
        if template_id not in self._tasks:
            task = asyncio.create_task(self._drain(template_id))
            self._tasks[template_id] = task
        # shielded: a caller that goes away does not stop a write that others share
        return await asyncio.shield(pending.done)

    async def _drain(self, template_id: int) -> None:
        try:
            while self._queues.get(template_id):
                queue = self._queues[template_id]
                batch, self._queues[template_id] = queue[:self.max_batch], queue[self.max_batch:]
                await self._write_batch(template_id, batch)
        finally:
            del self._tasks[template_id]
            if not self._queues.get(template_id):
                self._queues.pop(template_id, None)

    async def _write_batch(self, template_id: int, batch: list[Pending]) -> None:
        try:
            answers: list[Taken | Exception] = await in_transaction(
                self.sessions, lambda session: _take_batch(session, template_id, batch))
        except Exception as exc:  # the database failed: every take of the batch learns it
            answers = [exc] * len(batch)
        await self._follow_in_redis(template_id, batch, answers)
        for p, answer in zip(batch, answers, strict=True):
            if p.done.done():
                continue
            if isinstance(answer, Exception):
                p.done.set_exception(answer)
            else:
                p.done.set_result(answer)

    async def _follow_in_redis(self, template_id: int, batch: list[Pending],
                               answers: Sequence[Taken | Exception]) -> None:
        written = [p.token for p, a in zip(batch, answers, strict=True) if isinstance(a, Taken)]
        refused = [p.token for p, a in zip(batch, answers, strict=True) if not isinstance(a, Taken)]
        try:
            await self.templates.gate.settle(template_id, kept=written, given_back=refused)
        except Exception as exc:  # Redis down: written ones stay held, refused ones counted; reconciliation reloads
            log.warning("could not settle %d takes of template %s in redis: %r", len(batch), template_id, exc)
        if any(isinstance(a, OutOfStock) for a in answers):  # the database says sold out, whatever Redis said
            self.templates.gate.remember_sold_out(template_id, 0)


def _retrieved(future: asyncio.Future) -> None:
    if not future.cancelled():
        future.exception()


async def _take_batch(session: AsyncSession, template_id: int, batch: list[Pending]) -> list[Taken | Exception]:
    """Each take's answer, decided under the template's row lock; the coupons and their events written."""
    template = await repo.get_template_for_update(session, template_id)
    if template is None:
        return [TemplateNotFound(id=template_id)] * len(batch)
    quota = Quota(template.total_count, template.take_limit_count)
    held = await repo.counts_taken_by_users(session, template_id, sorted({p.user_id for p in batch}))
    left = None if template.total_count == UNLIMITED else template.total_count - template.take_count
    refusals: list[Exception | None] = []
    again: list[bool] = []  # of each accepted take, in order: may its user take one more after it
    for p in batch:
        refusal = _refusal(template, quota, held.get(p.user_id, 0), left, p.now)
        if refusal is None:
            held[p.user_id] = held.get(p.user_id, 0) + 1
            left = None if left is None else left - 1
            again.append(template_rules.can_take_again(quota, held[p.user_id]))
        refusals.append(refusal)
    accepted = [p for p, refusal in zip(batch, refusals, strict=True) if refusal is None]
    if not accepted:
        return refusals  # type: ignore[return-value]
    if not await repo.add_take_count_if_stock(session, template_id, len(accepted)):
        raise RuntimeError(f"template {template_id}: the stock changed under its row lock")
    coupons = [_coupon(template, p) for p in accepted]
    ids = await repo.insert_coupons(session, coupons)
    await add_all_to_outbox(session, outbox, [
        service.issued_event(template, c["user_id"], i, c["valid_start"], c["valid_end"], c["created_at"])
        for c, i in zip(coupons, ids, strict=True)])
    taken = iter(Taken(i, a) for i, a in zip(ids, again, strict=True))
    return [refusal if refusal is not None else next(taken) for refusal in refusals]


def _refusal(template: CouponTemplate, quota: Quota, held_by_user: int, left: int | None,
             now: datetime) -> Exception | None:
    try:
        template_rules.check_takeable(enabled=template.status == CommonStatus.ENABLED,
                                      take_type=TakeType(template.take_type), requested=TakeType.USER,
                                      validity=_validity(template), now=now)
    except DomainError as error:
        return error
    if quota.take_limit_count != UNLIMITED and held_by_user + 1 > quota.take_limit_count:
        return TakeLimitReached(limit=quota.take_limit_count)
    if left is not None and left < 1:
        return OutOfStock()
    return None


def _validity(template: CouponTemplate) -> Validity:
    return Validity(ValidityType(template.validity_type), template.valid_start, template.valid_end,
                    template.fixed_start_term, template.fixed_end_term)


def _coupon(template: CouponTemplate, p: Pending) -> dict:
    """The coupon's row: the template's terms as they are now, its window from the take's time."""
    start, end = template_rules.validity_window(_validity(template), p.now)
    return {"template_id": template.id, "user_id": p.user_id, "name": template.name,
            "business_id": template.business_id, "take_type": template.take_type, "status": CouponStatus.UNUSED,
            "valid_start": start, "valid_end": end, "created_at": p.now, "updated_at": p.now,
            **{name: getattr(template, name) for name in TERMS_FIELDS}}
